//! `class_weights`: the weighted loss's gradient against finite
//! differences, its value against a hand computation, `balanced` weights
//! counted on the training part only, the errors of weights that cannot be
//! counted, and a run on real data.

use dlc::autodiff::differentiate;
use dlc::data::{Dataset, Targets};
use dlc::interp::{Inputs, evaluate_prefix};
use dlc::ir::{Mode, StepScalars};
use dlc::lower::lower;
use std::path::{Path, PathBuf};

fn compile(text: &str) -> dlc::CompiledModel {
    dlc::compile(text).unwrap_or_else(|e| panic!("{}", e.render("test.dl", text, false)))
}

/// A directory of its own for each test's files.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-class-weights-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A CSV file of two features and a label per row.
fn write_csv(path: &Path, labels: &[&str]) {
    let mut text = String::from("x1,x2,label\n");
    for (i, label) in labels.iter().enumerate() {
        text += &format!("{},{},{label}\n", i as f32 * 0.1, (i % 3) as f32);
    }
    std::fs::write(path, text).unwrap();
}

/// `n / (classes * count_c)` from the counts of a data set.
fn balanced(ds: &Dataset, classes: usize) -> Vec<f32> {
    let counts = ds.class_counts();
    (0..classes)
        .map(|c| (ds.len() as f64 / (classes as f64 * counts[c] as f64)) as f32)
        .collect()
}

fn ln_sum_exp(row: &[f64]) -> f64 {
    let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

#[test]
fn the_weighted_loss_has_the_gradient_of_finite_differences() {
    for (classes, outputs, loss, labels, weights) in [
        (
            3,
            3,
            "cross_entropy",
            vec![0.0, 2.0, 1.0, 2.0, 2.0],
            vec![1.0, 2.5, 0.25],
        ),
        (
            2,
            1,
            "binary_cross_entropy",
            vec![0.0, 1.0, 1.0, 0.0, 0.0],
            vec![0.4, 3.0],
        ),
    ] {
        let program = |setting: &str| {
            format!(
                "data d = blobs(points: 10, classes: {classes}, features: 4)\n\
                 network net(x: [4]) -> {outputs} {{ dense 5 -> tanh; dense {outputs} }}\n\
                 train net on d {{ loss {loss}; {setting} optimizer sgd(lr: 0.1) }}\n"
            )
        };
        let list: Vec<String> = weights.iter().map(|w: &f64| w.to_string()).collect();
        let text = program(&format!("class_weights [{}];", list.join(", ")));
        let model = dlc::check::check_source(&text).model.unwrap();
        let lowered = lower(&model, Mode::Train, true);
        let mut g = lowered.graph;
        let loss = lowered.loss.unwrap();
        let grads = differentiate(&mut g, loss);
        dlc::ir::verify(&g).unwrap();
        let mut seed = 17u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let params: Vec<Vec<f64>> = g
            .params
            .iter()
            .map(|p| (0..p.len()).map(|_| next()).collect())
            .collect();
        let batch = labels.len();
        let features: Vec<f64> = (0..batch * 4).map(|_| next()).collect();
        let run = |params: &[Vec<f64>], count: usize| {
            let inputs = Inputs {
                batch,
                features: &features,
                labels: &labels,
                class_weights: &weights,
                params,
                states: &[],
                grads: &[],
                scalars: StepScalars::NO_STEP,
                seed: 0,
                step: 0,
                shard: dlc::ir::Shard::WHOLE,
            };
            evaluate_prefix(&g, &inputs, count).unwrap()
        };
        let vals = run(&params, g.nodes.len());
        let forward = loss.index() + 1;
        let mut checked = 0;
        for (p, grad) in grads.iter().enumerate() {
            let grad = grad.expect("every parameter reaches the loss");
            for k in 0..params[p].len() {
                let h = 1e-6;
                let mut plus = params.clone();
                plus[p][k] += h;
                let mut minus = params.clone();
                minus[p][k] -= h;
                let numeric = (run(&plus, forward)[loss.index()][0]
                    - run(&minus, forward)[loss.index()][0])
                    / (2.0 * h);
                let analytic = vals[grad.index()][k];
                let err = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-4);
                assert!(
                    err < 1e-5,
                    "{}[{k}]: analytic {analytic}, numeric {numeric}",
                    g.params[p].name
                );
                checked += 1;
            }
        }
        assert!(checked > 20);
        // The weights matter: the same batch unweighted has another loss.
        let unweighted = {
            let model = dlc::check::check_source(&program("")).model.unwrap();
            assert!(model.train.as_ref().unwrap().class_weights.is_none());
            let l = lower(&model, Mode::Train, true);
            let inputs = Inputs {
                batch,
                features: &features,
                labels: &labels,
                class_weights: &[],
                params: &params,
                states: &[],
                grads: &[],
                scalars: StepScalars::NO_STEP,
                seed: 0,
                step: 0,
                shard: dlc::ir::Shard::WHOLE,
            };
            dlc::interp::evaluate(&l.graph, &inputs).unwrap()[l.loss.unwrap().index()][0]
        };
        assert!((unweighted - vals[loss.index()][0]).abs() > 1e-3);
    }
}

