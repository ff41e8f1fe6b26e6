//! File tests for the IR passes, in the manner of Cranelift's filetests: each
//! file of `tests/ir/` holds a header naming the pass, the input graph in the
//! IR's text form and, after the line `; ---- expected ----`, the pass's
//! output. A pass that changes what it does shows up as a diff of a small,
//! readable file, rather than as a numeric failure far downstream.
//!
//! Passes (`; pass: NAME` in the header):
//!
//! - `autodiff`: differentiates the graph's loss sink and adds a `grad` sink
//!   per parameter, as the `backward` entry point does; the output is the
//!   graph, which must verify;
//! - `plan`: plans the graph for the batch of `; batch: N` (default 4); the
//!   output is the plan's text, which the plan verifier must accept;
//! - `verify`: the output is every error the verifier reports, one a line
//!   (`ok` for none).
//!
//! `DLC_BLESS=1 cargo test --test ir_filetests` rewrites the expected part of
//! every file whose output differs; review the diff before committing it.

use dlc::autodiff::differentiate;
use dlc::codegen::plan::{plan, print_plan, verify_plan};
use dlc::ir::{Graph, Sink, parse_graph, print_graph, verify};
use std::path::Path;

const SEPARATOR: &str = "; ---- expected ----";

/// Runs the file's pass on its input; a failure to run is output too, so
/// that a file can expect it.
fn run(header: &str, input: &str) -> Result<String, String> {
    let setting = |name: &str| {
        header.lines().find_map(|l| {
            let rest = l.trim().strip_prefix(';')?.trim().strip_prefix(name)?;
            rest.strip_prefix(':').map(|v| v.trim().to_string())
        })
    };
    let pass = setting("pass").ok_or("the header names no `; pass:`")?;
    let mut g = parse_graph(input).map_err(|e| format!("the input does not parse: {e}"))?;
    match pass.as_str() {
        "autodiff" => {
            verified(&g)?;
            let loss = g.sinks.iter().find_map(|s| match s {
                Sink::Loss(v) => Some(*v),
                _ => None,
            });
            let grads = differentiate(&mut g, loss.ok_or("the input has no loss sink")?);
            for (p, v) in grads.iter().enumerate() {
                if let Some(v) = v {
                    g.sinks.push(Sink::Grad(dlc::ir::ParamId(p), *v));
                }
            }
            verified(&g)?;
            Ok(print_graph(&g, None))
        }
        "plan" => {
            verified(&g)?;
            let batch = setting("batch").map_or(Ok(4), |b| b.parse::<usize>());
            let batch = batch.map_err(|e| format!("bad `; batch:`: {e}"))?;
            let p = plan(&g, batch).map_err(|e| format!("planning failed: {e}"))?;
            verify_plan(&g, &p).map_err(|e| format!("the plan does not verify: {e}"))?;
            Ok(print_plan(&p))
        }
        "verify" => Ok(match verify(&g) {
            Ok(()) => "ok\n".into(),
            Err(errors) => errors.0.iter().map(|e| format!("{e}\n")).collect(),
        }),
        other => Err(format!("unknown pass `{other}`")),
    }
}

fn verified(g: &Graph) -> Result<(), String> {
    verify(g).map_err(|e| format!("{e}"))
}

/// A line diff of `want` against `got` (longest common subsequence).
fn diff(want: &str, got: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut common = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("  {}\n", a[i]);
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || common[i + 1][j] >= common[i][j + 1]) {
            out += &format!("- {}\n", a[i]);
            i += 1;
        } else {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        }
    }
    out
}

#[test]
fn ir_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ir");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ir"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "file tests missing from {}",
        dir.display()
    );
    let bless = std::env::var_os("DLC_BLESS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let (source, want) = match text.split_once(&format!("\n{SEPARATOR}\n")) {
            Some((s, w)) => (s, w),
            None => (text.trim_end(), ""),
        };
        let header: String = source
            .lines()
            .take_while(|l| l.starts_with(';'))
            .map(|l| format!("{l}\n"))
            .collect();
        let got = run(&header, source).unwrap_or_else(|e| format!("error: {e}\n"));
        if got == want {
            continue;
        }
        if bless {
            std::fs::write(path, format!("{source}\n{SEPARATOR}\n{got}")).unwrap();
        } else {
            failures.push(format!("{name} (- expected, + got):\n{}", diff(want, &got)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} file tests differ (DLC_BLESS=1 rewrites them):\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn the_diff_marks_lines_removed_and_added() {
    let d = diff("a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(d, "  a\n- b\n+ x\n  c\n");
}
