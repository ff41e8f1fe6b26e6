//! The plan verifier accepts the planner's plans of every entry point of
//! every example program, at several batches. Release builds skip the check
//! inside `plan` (it runs in debug builds), so this is where the tests run by
//! `cargo test --release` check the planner's memory on real networks.

mod example_programs;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::codegen::plan::{Layout, plan_with_layout, verify_plan};
use dlc::runtime::model::max_batch_of;
use example_programs::programs;

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
