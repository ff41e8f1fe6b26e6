//! Every optimizer's compiled update, on the native back end and on the
//! interpreter, against a hand-written f64 reference of the published
//! algorithm: PyTorch's `SGD`, `Adam`, `AdamW`, `RMSprop` and `Adagrad`, and
//! the Lion paper's update (PyTorch has none). Six steps with new gradients
//! and a new rate at each, on weights that decay and biases that do not.
//!
//! Tolerance: `|got - want| <= 1e-5 * (1 + |want|)`. Each step is a few
//! dozen f32 operations on values of order 1 (about 6e-8 relative error
//! each), over six steps: a few 1e-6 at most. A wrong formula, moment, decay
//! or bias correction is off by far more (at least `lr * 1e-2` here).

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::check::{Model, check_source};
use dlc::codegen::plan::Layout;
use dlc::optimizers::OPTIMIZERS;
use dlc::runtime::backend::{Backend, Buffers, Call, Interpreter};
use dlc::runtime::jit::JitBackend;
use std::collections::HashMap;

const STEPS: u64 = 6;

/// The programs' optimizers: every registered optimizer, with its options
/// away from their defaults where that changes the algorithm.
const CASES: &[&str] = &[
    "sgd(lr: 0.1)",
    "sgd(lr: 0.1, momentum: 0.9)",
    "sgd(lr: 0.1, momentum: 0.8, nesterov)",
    "adam(lr: 0.01)",
    "adam(lr: 0.01, beta1: 0.8, beta2: 0.9, eps: 1e-3)",
    "adamw(lr: 0.01, weight_decay: 0.3)",
    "rmsprop(lr: 0.01)",
    "rmsprop(lr: 0.01, alpha: 0.9, eps: 1e-3, momentum: 0.5)",
    "rmsprop(lr: 0.01, centered)",
    "rmsprop(lr: 0.01, alpha: 0.8, momentum: 0.7, centered)",
    "adagrad(lr: 0.1)",
    "adagrad(lr: 0.1, lr_decay: 0.3, eps: 1e-3, initial_accumulator: 0.4)",
    "lion(lr: 0.001)",
    "lion(lr: 0.002, beta1: 0.7, beta2: 0.95, weight_decay: 0.5)",
];

fn model(optimizer: &str) -> Model {
    let text = format!(
        "data d = blobs(points: 16, features: 3, classes: 2)\n\
         network net(x: [3]) -> 2 {{ dense 4; tanh; dense 2 }}\n\
         train net on d {{ loss cross_entropy; optimizer {optimizer}; batch 4; epochs 1 }}\n"
    );
    check_source(&text)
        .model
        .unwrap_or_else(|| panic!("{optimizer} does not check"))
}

/// Reads a number argument of the case text, or its default.
fn arg(case: &str, name: &str, default: f64) -> f64 {
    let key = format!("{name}: ");
    case.find(&key).map_or(default, |at| {
        let rest = &case[at + key.len()..];
        let end = rest.find([',', ')']).unwrap();
        rest[..end].parse().unwrap()
    })
}

/// One parameter tensor's state in the reference, by slot name.
type State = HashMap<&'static str, Vec<f64>>;

