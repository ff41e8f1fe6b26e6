//! Memory: programs that would exhaust the machine are refused, before
//! anything is allocated, with a diagnostic at what asks for the memory; the
//! estimate agrees with what the runtime then allocates.

use dlc::{Error, Limits, Options};

/// A limit no CI machine's memory decides: programs below fit, the hostile
/// ones are far above.
const LIMIT: u64 = 16 << 30;

/// The conv workspaces are one per thread: the figures in the snapshots are
/// those of two.
fn options() -> Options {
    dlc::set_threads(2);
    Options {
        limits: Limits {
            max_memory: Some(LIMIT),
            ..Limits::none()
        },
        ..Options::default()
    }
}

/// The rendered diagnostics of a program that must be refused.
fn refused(source: &str) -> String {
    match dlc::compile_with_options(source, &options()) {
        Err(e @ Error::Program { .. }) => e.render("model.dl", source, false),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("compiled:\n{source}"),
    }
}

/// The rendered diagnostic with `code` (the first), or "" if none.
fn diagnostic<'t>(text: &'t str, code: &str) -> &'t str {
    text.split("\n\n")
        .find(|d| d.starts_with(&format!("error[{code}]")))
        .unwrap_or_default()
}

/// The codes of the errors of a refused program.
fn codes(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("error["))
        .filter_map(|l| l.split(']').next())
        .collect()
}

#[test]
fn a_wide_network_is_refused_at_its_widest_layer() {
    let source = "data d = blobs(points: 100, features: 65536, classes: 2)\n\
        network net(x: [65536]) -> 2 { dense 65536; dense 65536; dense 65536; dense 2 }\n\
        train net on d { loss cross_entropy; optimizer adam(lr: 0.001); batch 32; epochs 1 }\n";
    let text = refused(source);
    assert!(codes(&text).contains(&"E0701"), "{text}");
    assert!(codes(&text).contains(&"E0702"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn a_data_set_too_large_is_refused_at_the_data_item() {
    for source in [
        "data d = random_images(points: 60000, shape: [1, 1000, 1000], classes: 2)\n\
         network net(x: [1, 1000, 1000]) -> 2 { maxpool 100; flatten; dense 2 }\n\
         train net on d { loss cross_entropy; optimizer sgd(0.1); batch 4; epochs 1 }\n",
        "data d = blobs(points: 100, features: 1000000000, classes: 2)\n\
         network net(x: [1000000000]) -> 2 { dense 2 }\n\
         train net on d { loss cross_entropy; optimizer sgd(0.1); batch 4; epochs 1 }\n",
    ] {
        let text = refused(source);
        let d = diagnostic(&text, "E0701");
        assert!(d.contains("1 │ data d ="), "not at the data item:\n{text}");
        assert!(d.contains("use fewer points or smaller samples"), "{text}");
    }
}

#[test]
fn a_huge_batch_is_refused_at_the_batch_setting() {
    let text = refused(
        "data d = spirals(points: 1000000000)\n\
         network net(x: [2]) -> 3 { dense 64; relu; dense 3 }\n\
         train net on d { loss cross_entropy; optimizer sgd(0.1); batch all; epochs 1 }\n",
    );
    let d = diagnostic(&text, "E0701");
    assert!(
        d.contains("^^^^^^^^^ ") && d.contains("at batch 3000000000"),
        "not at `batch all`:\n{text}"
    );
    // The activations of 3e9 samples are also too large for one product.
    assert!(
        diagnostic(&text, "E0702").contains("lower `batch`"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_batch_over_the_known_data_compiles_for_the_data() {
    let source = "data d = xor()\n\
        network net(x: [2]) -> 2 { dense 8; tanh; dense 2 }\n\
        train net on d { loss cross_entropy; optimizer sgd(0.5); batch 1000000000; epochs 3 }\n";
    let mut model = dlc::compile_with_options(source, &options()).expect("compiles");
    assert_eq!(model.max_batch(), 4);
    let report = model.train(&Default::default(), &mut |_| {}).unwrap();
    assert_eq!(report.epochs.len(), 3);
}

#[test]
fn a_batch_too_large_for_a_kernel_is_at_the_batch_setting() {
    // The data is read from a file, so its size is not known when compiling.
    let dir = std::env::temp_dir().join(format!("dlc-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("points.csv");
    std::fs::write(&csv, "a,b,label\n0,1,0\n1,0,1\n").unwrap();
    let source = format!(
        "data d = csv(\"{}\", label: \"label\")\n\
         network net(x: [2]) -> 2 {{ dense 1000; dense 2 }}\n\
         train net on d {{ loss cross_entropy; optimizer sgd(0.1); batch 1000000000; epochs 1 }}\n",
        csv.display()
    );
    let text = refused(&source);
    assert!(codes(&text).contains(&"E0702"), "{text}");
    let e0702 = diagnostic(&text, "E0702");
    assert!(
        e0702.contains("3 │ train"),
        "not at the batch setting:\n{text}"
    );
    assert!(e0702.contains("lower `batch`"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_limit_of_none_lets_every_program_through() {
    let source = "data d = xor()\n\
        network net(x: [2]) -> 2 { dense 8; tanh; dense 2 }\n\
        train net on d { loss cross_entropy; optimizer sgd(0.5); batch all; epochs 1 }\n";
    let tiny = Options {
        limits: Limits {
            max_memory: Some(1024),
            ..Limits::none()
        },
        ..Options::default()
    };
    let text = match dlc::compile_with_options(source, &tiny) {
        Err(e) => e.render("model.dl", source, false),
        Ok(_) => panic!("a 1 KiB limit let a program through"),
    };
    assert_eq!(codes(&text), ["E0701"], "{text}");
    let free = Options {
        limits: Limits::none(),
        ..Options::default()
    };
    dlc::compile_with_options(source, &free).expect("no limit");
}

/// The estimate's parts equal what the runtime allocates: the buffers and
/// every compiled function's scratch, after training and evaluating once.
#[test]
fn the_estimate_is_what_the_runtime_allocates() {
    for path in [
        "examples/spirals.dl",
        "examples/digits_cnn.dl",
        "examples/residual.dl",
        "examples/bench/w3_mlp_bn_dropout.dl",
    ] {
        let source = std::fs::read_to_string(path).unwrap();
        let checked = dlc::check_with(&source, &options());
        let estimate = checked.memory.expect("an estimate");
        let mut model = dlc::compile_with_options(&source, &options()).unwrap();
        let floats = |v: &[f32]| (v.len() * 4) as u64;
        let b = &model.buffers();
        assert_eq!(
            estimate.parameters,
            floats(&b.params) + floats(&b.grads),
            "{path}"
        );
        assert_eq!(estimate.state, floats(&b.states), "{path}");
        assert_eq!(estimate.max_batch, model.max_batch(), "{path}");
        let options = dlc::TrainOptions {
            epochs: Some(1),
            ..Default::default()
        };
        if path.contains("bench") {
            // 60,000 images: train on a few instead.
            let data =
                dlc::data::random_images(64, &[784], 10, 1, dlc::data::MemoryLimit::NONE).unwrap();
            model
                .train_on(&data, Some(&data), &options, &mut |_| {})
                .unwrap();
        } else {
            model.train(&options, &mut |_| {}).unwrap();
        }
        assert_eq!(estimate.scratch, model.scratch_bytes() as u64, "{path}");
    }
}
