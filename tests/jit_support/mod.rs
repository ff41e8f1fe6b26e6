//! Shared by the JIT tests: random data, running an entry point on both back
//! ends, and the comparison with its stated tolerance.
//!
//! Tolerance: `|jit - interp| <= 1e-4 * |interp| + 1e-5 * scale`, where
//! `scale` is the largest magnitude in the compared tensor (at least 1).
//! Why: the JIT computes exp, log, tanh and sigmoid to within 2.6 ulp
//! (3e-7 relative) instead of libm's 0.5 ulp, and sums in another order
//! (matrix products block and vectorise their inner sums, reductions keep four
//! partial sums). Both are rounding differences of a few ulps per operation,
//! about 1e-6 relative after a few layers; 1e-4 leaves a margin of 100 for
//! their growth through normalisations and the loss. A sum whose terms cancel
//! has an error relative to its terms, not to itself: hence the absolute part,
//! relative to the tensor's scale. A wrong index, mask or formula is off by
//! far more than either.
//!
//! Exceptions are decided, not assumed. A batch may put a value within
//! rounding of a kink (a relu at 0, a tie in a max pool), or normalise values
//! that are almost equal (a batch norm of a layer norm of two features), where
//! f32 arithmetic itself leaves the exact result. When the JIT and the f32
//! interpreter disagree, both are compared with the interpreter in f64:
//! - the JIT within tolerance of the f64 result: the disagreement is the f32
//!   interpreter's, the case passes;
//! - both outside it: the case is ill-conditioned in f32 and cannot tell a
//!   right JIT from a wrong one; it is reported as such ([`Outcome`]), and
//!   the caller decides (the example tests fail, the random-network test
//!   discards the network, at most 5% of them);
//! - only the JIT outside it: the exact result is computed again with an
//!   error of f32's size in every operation, in a few other patterns (each
//!   result times 1 ± 2^-23, exp, log and tanh times 1 ± 3e-7, the signs
//!   drawn at random: [`Noisy`]). If that alone moves it outside the
//!   tolerance in any of them, f32
//!   cannot decide the case (a sum that cancels to 0 from large terms, a norm
//!   of values almost equal) and it is ill-conditioned as above, the f32
//!   interpreter having been near only by luck; otherwise a failure.
#![allow(dead_code)]

use dlc::autodiff::graphs::{Entry, Graphs};
use dlc::codegen::plan::Layout;
use dlc::interp::{Inputs, evaluate};
use dlc::ir::{Sink, StepScalars};
use dlc::runtime::backend::{Backend, BackendError, Buffers, Call, Interpreter};
use dlc::runtime::jit::JitBackend;

pub const RTOL: f32 = 1e-4;
pub const ATOL: f32 = 1e-5;

/// A small deterministic generator (independent of dlc's own).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }

    /// Uniform in [-1, 1).
    pub fn sym(&mut self) -> f32 {
        (self.next_u64() as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Whether `got` matches `want` within the tolerance; the first mismatch otherwise.
pub fn close(got: &[f32], want: &[f32]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("lengths {} and {}", got.len(), want.len()));
    }
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same_special = (g.is_nan() && w.is_nan()) || g == w;
        let within = (g - w).abs() <= RTOL * w.abs() + ATOL * scale;
        if !same_special && !within {
            return Err(format!(
                "element {i}: jit {g}, interpreter {w} (scale {scale})"
            ));
        }
    }
    Ok(())
}

/// What one call reads.
pub struct Batch {
    pub n: usize,
    pub features: Vec<f32>,
    pub labels: Vec<f32>,
    pub scalars: StepScalars,
    pub seed: u64,
    pub step: u64,
}

