//! Programs from elsewhere, through the library: a file policy confines
//! their data and checkpoint paths to one directory, a compile budget bounds
//! compiling, and data read from files gets only the memory the model left.

use dlc::data::{FileAccess, FilePolicy};
use dlc::{Error, Limits, Options};
use std::path::{Path, PathBuf};

/// A fresh directory of this test's own.
fn root(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlc-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn within(root: &Path) -> Options {
    Options {
        limits: Limits::untrusted(root),
        ..Options::default()
    }
}

fn program(data_path: &str, checkpoint: Option<&str>) -> String {
    let checkpoint = checkpoint.map_or(String::new(), |c| format!("checkpoint \"{c}\"; "));
    format!(
        "data d = csv(\"{data_path}\", label: \"label\", classes: 2)\n\
         network net(x: [2]) -> 2 {{ dense 4; relu; dense 2 }}\n\
         train net on d {{ loss cross_entropy; optimizer sgd(lr: 0.1); batch 2; epochs 2; {checkpoint}}}\n"
    )
}

const POINTS: &str = "a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n";

/// The rendered diagnostics of a program the options refuse.
fn refused(source: &str, options: &Options) -> String {
    match dlc::compile_with_options(source, options) {
        Err(e @ Error::Program { .. }) => e.render("user.dl", source, false),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("compiled:\n{source}"),
    }
}

#[test]
fn a_path_outside_the_root_is_refused_before_compiling() {
    let dir = root("outside");
    for path in ["/etc/passwd", "../../etc/passwd", "/dev/zero"] {
        let text = refused(&program(path, None), &within(&dir));
        assert!(text.contains("error[E0703]"), "{path}: {text}");
        assert!(text.contains("1 │ data d"), "not at the data item: {text}");
        assert!(!text.contains("root:"), "file content shown: {text}");
    }
    insta::assert_snapshot!(
        refused(&program("/etc/passwd", None), &within(&dir))
            .replace(&dir.display().to_string(), "ROOT")
    );
}

#[test]
fn a_symbolic_link_out_of_the_root_is_refused() {
    let dir = root("link");
    let outside = root("link-target");
    std::fs::write(outside.join("points.csv"), POINTS).unwrap();
    std::os::unix::fs::symlink(outside.join("points.csv"), dir.join("points.csv")).unwrap();
    let text = refused(&program("points.csv", None), &within(&dir));
    assert!(text.contains("error[E0703]"), "{text}");
}

#[test]
fn a_checkpoint_outside_the_root_is_refused() {
    let dir = root("checkpoint");
    std::fs::write(dir.join("points.csv"), POINTS).unwrap();
    let text = refused(
        &program("points.csv", Some("/tmp/elsewhere.ckpt")),
        &within(&dir),
    );
    assert!(text.contains("error[E0703]"), "{text}");
    assert!(
        text.contains("writes its checkpoint to `/tmp/elsewhere.ckpt`"),
        "{text}"
    );
}

#[test]
fn files_inside_the_root_train_and_checkpoint_there() {
    let dir = root("inside");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/points.csv"), POINTS).unwrap();
    let source = program("data/points.csv", Some("model.ckpt"));
    let mut model = dlc::compile_with_options(&source, &within(&dir)).expect("compiles");
    let report = model.train(&Default::default(), &mut |_| {}).unwrap();
    assert_eq!(report.epochs.len(), 2);
    assert!(
        dir.join("model.ckpt").is_file(),
        "the checkpoint lands in the root"
    );
}

#[test]
fn no_file_access_refuses_every_file() {
    let dir = root("nothing");
    std::fs::write(dir.join("points.csv"), POINTS).unwrap();
    let mut options = within(&dir);
    options.limits.files = FilePolicy {
        access: FileAccess::Nothing,
        ..FilePolicy::default()
    };
    let text = refused(
        &program(&dir.join("points.csv").display().to_string(), None),
        &options,
    );
    assert!(text.contains("error[E0703]"), "{text}");
    // Built-in data needs no file.
    let builtin = "data d = xor()\nnetwork net(x: [2]) -> 2 { dense 2 }\n\
                   train net on d { loss cross_entropy; optimizer sgd(lr: 0.1) }\n";
    dlc::compile_with_options(builtin, &options).expect("built-in data compiles");
}

#[test]
fn a_compile_budget_that_is_spent_stops_compiling() {
    let source = std::fs::read_to_string("examples/residual.dl").unwrap();
    let options = Options {
        limits: Limits {
            compile_time: Some(std::time::Duration::ZERO),
            ..Limits::none()
        },
        ..Options::default()
    };
    match dlc::compile_with_options(&source, &options) {
        Err(Error::OverBudget(e)) => {
            assert!(e.to_string().contains("more than the budget"), "{e}");
        }
        other => panic!("expected the budget to stop compiling, got {other:?}"),
    }
}

#[test]
fn data_from_a_file_gets_only_the_memory_the_model_left() {
    let dir = root("memory");
    let source = program("points.csv", None);
    let estimate = dlc::check_with(&source, &Options::default())
        .memory
        .expect("estimated");
    // Room for the model and its compiling, which the data may reuse: not
    // for twice as many bytes of samples.
    let rows = 2 * estimate.total() as usize / 12;
    let mut text = String::from("a,b,label\n");
    for i in 0..rows {
        text += &format!("{},{},{}\n", i % 7, i % 5, i % 2);
    }
    std::fs::write(dir.join("points.csv"), text).unwrap();
    let mut options = within(&dir);
    options.limits.max_memory = Some(estimate.total());
    let mut model = dlc::compile_with_options(&source, &options).expect("the model fits");
    let err = model.train(&Default::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("points.csv"), "{err}");
    options.limits.max_memory = Some(estimate.total() + (64 << 20));
    let mut model = dlc::compile_with_options(&source, &options).unwrap();
    model
        .train(&Default::default(), &mut |_| {})
        .expect("the data fits now");
}