/// The reference update of one parameter, in place, at step `t` from 1.
fn reference(case: &str, w: &mut [f64], g: &[f64], lr: f64, t: u64, decays: bool, s: &mut State) {
    let name = &case[..case.find('(').unwrap()];
    let n = w.len();
    let mut slot = |k: &'static str, init: f64| s.entry(k).or_insert(vec![init; n]).clone();
    let ti = t as i32;
    match name {
        "sgd" => {
            let (m, nesterov) = (arg(case, "momentum", 0.0), case.contains("nesterov"));
            let mut v = slot("momentum", 0.0);
            for i in 0..n {
                let d = if m > 0.0 {
                    v[i] = m * v[i] + g[i];
                    if nesterov { g[i] + m * v[i] } else { v[i] }
                } else {
                    g[i]
                };
                w[i] -= lr * d;
            }
            if m > 0.0 {
                s.insert("momentum", v);
            }
        }
        "adam" | "adamw" => {
            let (b1, b2) = (arg(case, "beta1", 0.9), arg(case, "beta2", 0.999));
            let eps = arg(case, "eps", 1e-8);
            let wd = if name == "adamw" {
                arg(case, "weight_decay", 0.01)
            } else {
                0.0
            };
            let (mut m, mut v) = (slot("adam_m", 0.0), slot("adam_v", 0.0));
            for i in 0..n {
                if decays {
                    w[i] *= 1.0 - lr * wd;
                }
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                let m_hat = m[i] / (1.0 - b1.powi(ti));
                let v_hat = v[i] / (1.0 - b2.powi(ti));
                w[i] -= lr * m_hat / (v_hat.sqrt() + eps);
            }
            s.insert("adam_m", m);
            s.insert("adam_v", v);
        }
        "rmsprop" => {
            let (alpha, eps) = (arg(case, "alpha", 0.99), arg(case, "eps", 1e-8));
            let (momentum, centered) = (arg(case, "momentum", 0.0), case.contains("centered"));
            let (mut v, mut a, mut b) = (
                slot("square_avg", 0.0),
                slot("grad_avg", 0.0),
                slot("momentum", 0.0),
            );
            for i in 0..n {
                v[i] = alpha * v[i] + (1.0 - alpha) * g[i] * g[i];
                let avg = if centered {
                    a[i] = alpha * a[i] + (1.0 - alpha) * g[i];
                    (v[i] - a[i] * a[i]).sqrt() + eps
                } else {
                    v[i].sqrt() + eps
                };
                if momentum > 0.0 {
                    b[i] = momentum * b[i] + g[i] / avg;
                    w[i] -= lr * b[i];
                } else {
                    w[i] -= lr * g[i] / avg;
                }
            }
            s.insert("square_avg", v);
            s.insert("grad_avg", a);
            s.insert("momentum", b);
        }
        "adagrad" => {
            let (decay, eps) = (arg(case, "lr_decay", 0.0), arg(case, "eps", 1e-10));
            let mut sum = slot("sum", arg(case, "initial_accumulator", 0.0));
            let clr = lr / (1.0 + (t - 1) as f64 * decay);
            for i in 0..n {
                sum[i] += g[i] * g[i];
                w[i] -= clr * g[i] / (sum[i].sqrt() + eps);
            }
            s.insert("sum", sum);
        }
        "lion" => {
            let (b1, b2) = (arg(case, "beta1", 0.9), arg(case, "beta2", 0.99));
            let wd = arg(case, "weight_decay", 0.0);
            let mut m = slot("lion_m", 0.0);
            for i in 0..n {
                if decays {
                    w[i] *= 1.0 - lr * wd;
                }
                let c = b1 * m[i] + (1.0 - b1) * g[i];
                w[i] -= lr * c.signum() * (c != 0.0) as u8 as f64;
                m[i] = b2 * m[i] + (1.0 - b2) * g[i];
            }
            s.insert("lion_m", m);
        }
        other => panic!("no reference for `{other}`: write one before registering it"),
    }
}

/// A small deterministic generator, uniform in [-1, 1).
fn uniform(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

fn close(what: &str, got: &[f32], want: &[f64]) -> Result<(), String> {
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if (g as f64 - w).abs() > 1e-5 * (1.0 + w.abs()) {
            return Err(format!("{what}[{i}]: compiled {g}, reference {w}"));
        }
    }
    Ok(())
}

