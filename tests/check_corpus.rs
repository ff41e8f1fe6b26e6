//! The error corpus: each program under `tests/corpus/errors/` is wrong in
//! the way its name and its first comment say. Its diagnostics, rendered as
//! `dlc check` prints them (without colour), are snapshotted, so that every
//! change to a message, a span, a label or a help line is seen and reviewed.

use dlc::check::check_source;
use dlc::diag::{Source, render};
use std::path::Path;

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn every_wrong_program_is_rejected_with_its_diagnostics() {
    insta::glob!("corpus/errors/*.dl", |path| {
        let text = std::fs::read_to_string(path).expect("corpus files are readable");
        let name = file_name(path);
        assert!(
            text.starts_with("# "),
            "{name}: a corpus file starts with a comment saying what is wrong"
        );
        let checked = check_source(&text);
        assert!(checked.has_errors(), "{name} must be rejected");
        assert!(checked.model.is_none(), "{name}: no model after an error");
        let source = Source {
            name: &name,
            text: &text,
        };
        insta::assert_snapshot!(render(&source, &checked.diagnostics, false));
    });
}

/// The file name's prefix says which family of mistakes it shows; the codes
/// of its errors must be from that family.
#[test]
fn corpus_files_fail_with_codes_of_their_family() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/errors");
    let mut checked_files = 0;
    for entry in std::fs::read_dir(dir).expect("the corpus exists") {
        let path = entry.expect("a directory entry").path();
        let name = file_name(&path);
        let families: [(&str, &[&str]); 4] = [
            ("syntax_", &["E01"]),
            ("shape_", &["E04"]),
            ("loss_", &["E0408"]),
            // A number too large to read, a size overflow, an expansion too large.
            ("size_", &["E0102", "E06", "E0505"]),
        ];
        let Some((_, codes)) = families.iter().find(|(p, _)| name.starts_with(p)) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("readable");
        let checked = check_source(&text);
        for d in checked.diagnostics.iter().filter(|d| d.is_error()) {
            assert!(
                codes.iter().any(|c| d.code.starts_with(c)),
                "{name}: error {} ({}) is not one of {codes:?}",
                d.code,
                d.message
            );
        }
        checked_files += 1;
    }
    assert!(checked_files >= 30, "only {checked_files} files checked");
}

#[test]
fn the_corpus_is_large_enough() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/errors");
    let count = std::fs::read_dir(dir)
        .expect("the corpus exists")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "dl"))
        })
        .count();
    assert!(count >= 70, "the corpus has {count} programs");
}

/// Programs with several independent mistakes report each of them once.
#[test]
fn independent_mistakes_are_all_reported() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "multi_independent_errors.dl",
            &["E0201", "E0302", "E0302", "E0208"],
        ),
        (
            "multi_errors_in_every_item.dl",
            &["E0302", "E0301", "E0302"],
        ),
        ("multi_shape_errors_in_branches.dl", &["E0402", "E0404"]),
    ];
    for (file, codes) in cases {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/errors")
            .join(file);
        let text = std::fs::read_to_string(path).expect("readable");
        let found: Vec<&str> = check_source(&text)
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect();
        assert_eq!(found, codes, "{file}");
    }
}

/// A block used twice with the same mistake: one error, labelled at both uses.
#[test]
fn a_mistake_in_a_block_used_twice_is_reported_once() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/errors/block_error_inside_used_twice.dl");
    let text = std::fs::read_to_string(path).expect("readable");
    let checked = check_source(&text);
    assert_eq!(checked.diagnostics.len(), 1);
    let uses: Vec<&str> = checked.diagnostics[0]
        .secondary
        .iter()
        .filter(|l| l.message.contains("use of `head`"))
        .map(|l| &text[l.span.range()])
        .collect();
    assert_eq!(uses, ["head(16)", "head(16)"]);
}