/// Runs `entry` on both back ends from the same buffers and compares loss,
/// output and every buffer; returns a description of the first mismatch.
pub fn compare_entry(
    graphs: &Graphs,
    interp: &mut Interpreter,
    jit: &mut JitBackend,
    entry: Entry,
    buffers: &Buffers,
    batch: &Batch,
    out_len: usize,
) -> Result<Outcome, String> {
    let Err(e) = compare_with_f32(interp, jit, entry, buffers, batch, out_len) else {
        return Ok(Outcome::Agree);
    };
    let exact = call_f64(graphs, entry, buffers, batch, out_len);
    let mut bj = buffers.clone();
    let mut oj = vec![0.0; out_len];
    let lj = run(jit, entry, &mut bj, &call_of(batch), &mut oj)?;
    let jit_exact = all_close(&(lj, oj, bj), &exact);
    let mut bi = buffers.clone();
    let mut oi = vec![0.0; out_len];
    let li = run(interp, entry, &mut bi, &call_of(batch), &mut oi)?;
    let interp_exact = all_close(&(li, oi, bi), &exact);
    match (jit_exact, interp_exact) {
        (Ok(()), _) => Ok(Outcome::Agree),
        (Err(j), Err(_)) => Ok(Outcome::IllConditioned(format!("{e}; against f64: {j}"))),
        (Err(j), Ok(())) => {
            // One rounding pattern may happen to cancel as the f32
            // interpreter's did: a few independent ones tell whether f32
            // can decide the case at all.
            let moved = (0..NOISE_PATTERNS).find_map(|_| {
                let noisy = call_real::<Noisy>(graphs, entry, buffers, batch, out_len);
                all_close(&noisy, &exact).err()
            });
            match moved {
                Some(r) => Ok(Outcome::IllConditioned(format!(
                    "{e}; against f64: {j}; errors of f32's size move the exact result: {r}"
                ))),
                None => Err(format!("{e}; against f64: {j}")),
            }
        }
    }
}

/// f64 with an error of f32's size in every operation: each result times
/// 1 ± 2^-23 (exp, log and tanh, which the JIT approximates, 1 ± 3e-7), the
/// sign drawn from a fixed stream. It computes what an f32 program with
/// another rounding pattern could, to tell a case f32 cannot decide.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
pub struct Noisy(f64);

thread_local! {
    static NOISE: std::cell::Cell<u64> = const { std::cell::Cell::new(0x0dd_5eed) };
}

impl Noisy {
    fn rounded(x: f64, size: f64) -> Noisy {
        let bit = NOISE.with(|n| {
            let mut l = Lcg(n.get());
            let b = l.next_u64() & 1;
            n.set(l.0);
            b
        });
        Noisy(x * if bit == 0 { 1.0 + size } else { 1.0 - size })
    }
}

/// The rounding patterns tried before a disagreement only the JIT has is
/// called a failure.
const NOISE_PATTERNS: usize = 4;

const F32_ROUNDING: f64 = 1.0 / (1u64 << 23) as f64;
const JIT_APPROXIMATION: f64 = 3e-7;

macro_rules! noisy_op {
    ($tr:ident, $f:ident, $op:tt) => {
        impl std::ops::$tr for Noisy {
            type Output = Noisy;
            fn $f(self, o: Noisy) -> Noisy {
                Noisy::rounded(self.0 $op o.0, F32_ROUNDING)
            }
        }
    };
}
noisy_op!(Add, add, +);
noisy_op!(Sub, sub, -);
noisy_op!(Mul, mul, *);
noisy_op!(Div, div, /);

impl std::ops::Neg for Noisy {
    type Output = Noisy;
    fn neg(self) -> Noisy {
        Noisy(-self.0)
    }
}

impl dlc::interp::Real for Noisy {
    fn from_f64(x: f64) -> Self {
        Noisy(x)
    }
    fn to_f64(self) -> f64 {
        self.0
    }
    fn exp(self) -> Self {
        Noisy::rounded(self.0.exp(), JIT_APPROXIMATION)
    }
    fn ln(self) -> Self {
        Noisy::rounded(self.0.ln(), JIT_APPROXIMATION)
    }
    fn tanh(self) -> Self {
        Noisy::rounded(self.0.tanh(), JIT_APPROXIMATION)
    }
    fn sqrt(self) -> Self {
        Noisy::rounded(self.0.sqrt(), F32_ROUNDING)
    }
    fn erf(self) -> Self {
        Noisy::rounded(dlc::interp::erf(self.0), JIT_APPROXIMATION)
    }
}

/// How a comparison that did not fail ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// The JIT matches the f32 interpreter or the exact (f64) result.
    Agree,
    /// Neither the JIT nor the f32 interpreter is near the exact result.
    IllConditioned(String),
}

