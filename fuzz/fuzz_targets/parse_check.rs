//! Fuzz target: any text must parse and check without a panic, and every
//! diagnostic and summary it yields must render.
//!
//! Run with `RUSTC_BOOTSTRAP=1 cargo fuzz run parse_check fuzz/corpus/parse_check fuzz/seeds`
//! (add `-- -dict=fuzz/dl.dict` for the language's tokens).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let source = dlc::diag::Source {
        name: "fuzz.dl",
        text,
    };
    if let Ok(program) = dlc::syntax::parse(text) {
        let _ = dlc::syntax::print_program(&program, text);
    }
    let checked = dlc::check::check_source(text);
    let _ = dlc::diag::render(&source, &checked.diagnostics, false);
    for d in &checked.diagnostics {
        let _ = serde_json::to_string(&d.to_json(&source));
    }
    if let Some(model) = &checked.model {
        let _ = dlc::report::summary_table(model);
        let _ = dlc::report::summary_json(model);
    }
});
