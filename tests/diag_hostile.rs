//! The front end against text no editor would show plainly: a byte-order mark, control
//! characters, lines hundreds of kilobytes long. What is printed stays short and visible,
//! and every line and column stays the true one.

use dlc::check::check_source;
use dlc::diag::{Source, render};

fn rendered(text: &str) -> String {
    let checked = check_source(text);
    assert!(checked.has_errors(), "{text:?} checks");
    render(&Source { name: "p.dl", text }, &checked.diagnostics, false)
}

#[test]
fn a_byte_order_mark_is_accepted_and_columns_do_not_count_it() {
    let program = "data d = xor()\nnetwork net(x: [2]) -> 2 { dense 2 }\n";
    assert!(!check_source(&format!("\u{feff}{program}")).has_errors());
    // An error on the first line: the column is counted from after the mark, and the
    // mark is not printed.
    let text = "\u{feff}data d = xor(points: -1)\nnetwork net(x: [2]) -> 2 { dense 2 }\n";
    let out = rendered(text);
    assert!(out.contains("┌─ p.dl:1:22\n"), "{out}");
    assert!(out.contains("1 │ data d = xor(points: -1)\n"), "{out}");
    assert!(!out.contains('\u{feff}'), "{out:?}");
    let checked = check_source(text);
    let source = Source { name: "p.dl", text };
    let json = checked.diagnostics[0].to_json(&source);
    assert_eq!((json.line, json.column), (1, 22));
}

#[test]
fn a_mark_that_does_not_start_the_file_is_an_error_shown_as_an_escape() {
    let out = rendered("data d = xor()\n\u{feff}network net(x: [2]) -> 2 { dense 2 }\n");
    assert!(out.contains("unexpected `\\u{feff}`"), "{out}");
    assert!(out.contains("2 │ \\u{feff}network"), "{out}");
    assert!(!out.contains('\u{feff}'), "{out:?}");
}

#[test]
fn control_characters_are_escaped_and_pointed_at() {
    let out = rendered("data d = xor()\u{0}\nnetwork net(x: [2]) -> 2 { dense 2 }\n");
    assert!(
        out.starts_with("error[E0101]: unexpected `\\0`\n  ┌─ p.dl:1:15\n"),
        "{out}"
    );
    assert!(
        out.contains("1 │ data d = xor()\\0\n  │               ^^ expected"),
        "{out}"
    );
    assert!(!out.contains('\u{0}'), "{out:?}");
    // An escape sequence in a comment is not an error, and in an error's line it is shown
    // escaped, never sent to the terminal.
    let out = rendered("network net(x: [2]) -> 2 { dense -1 } # \u{1b}[2J\n");
    assert!(out.contains("# \\u{1b}[2J"), "{out}");
    assert!(!out.contains('\u{1b}'), "{out:?}");
}

#[test]
fn a_long_line_is_shown_as_a_window_around_the_mistake() {
    // 400 KB on one line, the mistake near its end.
    let layers = "relu; ".repeat(66_000);
    let text = format!("data d = xor()\nnetwork net(x: [2]) -> 2 {{ dense 2; {layers}bogus }}\n");
    let column = "network net(x: [2]) -> 2 { dense 2; ".len() + layers.len() + 1;
    let out = rendered(&text);
    assert!(out.len() < 1000, "{} bytes:\n{out}", out.len());
    assert!(out.contains(&format!("┌─ p.dl:2:{column}\n")), "{out}");
    let source_line = out.lines().find(|l| l.starts_with("2 │ ")).unwrap();
    let caret_line = out.lines().find(|l| l.contains("^^^^^")).unwrap();
    // The caret stands under `bogus` in the window (counted in characters: `…` is one).
    let column_of = |line: &str, i: usize| line[..i].chars().count();
    let at = column_of(source_line, source_line.find("bogus").unwrap());
    assert_eq!(
        column_of(caret_line, caret_line.find('^').unwrap()),
        at,
        "{out}"
    );
    assert!(source_line.starts_with("2 │ …"), "{out}");
}

#[test]
fn a_label_on_each_end_of_a_long_line_keeps_both_windows() {
    // `dense 3` is labelled as the layer that gives [3], the header's `-> 2` is the primary.
    let padding = "identity; ".repeat(10_000);
    let text = format!("network net(x: [2]) -> 2 {{ dense 3; {padding}}}\n");
    let out = rendered(&text);
    assert!(out.len() < 2000, "{} bytes:\n{out}", out.len());
    assert!(out.contains("-> 2"), "{out}");
    assert!(out.contains("dense 3"), "{out}");
    assert!(out.contains('…'), "{out}");
}

#[test]
fn a_non_ascii_name_is_pointed_at_with_the_rule() {
    let out = rendered("network nét(x: [2]) -> 2 { dense 2 }\n");
    assert!(
        out.starts_with(
            "error[E0101]: `é` cannot be part of a name: names are ASCII\n  ┌─ p.dl:1:10\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("^ not an ASCII letter or digit, in `nét`"),
        "{out}"
    );
}
