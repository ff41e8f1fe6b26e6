//! `dlc check`: parse and check programs, print a summary or diagnostics.

use super::read;
use crate::{Color, Emit, Format};
use dlc::Stage;
use dlc::check::Checked;
use dlc::diag::{Source, render};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub fn check(files: &[PathBuf], format: Format, emit: Option<Emit>, color: Color) -> u8 {
    let color = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut worst = 0u8;
    let mut stdout = std::io::stdout().lock();
    for path in files {
        let Some(text) = read(path) else {
            worst = 2;
            continue;
        };
        let name = path.display().to_string();
        let source = Source {
            name: &name,
            text: &text,
        };
        if let Some(emit) = emit {
            let stage = match emit {
                Emit::Ast => Stage::Ast,
                Emit::Ir => Stage::Ir,
                Emit::Grad => Stage::Grad,
                Emit::Kernels => Stage::Kernels,
                Emit::Clif => Stage::Clif,
            };
            match dlc::emit(&text, stage) {
                Ok(text) => {
                    let _ = write!(stdout, "{text}");
                }
                Err(e) => {
                    eprint!("{}", e.render(&name, &text, color));
                    worst = worst.max(match e {
                        dlc::Error::Program { .. } => 1,
                        _ => 2,
                    });
                }
            }
            continue;
        }
        let checked = dlc::check_with(&text, &super::options(dlc::BackendKind::Jit));
        let failed = checked.has_errors();
        match format {
            Format::Human => print_human(&mut stdout, &source, &checked, color),
            Format::Json => print_json(&mut stdout, &source, &checked),
        }
        if failed {
            worst = worst.max(1);
        }
    }
    worst
}

fn print_human(out: &mut impl Write, source: &Source, checked: &Checked, color: bool) {
    if !checked.diagnostics.is_empty() {
        eprint!("{}", render(source, &checked.diagnostics, color));
    }
    let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = checked.diagnostics.len() - errors;
    match &checked.model {
        Some(model) => {
            let _ = writeln!(out, "{}: ok", source.name);
            let _ = write!(out, "{}", dlc::report::summary_table(model));
            if let Some(m) = &checked.memory {
                let _ = writeln!(out, "memory: {}", m.summary());
            }
        }
        None => {
            let plural = |n: usize, w: &str| {
                if n == 1 {
                    format!("1 {w}")
                } else {
                    format!("{n} {w}s")
                }
            };
            let mut line = format!("{}: {}", source.name, plural(errors, "error"));
            if warnings > 0 {
                line += &format!(", {}", plural(warnings, "warning"));
            }
            eprintln!("{line}");
        }
    }
}

fn print_json(out: &mut impl Write, source: &Source, checked: &Checked) {
    let index = dlc::diag::LineIndex::new(source.text);
    let diagnostics: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| d.to_json_indexed(source, &index))
        .collect();
    let mut obj = serde_json::json!({
        "file": source.name,
        "ok": checked.model.is_some(),
        "diagnostics": diagnostics,
    });
    if let Some(m) = &checked.model {
        obj["summary"] = dlc::report::summary_json(m);
    }
    if let Some(m) = &checked.memory {
        obj["memory"] = serde_json::json!({
            "total_bytes": m.total(),
            "parameters_bytes": m.parameters,
            "state_bytes": m.state,
            "copies_bytes": m.copies,
            "scratch_bytes": m.scratch,
            "batch_bytes": m.batches,
            "compile_bytes": m.code,
            "data_bytes": m.data,
            "max_batch": m.max_batch,
        });
    }
    let _ = writeln!(out, "{obj}");
}
