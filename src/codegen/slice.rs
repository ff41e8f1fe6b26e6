//! Kernels that split along their leading axis, to run on several threads.
//!
//! A kernel is *sliceable* when each index of its leading axis (the batch, or
//! the rows of a parameter) is computed from the same index of the tensors
//! that share that axis and from whole tensors that do not: elementwise
//! kernels and reductions that keep the leading axis, convolutions and their
//! input gradients, pooling and its gradient. Rows `[lo, hi)` of such a kernel
//! are the same kernel at batch `hi - lo` with the shared tensors' addresses
//! moved on by `lo` rows, so each slice is compiled once, as its own function
//! (see `compile.rs`), and called on bands of rows by [`dlc_parallel_rows`].
//!
//! Every element is computed by the same instructions whatever the bands,
//! because bands start at multiples of [`ROW_ALIGN`] rows: the four-wide
//! vector loops and their scalar tails cover the same elements as in one call.
//! Kernels whose values depend on an element's global position (dropout's
//! mask, `Index`) are not sliced.
//!
//! Kernels that sum over the leading axis (batch statistics, bias and conv
//! weight gradients) are *split*: bands of a fixed number of rows, chosen from
//! the shapes alone, each reduce into a partial result of their own, and
//! [`dlc_reduce_bands`] then adds the partials in band order. The sum order is
//! thus fixed by the shapes and the batch, never by the thread count, and a
//! split kernel is compiled so even on one thread.

use super::abi::CallCtx;
use super::conv::Geometry;
use super::func::fixed_numel;
use super::plan::{Body, Buf, Instr, Kernel, Loc};
use super::workers;
use crate::ir::{Dim, Shape};

/// Bands start at multiples of this many rows.
pub const ROW_ALIGN: usize = 8;

/// Elements of work below which a band is not worth handing to another
/// thread (it takes a few microseconds to pass one over).
pub const MIN_BAND_WORK: usize = 1 << 15;

/// The name under which [`dlc_parallel_rows`] is registered with the JIT.
pub const PARALLEL_SYMBOL: &str = "dlc_parallel_rows";

/// The name under which [`dlc_reduce_bands`] is registered with the JIT.
pub const REDUCE_BANDS_SYMBOL: &str = "dlc_reduce_bands";

/// A compiled slice: `(ctx, lo, hi, band, slot)` computes rows `[lo, hi)` (into
/// partial result number `band`, if split), with the conv workspace of `slot`.
pub type SliceFn = unsafe extern "C" fn(*const CallCtx, u64, u64, u64, u64);

/// A kernel rewritten to run on a band of its leading axis.
#[derive(Clone, Debug)]
pub struct Sliced {
    /// The kernel with the leading axis of every shared tensor as the batch.
    pub kernel: Kernel,
    /// The locations that move with the band, and their floats per row.
    pub rows: Vec<(Loc, usize)>,
    /// The leading axis: the batch, or a fixed size.
    pub extent: Dim,
    /// Elements of work per row (a rough cost, to size bands).
    pub row_work: usize,
    /// For a kernel reducing over the leading axis: its partial results.
    pub split: Option<Split>,
}

/// How a reduction over the leading axis is split into bands.
#[derive(Clone, Copy, Debug)]
pub struct Split {
    /// Where the kernel's result goes once the partials are added.
    pub out: Loc,
    /// Floats of one result.
    pub out_len: usize,
    /// Maxima instead of sums.
    pub max: bool,
    /// Rows per band (a multiple of [`ROW_ALIGN`]; from the shapes alone).
    pub band_rows: usize,
    /// The partial results, `out_len` floats per band (the sliced kernel's output).
    pub partials: Loc,
}

