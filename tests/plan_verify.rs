//! The plan verifier accepts the planner's plans of every entry point of
//! every example program, at several batches. Release builds skip the check
//! inside `plan` (it runs in debug builds), so this is where the tests run by
//! `cargo test --release` check the planner's memory on real networks.

use dlc::codegen::plan::{Layout, plan_with_layout, verify_plan};
use dlc::runtime::graphs::{Entry, Graphs};
use dlc::runtime::model::max_batch_of;

fn programs() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["examples", "examples/bench"] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "dl") {
                files.push(p.display().to_string());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 14, "examples missing: {files:?}");
    files
}

#[test]
fn every_plan_of_every_example_verifies() {
    let mut plans = 0;
    for path in programs() {
        let text = std::fs::read_to_string(&path).unwrap();
        let model = dlc::check::check_source(&text)
            .model
            .unwrap_or_else(|| panic!("{path} does not check"));
        let graphs = Graphs::build(&model).unwrap();
        let layout = Layout::of(graphs.layout_graph());
        for batch in [1, 7, max_batch_of(&model)] {
            for e in Entry::ALL {
                let Some(g) = graphs.get(e) else { continue };
                let plan = plan_with_layout(g, batch, layout.clone())
                    .unwrap_or_else(|err| panic!("{path} {}: {err}", e.name()));
                if let Err(violations) = verify_plan(g, &plan) {
                    panic!("{path} {} at batch {batch}: {violations}", e.name());
                }
                plans += 1;
            }
        }
    }
    assert!(plans > 150, "only {plans} plans");
}
