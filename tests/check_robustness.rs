//! No input makes the checker panic, overflow its stack or hang.
//!
//! Property tests feed `check_source` (and the rendering of what it reports)
//! random bytes, random sequences of the language's tokens, and the example
//! programs mutated: tokens deleted, duplicated and swapped, numbers replaced
//! by huge, negative or zero values, brackets nested deeply, blocks that
//! expand exponentially, very long lines. Each case runs on its own thread
//! and must finish within [`LIMIT`]; every diagnostic must point inside the
//! text, and a model must come exactly when there is no error.

use dlc::check::check_source;
use dlc::diag::{LineIndex, Source, line_col, render};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The longest one check (parse, check, render) may take: one second in an
/// optimised build (`cargo test --release`), where the largest inputs here
/// take about 0.3 s. Unoptimised code parses about ten times slower, so a
/// plain `cargo test` allows ten times more; a hang fails either way.
const LIMIT: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(10)
} else {
    Duration::from_secs(1)
};

/// Cases per property: fewer in unoptimised builds, which are slow; the
/// full count runs with `--release`.
const fn cases(optimised: u32) -> u32 {
    if cfg!(debug_assertions) {
        optimised / 5
    } else {
        optimised
    }
}

/// Checks `text` on a thread of its own; fails on a panic, a broken
/// invariant, or when no answer comes within [`LIMIT`].
fn check_in_time(text: String) -> Result<(), TestCaseError> {
    // One check at a time, across the tests running in parallel: the time
    // measured is then the check's own, not that of its neighbours.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (tx, rx) = mpsc::channel();
    let shown: String = text.chars().take(300).collect();
    std::thread::spawn(move || {
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(|| examine(&text));
        let _ = tx.send((outcome, start.elapsed()));
    });
    match rx.recv_timeout(LIMIT * 2) {
        Ok((Ok(Ok(())), elapsed)) if elapsed <= LIMIT => Ok(()),
        Ok((Ok(Ok(())), elapsed)) => Err(TestCaseError::fail(format!(
            "took {elapsed:?} (limit {LIMIT:?}) on {shown:?}"
        ))),
        Ok((Ok(Err(why)), _)) => Err(TestCaseError::fail(format!("{why} on {shown:?}"))),
        Ok((Err(_), _)) => Err(TestCaseError::fail(format!("panicked on {shown:?}"))),
        Err(_) => Err(TestCaseError::fail(format!(
            "no answer within {:?} on {shown:?}",
            LIMIT * 2
        ))),
    }
}

/// Parses, checks and renders; returns the invariant that broke, if any.
fn examine(text: &str) -> Result<(), String> {
    let checked = check_source(text);
    if checked.model.is_some() == checked.has_errors() {
        return Err("a model must come exactly when there is no error".into());
    }
    for d in &checked.diagnostics {
        let spans = std::iter::once(&d.primary).chain(&d.secondary);
        for l in spans {
            if l.span.start > l.span.end || l.span.end > text.len() {
                return Err(format!(
                    "span {:?} outside the text ({})",
                    l.span, d.message
                ));
            }
            if !text.is_char_boundary(l.span.start) || !text.is_char_boundary(l.span.end) {
                return Err(format!("span {:?} splits a character", l.span));
            }
        }
    }
    let source = Source {
        name: "case.dl",
        text,
    };
    let rendered = render(&source, &checked.diagnostics, false);
    if checked.has_errors() && !rendered.contains("error[") {
        return Err("errors were not rendered".into());
    }
    if let Some(model) = &checked.model {
        let _ = dlc::report::summary_table(model);
    }
    Ok(())
}

fn examples() -> &'static [String] {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts = Vec::new();
        for dir in ["examples", "examples/bench"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("examples exist") {
                let path = entry.expect("an entry").path();
                if path.extension().is_some_and(|e| e == "dl") {
                    texts.push(std::fs::read_to_string(path).expect("readable"));
                }
            }
        }
        texts.sort();
        texts
    })
}