impl Split {
    fn new(out: Loc, out_len: usize, max: bool, row_work: usize, row_in: usize, at: Loc) -> Split {
        // Enough work per band to be worth a thread, and partials no larger
        // than the inputs they come from.
        let band_rows = ROW_ALIGN
            .max(MIN_BAND_WORK.div_ceil(row_work.max(1)))
            .max(out_len.div_ceil(row_in.max(1)))
            .next_multiple_of(ROW_ALIGN);
        Split {
            out,
            out_len,
            max,
            band_rows,
            partials: at,
        }
    }

    /// Floats of partials at `rows` rows.
    pub fn partials_len(&self, rows: usize) -> usize {
        rows.div_ceil(self.band_rows).max(1).saturating_mul(self.out_len)
    }
}

impl Sliced {
    /// The fewest rows a band should have.
    pub fn min_band_rows(&self) -> usize {
        MIN_BAND_WORK
            .div_ceil(self.row_work.max(1))
            .next_multiple_of(ROW_ALIGN)
    }

    /// The most rows of the leading axis at `max_batch`.
    pub fn max_rows(&self, max_batch: usize) -> usize {
        match self.extent {
            Dim::N => max_batch,
            Dim::K(k) => k,
        }
    }

    /// Whether, at `max_batch`, a kernel that is not split has work for at
    /// least two bands.
    pub fn worth_it(&self, max_batch: usize) -> bool {
        self.max_rows(max_batch) >= 2 * self.min_band_rows()
    }
}

/// Collects the tensors a slice moves, refusing a location used two ways.
#[derive(Default)]
struct Rows {
    rows: Vec<(Loc, usize)>,
    whole: Vec<Loc>,
}

impl Rows {
    fn moved(&mut self, loc: Loc, per_row: usize) -> Option<()> {
        if self.whole.contains(&loc) {
            return None;
        }
        match self.rows.iter().find(|(l, _)| *l == loc) {
            Some(&(_, r)) if r != per_row => None,
            Some(_) => Some(()),
            None => {
                self.rows.push((loc, per_row));
                Some(())
            }
        }
    }

    fn whole(&mut self, loc: Loc) -> Option<()> {
        if self.rows.iter().any(|(l, _)| *l == loc) {
            return None;
        }
        self.whole.push(loc);
        Some(())
    }
}

/// `shape` with its leading axis as the batch.
fn batched(shape: &Shape) -> Shape {
    let mut s = shape.clone();
    s.0[0] = Dim::N;
    s
}

/// Floats per index of the leading axis.
fn per_row(shape: &Shape) -> Option<usize> {
    let total = fixed_numel(shape).ok()?;
    Some(match shape.0[0] {
        Dim::N => total,
        Dim::K(k) => total / k.max(1),
    })
}

/// The body's inputs sliced along a leading axis `lead`, or None.
fn slice_body(body: &Body, lead: Dim, rows: &mut Rows) -> Option<Body> {
    let position_dependent = body
        .instrs
        .iter()
        .any(|i| matches!(i, Instr::Index(_) | Instr::Dropout { .. }));
    if position_dependent {
        return None;
    }
    let mut out = body.clone();
    out.shape = batched(&body.shape);
    for input in &mut out.inputs {
        if input.shape.rank() == 0 || input.shape.0[0] == Dim::K(1) {
            rows.whole(input.loc)?;
        } else if input.shape.rank() == body.shape.rank() && input.shape.0[0] == lead {
            rows.moved(input.loc, per_row(&input.shape)?)?;
            input.shape = batched(&input.shape);
        } else {
            return None;
        }
    }
    Some(out)
}

/// The leading axis of an iteration shape, if it can be split.
fn leading(shape: &Shape) -> Option<Dim> {
    match shape.0.first() {
        None | Some(Dim::K(0 | 1)) => None,
        Some(&d) => Some(d),
    }
}

fn batch_buf(b: &Buf, rows: &mut Rows) -> Option<Buf> {
    if b.shape.0.first() != Some(&Dim::N) {
        return None;
    }
    rows.moved(b.loc, per_row(&b.shape)?)?;
    Some(b.clone())
}

