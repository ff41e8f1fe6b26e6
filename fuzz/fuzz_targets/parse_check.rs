//! Fuzz target: any text must parse and check without a panic, and every
//! diagnostic and summary it yields must render. A program that checks is
//! also planned against a memory limit (the estimate and its diagnostics),
//! and, when it is small, compiled to native code (plan and Cranelift, no
//! buffers allocated, no training).
//!
//! Run from `fuzz/` with
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run parse_check corpus/parse_check seeds -- -dict=dl.dict`.

#![no_main]

use dlc::codegen::{CompileOptions, compile_entries};
use dlc::runtime::graphs::Entry;
use libfuzzer_sys::fuzz_target;

/// Programs up to this size are compiled; larger ones are only planned, so
/// that a run spends its time on many programs rather than one large one.
const MAX_COMPILED_LAYERS: usize = 24;
const MAX_COMPILED_PARAMETERS: usize = 1 << 20;

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
    if planned.diagnostics.is_empty() && small {
        let options = CompileOptions {
            threads: 1,
            ..CompileOptions::new(planned.memory.max_batch)
        };
        let _ = compile_entries(&planned.graphs, &options, &[Entry::TrainStep, Entry::Eval]);
    }
});
