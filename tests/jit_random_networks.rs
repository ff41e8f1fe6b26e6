//! Property: for random valid networks — stacks of dense, conv, pooling,
//! flatten, activations, norms, dropout, `+` and `concat` with random sizes,
//! written as `.dl` source and checked — the JIT computes what the
//! interpreter computes: outputs of `predict` and `eval`, the loss and
//! gradients of `backward`, and everything `train_step` writes (within the
//! tolerance of `jit_support`). 1,000 networks, small sizes; a network whose
//! result f32 arithmetic cannot determine (the f32 interpreter is off from the
//! f64 one as well) is discarded, at most 50 of them.

mod jit_support;

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::ir::StepScalars;
use dlc::runtime::backend::Interpreter;
use dlc::runtime::jit::JitBackend;
use jit_support::{Batch, Lcg, Outcome, compare_entry, random_buffers};
use proptest::prelude::*;

/// A value of the network being generated: its name and sample shape.
#[derive(Clone)]
struct Value {
    name: String,
    shape: Vec<usize>,
}

struct Gen {
    rng: Lcg,
    lines: Vec<String>,
    values: Vec<Value>,
    flow: Vec<usize>,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.rng.below(xs.len())]
    }

    fn size(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.rng.below(hi - lo + 1)
    }

    /// Emits `vN = text` with the resulting shape; it becomes the flow.
    fn line(&mut self, text: String, shape: Vec<usize>) {
        let name = format!("v{}", self.values.len());
        self.lines.push(format!("    {name} = {text}"));
        self.values.push(Value {
            name,
            shape: shape.clone(),
        });
        self.flow = shape;
    }

    fn activation(&mut self) -> String {
        let vector = self.flow.len() == 1;
        let acts: &[&str] = if vector {
            &[
                "relu",
                "tanh",
                "sigmoid",
                "leaky_relu 0.1",
                "identity",
                "softmax",
                "prelu",
            ]
        } else {
            &[
                "relu",
                "tanh",
                "sigmoid",
                "leaky_relu 0.2",
                "prelu per_channel",
            ]
        };
        self.pick(acts).to_string()
    }

    fn vector_layer(&mut self) {
        let d = self.flow[0];
        match self.rng.below(7) {
            0 | 1 => {
                let k = self.size(1, 9);
                let bias = if self.rng.below(4) == 0 {
                    ", bias: false"
                } else {
                    ""
                };
                self.line(format!("dense {k}{bias}"), vec![k]);
            }
            2 => {
                let a = self.activation();
                self.line(a, vec![d]);
            }
            3 => {
                let l = self.pick(&["batchnorm", "layernorm", "batchnorm momentum: 0.3"]);
                self.line(l.to_string(), vec![d]);
            }
            4 => self.line("dropout 0.3".into(), vec![d]),
            _ => self.merge(),
        }
    }

    fn image_layer(&mut self) {
        let (c, h, w) = (self.flow[0], self.flow[1], self.flow[2]);
        match self.rng.below(8) {
            0 | 1 => {
                let f = self.size(1, 4);
                let (kh, kw) = (self.size(1, 3.min(h + 2)), self.size(1, 3.min(w + 2)));
                let (sh, sw) = (self.size(1, 2), self.size(1, 2));
                let (ph, pw) = (self.size(0, 1), self.size(0, 1));
                if h + 2 * ph < kh || w + 2 * pw < kw {
                    return;
                }
                let (oh, ow) = ((h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1);
                self.line(
                    format!(
                        "conv {f}, kernel: [{kh}, {kw}], stride: [{sh}, {sw}], pad: [{ph}, {pw}]"
                    ),
                    vec![f, oh, ow],
                );
            }
            2 => {
                let kind = self.pick(&["maxpool", "avgpool"]);
                let win = self.size(1, 3);
                let stride = self.size(1, 2);
                let pad = self.size(0, win / 2);
                if h + 2 * pad < win || w + 2 * pad < win {
                    return;
                }
                let out = |s: usize| (s + 2 * pad - win) / stride + 1;
                self.line(
                    format!("{kind} {win}, stride: {stride}, pad: {pad}"),
                    vec![c, out(h), out(w)],
                );
            }
            3 => {
                let a = self.activation();
                self.line(a, vec![c, h, w]);
            }
            4 => {
                let l = self.pick(&[
                    "batchnorm",
                    "instancenorm",
                    "instancenorm affine",
                    "layernorm",
                ]);
                self.line(l.to_string(), vec![c, h, w]);
            }
            5 => self.line("dropout 0.25".into(), vec![c, h, w]),
            6 => self.line("flatten".into(), vec![c * h * w]),
            _ => self.merge(),
        }
    }

    /// `+` of two values of the flow's shape, or `concat` along the first axis.
    fn merge(&mut self) {
        let flow = self.flow.clone();
        let same: Vec<usize> = (0..self.values.len())
            .filter(|&i| self.values[i].shape == flow)
            .collect();
        let joinable: Vec<usize> = (0..self.values.len())
            .filter(|&i| {
                let s = &self.values[i].shape;
                s.len() == flow.len() && s[1..] == flow[1..]
            })
            .collect();
        let last = self.values.len() - 1;
        if self.rng.below(2) == 0 && same.len() >= 2 {
            let other = same[self.rng.below(same.len())];
            let (a, b) = (
                self.values[last].name.clone(),
                self.values[other].name.clone(),
            );
            self.line(format!("{a} + {b}"), flow);
        } else if joinable.len() >= 2 {
            let other = joinable[self.rng.below(joinable.len())];
            let (a, b) = (
                self.values[last].name.clone(),
                self.values[other].name.clone(),
            );
            let mut shape = flow.clone();
            shape[0] += self.values[other].shape[0];
            self.line(format!("concat({a}, {b})"), shape);
        }
    }
}