fn call_of(batch: &Batch) -> Call<'_> {
    Call {
        n: batch.n,
        features: &batch.features,
        labels: &batch.labels,
        scalars: batch.scalars,
        seed: batch.seed,
        step: batch.step,
        shard: dlc::ir::Shard::WHOLE,
    }
}

/// A call's loss and whether it refused a value that is not finite (which
/// both back ends must do alike, keeping those elements' old values).
type Loss = (f32, bool);

type Results = (Loss, Vec<f32>, Buffers);

/// Runs `entry`; a refusal of a non-finite value is a result, not an error.
pub fn run(
    backend: &mut dyn Backend,
    entry: Entry,
    buffers: &mut Buffers,
    call: &Call,
    output: &mut [f32],
) -> Result<Loss, String> {
    match backend.call(entry, buffers, call, output) {
        Ok(loss) => Ok((loss, false)),
        Err(BackendError::NonFinite { loss, .. }) => Ok((loss, true)),
        Err(e) => Err(e.to_string()),
    }
}

fn same_refusal(got: Loss, want: Loss) -> Result<(), String> {
    match (got.1, want.1) {
        (a, b) if a == b => Ok(()),
        (true, _) => Err("refused a value that is not finite; the other did not".into()),
        (false, _) => Err("did not refuse a value that is not finite; the other did".into()),
    }
}

fn all_close(got: &Results, want: &Results) -> Result<(), String> {
    same_refusal(got.0, want.0)?;
    close(&[got.0.0], &[want.0.0]).map_err(|e| format!("loss: {e}"))?;
    close(&got.1, &want.1).map_err(|e| format!("output: {e}"))?;
    close(&got.2.params, &want.2.params).map_err(|e| format!("params: {e}"))?;
    close(&got.2.grads, &want.2.grads).map_err(|e| format!("grads: {e}"))?;
    close(&got.2.states, &want.2.states).map_err(|e| format!("states: {e}"))
}

/// The interpreter back end's semantics, evaluated in f64 (rounded to f32 at the end).
pub fn call_f64(
    graphs: &Graphs,
    entry: Entry,
    buffers: &Buffers,
    batch: &Batch,
    out_len: usize,
) -> Results {
    call_real::<f64>(graphs, entry, buffers, batch, out_len)
}

/// The interpreter back end's semantics, evaluated in `T` (rounded to f32 at the end).
pub fn call_real<T: dlc::interp::Real>(
    graphs: &Graphs,
    entry: Entry,
    buffers: &Buffers,
    batch: &Batch,
    out_len: usize,
) -> Results {
    let g = graphs.get(entry).unwrap();
    let lay = Layout::of(graphs.layout_graph());
    let wide = |v: &[f32]| v.iter().map(|&x| T::from_f64(x as f64)).collect::<Vec<T>>();
    let split = |flat: &[f32], offs: &[usize], lens: Vec<usize>| -> Vec<Vec<T>> {
        offs.iter()
            .zip(lens)
            .map(|(&o, l)| wide(&flat[o..o + l]))
            .collect()
    };
    let plens: Vec<usize> = g.params.iter().map(|p| p.len()).collect();
    let slens: Vec<usize> = g.states.iter().map(|s| s.shape.iter().product()).collect();
    let params = split(&buffers.params, &lay.params, plens.clone());
    let grads = split(&buffers.grads, &lay.params, plens);
    let states = split(&buffers.states, &lay.states, slens);
    let (features, labels) = (wide(&batch.features), wide(&batch.labels));
    let class_weights = wide(&buffers.class_weights);
    let scalars = batch.scalars.rounded_to_f32();
    let inputs = Inputs {
        batch: batch.n,
        class_weights: &class_weights,
        features: &features,
        labels: &labels,
        params: &params,
        states: &states,
        grads: &grads,
        scalars,
        seed: batch.seed,
        step: batch.step,
        shard: dlc::ir::Shard::WHOLE,
    };
    let vals = evaluate::<T>(g, &inputs).unwrap();
    let mut out = buffers.clone();
    let mut output = vec![0.0f32; out_len];
    let mut loss = 0.0;
    let mut refused = false;
    let narrow = |v: &[T]| v.iter().map(|&x| x.to_f64() as f32).collect::<Vec<f32>>();
    // The back ends' guard: a new value that is not finite keeps the old one.
    let mut guarded = |to: &mut [f32], from: &[T]| {
        for (t, &f) in to.iter_mut().zip(from) {
            if (f.to_f64() as f32).is_finite() {
                *t = f.to_f64() as f32;
            } else {
                refused = true;
            }
        }
    };
    for s in &g.sinks {
        match s {
            Sink::Loss(v) => loss = vals[v.index()][0].to_f64() as f32,
            Sink::Output(v) => {
                let o = narrow(&vals[v.index()]);
                let n = o.len().min(out_len);
                output[..n].copy_from_slice(&o[..n]);
            }
            Sink::Grad(p, v) => out.grads[lay.params[p.index()]..][..g.params[*p].len()]
                .copy_from_slice(&narrow(&vals[v.index()])),
            Sink::Param(p, v) => guarded(
                &mut out.params[lay.params[p.index()]..][..g.params[*p].len()],
                &vals[v.index()],
            ),
            Sink::State(st, v) => {
                let len: usize = g.states[*st].shape.iter().product();
                guarded(
                    &mut out.states[lay.states[st.index()]..][..len],
                    &vals[v.index()],
                );
            }
        }
    }
    ((loss, refused), output, out)
}

