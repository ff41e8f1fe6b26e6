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
#![allow(dead_code)]

use dlc::runtime::backend::{Backend, Buffers, Call, Interpreter};
use dlc::runtime::graphs::{Entry, Graphs};
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
        if !same_special && !((g - w).abs() <= RTOL * w.abs() + ATOL * scale) {
            return Err(format!("element {i}: jit {g}, interpreter {w} (scale {scale})"));
        }
    }
    Ok(())
}

/// What one call reads.
pub struct Batch {
    pub n: usize,
    pub features: Vec<f32>,
    pub labels: Vec<f32>,
    pub scalars: [f32; 4],
    pub seed: u64,
    pub step: u64,
}

/// Runs `entry` on both back ends from the same buffers and compares loss,
/// output and every buffer; returns a description of the first mismatch.
pub fn compare_entry(
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
    };
    let (mut bi, mut bj) = (buffers.clone(), buffers.clone());
    let (mut oi, mut oj) = (vec![0.0; out_len], vec![0.0; out_len]);
    let li = interp
        .call(entry, &mut bi, &call, &mut oi)
        .map_err(|e| format!("interpreter: {e}"))?;
    let lj = jit
        .call(entry, &mut bj, &call, &mut oj)
        .map_err(|e| format!("jit: {e}"))?;
    let name = entry.name();
    close(&[lj], &[li]).map_err(|e| format!("{name} loss: {e}"))?;
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
    let states_len: usize = g.states.iter().map(|s| s.shape.iter().product::<usize>()).sum();
    Buffers {
        params: (0..params_len).map(|_| rng.sym() * 0.5).collect(),
        grads: (0..params_len).map(|_| rng.sym() * 0.5).collect(),
        // Variances and second moments must be positive.
        states: (0..states_len).map(|_| 0.5 + 0.5 * rng.sym().abs()).collect(),
    }
}