/// A random valid program: its source, input size per sample and classes.
fn program(seed: u64) -> (String, usize, usize) {
    let mut g = Gen {
        rng: Lcg(seed),
        lines: Vec::new(),
        values: Vec::new(),
        flow: Vec::new(),
    };
    let image = g.rng.below(2) == 0;
    let input = if image {
        vec![g.size(1, 3), g.size(2, 7), g.size(2, 7)]
    } else {
        vec![g.size(1, 8)]
    };
    g.values.push(Value {
        name: "x".into(),
        shape: input.clone(),
    });
    g.flow = input.clone();
    let layers = g.size(1, 7);
    for _ in 0..layers {
        if g.flow.len() == 3 {
            g.image_layer();
        } else {
            g.vector_layer();
        }
    }
    if g.flow.len() == 3 {
        let n = g.flow.iter().product();
        g.line("flatten".into(), vec![n]);
    }
    let classes = g.size(2, 4);
    g.line(format!("dense {classes}"), vec![classes]);
    let shape: Vec<String> = input.iter().map(|d| d.to_string()).collect();
    let optimizer = g.pick(&[
        "sgd(lr: 0.1)",
        "sgd(lr: 0.05, momentum: 0.9, nesterov)",
        "adam(lr: 0.01)",
        "adamw(lr: 0.01, weight_decay: 0.1)",
    ]);
    let extra = g.pick(&["", "    l2 1e-3\n", "    clip 0.5\n", "    l1 1e-3\n"]);
    // Optimizers added later are drawn last, so that the programs of the
    // seeds named by the tests below stay as they were found.
    let optimizer = match g.rng.below(4) {
        0 => g.pick(&[
            "rmsprop(lr: 0.01, momentum: 0.5, centered)",
            "adagrad(lr: 0.1, lr_decay: 0.1)",
            "lion(lr: 0.001, weight_decay: 0.1)",
        ]),
        _ => optimizer,
    };
    let text = format!(
        "data d = random_images(points: 8, shape: [{}], classes: {classes})\n\
         network net(x: [{}]) -> {classes} {{\n{}\n}}\n\
         train net on d {{\n    loss cross_entropy\n    optimizer {optimizer}\n{extra}    batch 4\n    epochs 1\n}}\n",
        shape.join(", "),
        shape.join(", "),
        g.lines.join("\n"),
    );
    (text, input.iter().product(), classes)
}