/// Runs `STEPS` updates of `case` on `backend` and compares every
/// parameter and state with the reference after each.
fn check_case(
    case: &str,
    backend: &mut dyn Backend,
    graphs: &Graphs,
    model: &Model,
) -> Result<(), String> {
    let g = graphs.layout_graph();
    let layout = Layout::of(g);
    let mut rng = 0x0b7 ^ case.len() as u64;
    let params_len: usize = g.params.iter().map(|p| p.len()).sum();
    let mut buffers = Buffers {
        params: (0..params_len)
            .map(|_| 0.5 * uniform(&mut rng) as f32)
            .collect(),
        grads: vec![0.0; params_len],
        states: vec![0.0; layout.states_len],
        class_weights: Vec::new(),
    };
    for (s, &at) in g.states.iter().zip(&layout.states) {
        let len: usize = s.shape.iter().product();
        buffers.states[at..at + len].fill(s.init);
    }
    let mut want: Vec<f64> = buffers.params.iter().map(|&v| v as f64).collect();
    let mut states: Vec<State> = vec![State::new(); g.params.len()];
    let optimizer = model.train.as_ref().unwrap().optimizer;
    for t in 1..=STEPS {
        let lr = optimizer.lr * [1.0, 0.5, 2.0, 0.25, 1.0, 0.8][t as usize - 1];
        for v in buffers.grads.iter_mut() {
            *v = 0.5 * uniform(&mut rng) as f32;
        }
        let call = Call {
            n: 4,
            features: &[],
            labels: &[],
            scalars: optimizer.kind.rule().step_scalars(lr, t),
            seed: 0,
            step: t - 1,
            shard: dlc::ir::Shard::WHOLE,
        };
        backend
            .call(Entry::Update, &mut buffers, &call, &mut [])
            .map_err(|e| e.to_string())?;
        for (p, (info, &at)) in g.params.iter().zip(&layout.params).enumerate() {
            let range = at..at + info.len();
            let grad: Vec<f64> = buffers.grads[range.clone()]
                .iter()
                .map(|&v| v as f64)
                .collect();
            reference(
                case,
                &mut want[range.clone()],
                &grad,
                lr,
                t,
                info.decay,
                &mut states[p],
            );
            close(
                &format!("step {t}: {}", info.name),
                &buffers.params[range],
                &want[at..at + info.len()],
            )?;
        }
        for (s, &at) in g.states.iter().zip(&layout.states) {
            let Some((param, slot)) = s.name.rsplit_once('.') else {
                continue;
            };
            let Some(p) = g.params.iter().position(|q| q.name == param) else {
                continue;
            };
            let len: usize = s.shape.iter().product();
            let reference = states[p]
                .get(slot)
                .ok_or_else(|| format!("state {} has no counterpart in the reference", s.name))?;
            close(
                &format!("step {t}: {}", s.name),
                &buffers.states[at..at + len],
                reference,
            )?;
        }
    }
    Ok(())
}

#[test]
fn every_optimizer_matches_its_reference_on_both_back_ends() {
    let mut failures = Vec::new();
    for case in CASES {
        let model = model(case);
        let graphs = Graphs::build(&model).expect("compiles");
        let mut jit = JitBackend::new(&graphs, 4).expect("jit");
        let mut interp = Interpreter::new(graphs.clone());
        let backends: [(&str, &mut dyn Backend); 2] =
            [("jit", &mut jit), ("interpreter", &mut interp)];
        for (name, backend) in backends {
            if let Err(e) = check_case(case, backend, &graphs, &model) {
                failures.push(format!("{case} on the {name}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_registered_optimizer_has_a_reference_case() {
    for entry in OPTIMIZERS {
        assert!(
            CASES
                .iter()
                .any(|c| c.starts_with(&format!("{}(", entry.keyword))),
            "`{}` is registered but has no case here",
            entry.keyword
        );
    }
}

#[test]
fn no_optimizer_keeps_more_state_than_a_checkpoint_allows() {
    for case in CASES {
        let graphs = Graphs::build(&model(case)).expect("compiles");
        let g = graphs.layout_graph();
        let per_param = g.states.len() as f64 / g.params.len() as f64;
        assert!(
            g.states.len() <= dlc::optimizers::MOST_STATES_PER_PARAMETER * g.params.len(),
            "{case}: {per_param} state tensors per parameter"
        );
    }
}

/// A rate a tenth of the one W0109 calls large, for each optimizer.
fn modest_rate(keyword: &str) -> f64 {
    let entry = dlc::optimizers::find(keyword).unwrap();
    entry
        .with_defaults()
        .expect("every argument has a default")
        .rule()
        .large_rate()
        / 10.0
}

#[test]
fn every_optimizer_at_its_defaults_trains_a_small_problem() {
    for entry in OPTIMIZERS {
        let lr = modest_rate(entry.keyword);
        let text = format!(
            "data d = blobs(points: 200, features: 4, classes: 3)\n\
             network net(x: [4]) -> 3 {{ dense 16; relu; dense 3 }}\n\
             train net on d {{ loss cross_entropy; optimizer {}(lr: {lr}); batch 20; epochs 30 }}\n",
            entry.keyword
        );
        let mut m = dlc::compile(&text).unwrap_or_else(|e| panic!("{}: {e}", entry.keyword));
        let mut losses = Vec::new();
        m.train(&Default::default(), &mut |e| losses.push(e.train_loss))
            .unwrap_or_else(|e| panic!("{}: {e}", entry.keyword));
        let (first, last) = (losses[0], *losses.last().unwrap());
        assert!(
            last < 0.5 * first,
            "{} at lr {lr}: training loss {first} -> {last}",
            entry.keyword
        );
    }
}