/// Splits a program into tokens (words, numbers, strings, symbols, blanks),
/// so that mutations act on the units a person would edit.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let mut token = c.to_string();
        let same = |a: char, b: char| {
            (a.is_alphanumeric() || a == '_' || a == '.')
                && (b.is_alphanumeric() || b == '_' || b == '.')
                || (a == ' ' && b == ' ')
        };
        if c == '"' {
            for d in chars.by_ref() {
                token.push(d);
                if d == '"' || d == '\n' {
                    break;
                }
            }
        } else {
            while let Some(&d) = chars.peek() {
                if !same(c, d) {
                    break;
                }
                token.push(d);
                chars.next();
            }
        }
        out.push(token);
    }
    out
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "1",
    "3.5",
    "1e308",
    "1e-320",
    "1e999",
    "4294967297",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999999",
    "99999999999 * 99999999999",
    "65536 * 65536",
    "0.0000001",
    "1 / 0",
    "7 // 0",
];

const TOKENS: &[&str] = &[
    "data",
    "block",
    "network",
    "train",
    "on",
    "true",
    "false",
    "->",
    "+",
    "-",
    "*",
    "/",
    "//",
    ":",
    ",",
    "=",
    ";",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\n",
    "#",
    "\"",
    "\"x\"",
    "0",
    "1",
    "3",
    "0.5",
    "1e-3",
    "60_000",
    "99999999999999999999",
    "x",
    "h",
    "input",
    "dense",
    "conv",
    "maxpool",
    "avgpool",
    "flatten",
    "relu",
    "tanh",
    "softmax",
    "batchnorm",
    "layernorm",
    "instancenorm",
    "dropout",
    "prelu",
    "leaky_relu",
    "concat",
    "kernel",
    "pad",
    "same",
    "stride",
    "bias",
    "init",
    "he",
    "normal",
    "std",
    "xor",
    "spirals",
    "random_images",
    "shape",
    "csv",
    "label",
    "reshape",
    "validation",
    "loss",
    "cross_entropy",
    "mse",
    "optimizer",
    "sgd",
    "adam",
    "lr",
    "momentum",
    "nesterov",
    "schedule",
    "cosine",
    "batch",
    "all",
    "epochs",
    "early_stop",
    "val_loss",
    "net",
    "b",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Number(usize, usize),
    Nest(usize, usize),
    LongLine(usize, usize),
    BlowUp(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<usize>(), 0..NUMBERS.len()).prop_map(|(a, n)| Mutation::Number(a, n)),
        (any::<usize>(), 0usize..80).prop_map(|(a, depth)| Mutation::Nest(a, depth)),
        (any::<usize>(), 1usize..20_000).prop_map(|(a, n)| Mutation::LongLine(a, n)),
        // Up to 6^5 layers: large, but under the expansion limit, which the
        // worst cases below pass.
        (2usize..7, 2usize..7).prop_map(|(depth, fan)| Mutation::BlowUp(depth, fan)),
    ]
}