/// `Ok(false)` when the network is ill-conditioned in f32 (see `jit_support`).
fn check_network(seed: u64) -> Result<bool, String> {
    let (text, sample, classes) = program(seed);
    let checked = dlc::check::check_source(&text);
    let model = checked.model.ok_or_else(|| {
        format!(
            "generated program does not check:\n{text}\n{:?}",
            checked.diagnostics
        )
    })?;
    let graphs = Graphs::build(&model).map_err(|e| format!("{e}\n{text}"))?;
    let mut jit = JitBackend::new(&graphs, 4).map_err(|e| format!("{e}\n{text}"))?;
    let mut interp = Interpreter::new(graphs.clone());
    let mut rng = Lcg(seed ^ 0x5eed);
    let n = 1 + rng.below(4);
    let buffers = random_buffers(&graphs, &mut rng);
    let batch = Batch {
        n,
        features: (0..n * sample).map(|_| rng.sym()).collect(),
        labels: (0..n).map(|_| rng.below(classes) as f32).collect(),
        scalars: StepScalars {
            learning_rate: 0.05,
            bias_correction1: 1.2,
            bias_correction2: 1.1,
        },
        seed,
        step: 2,
    };
    for entry in Entry::ALL {
        let outcome = compare_entry(
            &graphs,
            &mut interp,
            &mut jit,
            entry,
            &buffers,
            &batch,
            n * classes,
        )
        .map_err(|e| format!("{e}\n{text}"))?;
        if outcome != Outcome::Agree {
            return Ok(false);
        }
    }
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        // Ill-conditioned networks are discarded, at most 5% of them.
        max_local_rejects: 50,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_networks_match_the_interpreter(seed in any::<u64>()) {
        match check_network(seed) {
            Ok(conditioned) => prop_assume!(conditioned),
            Err(e) => prop_assert!(false, "seed {seed}: {e}"),
        }
    }
}

#[test]
fn a_network_ill_conditioned_in_f32_is_not_blamed_on_the_jit_and_others_agree() {
    // Batch norm of a layer norm of two features: the normalised values are
    // almost equal, and f32 rounding decides the result. Whether the JIT's
    // rounding lands near the exact result depends on its summation order
    // (it did not before products of few rows became dot products; it does
    // now), so only the verdict is fixed: never a failure.
    assert!(check_network(15728856199704260655).is_ok());
    for seed in 0..20 {
        assert_eq!(check_network(seed), Ok(true), "seed {seed}");
    }
}

#[test]
fn generated_programs_cover_every_layer_kind() {
    let mut all = String::new();
    for seed in 0..300 {
        all.push_str(&program(seed).0);
    }
    for kind in [
        "dense",
        "conv",
        "maxpool",
        "avgpool",
        "flatten",
        "relu",
        "tanh",
        "sigmoid",
        "leaky_relu",
        "prelu",
        "softmax",
        "batchnorm",
        "layernorm",
        "instancenorm",
        "dropout",
        " + ",
        "concat(",
    ] {
        assert!(all.contains(kind), "no generated program uses `{kind}`");
    }
    for entry in dlc::optimizers::OPTIMIZERS {
        let written = format!("optimizer {}(", entry.keyword);
        assert!(
            all.contains(&written),
            "no generated program uses `{}`",
            entry.keyword
        );
    }
}

/// The gradient of a convolution's bias before an instance norm is 0 in exact
/// arithmetic and rounding noise of the norm's large terms in f32: here the
/// JIT's noise (1.5e-5) is past the tolerance, the f32 interpreter's happens
/// not to be. Errors of f32's size in another pattern reach the JIT's
/// distance from the exact result too, so the case is ill-conditioned, not a
/// failure (see `jit_support`).
#[test]
fn a_gradient_that_cancels_to_zero_is_judged_by_errors_of_f32_size() {
    assert_eq!(check_network(17706643704784979998), Ok(false));
    // The same cancellation (a convolution's bias before an instance norm),
    // where the first rounding pattern tried happens not to show it.
    assert_eq!(check_network(4853727336189103933), Ok(false));
}
