//! Shared by the kink tests: graphs and programs evaluated exactly where a
//! primitive has no derivative or an awkward one (relu and abs at 0, max of
//! equal values, pooling windows of equal values, norms of constant inputs),
//! and the finite differences that say what the loss does there.
//!
//! A [`Case`] is a loss with its backward pass, the parameter values that put
//! it on the kink, and the batch it reads. The values are multiples of 1/8 or
//! other numbers exact in f32, so that the JIT tests see the same points.
#![allow(dead_code)]

use dlc::autodiff::differentiate;
use dlc::check::{Init, Model, check_source};
use dlc::interp::{Inputs, evaluate_prefix};
use dlc::ir::*;
use dlc::lower::lower;

mod primitives;
mod programs;

pub use primitives::*;
pub use programs::*;

pub struct Case {
    pub name: String,
    /// Forward pass, loss and backward pass, with `Loss`, `Output` and
    /// `Grad` sinks.
    pub graph: Graph,
    pub loss: ValueId,
    pub output: ValueId,
    pub grads: Vec<Option<ValueId>>,
    /// Per parameter of `graph`, in its order.
    pub params: Vec<Vec<f64>>,
    pub batch: usize,
    pub features: Vec<f64>,
    pub labels: Vec<f64>,
    /// The checked program, when the case is one (the JIT tests build every
    /// entry point from it).
    pub model: Option<Model>,
    /// The step of the finite differences.
    pub h: f64,
}

/// What the loss does along one coordinate: one-sided and central
/// differences, each accurate to O(h^2) on its side.
#[derive(Clone, Copy, Debug)]
pub struct Slopes {
    pub left: f64,
    pub central: f64,
    pub right: f64,
}

/// `1, 1.25, 1.5, ...`: output weights that tell every element apart.
pub fn ramp(len: usize) -> Vec<f64> {
    (0..len).map(|i| 1.0 + 0.25 * i as f64).collect()
}

/// `|a - b|` relative to the larger magnitude, never below 1e-2 (as in the
/// primitive gradient checks).
pub fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-2)
}

