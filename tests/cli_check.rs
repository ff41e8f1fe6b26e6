//! `dlc check` as a user runs it: the built binary, its exit codes (0 ok,
//! 1 diagnostics, 2 I/O), what it prints on stdout and stderr, `--format
//! json`, `--emit ast` and `--color`.

use std::path::Path;
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `dlc check ARGS` from the crate root, so that paths in the output
/// are the relative ones given.
fn dlc_check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlc"))
        // Memory figures count one conv workspace per thread.
        .env("DLC_THREADS", "2")
        .arg("check")
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .output()
        .expect("the dlc binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn examples() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["examples", "examples/bench"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("examples exist") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "dl") {
                let name = path.file_name().expect("a file name").to_string_lossy();
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_example_checks_and_prints_its_summary() {
    let files = examples();
    assert!(files.len() >= 14, "examples: {files:?}");
    for file in files {
        let out = dlc_check(&[&file]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{file} has no warnings");
        let name = file.replace('/', "__");
        insta::assert_snapshot!(format!("summary__{name}"), stdout(&out));
    }
}

#[test]
fn emit_ast_prints_the_syntax_tree() {
    for file in ["examples/residual.dl", "examples/branches.dl"] {
        let out = dlc_check(&["--emit", "ast", file]);
        assert_eq!(out.status.code(), Some(0), "{file}");
        let name = file.replace('/', "__");
        insta::assert_snapshot!(format!("ast__{name}"), stdout(&out));
    }
}

fn pretty_json(text: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON object");
    serde_json::to_string_pretty(&value).expect("serialisable")
}

#[test]
fn json_for_a_program_that_checks() {
    let out = dlc_check(&["--format", "json", "examples/xor.dl"]);
    assert_eq!(out.status.code(), Some(0));
    let json = stdout(&out);
    let value: serde_json::Value = serde_json::from_str(json.trim()).expect("JSON");
    assert_eq!(value["ok"], true);
    assert_eq!(value["summary"]["network"]["parameters"], 42);
    insta::assert_snapshot!(pretty_json(&json));
}

#[test]
fn json_for_a_program_with_errors() {
    let file = "tests/corpus/errors/multi_independent_errors.dl";
    let out = dlc_check(&["--format", "json", file]);
    assert_eq!(out.status.code(), Some(1));
    let json = stdout(&out);
    let value: serde_json::Value = serde_json::from_str(json.trim()).expect("JSON");
    assert_eq!(value["ok"], false);
    let codes: Vec<&str> = value["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["E0201", "E0302", "E0302", "E0208"]);
    insta::assert_snapshot!(pretty_json(&json));
}

#[test]
fn exit_codes_and_summary_line_for_errors() {
    let file = "tests/corpus/errors/shape_dense_after_conv.dl";
    let out = dlc_check(&["--color", "never", file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "", "nothing on stdout when there are errors");
    let err = stderr(&out);
    assert!(
        err.starts_with("error[E0402]: `dense` needs a vector"),
        "{err}"
    );
    assert!(err.ends_with(&format!("{file}: 1 error\n")), "{err}");
}

#[test]
fn a_missing_file_is_one_line_and_exit_2() {
    let out = dlc_check(&["no_such_file.dl"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: cannot read no_such_file.dl: no such file\n"
    );
}

#[test]
fn the_worst_exit_code_of_several_files_wins() {
    let ok = "examples/xor.dl";
    let bad = "tests/corpus/errors/arg_dense_zero_units.dl";
    assert_eq!(dlc_check(&[ok, bad]).status.code(), Some(1));
    assert_eq!(
        dlc_check(&[bad, "no_such_file.dl", ok]).status.code(),
        Some(2)
    );
    let both = dlc_check(&[ok, ok]);
    assert_eq!(both.status.code(), Some(0));
    assert_eq!(stdout(&both).matches("examples/xor.dl: ok").count(), 2);
}

#[test]
fn a_directory_or_binary_file_is_an_io_error() {
    let out = dlc_check(&["examples"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let dir = std::env::temp_dir().join(format!("dlc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let binary = dir.join("binary.dl");
    std::fs::write(&binary, [0x6eu8, 0x65, 0xff, 0xfe]).expect("written");
    let out = dlc_check(&[binary.to_str().expect("a UTF-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not UTF-8 text (invalid byte at offset 2)"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn colour_only_when_asked_for() {
    let file = "tests/corpus/errors/arg_dense_zero_units.dl";
    let escape = "\u{1b}[";
    let always = dlc_check(&["--color", "always", file]);
    assert!(
        stderr(&always).contains(escape),
        "colour with --color always"
    );
    let never = dlc_check(&["--color", "never", file]);
    assert!(!stderr(&never).contains(escape));
    // The tests' stderr is a pipe, not a terminal: `auto` means no colour.
    let auto = dlc_check(&[file]);
    assert!(!stderr(&auto).contains(escape));
    assert_eq!(stderr(&auto), stderr(&never));
}
