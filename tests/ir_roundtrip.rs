//! The graph IR's text form reads back to the same graph, for every graph
//! the compiler makes of the example programs: the forward graphs of each
//! mode, the entry points after autodiff and the optimizer update. The file
//! tests (`ir_filetests.rs`) rely on this: a pass's input written as text is
//! the graph the pass would see.

mod example_programs;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::ir::{Graph, Mode, parse_graph, print_graph};
use dlc::lower::lower;
use example_programs::programs;

/// Where two graphs first differ, for a readable failure.
fn first_difference(want: &Graph, got: &Graph) -> String {
    if want.params != got.params {
        return format!("params: {:?} vs {:?}", want.params, got.params);
    }
    if want.states != got.states {
        return format!("states: {:?} vs {:?}", want.states, got.states);
    }
    for (i, (a, b)) in want.nodes.iter().zip(&got.nodes).enumerate() {
        if a != b {
            return format!("node %{i}: {a:?} vs {b:?}");
        }
    }
    if want.nodes.len() != got.nodes.len() {
        return format!("{} nodes vs {}", want.nodes.len(), got.nodes.len());
    }
    format!("sinks: {:?} vs {:?}", want.sinks, got.sinks)
}

fn round_trip(what: &str, g: &Graph, source: &str) {
    for src in [Some(source), None] {
        let text = print_graph(g, src);
        let back = parse_graph(&text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
        assert!(back == *g, "{what}: {}", first_difference(g, &back));
        assert_eq!(print_graph(&back, src), text, "{what}: printed differently");
    }
}

#[test]
fn every_graph_of_every_example_reads_back() {
    let mut graphs = 0;
    for path in programs() {
        let text = std::fs::read_to_string(&path).unwrap();
        let model = dlc::check::check_source(&text)
            .model
            .unwrap_or_else(|| panic!("{path} does not check"));
        let trains = model.train.is_some();
        for (mode, loss) in [(Mode::Eval, false), (Mode::Eval, true), (Mode::Train, true)] {
            if loss && !trains {
                continue;
            }
            let lowered = lower(&model, mode, loss).graph;
            round_trip(&format!("{path} {mode:?} loss={loss}"), &lowered, &text);
            graphs += 1;
        }
        let entries = Graphs::build(&model).unwrap();
        for e in Entry::ALL {
            if let Some(g) = entries.get(e) {
                round_trip(&format!("{path} {}", e.name()), g, &text);
                graphs += 1;
            }
        }
        if trains {
            assert!(entries.backward.is_some(), "{path}: no backward graph");
        }
    }
    // 14 programs, most with training plans: every mode and entry was seen.
    assert!(graphs > 80, "only {graphs} graphs");
}