/// Identity weights and zero biases make the logits the features, so the
/// loss can be computed by hand: `sum w[y] l / sum w[y]` over all ten
/// samples, although evaluation runs them in batches of four.
#[test]
fn the_loss_is_the_weighted_mean_of_a_hand_computation() {
    let mut model = compile(
        "data d = blobs(points: 10, classes: 3, features: 3)\n\
         network net(x: [3]) -> 3 { dense 3 }\n\
         train net on d { loss cross_entropy; class_weights [1, 2.5, 0.5]; optimizer sgd(lr: 0.1); batch 4 }\n",
    );
    assert!(model.max_batch() < 10, "evaluation takes several batches");
    model
        .set_parameter(
            "dense1.weight",
            &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        )
        .unwrap();
    model.set_parameter("dense1.bias", &[0.0; 3]).unwrap();
    let rows: Vec<[f32; 3]> = (0..10)
        .map(|i| {
            let t = i as f32;
            [(t * 0.7).sin() * 2.0, (t * 1.3).cos(), t * 0.1 - 0.5]
        })
        .collect();
    let labels: Vec<u32> = vec![0, 1, 2, 2, 1, 0, 0, 2, 1, 2];
    let weights = [1.0, 2.5, 0.5];
    let ds = Dataset::new(
        rows.iter().flatten().copied().collect(),
        vec![3],
        Targets::Classes {
            labels: labels.clone(),
            classes: 3,
        },
    )
    .unwrap();
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (row, &y) in rows.iter().zip(&labels) {
        let z: Vec<f64> = row.iter().map(|&v| v as f64).collect();
        let w = weights[y as usize];
        num += w * (ln_sum_exp(&z) - z[y as usize]);
        den += w;
    }
    let ev = model.evaluate(&ds).unwrap();
    assert!(
        (ev.loss - num / den).abs() < 1e-5,
        "evaluated {}, by hand {}",
        ev.loss,
        num / den
    );
    // Accuracy is not weighted.
    let correct = rows
        .iter()
        .zip(&labels)
        .filter(|(r, y)| {
            let best = (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap();
            best == **y as usize
        })
        .count();
    assert_eq!(ev.accuracy, Some(correct as f64 / 10.0));
}

#[test]
fn binary_cross_entropy_weighs_labels_0_and_1() {
    let mut model = compile(
        "data d = blobs(points: 10, classes: 2, features: 1)\n\
         network net(x: [1]) -> 1 { dense 1 }\n\
         train net on d { loss binary_cross_entropy; class_weights [0.5, 4]; optimizer sgd(lr: 0.1); batch 2 }\n",
    );
    model.set_parameter("dense1.weight", &[1.0]).unwrap();
    model.set_parameter("dense1.bias", &[0.0]).unwrap();
    let z = [0.3f32, -1.2, 2.0, 0.1, -0.4];
    let y = [1u32, 0, 0, 1, 1];
    let ds = Dataset::new(
        z.to_vec(),
        vec![1],
        Targets::Classes {
            labels: y.to_vec(),
            classes: 2,
        },
    )
    .unwrap();
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&z, &y) in z.iter().zip(&y) {
        let (z, y) = (z as f64, y as f64);
        let w = if y == 1.0 { 4.0 } else { 0.5 };
        num += w * ((1.0 + z.exp()).ln() - z * y);
        den += w;
    }
    let ev = model.evaluate(&ds).unwrap();
    assert!(
        (ev.loss - num / den).abs() < 1e-5,
        "{} vs {}",
        ev.loss,
        num / den
    );
}

