//! `**` and `sqrt(...)` in the language's arithmetic: precedence and
//! grouping as in Python, checked whole-number powers, and an error for
//! every value that is not a real number.

fn units(expr: &str) -> Result<usize, Vec<String>> {
    let text = format!("network net(x: [2]) {{ dense {expr} }}\n");
    let checked = dlc::check::check_source(&text);
    match checked.model {
        Some(m) => Ok(m.network.output_shape()[0]),
        None => Err(checked
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()),
    }
}

#[test]
fn powers_group_from_the_right_and_bind_tighter_than_everything() {
    for (expr, want) in [
        ("2 ** 3", 8),
        ("2 ** 3 ** 2 // 64", 8), // 2 ** 9, not (2 ** 3) ** 2
        ("3 * 2 ** 2", 12),       // 3 * 4, not 6 ** 2
        ("-2 ** 2 + 8", 4),       // -(2 ** 2), as in Python
        ("2 ** -1 * 8", 4),       // a real: 0.5 * 8
        ("2 ** -1 ** 2 * 8", 4),  // 2 ** -(1 ** 2)
        ("(1 + 1) ** (1 + 2)", 8),
        ("1 ** 10000000000", 1), // beyond u32, still exact
        ("2 + (-1) ** 10000000001", 1),
        ("sqrt(16) * 2", 8),
        ("sqrt(2) ** 2 // 1", 2),
    ] {
        assert_eq!(units(expr), Ok(want), "{expr}");
    }
}

#[test]
fn powers_and_roots_that_are_not_numbers_are_errors() {
    for (expr, code) in [
        ("2 ** 64", "E0601"),
        ("10.0 ** 400", "E0601"),
        ("0 ** -1", "E0602"),
        ("1 + (-8) ** 0.5", "E0302"),
        ("sqrt(-1)", "E0302"),
        ("sqrt(1, 2)", "E0301"),
        ("sqrt(x: 4)", "E0301"),
        ("sqrt(\"4\")", "E0301"),
    ] {
        let errors = units(expr).expect_err(expr);
        assert!(
            errors.iter().any(|e| e.starts_with(code)),
            "{expr}: {errors:?}"
        );
    }
}

#[test]
fn a_long_chain_of_powers_is_refused_without_recursing() {
    // Flat in the grammar and bounded by the operator limit: a hostile
    // chain cannot exhaust the stack.
    let chain = format!("1{}", " ** 1".repeat(100_000));
    let errors = units(&chain).expect_err("chain");
    assert!(
        errors.iter().any(|e| e.contains("expression is too long")),
        "{errors:?}"
    );
}

#[test]
fn the_initialisation_of_the_docs_example_is_computed() {
    let text = "network net(x: [13]) -> 4 { dense 4, init: normal(std: 1 / sqrt(13)) }\n";
    let model = dlc::check::check_source(text).model.expect("checks");
    let weight = &model.network.layers[1].params[0];
    assert_eq!(
        weight.init,
        dlc::check::Init::Normal {
            std: 1.0 / 13f64.sqrt()
        }
    );
}

#[test]
fn a_first_argument_in_parentheses_can_be_computed_further() {
    // `(1 + 1) * 3` is one expression, not the call `dense(1 + 1)` and a
    // stray `* 3`; `(32), bias: false` is two arguments.
    assert_eq!(units("(1 + 1) * 3"), Ok(6));
    assert_eq!(units("(1 + 1) ** 3"), Ok(8));
    assert_eq!(units("(4) // 2"), Ok(2));
    assert_eq!(units("(32), bias: false"), Ok(32));
    assert_eq!(units("(32, bias: false)"), Ok(32));
}
