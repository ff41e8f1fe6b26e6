//! Writing a rate and a decay back into a program: only the numbers change.

use dlc::check::{OptimizerKind, check_source};
use dlc::recipe::{DecayKind, EditError, format_number, write_setting};

const SGD: &str = "# a comment that must survive
data points = moons(points: 100) { validation 0.2 }

network net(x: [2]) -> 2 {
    dense 8   # hidden
    tanh
    dense 2
}

train net on points {
    loss      cross_entropy
    optimizer sgd(lr: 0.1, momentum: 0.9)   # tuned later
    batch     16
}
";

fn plan(text: &str) -> dlc::check::TrainSpec {
    let checked = check_source(text);
    assert!(!checked.has_errors(), "{:?}\n{text}", checked.diagnostics);
    checked.model.unwrap().train.unwrap()
}

/// The one place where `before` and `after` differ: (prefix length, removed, inserted).
fn difference<'a>(before: &'a str, after: &'a str) -> (usize, &'a str, &'a str) {
    let prefix = before
        .bytes()
        .zip(after.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = before[prefix..]
        .bytes()
        .rev()
        .zip(after[prefix..].bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    (
        prefix,
        &before[prefix..before.len() - suffix],
        &after[prefix..after.len() - suffix],
    )
}

#[test]
fn numbers_are_short() {
    assert_eq!(format_number(0.0316227766), "0.0316");
    assert_eq!(format_number(3.16227766e-5), "3.16e-5");
    assert_eq!(format_number(1e-4), "1e-4");
    assert_eq!(format_number(0.1), "0.1");
    assert_eq!(format_number(0.09996), "0.1");
    assert_eq!(format_number(123.4), "123");
    assert_eq!(format_number(0.0), "0");
    assert_eq!(format_number(2.5e4), "2.5e4");
}

#[test]
fn rate_alone_changes_only_its_number() {
    let out = write_setting(SGD, 0.0437, None).unwrap();
    let (at, removed, inserted) = difference(SGD, &out);
    assert_eq!((removed, inserted), ("1", "0437"), "{out}");
    assert_eq!(&SGD[at - 6..at], "lr: 0.");
    assert_eq!(plan(&out).optimizer.lr, 0.0437);
    assert!(out.contains("# a comment that must survive") && out.contains("# tuned later"));
}

#[test]
fn positional_rate_is_found() {
    let text = SGD.replace("sgd(lr: 0.1, momentum: 0.9)", "sgd(0.1, momentum: 0.9)");
    let out = write_setting(&text, 0.3, None).unwrap();
    assert_eq!(plan(&out).optimizer.lr, 0.3);
    assert!(out.contains("sgd(0.3, momentum: 0.9)"), "{out}");
}

#[test]
fn missing_l2_becomes_an_aligned_line_under_the_optimizer() {
    let out = write_setting(SGD, 0.05, Some((DecayKind::L2, 1e-4))).unwrap();
    let t = plan(&out);
    assert_eq!((t.optimizer.lr, t.l2), (0.05, 1e-4));
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("    optimizer"))
        .unwrap();
    assert_eq!(lines[at + 1], "    l2        1e-4");
    // Every other line is as it was.
    let mut others = lines.clone();
    others.remove(at + 1);
    let original: Vec<String> = SGD
        .lines()
        .map(|l| l.replace("lr: 0.1", "lr: 0.05"))
        .collect();
    assert_eq!(others, original);
}

#[test]
fn existing_l2_is_replaced_in_place() {
    let text = SGD.replace(
        "    batch     16\n",
        "    batch     16\n    l2        5e-4   # decay\n",
    );
    let out = write_setting(&text, 0.1, Some((DecayKind::L2, 3.16e-5))).unwrap();
    let (_, removed, inserted) = difference(&text, &out);
    assert_eq!((removed, inserted), ("5e-4", "3.16e-5"));
    assert_eq!(plan(&out).l2, 3.16e-5);
}

#[test]
fn zero_decay_adds_nothing() {
    let out = write_setting(SGD, 0.1, Some((DecayKind::L2, 0.0))).unwrap();
    assert_eq!(out, SGD);
}

#[test]
fn adamw_decay_is_an_argument() {
    let text = SGD.replace("sgd(lr: 0.1, momentum: 0.9)", "adamw(lr: 0.001)");
    let out = write_setting(&text, 0.002, Some((DecayKind::Decoupled, 0.03))).unwrap();
    assert!(
        out.contains("adamw(lr: 0.002, weight_decay: 0.03)"),
        "{out}"
    );
    let again = write_setting(&out, 0.004, Some((DecayKind::Decoupled, 0.1))).unwrap();
    assert!(
        again.contains("adamw(lr: 0.004, weight_decay: 0.1)"),
        "{again}"
    );
    match plan(&again).optimizer.kind {
        OptimizerKind::AdamW(a) => assert_eq!(a.weight_decay, 0.1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_line_plans_get_a_separator() {
    let text = "data points = xor()\nnetwork net(x: [2]) -> 2 { dense 8; tanh; dense 2 }\n\
                train net on points { loss cross_entropy; optimizer sgd(lr: 0.5); batch all }\n";
    let out = write_setting(text, 0.2, Some((DecayKind::L2, 1e-3))).unwrap();
    assert!(
        out.contains("optimizer sgd(lr: 0.2); l2 0.001; batch all"),
        "{out}"
    );
    assert_eq!(plan(&out).l2, 1e-3);
}

#[test]
fn programs_without_a_plan_are_refused() {
    let text = "network net(x: [2]) -> 2 { dense 2 }\n";
    assert_eq!(write_setting(text, 0.1, None), Err(EditError::NoTrain));
    assert_eq!(write_setting("network (", 0.1, None), Err(EditError::Parse));
}
