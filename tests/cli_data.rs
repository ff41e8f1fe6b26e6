//! `dlc run` on data that cannot teach anything: what the user sees.

use std::process::Command;

#[test]
fn a_training_set_of_one_class_warns_and_is_not_judged() {
    let dir = std::env::temp_dir().join(format!("dlc-cli-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("one.csv");
    std::fs::write(&csv, "x,y\n1,0\n2,0\n3,0\n").unwrap();
    let program = dir.join("one.dl");
    std::fs::write(
        &program,
        format!(
            "data d = csv({:?}, label: \"y\")\nnetwork n(x: [1]) -> 2 {{ dense 2 }}\n\
             train n on d {{ loss cross_entropy; optimizer sgd(lr: 0.1); epochs 3 }}\n",
            csv.display().to_string()
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args(["run", program.to_str().unwrap(), "--quiet", "--out"])
        .arg(dir.join("runs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: data `d` ({}) holds a single class: all 3 training samples are of class 0",
            csv.display()
        )),
        "{stderr}"
    );
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("verdict: not judged"), "{all}");
    assert!(all.contains("the baseline loss is 0.0000:"), "{all}");
    assert!(!all.contains("good fit"), "{all}");
}