/// The sliced form of `k`, if it has one; a split kernel writes its partial
/// results at `partials`.
pub fn slice(k: &Kernel, partials: Loc) -> Option<Sliced> {
    let mut rows = Rows::default();
    let mut split = None;
    let (kernel, extent, row_work) = match k {
        Kernel::Elementwise { body, outputs } => {
            let lead = leading(&body.shape)?;
            let row = per_row(&body.shape)?;
            let sliced = slice_body(body, lead, &mut rows)?;
            for (_, loc) in outputs {
                rows.moved(*loc, row)?;
            }
            let kernel = Kernel::Elementwise {
                body: sliced,
                outputs: outputs.clone(),
            };
            (kernel, lead, row * body.instrs.len().max(1))
        }
        Kernel::Reduce {
            body,
            max,
            axes,
            out,
        } => {
            let lead = leading(&body.shape)?;
            let sliced = slice_body(body, lead, &mut rows)?;
            let row = per_row(&body.shape)?;
            let row_work = row * body.instrs.len().max(1);
            let result = body.shape.reduced(axes);
            let out = if axes.contains(&0) {
                let len = fixed_numel(&result).ok()?;
                rows.whole(*out)?;
                split = Some(Split::new(*out, len, *max, row_work, row, partials));
                partials
            } else {
                rows.moved(*out, per_row(&result)?)?;
                *out
            };
            let kernel = Kernel::Reduce {
                body: sliced,
                max: *max,
                axes: axes.clone(),
                out,
            };
            (kernel, lead, row_work)
        }
        Kernel::Conv2d {
            x,
            w,
            stride,
            pad,
            out,
        } => {
            let g = Geometry::of(x, w, out, *stride, *pad).ok()?;
            let (x, out) = (batch_buf(x, &mut rows)?, batch_buf(out, &mut rows)?);
            rows.whole(w.loc)?;
            let kernel = Kernel::Conv2d {
                x,
                w: w.clone(),
                stride: *stride,
                pad: *pad,
                out,
            };
            (kernel, Dim::N, g.f * g.rows() * g.cols())
        }
        Kernel::Conv2dInputGrad {
            dy,
            w,
            stride,
            pad,
            out,
        } => {
            let g = Geometry::of(out, w, dy, *stride, *pad).ok()?;
            let (dy, out) = (batch_buf(dy, &mut rows)?, batch_buf(out, &mut rows)?);
            rows.whole(w.loc)?;
            let kernel = Kernel::Conv2dInputGrad {
                dy,
                w: w.clone(),
                stride: *stride,
                pad: *pad,
                out,
            };
            (kernel, Dim::N, g.f * g.rows() * g.cols())
        }
        Kernel::Conv2dWeightGrad {
            x,
            dy,
            stride,
            pad,
            out,
        } => {
            let g = Geometry::of(x, out, dy, *stride, *pad).ok()?;
            let (x, dy) = (batch_buf(x, &mut rows)?, batch_buf(dy, &mut rows)?);
            let row_in = per_row(&x.shape)? + per_row(&dy.shape)?;
            let row_work = g.f * g.rows() * g.cols();
            let len = fixed_numel(&out.shape).ok()?;
            rows.whole(out.loc)?;
            split = Some(Split::new(out.loc, len, false, row_work, row_in, partials));
            let kernel = Kernel::Conv2dWeightGrad {
                x,
                dy,
                stride: *stride,
                pad: *pad,
                out: Buf {
                    loc: partials,
                    shape: out.shape.clone(),
                },
            };
            (kernel, Dim::N, row_work)
        }
        Kernel::Pool2d { x, out, .. } => {
            batch_buf(x, &mut rows)?;
            batch_buf(out, &mut rows)?;
            (k.clone(), Dim::N, per_row(&x.shape)?)
        }
        Kernel::Pool2dGrad { x, dy, out, .. } => {
            batch_buf(x, &mut rows)?;
            batch_buf(dy, &mut rows)?;
            batch_buf(out, &mut rows)?;
            (k.clone(), Dim::N, per_row(&x.shape)? * 2)
        }
        _ => return None,
    };
    Some(Sliced {
        kernel,
        rows: rows.rows,
        extent,
        row_work,
        split,
    })
}

