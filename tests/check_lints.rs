//! Where warnings point: at the part of the program that would change.

use dlc::check::check_source;

/// The text the warning `code` underlines in `text`.
fn underlined<'a>(text: &'a str, code: &str) -> &'a str {
    let checked = check_source(text);
    let d = checked
        .diagnostics
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:?}", checked.diagnostics));
    &text[d.primary.span.start..d.primary.span.end]
}

fn program(optimizer: &str) -> String {
    format!(
        "data points = moons()\n\
         network net(x: [2]) -> 2 {{ dense 2 }}\n\
         train net on points {{\n    loss cross_entropy\n    optimizer {optimizer}\n}}\n"
    )
}

#[test]
fn a_large_rate_is_underlined_at_its_argument() {
    assert_eq!(underlined(&program("adam(lr: 0.5)"), "W0109"), "0.5");
    assert_eq!(
        underlined(&program("sgd(momentum: 0.9, lr: 3 * 2)"), "W0109"),
        "3 * 2"
    );
}

#[test]
fn a_large_rate_given_by_position_is_underlined_at_its_value() {
    assert_eq!(underlined(&program("adam(0.5)"), "W0109"), "0.5");
}
