//! The command-line corpus: each case under `tests/corpus/cli/` runs `dlc`
//! on files of its own (programs, data files, checkpoints, flags) that are
//! wrong, hostile or extreme in the way its first comment says. The case
//! states the exit code it must end with; what `dlc` printed is snapshotted,
//! so that every change to a message is seen and reviewed. No case may end
//! in a panic or a signal.
//!
//! A case file reads:
//!
//! ```text
//! # what the case shows
//! args: run model.dl -q          the command (run in a fresh directory)
//! exit: 2                        the exit code it must end with
//! setup: run model.dl -q         a command run first (must exit 0); any number
//! truncate: model.ckpt 100       keep the first 100 bytes of a file
//! patch: model.ckpt -4 0000c07f  overwrite bytes at an offset (from the end if negative)
//! --- model.dl                   a file, up to the next `---` line
//! ...
//! --- labels.gz: hex gzip        a file given as hex bytes, then gzipped
//! --- big.csv: repeat 1000       a text file whose last line is repeated 1000 times
//! ```
//!
//! `$DIR` in arguments and files is the case's directory; in the snapshots
//! the directory and durations are written `$DIR` and `<time>`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    args: Vec<String>,
    exit: i32,
    setup: Vec<Vec<String>>,
    edits: Vec<Edit>,
    files: Vec<(String, Vec<u8>)>,
}

enum Edit {
    Truncate(String, usize),
    Patch(String, i64, Vec<u8>),
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn words(line: &str, dir: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|w| w.replace("$DIR", dir))
        .collect()
}

fn parse(text: &str, dir: &str) -> Case {
    let mut case = Case {
        args: Vec::new(),
        exit: -1,
        setup: Vec::new(),
        edits: Vec::new(),
        files: Vec::new(),
    };
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(header) = line.strip_prefix("--- ") {
            let (name, kinds) = header.split_once(": ").unwrap_or((header, ""));
            let mut body = String::new();
            while let Some(l) = lines.next_if(|l| !l.starts_with("--- ")) {
                body += l;
                body.push('\n');
            }
            let mut body = body.replace("$DIR", dir);
            if let Some(n) = kinds.strip_prefix("repeat ") {
                let n: usize = n.trim().parse().expect("repeat: a count");
                let last = body.lines().last().unwrap_or_default().to_string() + "\n";
                body += &last.repeat(n.saturating_sub(1));
            }
            let mut bytes = if kinds.contains("hex") {
                hex(&body)
            } else {
                body.into_bytes()
            };
            if kinds.contains("gzip") {
                bytes = gzip(&bytes);
            }
            case.files.push((name.to_string(), bytes));
        } else if let Some(a) = line.strip_prefix("args:") {
            case.args = words(a, dir);
        } else if let Some(e) = line.strip_prefix("exit:") {
            case.exit = e.trim().parse().expect("exit: a number");
        } else if let Some(s) = line.strip_prefix("setup:") {
            case.setup.push(words(s, dir));
        } else if let Some(t) = line.strip_prefix("truncate:") {
            let w = words(t, dir);
            case.edits
                .push(Edit::Truncate(w[0].clone(), w[1].parse().unwrap()));
        } else if let Some(p) = line.strip_prefix("patch:") {
            let w = words(p, dir);
            case.edits
                .push(Edit::Patch(w[0].clone(), w[1].parse().unwrap(), hex(&w[2])));
        }
    }
    assert!(!case.args.is_empty(), "a case needs `args:`");
    assert!(case.exit >= 0, "a case needs `exit:`");
    case
}

fn dlc(dir: &Path, args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dlc"))
        // Memory figures count one conv workspace per thread.
        .env("DLC_THREADS", "2")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("DLC_PROFILE")
        .output()
        .expect("dlc runs")
}

fn edit(dir: &Path, e: &Edit) {
    match e {
        Edit::Truncate(name, len) => {
            let mut bytes = std::fs::read(dir.join(name)).expect("file to truncate");
            bytes.truncate(*len);
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        Edit::Patch(name, offset, with) => {
            let mut bytes = std::fs::read(dir.join(name)).expect("file to patch");
            let at = if *offset < 0 {
                bytes.len() - offset.unsigned_abs() as usize
            } else {
                *offset as usize
            };
            bytes[at..at + with.len()].copy_from_slice(with);
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

/// Durations vary from run to run: `12.3 ms`, `0.25s`, `1.5 s`.
fn without_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        if i > start {
            let rest = &text[i..];
            let unit = ["ms", " ms", "s", " s"].iter().find(|u| {
                rest.starts_with(*u)
                    && !rest[u.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
            });
            match unit {
                Some(u) if text[start..i].contains('.') => {
                    out += "<time>";
                    i += u.len();
                }
                _ => out += &text[start..i],
            }
        } else {
            out.push(text[i..].chars().next().unwrap());
            i += text[i..].chars().next().unwrap().len_utf8();
        }
    }
    out
}

fn case_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-cli-corpus-{}/{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_case_ends_with_its_exit_code_and_message() {
    insta::glob!("corpus/cli/*.case", |path| {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("# "),
            "{name}: a case starts with a comment saying what it shows"
        );
        let dir = case_dir(&name);
        let shown = dir.display().to_string();
        let case = parse(&text, &shown);
        for (file, bytes) in &case.files {
            let at = dir.join(file);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, bytes).unwrap();
        }
        for args in &case.setup {
            let o = dlc(&dir, args);
            assert!(
                o.status.success(),
                "{name}: setup `{}` failed:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        for e in &case.edits {
            edit(&dir, e);
        }
        let o = dlc(&dir, &case.args);
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let code = o.status.code();
        assert!(code.is_some(), "{name}: ended by a signal\n{stderr}");
        assert!(!stderr.contains("panicked"), "{name}: panicked\n{stderr}");
        assert_eq!(code, Some(case.exit), "{name}: exit code\n{stderr}{stdout}");
        let shown_text = format!(
            "$ dlc {}\nexit: {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
            case.args.join(" "),
            case.exit
        );
        insta::assert_snapshot!(without_times(&shown_text.replace(&shown, "$DIR")));
        let _ = std::fs::remove_dir_all(&dir);
    });
}

#[test]
fn durations_are_hidden_and_numbers_kept() {
    assert_eq!(
        without_times("compiled in 12.3 ms; took 0.25s; 3 epochs; v1.5 shape 2.0"),
        "compiled in <time>; took <time>; 3 epochs; v1.5 shape 2.0"
    );
}
