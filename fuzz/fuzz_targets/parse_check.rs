//! Fuzz target: any text must parse and check without a panic, and every
//! diagnostic and summary it yields must render.
//!
//! Run from `fuzz/` with
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run parse_check corpus/parse_check seeds -- -dict=dl.dict`.

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
    let checked = match dlc::syntax::parse(text) {
        Ok(program) => {
            let _ = dlc::syntax::print_program(&program, text);
            dlc::check::check(&program)
        }
        Err(diagnostics) => dlc::check::Checked {
            model: None,
            diagnostics,
        },
    };
    let _ = dlc::diag::render(&source, &checked.diagnostics, false);
    let index = dlc::diag::LineIndex::new(text);
    for d in &checked.diagnostics {
        let _ = serde_json::to_string(&d.to_json_indexed(&source, &index));
    }
    if let Some(model) = &checked.model {
        let _ = dlc::report::summary_table(model);
        let _ = dlc::report::summary_json(model);
    }
});