fn apply(tokens: &mut Vec<String>, m: &Mutation) {
    if tokens.is_empty() {
        tokens.push(String::new());
    }
    let at = |i: usize| i % tokens.len();
    match *m {
        Mutation::Delete(i) => {
            tokens.remove(at(i));
        }
        Mutation::Duplicate(i) => {
            let t = tokens[at(i)].clone();
            tokens.insert(at(i), t);
        }
        Mutation::Swap(i, j) => {
            let (i, j) = (at(i), at(j));
            tokens.swap(i, j);
        }
        Mutation::Number(i, n) => {
            // The first number at or after `i`, if any, else the token at `i`.
            let start = at(i);
            let len = tokens.len();
            let k = (0..len)
                .map(|o| (start + o) % len)
                .find(|&k| tokens[k].starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(start);
            tokens[k] = NUMBERS[n].to_string();
        }
        Mutation::Nest(i, depth) => {
            let nested = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
            tokens.insert(at(i), nested);
        }
        Mutation::LongLine(i, n) => {
            let long = match n % 4 {
                0 => "relu -> ".repeat(n),
                1 => "x".repeat(n * 8),
                2 => "9".repeat(n),
                _ => "1 + ".repeat(n.min(300)) + "1",
            };
            tokens.insert(at(i), long);
        }
        Mutation::BlowUp(depth, fan) => {
            let mut text = String::from("\nblock z0() {\n    relu\n}\n");
            for d in 1..depth {
                let uses = vec![format!("z{}()", d - 1); fan].join("; ");
                text += &format!("block z{d}() {{\n    {uses}\n}}\n");
            }
            text += &format!("network zz(x: [2]) {{\n    z{}()\n}}\n", depth - 1);
            tokens.push(text);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(600), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_in_time(String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn random_token_sequences(
        parts in proptest::collection::vec((0..TOKENS.len(), 0usize..3), 0..250)
    ) {
        let mut text = String::new();
        for (t, sep) in parts {
            text += TOKENS[t];
            text += ["", " ", "\n"][sep];
        }
        check_in_time(text)?;
    }

    #[test]
    fn line_index_agrees_with_line_col(
        text in "[a-z\n é\u{1F600}]{0,200}",
        offsets in proptest::collection::vec(any::<usize>(), 1..20)
    ) {
        let index = LineIndex::new(&text);
        for o in offsets {
            let o = o % (text.len() + 2);
            prop_assert_eq!(index.line_col(&text, o), line_col(&text, o));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1000), ..ProptestConfig::default() })]

    #[test]
    fn mutated_examples(
        which in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..5)
    ) {
        let all = examples();
        let mut toks = tokens(&all[which % all.len()]);
        for m in &mutations {
            apply(&mut toks, m);
        }
        check_in_time(toks.concat())?;
    }
}

/// The tokenizer used for mutations loses nothing: the mutations act on the
/// real programs.
#[test]
fn tokens_rebuild_the_examples() {
    for text in examples() {
        assert_eq!(tokens(text).concat(), *text);
    }
}

/// Hand-made worst cases, each just past a limit of the front end.
#[test]
fn known_worst_cases_finish_in_time() {
    let deep_expression = {
        // Expressions nested as deep as brackets allow, each level with
        // as many operators as allowed: the expression tree stays shallow
        // enough to evaluate and drop.
        let mut e = String::from("1");
        for _ in 0..60 {
            e = format!("({e} + {})", ["1"; 4].join(" * "));
        }
        format!("network n(x: [2]) {{\n    dense {e}\n}}\n")
    };
    let many_networks = {
        // Block `e` expands to 8^5 layers; 40 networks use it. The expansion
        // limit holds for all networks together, so the work stays bounded.
        let mut text =
            String::from("block a() {\n    relu; relu; relu; relu; relu; relu; relu; relu\n}\n");
        for (name, inner) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d")] {
            let uses = vec![format!("{inner}()"); 8].join("; ");
            text += &format!("block {name}() {{\n    {uses}\n}}\n");
        }
        for n in 0..40 {
            text += &format!("network n{n}(x: [2]) {{\n    e()\n}}\n");
        }
        text
    };
    let many_errors = "network n(x: [2]) {\n".to_string() + &"    relux\n".repeat(5_000) + "}\n";
    let long_name = format!("network n(x: [2]) {{\n    {}\n}}\n", "q".repeat(200_000));
    let wide_add = {
        let mut text = String::from("network n(x: [4]) {\n");
        for i in 0..2000 {
            text += &format!("    v{i} = x -> dense 4\n");
        }
        let sum: Vec<String> = (0..2000).map(|i| format!("v{i}")).collect();
        text += &format!("    {}\n", sum.join(" + "));
        text += &"    dropout 0.1\n".repeat(3000);
        text + "}\n"
    };
    for text in [
        deep_expression,
        many_networks,
        many_errors,
        long_name,
        wide_add,
    ] {
        check_in_time(text).expect("in time, without a panic");
    }
}
