//! The language reference (`docs/language.md`) is checked by the checker it documents.
//!
//! Every fenced block whose info string starts with `dl` is an example:
//!
//! - ```` ```dl ```` is a whole program that must check clean: a model and no
//!   diagnostic at all, not even a warning;
//! - ```` ```dl,fragment ```` is a piece of a program (a layer line, a setting, an
//!   item). It must check without errors once placed in one of the minimal
//!   programs of [`wrappers`]: as an item beside a network, as lines of a network
//!   body, or as lines of a data or train item;
//! - ```` ```dl,error ```` must produce at least one error, and
//!   ```` ```dl,error,E0401 ```` an error with each code listed;
//! - ```` ```dl,warning,W0101 ```` must check without errors and give a warning
//!   with each code listed.
//!
//! The reference must also name every diagnostic code, built-in layer, data
//! source and setting that the checker knows, read from the checker's own tables.

use dlc::check::Checked;

/// Checks as `dlc check` does: the checker, then the memory estimate.
fn check_source(text: &str) -> Checked {
    dlc::check_with(text, &dlc::Options::default())
}
use dlc::diag::Diagnostic;

const DOC: &str = include_str!("../docs/language.md");
const DOC_PATH: &str = "docs/language.md";

#[derive(Debug, PartialEq)]
enum Kind {
    Program,
    Fragment,
    Error,
    Warning,
}

#[derive(Debug)]
struct Example {
    /// 1-based line of the opening fence in the reference.
    line: usize,
    kind: Kind,
    /// Diagnostic codes the example must produce (errors or warnings).
    codes: Vec<String>,
    text: String,
}

/// The `dl` examples of the reference, in order. Panics on an unknown `dl,...`
/// tag or an unclosed fence, so a typo cannot silently skip an example.
fn examples() -> Vec<Example> {
    let mut out = Vec::new();
    let mut lines = DOC.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let mut tags = info.trim().split(',').map(str::trim);
        let language = tags.next().unwrap_or_default();
        let mut body = Vec::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                closed = true;
                break;
            }
            body.push(l);
        }
        assert!(closed, "{DOC_PATH}:{}: the code block is not closed", i + 1);
        if language != "dl" {
            continue;
        }
        let rest: Vec<&str> = tags.collect();
        let (kind, codes) = match rest.split_first() {
            None => (Kind::Program, &[][..]),
            Some((&"fragment", codes)) => (Kind::Fragment, codes),
            Some((&"error", codes)) => (Kind::Error, codes),
            Some((&"warning", codes)) => (Kind::Warning, codes),
            Some((other, _)) => panic!("{DOC_PATH}:{}: unknown example tag `{other}`", i + 1),
        };
        for c in codes {
            assert!(
                is_code(c),
                "{DOC_PATH}:{}: `{c}` is not a diagnostic code",
                i + 1
            );
        }
        assert!(
            kind != Kind::Warning || !codes.is_empty(),
            "{DOC_PATH}:{}: a `dl,warning` example names the warning it shows",
            i + 1
        );
        out.push(Example {
            line: i + 1,
            kind,
            codes: codes.iter().map(|c| c.to_string()).collect(),
            text: body.join("\n") + "\n",
        });
    }
    out
}

fn is_code(s: &str) -> bool {
    s.len() == 5
        && (s.starts_with('E') || s.starts_with('W'))
        && s[1..].chars().all(|c| c.is_ascii_digit())
}