#[test]
fn balanced_weights_are_counted_on_the_training_part_of_a_split() {
    let dir = scratch_dir("split");
    let file = dir.join("data.csv");
    let labels: Vec<&str> = (0..24)
        .map(|i| if i % 24 < 17 { "a" } else { "b" })
        .collect();
    write_csv(&file, &labels);
    let text = format!(
        "data d = csv({:?}, label: \"label\") {{ validation 0.25; seed 5 }}\n\
         network net(x: [2]) -> 2 {{ dense 2 }}\n\
         train net on d {{ loss cross_entropy; class_weights balanced; optimizer sgd(lr: 0.1); epochs 1 }}\n",
        file.display()
    );
    let mut model = compile(&text);
    assert!(
        model.class_weights().is_empty(),
        "not counted before the data is seen"
    );
    model.train(&Default::default(), &mut |_| {}).unwrap();
    let spec = model.model().data.clone().unwrap();
    let loaded = dlc::load::load(&spec, &Default::default()).unwrap();
    let all = dlc::load::load(
        &dlc::check::DataSpec {
            validation: dlc::check::Validation::None,
            ..spec
        },
        &Default::default(),
    )
    .unwrap()
    .train;
    assert_eq!(all.len(), 24);
    assert!(loaded.train.len() < 24);
    let want = balanced(&loaded.train, 2);
    assert_ne!(want, balanced(&all, 2), "the split changes the proportions");
    assert_eq!(model.class_weights(), &want[..]);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn balanced_weights_ignore_a_validation_data_item() {
    let dir = scratch_dir("other");
    let (train, val) = (dir.join("train.csv"), dir.join("val.csv"));
    write_csv(
        &train,
        &["a", "a", "b", "a", "a", "b", "a", "a", "a", "a", "b", "a"],
    );
    write_csv(&val, &["b", "b", "a", "b", "b", "b"]);
    let text = format!(
        "data d = csv({:?}, label: \"label\") {{ validation v }}\n\
         data v = csv({:?}, label: \"label\")\n\
         network net(x: [2]) -> 2 {{ dense 2 }}\n\
         train net on d {{ loss cross_entropy; class_weights balanced; optimizer sgd(lr: 0.1); epochs 1 }}\n",
        train.display(),
        val.display()
    );
    let mut model = compile(&text);
    let report = model.train(&Default::default(), &mut |_| {}).unwrap();
    // 9 of class `a` and 3 of `b` among the 12 training samples.
    assert_eq!(model.class_weights(), &[12.0 / 18.0, 12.0 / 6.0]);
    assert!(report.epochs[0].val_loss.is_some_and(f64::is_finite));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn balanced_weights_of_a_class_without_samples_are_an_error_naming_it() {
    let dir = scratch_dir("missing");
    let file = dir.join("data.csv");
    write_csv(&file, &["0", "1", "0", "1", "1", "0"]);
    let text = format!(
        "data d = csv({:?}, label: \"label\", classes: 3)\n\
         network net(x: [2]) -> 3 {{ dense 3 }}\n\
         train net on d {{ loss cross_entropy; class_weights balanced; optimizer sgd(lr: 0.1) }}\n",
        file.display()
    );
    let err = compile(&text)
        .train(&Default::default(), &mut |_| {})
        .unwrap_err();
    assert!(
        matches!(
            &err,
            dlc::RunError::ClassWeights(dlc::runtime::class_weights::ClassWeightsError::MissingClass { class })
                if class == "2"
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("cannot weight class 2"), "{err}");
    assert!(err.to_string().contains("infinite"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_model_that_has_not_counted_balanced_weights_does_not_evaluate() {
    let text = "data d = spirals(points: 30)\n\
                network net(x: [2]) -> 3 { dense 3 }\n\
                train net on d { loss cross_entropy; class_weights balanced; optimizer sgd(lr: 0.1) }\n";
    let mut model = compile(text);
    let ds = Dataset::new(
        vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        vec![2],
        Targets::Classes {
            labels: vec![0, 1, 2],
            classes: 3,
        },
    )
    .unwrap();
    let err = model.evaluate(&ds).unwrap_err();
    assert!(
        err.to_string().contains("counted on the training data"),
        "{err}"
    );
    model.weigh_classes_by(&ds).unwrap();
    assert_eq!(model.class_weights(), &[1.0, 1.0, 1.0]);
    assert!(model.evaluate(&ds).unwrap().loss.is_finite());
}

#[test]
fn a_list_of_weights_is_in_place_before_any_data() {
    let model = compile(
        "data d = spirals(points: 30)\n\
         network net(x: [2]) -> 3 { dense 3 }\n\
         train net on d { loss cross_entropy; class_weights [1, 2.5, 1]; optimizer sgd(lr: 0.1) }\n",
    );
    assert_eq!(model.class_weights(), &[1.0, 2.5, 1.0]);
    let plan = model.model().train.as_ref().unwrap();
    assert_eq!(
        plan.describe_loss(),
        "cross_entropy loss weighted by class ([1, 2.5, 1])"
    );
}

/// Breast cancer: 357 benign, 212 malignant. Balanced weights favour the
/// rarer malignant class, and the network still learns to tell them apart.
#[test]
fn breast_cancer_trains_with_balanced_weights() {
    let text = "data cells = csv(\"examples/data/breast_cancer.csv\", label: \"diagnosis\") {\n\
                    standardize; validation 0.2; seed 3\n\
                }\n\
                network net(x: [30]) -> 1 { dense 16 -> relu; dense 1 }\n\
                train net on cells {\n\
                    loss binary_cross_entropy; class_weights balanced\n\
                    optimizer adam(lr: 0.01); batch 32; epochs 15; seed 1\n\
                }\n";
    let mut model = compile(text);
    let report = model.train(&Default::default(), &mut |_| {}).unwrap();
    let spec = model.model().data.clone().unwrap();
    let loaded = dlc::load::load(&spec, &Default::default()).unwrap();
    let names = &loaded.train.names().classes;
    assert_eq!(names, &["benign", "malignant"]);
    let w = model.class_weights().to_vec();
    assert_eq!(w, balanced(&loaded.train, 2));
    assert!(w[1] > 1.0 && w[0] < 1.0, "{w:?}");
    let (first, last) = (&report.epochs[0], report.epochs.last().unwrap());
    assert!(
        last.train_loss < first.train_loss * 0.5,
        "{first:?} -> {last:?}"
    );
    assert!(last.val_acc.unwrap() > 0.93, "{last:?}");
    // The validation loss is the weighted criterion on the validation set.
    let ev = model.evaluate(loaded.validation.as_ref().unwrap()).unwrap();
    assert!(
        (ev.loss - last.val_loss.unwrap()).abs() < 1e-9 || report.best_epoch != Some(last.epoch)
    );
}

/// The checker holds a list to the network's outputs; data read later with
/// more classes than the list has weights is a typed error too.
#[test]
fn a_list_shorter_than_the_data_s_classes_is_an_error_when_the_data_loads() {
    use dlc::runtime::class_weights::{ClassWeightsError, weights_for};
    let model = compile(
        "data d = spirals(points: 30)\n\
         network net(x: [2]) -> 3 { dense 3 }\n\
         train net on d { loss cross_entropy; class_weights [1, 2, 3]; optimizer sgd(lr: 0.1) }\n",
    );
    let plan = model.model().train.clone().unwrap();
    let four = Dataset::new(
        vec![0.0; 8],
        vec![2],
        Targets::Classes {
            labels: vec![0, 1, 2, 3],
            classes: 4,
        },
    )
    .unwrap();
    let err = weights_for(&plan, 3, &four).unwrap_err();
    assert_eq!(
        err,
        ClassWeightsError::Length {
            given: 3,
            classes: 4
        }
    );
    assert!(
        err.to_string()
            .starts_with("`class_weights` gives 3 weights, but the training data has 4 classes")
    );
    let three = Dataset::new(
        vec![0.0; 6],
        vec![2],
        Targets::Classes {
            labels: vec![0, 1, 2],
            classes: 3,
        },
    )
    .unwrap();
    assert_eq!(
        weights_for(&plan, 3, &three).unwrap(),
        Some(vec![1.0, 2.0, 3.0])
    );
}