impl Case {
    /// `loss = sum(build(x...) * w)`, the inputs `x` and the weights `w`
    /// (given by [`ramp`]) parameters of the graph.
    pub fn primitive(
        name: &str,
        inputs: &[(&[usize], Vec<f64>)],
        build: impl Fn(&mut Graph, &[ValueId]) -> ValueId,
    ) -> Case {
        let mut g = Graph::default();
        let xs: Vec<ValueId> = inputs
            .iter()
            .enumerate()
            .map(|(i, (shape, values))| {
                assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}");
                g.add_param(ParamInfo {
                    name: format!("x{i}"),
                    shape: shape.to_vec(),
                    init: Init::Const(0.0),
                    decay: false,
                })
            })
            .collect();
        let y = build(&mut g, &xs);
        let out_shape = g.shape(y).dims(1);
        let w = g.add_param(ParamInfo {
            name: "w".into(),
            shape: out_shape.clone(),
            init: Init::Const(0.0),
            decay: false,
        });
        let w = g.reshape(w, g.shape(y).clone());
        let prod = g.mul(y, w);
        let axes: Vec<usize> = (0..out_shape.len()).collect();
        let s = g.sum(prod, &axes);
        let loss = g.reshape(s, Shape::scalar());
        let mut params: Vec<Vec<f64>> = inputs.iter().map(|(_, v)| v.clone()).collect();
        params.push(ramp(out_shape.iter().product()));
        g.sinks.push(Sink::Output(y));
        g.sinks.push(Sink::Loss(loss));
        let grads = differentiate(&mut g, loss);
        Case::finish(name, g, loss, y, grads, params, 1, vec![], vec![])
    }

    /// A whole program's training-mode loss on the batch `features` (as
    /// many samples as they hold), with `labels` (class indices, or the
    /// targets of `mse`). Parameters not listed take their constant initial
    /// value.
    pub fn program(
        name: &str,
        source: &str,
        params: &[(&str, Vec<f64>)],
        features: Vec<f64>,
        labels: Vec<f64>,
    ) -> Case {
        let checked = check_source(source);
        let model = checked
            .model
            .unwrap_or_else(|| panic!("{name}: does not check: {:?}", checked.diagnostics));
        let lowered = lower(&model, Mode::Train, true);
        let (mut g, loss) = (lowered.graph, lowered.loss.expect("a loss"));
        let sample: usize = model.network.input_shape.iter().product();
        assert_eq!(features.len() % sample, 0, "{name}: features");
        let values: Vec<Vec<f64>> = g
            .params
            .iter()
            .map(|p| match params.iter().find(|(n, _)| *n == p.name) {
                Some((_, v)) => {
                    assert_eq!(v.len(), p.len(), "{name}: {}", p.name);
                    v.clone()
                }
                None => match p.init {
                    Init::Const(c) => vec![c; p.len()],
                    _ => panic!("{name}: give `{}` a value", p.name),
                },
            })
            .collect();
        for (n, _) in params {
            assert!(
                g.params.iter().any(|p| p.name == *n),
                "{name}: no parameter `{n}`"
            );
        }
        let grads = differentiate(&mut g, loss);
        let output = lowered.output;
        let batch = features.len() / sample;
        let mut case = Case::finish(
            name, g, loss, output, grads, values, batch, features, labels,
        );
        case.model = Some(model);
        case
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        name: &str,
        mut g: Graph,
        loss: ValueId,
        output: ValueId,
        grads: Vec<Option<ValueId>>,
        params: Vec<Vec<f64>>,
        batch: usize,
        features: Vec<f64>,
        labels: Vec<f64>,
    ) -> Case {
        for (p, grad) in grads.iter().enumerate() {
            if let Some(grad) = grad {
                g.sinks.push(Sink::Grad(ParamId(p), *grad));
            }
        }
        verify(&g).unwrap_or_else(|e| panic!("{name}: {e}"));
        Case {
            name: name.to_string(),
            graph: g,
            loss,
            output,
            grads,
            params,
            batch,
            features,
            labels,
            model: None,
            h: 1e-6,
        }
    }

    pub fn with_step(mut self, h: f64) -> Case {
        self.h = h;
        self
    }

    /// The first `count` nodes' values at `params`, in f64.
    fn evaluate(&self, params: &[Vec<f64>], count: usize) -> Vec<Vec<f64>> {
        // Training-mode programs read running statistics only to update them.
        let states: Vec<Vec<f64>> = self
            .graph
            .states
            .iter()
            .map(|s| vec![s.init as f64; s.shape.iter().product()])
            .collect();
        let inputs = Inputs {
            batch: self.batch,
            class_weights: &[],
            features: &self.features,
            labels: &self.labels,
            params,
            states: &states,
            grads: &[],
            scalars: StepScalars::NO_STEP,
            seed: SEED,
            step: STEP,
            shard: dlc::ir::Shard::WHOLE,
        };
        evaluate_prefix(&self.graph, &inputs, count)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }

    /// Every node's value at the case's parameters.
    pub fn values(&self) -> Vec<Vec<f64>> {
        self.evaluate(&self.params, self.graph.nodes.len())
    }

    pub fn loss_at(&self, params: &[Vec<f64>]) -> f64 {
        self.evaluate(params, self.loss.index() + 1)[self.loss.index()][0]
    }

    pub fn param(&self, name: &str) -> usize {
        self.graph
            .params
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("{}: no parameter `{name}`", self.name))
    }

    /// Autodiff's gradient of the loss for parameter `p` (zeros without one).
    pub fn gradient(&self, p: usize) -> Vec<f64> {
        match self.grads[p] {
            Some(v) => self.values()[v.index()].clone(),
            None => vec![0.0; self.params[p].len()],
        }
    }

    /// The loss along `direction` (one vector per parameter), `t` steps of it.
    fn loss_along(&self, direction: &[Vec<f64>], t: f64) -> f64 {
        let moved: Vec<Vec<f64>> = self
            .params
            .iter()
            .zip(direction)
            .map(|(p, d)| p.iter().zip(d).map(|(x, dx)| x + t * dx).collect())
            .collect();
        self.loss_at(&moved)
    }

    /// The one-sided and central differences along `direction`.
    pub fn slopes_along(&self, direction: &[Vec<f64>]) -> Slopes {
        let h = self.h;
        let f = |k: f64| self.loss_along(direction, k * h);
        let (f0, p1, p2, m1, m2) = (f(0.0), f(1.0), f(2.0), f(-1.0), f(-2.0));
        Slopes {
            left: (3.0 * f0 - 4.0 * m1 + m2) / (2.0 * h),
            central: (p1 - m1) / (2.0 * h),
            right: (-3.0 * f0 + 4.0 * p1 - p2) / (2.0 * h),
        }
    }

    /// The direction of coordinate `k` of parameter `p`.
    pub fn unit(&self, p: usize, k: usize) -> Vec<Vec<f64>> {
        let mut d: Vec<Vec<f64>> = self.params.iter().map(|v| vec![0.0; v.len()]).collect();
        d[p][k] = 1.0;
        d
    }

    pub fn slopes(&self, p: usize, k: usize) -> Slopes {
        self.slopes_along(&self.unit(p, k))
    }

    /// The loss is differentiable in every coordinate of the named
    /// parameters (all, if `names` is empty), and autodiff equals the
    /// central difference within 1e-6.
    pub fn assert_smooth(&self, names: &[&str]) {
        let chosen: Vec<usize> = if names.is_empty() {
            (0..self.params.len()).collect()
        } else {
            names.iter().map(|n| self.param(n)).collect()
        };
        for p in chosen {
            let pname = &self.graph.params[p].name;
            let analytic = self.gradient(p);
            for (k, &a) in analytic.iter().enumerate() {
                let s = self.slopes(p, k);
                // The point really is smooth in this coordinate: else the
                // central difference is no derivative to compare with.
                assert!(
                    relative(s.left, s.right) < 1e-5,
                    "{}: {pname}[{k}] sits on a kink (left {:.10}, right {:.10})",
                    self.name,
                    s.left,
                    s.right
                );
                let err = relative(a, s.central);
                assert!(
                    err < 1e-6,
                    "{}: {pname}[{k}]: autodiff {a:.10}, central difference {:.10}, relative error {err:.2e}",
                    self.name,
                    s.central
                );
            }
        }
    }

    /// Autodiff's gradient of `name` is `expected` (to rounding).
    pub fn assert_gradient(&self, name: &str, expected: &[f64]) {
        let got = self.gradient(self.param(name));
        assert_eq!(got.len(), expected.len(), "{}: {name}", self.name);
        for (k, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!(
                (g - e).abs() <= 1e-12 * e.abs().max(1.0),
                "{}: {name}[{k}]: autodiff {g}, expected {e} (all: {got:?})",
                self.name
            );
        }
    }

    /// Each coordinate of `name` sits on a single kink, and autodiff's value
    /// there lies between the one-sided derivatives (a subgradient, or its
    /// negative for a concave kink). Only meaningful where one coordinate
    /// moves one kink: an elementwise op, a window of its own.
    pub fn assert_between_sides(&self, name: &str) {
        let p = self.param(name);
        for (k, a) in self.gradient(p).into_iter().enumerate() {
            let s = self.slopes(p, k);
            let (lo, hi) = (s.left.min(s.right), s.left.max(s.right));
            let slack = 1e-6 * hi.abs().max(lo.abs()).max(1e-2);
            assert!(
                lo - slack <= a && a <= hi + slack,
                "{}: {name}[{k}]: autodiff {a} outside the one-sided derivatives [{lo}, {hi}]",
                self.name
            );
        }
    }

    /// Along `direction` the loss is differentiable and its derivative is
    /// the gradient's projection: ties broken any way must still add up.
    pub fn assert_directional(&self, direction: &[Vec<f64>]) {
        let s = self.slopes_along(direction);
        assert!(
            relative(s.left, s.right) < 1e-5,
            "{}: the direction crosses a kink (left {}, right {})",
            self.name,
            s.left,
            s.right
        );
        let projected: f64 = (0..self.params.len())
            .map(|p| {
                self.gradient(p)
                    .iter()
                    .zip(&direction[p])
                    .map(|(g, d)| g * d)
                    .sum::<f64>()
            })
            .sum();
        let err = relative(projected, s.central);
        assert!(
            err < 1e-6,
            "{}: along the direction, autodiff {projected}, central difference {}, relative error {err:.2e}",
            self.name,
            s.central
        );
    }
}

/// The dropout stream of every case (the JIT tests pass the same).
pub const SEED: u64 = 5;
pub const STEP: u64 = 2;

/// `n` features of `width` values: odd multiples of 1/32 in (-1, 1), exact
/// in f32, none 0, in a cycle of 31 so that no two samples of up to 31
/// values are alike.
pub fn features(n: usize, width: usize) -> Vec<f64> {
    (0..n * width)
        .map(|i| (2.0 * ((i * 7 + 3) % 31) as f64 - 29.0) / 32.0)
        .collect()
}