/// Runs `slice` over rows `0..rows` in bands of at least `min_rows` rows (a
/// multiple of [`ROW_ALIGN`]), at most `max_bands` of them (the conv workspaces
/// the function has), on the worker pool.
///
/// # Safety
/// `slice` must be a compiled slice of a kernel of the entry point running
/// with `ctx`, and `rows` at most its compiled extent.
pub unsafe extern "C" fn dlc_parallel_rows(
    slice: SliceFn,
    ctx: *const CallCtx,
    rows: u64,
    min_rows: u64,
    max_bands: u64,
) {
    let (rows, min_rows) = (rows as usize, (min_rows as usize).max(ROW_ALIGN));
    let slots = max_bands as usize;
    let bands = workers::threads().min(rows / min_rows).min(slots).max(1);
    if bands == 1 {
        // SAFETY: the whole extent is one band; the caller's contract covers it.
        return unsafe { slice(ctx, 0, rows as u64, 0, 0) };
    }
    let band = rows.div_ceil(bands).next_multiple_of(ROW_ALIGN);
    let ctx = ctx as usize;
    workers::run(rows.div_ceil(band), slots, &|i, slot| {
        let lo = i * band;
        let hi = (lo + band).min(rows);
        // SAFETY: bands are disjoint rows of the kernel's outputs, each slot
        // has its own workspace (`slot < max_bands`), and `ctx` outlives the run.
        unsafe { slice(ctx as *const CallCtx, lo as u64, hi as u64, 0, slot as u64) }
    });
}

/// Runs a split reduction (see [`Split`]): `slice` over rows `0..rows` in
/// bands of `band_rows`, each into its own `out_len` floats of `partials`, on
/// the worker pool with at most `slots` threads; then writes the partials'
/// sums (maxima if `max` is non-zero), added in band order, to `out`.
///
/// # Safety
/// As [`dlc_parallel_rows`]; `partials` must hold `out_len` floats per band
/// and `out` `out_len` floats, apart from every tensor the slice reads.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn dlc_reduce_bands(
    slice: SliceFn,
    ctx: *const CallCtx,
    rows: u64,
    band_rows: u64,
    partials: *mut f32,
    out: *mut f32,
    out_len: u64,
    max: u64,
    slots: u64,
) {
    let (rows, band_rows, len) = (rows as usize, (band_rows as usize).max(1), out_len as usize);
    let bands = rows.div_ceil(band_rows).max(1);
    let ctx = ctx as usize;
    workers::run(bands, slots as usize, &|i, slot| {
        let lo = i * band_rows;
        let hi = (lo + band_rows).min(rows);
        // SAFETY: each band writes its own partial result; see above.
        unsafe { slice(ctx as *const CallCtx, lo as u64, hi as u64, i as u64, slot as u64) }
    });
    // SAFETY: the caller guarantees the sizes; the partials are all written.
    let (partials, out) = unsafe {
        (
            std::slice::from_raw_parts(partials, bands * len),
            std::slice::from_raw_parts_mut(out, len),
        )
    };
    out.copy_from_slice(&partials[..len]);
    for band in partials.chunks_exact(len).skip(1) {
        if max != 0 {
            // As the kernels compare: NaN in the partial is not taken.
            for (o, &v) in out.iter_mut().zip(band) {
                if v > *o {
                    *o = v;
                }
            }
        } else {
            for (o, &v) in out.iter_mut().zip(band) {
                *o += v;
            }
        }
    }
}
