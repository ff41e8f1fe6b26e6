//! The command is a thin layer over the library's front door: every `dlc::`
//! path in `src/main.rs` and `src/cli/` starts with a name the crate root
//! exports without the `internals` feature.
//!
//! The tests build the library with that feature (they check each stage by
//! itself), so a command that reached into a stage would still compile here;
//! this test is what fails instead.

use std::collections::BTreeSet;
use std::path::Path;

/// Names `src/lib.rs` makes public outside `internal_modules!`: `pub mod x;`
/// and the names of `pub use ...;` items (the last segment, or its alias).
fn front_door() -> BTreeSet<String> {
    let lib = std::fs::read_to_string("src/lib.rs").unwrap();
    let code: String = lib
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut names = BTreeSet::new();
    for item in code.split(';') {
        let item = item.trim();
        if let Some(name) = item.strip_prefix("pub mod ") {
            names.insert(name.trim().to_string());
        } else if let Some(path) = item.strip_prefix("pub use ") {
            let (prefix, list) = match path.split_once('{') {
                Some((p, l)) => (p, l.trim_end_matches('}')),
                None => ("", path),
            };
            assert!(!prefix.contains(" as "), "unexpected form: {item}");
            for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let name = match part.split_once(" as ") {
                    Some((_, alias)) => alias,
                    None => part.rsplit("::").next().unwrap(),
                };
                names.insert(name.trim().to_string());
            }
        }
    }
    names
}

/// The first segment after every `dlc::` in `text`, with `use dlc::{a, b::c}`
/// giving `a` and `b`.
fn first_segments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in text.match_indices("dlc::") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `mydlc::`
        }
        let rest = &text[at + "dlc::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for part in group.split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out
}

fn command_sources() -> Vec<(String, String)> {
    let mut files = vec![Path::new("src/main.rs").to_path_buf()];
    for entry in std::fs::read_dir("src/cli").unwrap() {
        files.push(entry.unwrap().path());
    }
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_command_uses_only_the_front_door() {
    let public = front_door();
    for name in [
        "compile",
        "CompiledModel",
        "check",
        "data",
        "diag",
        "checkpoint",
    ] {
        assert!(public.contains(name), "`{name}` not found in {public:?}");
    }
    for internal in ["ir", "codegen", "autodiff", "runtime", "interp", "syntax"] {
        assert!(
            !public.contains(internal),
            "`{internal}` is public: {public:?}"
        );
    }
    let mut outside = Vec::new();
    for (file, text) in command_sources() {
        for name in first_segments(&text) {
            if !public.contains(&name) {
                outside.push(format!("{file}: dlc::{name}"));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "the command reaches past the front door:\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_segment_reader_sees_grouped_and_plain_paths() {
    let text =
        "use dlc::{data::Dataset, Limits};\nlet x = dlc::runtime::train::argmax(r);\nmydlc::x";
    assert_eq!(first_segments(text), ["data", "Limits", "runtime"]);
}