fn show(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("    {} {}", d.code, d.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn errors(c: &Checked) -> usize {
    c.diagnostics.iter().filter(|d| d.is_error()).count()
}

/// Fails with every failing example listed, rather than only the first.
fn report(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} documented example(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn of_kind(kind: Kind) -> Vec<Example> {
    let found: Vec<Example> = examples().into_iter().filter(|e| e.kind == kind).collect();
    assert!(!found.is_empty(), "the reference has no {kind:?} examples");
    found
}

#[test]
fn programs_check_clean() {
    let mut failures = Vec::new();
    for e in of_kind(Kind::Program) {
        let c = check_source(&e.text);
        if c.model.is_none() || !c.diagnostics.is_empty() {
            failures.push(format!(
                "{DOC_PATH}:{}: expected a clean check, got:\n{}",
                e.line,
                show(&c.diagnostics)
            ));
        }
    }
    report(failures);
}

#[test]
fn error_examples_fail_with_their_codes() {
    let mut failures = Vec::new();
    for e in of_kind(Kind::Error) {
        let c = check_source(&e.text);
        let missing: Vec<&String> = e
            .codes
            .iter()
            .filter(|code| {
                !c.diagnostics
                    .iter()
                    .any(|d| d.is_error() && d.code == code.as_str())
            })
            .collect();
        if errors(&c) == 0 || !missing.is_empty() {
            failures.push(format!(
                "{DOC_PATH}:{}: expected error(s) {:?}, got:\n{}",
                e.line,
                e.codes,
                show(&c.diagnostics)
            ));
        }
    }
    report(failures);
}

#[test]
fn warning_examples_warn_with_their_codes() {
    let mut failures = Vec::new();
    for e in of_kind(Kind::Warning) {
        let c = check_source(&e.text);
        let all_warned = e.codes.iter().all(|code| {
            c.diagnostics
                .iter()
                .any(|d| !d.is_error() && d.code == code.as_str())
        });
        if errors(&c) > 0 || c.model.is_none() || !all_warned {
            failures.push(format!(
                "{DOC_PATH}:{}: expected only warning(s) {:?}, got:\n{}",
                e.line,
                e.codes,
                show(&c.diagnostics)
            ));
        }
    }
    report(failures);
}

/// The sample output of `dlc check` in the reference is what `dlc check`
/// prints for the reference's first program.
#[test]
fn sample_summary_is_current() {
    let block = DOC
        .split("```text\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with("$ dlc check "))
        .expect("the reference shows the output of `$ dlc check`");
    let (command, shown) = block.split_once('\n').expect("output after the command");
    let file = command.trim_start_matches("$ dlc check ").trim();
    let first = of_kind(Kind::Program).remove(0);
    let model = check_source(&first.text)
        .model
        .expect("the first program checks");
    let printed = format!("{file}: ok\n{}", dlc::report::summary_table(&model));
    assert_eq!(
        shown, printed,
        "{DOC_PATH}: the sample output of `dlc check` (for the program at line {}) is stale",
        first.line
    );
}

/// Minimal programs a fragment can be placed in.
fn wrappers(fragment: &str) -> Vec<String> {
    let mut out = vec![
        // Items: data, blocks, networks.
        format!("{fragment}\nnetwork doc_net(x: [2]) {{ dense 2 }}\n"),
        // Lines of a network body, on vectors and on images.
        format!("network doc_net(x: [16]) {{\n{fragment}\n}}\n"),
        format!("network doc_net(x: [3, 32, 32]) {{\n{fragment}\n}}\n"),
        // Lines of a data item whose sample shape is known only from its file.
        format!(
            "data doc_data = csv(\"doc.csv\", label: \"y\") {{\n{fragment}\n}}\n\
             network doc_net(x: [2]) {{ dense 2 }}\n"
        ),
    ];
    // Lines of a train item, for classification with one output per class or
    // a single logit, and for regression. The required settings are added
    // when the fragment does not set them.
    let plans = [
        ("xor()", "[2]", 2, "cross_entropy"),
        ("xor()", "[2]", 1, "binary_cross_entropy"),
        ("sine()", "[1]", 1, "mse"),
    ];
    let sets = |name: &str| {
        fragment
            .split(['\n', ';'])
            .any(|l| l.split_whitespace().next() == Some(name))
    };
    for (source, input, outputs, loss) in plans {
        let mut plan = String::from(fragment);
        if !sets("loss") {
            plan += &format!("\nloss {loss}");
        }
        if !sets("optimizer") {
            plan += "\noptimizer sgd(lr: 0.1)";
        }
        out.push(format!(
            "data doc_data = {source} {{ validation 0.25 }}\n\
             network doc_net(x: {input}) -> {outputs} {{ dense {outputs} }}\n\
             train doc_net on doc_data {{\n{plan}\n}}\n"
        ));
    }
    out
}

#[test]
fn fragments_check_in_a_minimal_program() {
    let mut failures = Vec::new();
    for e in of_kind(Kind::Fragment) {
        let attempts: Vec<Checked> = wrappers(e.text.trim_end())
            .iter()
            .map(|p| check_source(p))
            .collect();
        if attempts.iter().any(|c| errors(c) == 0 && c.model.is_some()) {
            continue;
        }
        let closest = attempts
            .iter()
            .min_by_key(|c| errors(c))
            .expect("there is at least one wrapper");
        failures.push(format!(
            "{DOC_PATH}:{}: the fragment checks in no minimal program; closest attempt:\n{}",
            e.line,
            show(&closest.diagnostics)
        ));
    }
    report(failures);
}

/// The quoted strings of `pub const NAME: &[&str] = &[...]` in a checker source file.
fn table(file: &str, name: &str) -> Vec<String> {
    let path = format!("{}/src/check/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = text
        .find(&format!("pub const {name}: &[&str] = &["))
        .unwrap_or_else(|| panic!("{path}: no table `{name}`"));
    let body = &text[start..];
    let end = body
        .find("];")
        .unwrap_or_else(|| panic!("{path}: `{name}` is not closed"));
    let items: Vec<String> = body[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(!items.is_empty(), "{path}: the table `{name}` is empty");
    items
}

#[test]
fn every_setting_is_documented() {
    let mut missing = Vec::new();
    for (file, what) in [("data.rs", "data"), ("train.rs", "train")] {
        for setting in table(file, "SETTINGS") {
            // A settings table row: | `name` | ...
            let row = format!("| `{setting}` |");
            if !DOC.lines().any(|l| l.starts_with(&row)) {
                missing.push(format!("{what} setting `{setting}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no table row for {}",
        missing.join(", ")
    );
}

/// Every code of the catalogue in `src/diag.rs` has a row in the table of codes,
/// and every code the reference mentions exists.
#[test]
fn every_diagnostic_code_is_documented() {
    let path = format!("{}/src/diag.rs", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let catalogue: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("pub const "))
        .filter_map(|l| l.split('"').nth(1))
        .filter(|c| is_code(c))
        .collect();
    assert!(
        catalogue.len() > 40,
        "{path}: found only {} codes",
        catalogue.len()
    );
    let missing: Vec<&&str> = catalogue
        .iter()
        .filter(|c| !DOC.lines().any(|l| l.starts_with(&format!("| `{c}` |"))))
        .collect();
    assert!(missing.is_empty(), "no table row for codes {missing:?}");
    let words = DOC.split(|c: char| !c.is_ascii_alphanumeric());
    let unknown: Vec<&str> = words
        .filter(|w| is_code(w) && !catalogue.contains(w))
        .collect();
    assert!(
        unknown.is_empty(),
        "the reference names codes that do not exist: {unknown:?}"
    );
}
