//! The first sanity check and the initialisation it checks: on the real
//! data sets, standardised, a fresh network's loss is near chance for every
//! seed; an output layer drawn wide, or a norm after it, fails the check
//! with the cause named.

use dlc::BackendKind;
use dlc::recipe::sanity::{CHANCE_TOLERANCE, InitialLoss, initial_loss, measure_initial_loss};
use dlc::recipe::{Bench, SanityOptions, sanity};
use std::path::{Path, PathBuf};

/// How close to chance the default initialisation starts, for every seed:
/// tighter than the check's own limit, which leaves room for other
/// networks and data.
const NEAR: f64 = 0.10;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data")
}

/// A copy of an example data set with its class names replaced by indices
/// (in order of first appearance), for readers that take indices only.
fn with_class_indices(file: &str, label: &str) -> PathBuf {
    let text = std::fs::read_to_string(data_dir().join(file)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let column = header.split(',').position(|c| c == label).unwrap();
    let mut names: Vec<String> = Vec::new();
    let mut out = format!("{header}\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        let name = cells[column].clone();
        let index = names.iter().position(|n| *n == name).unwrap_or_else(|| {
            names.push(name);
            names.len() - 1
        });
        cells[column] = index.to_string();
        out += &cells.join(",");
        out.push('\n');
    }
    let dir = std::env::temp_dir().join(format!("dlc-initial-loss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, out).unwrap();
    path
}

struct Set {
    name: &'static str,
    path: PathBuf,
    label: &'static str,
    features: usize,
    classes: usize,
}

fn sets() -> Vec<Set> {
    vec![
        Set {
            name: "iris",
            path: data_dir().join("iris.csv"),
            label: "species",
            features: 4,
            classes: 3,
        },
        Set {
            name: "digits",
            path: data_dir().join("digits.csv"),
            label: "digit",
            features: 64,
            classes: 10,
        },
        Set {
            name: "wine",
            path: with_class_indices("wine.csv", "cultivar"),
            label: "cultivar",
            features: 13,
            classes: 3,
        },
        Set {
            name: "breast cancer",
            path: with_class_indices("breast_cancer.csv", "diagnosis"),
            label: "diagnosis",
            features: 30,
            classes: 2,
        },
    ]
}

fn program(set: &Set, layers: &str, loss: &str, outputs: usize, seed: u64) -> String {
    format!(
        "data d = csv({:?}, label: {:?}, classes: {}) {{ standardize; validation 0.2; seed 3 }}\n\
         network net(x: [{}]) -> {outputs} {{ {layers} {outputs} }}\n\
         train net on d {{ loss {loss}; optimizer adam(lr: 0.001); batch 32; epochs 1; seed {seed} }}\n",
        set.path.display(),
        set.label,
        set.classes,
        set.features,
    )
}

fn measure(text: &str) -> InitialLoss {
    let bench = Bench::new(text, BackendKind::Jit, "check").unwrap();
    measure_initial_loss(&bench).unwrap()
}

#[test]
fn fresh_classifiers_of_the_real_data_sets_start_near_chance_for_every_seed() {
    let shallow = "dense 16; relu; dense";
    let deep = "dense 64; relu; dense 64; relu; dense 32; relu; dense";
    let mut far = Vec::new();
    for set in sets() {
        for layers in [shallow, deep] {
            for seed in 1..=4 {
                let text = program(&set, layers, "cross_entropy", set.classes, seed);
                let m = measure(&text);
                assert!((m.chance - (set.classes as f64).ln()).abs() < 1e-12);
                if m.deviation().abs() > NEAR {
                    far.push(format!("{} `{layers}` seed {seed}: {m:?}", set.name));
                }
            }
        }
    }
    assert!(far.is_empty(), "{}", far.join("\n"));
}

#[test]
fn a_fresh_binary_classifier_starts_near_ln_2() {
    let set = sets().pop().unwrap();
    for seed in 1..=4 {
        let text = program(
            &set,
            "dense 16; relu; dense",
            "binary_cross_entropy",
            1,
            seed,
        );
        let m = measure(&text);
        assert!((m.chance - 2f64.ln()).abs() < 1e-12);
        assert!(m.deviation().abs() <= NEAR, "seed {seed}: {m:?}");
    }
}

fn iris(network: &str) -> String {
    let text = std::fs::read_to_string("examples/iris.dl").unwrap();
    let start = text.find("network").unwrap();
    let end = start + text[start..].find("}\n").unwrap() + 2;
    format!("{}{network}\n{}", &text[..start], &text[end..])
}

fn initial_check(text: &str) -> dlc::recipe::Check {
    let bench = Bench::new(text, BackendKind::Jit, "check").unwrap();
    initial_loss(&bench).unwrap()
}

#[test]
fn an_output_layer_drawn_wide_fails_and_its_init_argument_is_named() {
    let text = iris("network iris_net(x: [4]) -> 3 { dense 16; relu; dense 3, init: he }");
    let check = initial_check(&text);
    assert!(!check.passed, "{}", check.text());
    assert!(check.summary.contains("chance is ln 3"), "{}", check.text());
    let named =
        |a: &String| a.contains("`dense2`") && a.contains("he normal") && a.contains("remove");
    assert!(check.advice.iter().any(named), "{}", check.text());
    assert!(
        check.advice.iter().any(|a| a.contains("start too large")),
        "{}",
        check.text()
    );
}

#[test]
fn a_norm_after_the_output_layer_fails_and_is_named() {
    let text = iris("network iris_net(x: [4]) -> 3 { dense 16; relu; dense 3; batchnorm }");
    let check = initial_check(&text);
    assert!(!check.passed, "{}", check.text());
    assert!(
        check
            .advice
            .iter()
            .any(|a| a.contains("ends in `batchnorm`")),
        "{}",
        check.text()
    );
}

#[test]
fn the_check_passes_within_its_tolerance_of_chance_and_fails_beyond() {
    // The same network with its output layer drawn ever wider: the check's
    // verdict follows the measured distance from chance.
    let mut verdicts = Vec::new();
    for std in [0.01, 0.1, 0.3, 1.0, 3.0] {
        let text = iris(&format!(
            "network iris_net(x: [4]) -> 3 {{ dense 16; relu; dense 3, init: normal(std: {std}) }}"
        ));
        let m = measure(&text);
        let check = initial_check(&text);
        assert_eq!(
            check.passed,
            m.deviation().abs() <= CHANCE_TOLERANCE,
            "std {std}: {m:?}\n{}",
            check.text()
        );
        verdicts.push(check.passed);
    }
    assert_eq!(verdicts.first(), Some(&true));
    assert_eq!(verdicts.last(), Some(&false));
}

#[test]
fn a_regressor_is_judged_by_its_outputs_scale() {
    let text = std::fs::read_to_string("examples/regression.dl").unwrap();
    let m = measure(&text);
    assert!(m.near_chance(), "{m:?}");
    assert!(m.output_power <= CHANCE_TOLERANCE * m.chance, "{m:?}");
    let wide = text.replace("dense 1\n", "dense 1, init: normal(std: 2)\n");
    assert_ne!(wide, text);
    let m = measure(&wide);
    assert!(!m.near_chance(), "{m:?}");
    let check = initial_check(&wide);
    assert!(!check.passed, "{}", check.text());
    assert!(
        check.advice.iter().any(|a| a.contains("`dense3`")),
        "{}",
        check.text()
    );
}

#[test]
fn the_gradient_check_says_how_many_coordinates_it_skipped_on_kinks() {
    // Zero weights and biases put every ReLU of the first layer exactly at
    // its kink, for every sample.
    let text = "data d = moons(points: 64)\n\
                network net(x: [2]) -> 2 { dense 8, init: zeros; relu; dense 2 }\n\
                train net on d { loss cross_entropy; optimizer adam(lr: 0.01); batch 16; epochs 1 }\n";
    let bench = Bench::new(text, BackendKind::Jit, "check").unwrap();
    let options = SanityOptions {
        max_steps: 1,
        ..SanityOptions::default()
    };
    let report = sanity(&bench, &options, &mut |_| {}).unwrap();
    let grads = report.check("gradients").unwrap();
    // dense1's weight and bias: every coordinate checked sits on a kink.
    let skipped = 2 * options.grad_coords;
    assert!(
        grads.summary.contains(&format!(
            "{skipped} coordinates skipped: {skipped} on kinks"
        )),
        "{}",
        grads.text()
    );
}