fn compare_with_f32(
    interp: &mut Interpreter,
    jit: &mut JitBackend,
    entry: Entry,
    buffers: &Buffers,
    batch: &Batch,
    out_len: usize,
) -> Result<(), String> {
    let call = Call {
        n: batch.n,
        features: &batch.features,
        labels: &batch.labels,
        scalars: batch.scalars,
        seed: batch.seed,
        step: batch.step,
        shard: dlc::ir::Shard::WHOLE,
    };
    let (mut bi, mut bj) = (buffers.clone(), buffers.clone());
    let (mut oi, mut oj) = (vec![0.0; out_len], vec![0.0; out_len]);
    let li =
        run(interp, entry, &mut bi, &call, &mut oi).map_err(|e| format!("interpreter: {e}"))?;
    let lj = run(jit, entry, &mut bj, &call, &mut oj).map_err(|e| format!("jit: {e}"))?;
    let name = entry.name();
    same_refusal(lj, li).map_err(|e| format!("{name}: the JIT {e}"))?;
    close(&[lj.0], &[li.0]).map_err(|e| format!("{name} loss: {e}"))?;
    close(&oj, &oi).map_err(|e| format!("{name} output: {e}"))?;
    close(&bj.params, &bi.params).map_err(|e| format!("{name} params: {e}"))?;
    close(&bj.grads, &bi.grads).map_err(|e| format!("{name} grads: {e}"))?;
    close(&bj.states, &bi.states).map_err(|e| format!("{name} states: {e}"))?;
    Ok(())
}

/// Random parameters and (positive) states in the shared layout of `graphs`.
pub fn random_buffers(graphs: &Graphs, rng: &mut Lcg) -> Buffers {
    let g = graphs.layout_graph();
    let params_len: usize = g.params.iter().map(|p| p.len()).sum();
    let states_len: usize = g
        .states
        .iter()
        .map(|s| s.shape.iter().product::<usize>())
        .sum();
    Buffers {
        params: (0..params_len).map(|_| rng.sym() * 0.5).collect(),
        grads: (0..params_len).map(|_| rng.sym() * 0.5).collect(),
        // Variances and second moments must be positive.
        states: (0..states_len)
            .map(|_| 0.5 + 0.5 * rng.sym().abs())
            .collect(),
        // A loss with class weights: positive weights, one per class.
        class_weights: (0..class_weights_len(graphs))
            .map(|_| 0.25 + 2.0 * rng.sym().abs())
            .collect(),
    }
}

/// How many class weights the loss of `graphs` reads (0 without any).
pub fn class_weights_len(graphs: &Graphs) -> usize {
    dlc::autodiff::graphs::Entry::ALL
        .iter()
        .filter_map(|&e| graphs.get(e))
        .flat_map(|g| &g.nodes)
        .find(|n| matches!(n.op, dlc::ir::Op::Input(dlc::ir::InputKind::ClassWeights)))
        .map_or(0, |n| n.shape.numel(1))
}
