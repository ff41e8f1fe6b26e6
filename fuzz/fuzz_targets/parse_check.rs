//! Fuzz target: any text must parse and check without a panic, and every
//! diagnostic and summary it yields must render. A program that checks is
//! also planned against a memory limit (the estimate and its diagnostics),
//! and, when it is small, compiled to native code (plan and Cranelift, no
//! buffers allocated, no training); graphs already compiled in this run
//! are not compiled again.
//!
//! Run from `fuzz/` with
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run parse_check corpus/parse_check seeds -- -dict=dl.dict`.

#![no_main]

use dlc::codegen::{CompileOptions, compile_entries};
use dlc::autodiff::graphs::Entry;
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// Programs up to this size are compiled; larger ones are only planned, so
/// that a run spends its time on many programs rather than one large one.
const MAX_COMPILED_LAYERS: usize = 24;
const MAX_COMPILED_PARAMETERS: usize = 1 << 20;

/// Hashes of the graphs compiled so far. Most mutations that still check
/// change only names, comments or layout, and lower to graphs already
/// compiled; compiling those again finds nothing new and would spend most of
/// the run in Cranelift.
static COMPILED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);
const MAX_REMEMBERED: usize = 1 << 16;

/// True the first time these graphs at this batch are seen.
fn first_compile(graphs: &dlc::autodiff::graphs::Graphs, batch: usize) -> bool {
    let mut hasher = DefaultHasher::new();
    batch.hash(&mut hasher);
    for graph in [&graphs.train_step, &graphs.eval].into_iter().flatten() {
        dlc::ir::print_graph(graph, None).hash(&mut hasher);
    }
    let key = hasher.finish();
    let mut seen = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.len() >= MAX_REMEMBERED {
        seen.clear();
    }
    seen.insert(key)
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let source = dlc::diag::Source {
        name: "fuzz.dl",
        text,
    };
    let checked = match dlc::syntax::parse(text) {
        Ok(program) => {
            let _ = dlc::syntax::print_program(&program, text);
            dlc::check::check(&program)
        }
        Err(diagnostics) => dlc::check::Checked {
            model: None,
            diagnostics,
            memory: None,
        },
    };
    let _ = dlc::diag::render(&source, &checked.diagnostics, false);
    let index = dlc::diag::LineIndex::new(text);
    for d in &checked.diagnostics {
        let _ = serde_json::to_string(&d.to_json_indexed(&source, &index));
    }
    let Some(model) = &checked.model else { return };
    let _ = dlc::report::summary_table(model);
    let _ = dlc::report::summary_json(model);
    let limits = dlc::Limits {
        max_memory: Some(256 << 20),
        ..dlc::Limits::none()
    };
    let Ok(planned) = dlc::limits::plan(model, dlc::BackendKind::Jit, &limits) else {
        return;
    };
    let _ = planned.memory.summary();
    let _ = dlc::diag::render(&source, &planned.diagnostics, false);
    let small = model.network.layers.len() <= MAX_COMPILED_LAYERS
        && model.network.parameter_count() <= MAX_COMPILED_PARAMETERS;
    if planned.diagnostics.is_empty()
        && small
        && first_compile(&planned.graphs, planned.memory.max_batch)
    {
        let options = CompileOptions {
            threads: 1,
            ..CompileOptions::new(planned.memory.max_batch)
        };
        let _ = compile_entries(&planned.graphs, &options, &[Entry::TrainStep, Entry::Eval]);
    }
});
