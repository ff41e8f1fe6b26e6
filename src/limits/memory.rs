//! The memory a program will use, estimated before anything is allocated,
//! and the diagnostic that refuses a program over the limit.
//!
//! The estimate adds what the runtime allocates for a model and its run:
//! parameters and their gradients, running statistics and optimizer moments,
//! the copies training keeps (the best epoch's weights, the snapshot that
//! survives a divergence, a checkpoint being written), the compiled
//! functions' scratch memory as the planner lays it out at the largest batch,
//! the batch buffers, and the data set when its size is known without reading
//! files (built-in sources). Files are measured as they are read instead: the
//! loaders refuse to allocate past what the limit leaves.

use crate::autodiff::graphs::{Entry, Graphs};
use crate::check::{Batch, DataSpec, Model, Validation};
use crate::codegen::plan::{Layout, plan_with_layout};
use crate::codegen::{BackendKind, DEFAULT_MAX_BATCH};
use crate::diag::{Diagnostic, codes};
use crate::ir::{Graph, Op};
use crate::syntax::Span;

const FLOAT: u64 = 4;

pub use crate::check::MemoryEstimate;

impl MemoryEstimate {
    /// The peak: the model and its run, with the compiler's working memory
    /// or the data, whichever is larger (the compiler is done and has given
    /// its memory back before the data is loaded).
    pub fn total(&self) -> u64 {
        [
            self.parameters,
            self.state,
            self.copies,
            self.scratch,
            self.batches,
            self.code.max(self.data.unwrap_or(0)),
        ]
        .iter()
        .fold(0u64, |a, &b| a.saturating_add(b))
    }

    /// What the model and its run hold while the data is loaded (not the
    /// data, nor the compiler's memory, which is given back before), so
    /// that the data may have what the limit leaves.
    pub fn model_bytes(&self) -> u64 {
        self.total()
            .saturating_sub(self.code.max(self.data.unwrap_or(0)))
    }

    /// What grows with the model (weights and what shadows them).
    pub fn weights(&self) -> u64 {
        self.parameters
            .saturating_add(self.state)
            .saturating_add(self.copies)
            .saturating_add(self.scratch_fixed)
    }

    /// What grows with the batch.
    pub fn activations(&self) -> u64 {
        self.scratch
            .saturating_sub(self.scratch_fixed)
            .saturating_add(self.batches)
    }

    /// One line for a summary: the total and its largest parts.
    pub fn summary(&self) -> String {
        let mut parts = vec![
            format!("{} weights", bytes(self.weights())),
            format!(
                "{} activations at batch {}",
                bytes(self.activations()),
                self.max_batch
            ),
            format!("{} compiling", bytes(self.code)),
        ];
        if let Some(d) = self.data {
            parts.push(format!("{} data", bytes(d)));
        }
        format!("about {} ({})", bytes(self.total()), parts.join(", "))
    }
}

/// `n` bytes for people, in powers of 1024: `512 B`, `3.0 MiB`, `48.0 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Parses a size as people write it: `4G`, `512MiB`, `1.5g`, `1000000`
/// (suffixes K, M, G, T in powers of 1024, an optional `B` or `iB`).
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let digits = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(digits);
    let value: f64 = number.parse().ok()?;
    let suffix = suffix.trim().to_ascii_lowercase();
    let suffix = suffix
        .strip_suffix("ib")
        .or_else(|| suffix.strip_suffix('b'))
        .unwrap_or(&suffix);
    let scale = match suffix {
        "" => 1u64,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    let total = value * scale as f64;
    (value.is_finite() && total >= 1.0 && total < u64::MAX as f64).then_some(total as u64)
}

/// The samples a built-in source generates, and the floats each takes with
/// its target; `None` for files.
fn builtin_size(spec: &DataSpec) -> Option<(u64, u64)> {
    let points = spec.source.rule().generated_samples()?;
    let sample = spec
        .sample_shape
        .as_ref()?
        .iter()
        .fold(1u64, |a, &d| a.saturating_mul(d as u64));
    let target = spec.target_width().unwrap_or(1) as u64;
    Some((points, sample.saturating_add(target)))
}

/// Bytes of a data item while it is loaded: the generated set (and, when it
/// is split, its training and validation parts beside it), plus the
/// shuffling order.
fn data_bytes(spec: &DataSpec) -> Option<u64> {
    let (points, floats) = builtin_size(spec)?;
    let copies = match spec.validation {
        Validation::Split(_) => 2,
        _ => 1,
    };
    let own = points
        .saturating_mul(floats)
        .saturating_mul(copies * FLOAT)
        .saturating_add(points.saturating_mul(8));
    match &spec.validation {
        Validation::Data(other) => Some(own.saturating_add(data_bytes(other)?)),
        _ => Some(own),
    }
}

/// The training samples a program has, when known before reading files.
pub fn known_samples(model: &Model) -> Option<usize> {
    let (points, _) = builtin_size(model.data.as_ref()?)?;
    usize::try_from(points).ok()
}

/// The batch the functions are compiled for: the plan's mini-batch (or all
/// samples for `batch all`), never more than the data holds when that is
/// known, and [`DEFAULT_MAX_BATCH`] when nothing says (full-batch plans on
/// files grow it once the data is read).
pub fn compile_batch(model: &Model) -> usize {
    let known = known_samples(model);
    let wanted = match model.train.as_ref().map(|t| t.batch) {
        Some(Batch::Size(b)) => b,
        Some(Batch::All) => known.unwrap_or(DEFAULT_MAX_BATCH),
        None => DEFAULT_MAX_BATCH,
    };
    known.map_or(wanted, |k| wanted.min(k)).max(1)
}

/// The entry points whose scratch is allocated for a run.
fn run_entries(graphs: &Graphs) -> &'static [Entry] {
    if graphs.train_step.is_some() {
        &[Entry::TrainStep, Entry::Eval]
    } else {
        &[Entry::Predict]
    }
}

/// Scratch floats of one graph as the JIT lays it out, or `None` if the
/// plan cannot even be addressed.
/// Scratch bytes and kernels of one graph as the JIT plans it, or `None`
/// if the plan cannot even be addressed.
fn jit_plan(g: &Graph, max_batch: usize, layout: &Layout) -> Option<(u64, u64)> {
    let plan = plan_with_layout(g, max_batch, layout.clone()).ok()?;
    let scratch = crate::codegen::scratch_len(&plan).ok()? as u64 * FLOAT;
    Some((scratch, plan.kernels.len() as u64))
}

/// Cranelift's working memory while it compiles, per kernel of the plan:
/// a kernel is about 150 instructions whatever the sizes (loops, not
/// unrolling, past small windows), and compiling takes a few hundred bytes
/// per instruction (measured on the examples: 25 MiB for residual's 74,000).
const COMPILE_BYTES_PER_KERNEL: u64 = 48 << 10;

/// Bytes the interpreter holds for a call at batch `max_batch`: every node's value.
pub fn interpreter_bytes(g: &Graph, max_batch: usize) -> u64 {
    g.nodes.iter().fold(0u64, |acc, n| {
        acc.saturating_add(numel(&n.shape, max_batch).saturating_mul(FLOAT))
    })
}

fn numel(shape: &crate::ir::Shape, n: usize) -> u64 {
    shape.0.iter().fold(1u64, |a, d| {
        a.saturating_mul(match d {
            crate::ir::Dim::N => n as u64,
            crate::ir::Dim::K(k) => *k as u64,
        })
    })
}

/// Estimates the memory of compiling `model` at `max_batch` and training it.
pub fn estimate(
    model: &Model,
    graphs: &Graphs,
    backend: BackendKind,
    max_batch: usize,
) -> MemoryEstimate {
    let layout = Layout::of(graphs.layout_graph());
    let params = layout.params_len as u64 * FLOAT;
    let state = layout.states_len as u64 * FLOAT;
    let weights = params.saturating_add(state);
    let copies = match &model.train {
        Some(t) => {
            let best = if t.early_stop.is_some() { weights } else { 0 };
            let checkpoint = if t.checkpoint.is_some() {
                weights.saturating_add(best).saturating_mul(2)
            } else {
                0
            };
            weights.saturating_add(best).saturating_add(checkpoint)
        }
        None => 0,
    };
    // (scratch, kernels) of the run's entry points at a batch.
    let planned_at = |batch: usize| {
        run_entries(graphs)
            .iter()
            .filter_map(|&e| graphs.get(e))
            .map(|g| match backend {
                BackendKind::Jit => jit_plan(g, batch, &layout).unwrap_or((u64::MAX, 0)),
                BackendKind::Interpreter => (interpreter_bytes(g, batch), 0),
            })
            .fold((0u64, 0u64), |a, b| (a.0.saturating_add(b.0), a.1 + b.1))
    };
    let (scratch, kernels) = planned_at(max_batch);
    let scratch_fixed = if max_batch > 1 {
        planned_at(1).0.min(scratch)
    } else {
        scratch
    };
    let net = &model.network;
    let per_sample = [
        net.input_shape.iter().product::<usize>(),
        net.output_shape().iter().product::<usize>(),
        model
            .data
            .as_ref()
            .and_then(DataSpec::target_width)
            .unwrap_or(1),
    ]
    .iter()
    .fold(0u64, |a, &b| a.saturating_add(b as u64));
    // The training loop's buffers and evaluation's, each one batch.
    let batches = per_sample
        .saturating_mul(max_batch as u64)
        .saturating_mul(2 * FLOAT);
    MemoryEstimate {
        parameters: params.saturating_mul(2),
        state,
        copies,
        scratch,
        scratch_fixed,
        batches,
        code: kernels.saturating_mul(COMPILE_BYTES_PER_KERNEL),
        data: model.data.as_ref().and_then(data_bytes),
        max_batch,
    }
}

/// Where the program asks for the memory, for the diagnostic's labels.
pub struct Culprits {
    /// The `batch` setting (or the train item).
    pub batch: Option<Span>,
}

/// The diagnostic for a program whose estimate is over `limit` bytes,
/// pointing at what asks for most of it: the layer with the most weights,
/// the `batch` setting, or the data item.
pub fn over_limit(
    model: &Model,
    est: &MemoryEstimate,
    limit: u64,
    culprits: &Culprits,
) -> Option<Diagnostic> {
    let total = est.total();
    if total <= limit {
        return None;
    }
    let message = format!(
        "this program needs about {} of memory, more than the limit of {}",
        bytes(total),
        bytes(limit)
    );
    let (weights, activations, data) = (est.weights(), est.activations(), est.data.unwrap_or(0));
    let net = &model.network;
    let mut d = if est.code > weights.max(activations).max(data) {
        Diagnostic::error(codes::TOO_MUCH_MEMORY, message, net.span)
            .label(format!(
                "its {} layers take {} to compile",
                net.layers.len(),
                bytes(est.code)
            ))
            .help("use fewer layers")
    } else if weights >= activations && weights >= data {
        // The first of the largest: where the reader starts looking.
        let layer = net
            .layers
            .iter()
            .rev()
            .max_by_key(|l| l.parameter_count())
            .unwrap_or(&net.layers[0]);
        Diagnostic::error(codes::TOO_MUCH_MEMORY, message, layer.span)
            .label(format!(
                "`{}` has {} parameters",
                layer.name,
                group_digits(layer.parameter_count() as u64)
            ))
            .help("use fewer or narrower layers (a convolution or pooling before a wide `dense` shrinks its input)")
    } else if activations >= data {
        let largest = net
            .layers
            .iter()
            .rev()
            .max_by_key(|l| l.shape.iter().product::<usize>())
            .unwrap_or(&net.layers[0]);
        let span = culprits.batch.unwrap_or(net.span);
        Diagnostic::error(codes::TOO_MUCH_MEMORY, message, span)
            .label(format!(
                "{} of activations and their gradients at batch {}",
                bytes(activations),
                est.max_batch
            ))
            .secondary(
                largest.span,
                format!(
                    "the largest activation: {} values per sample",
                    group_digits(largest.shape.iter().product::<usize>() as u64)
                ),
            )
            .help("lower `batch`")
    } else {
        let spec = model.data.as_ref();
        let span = spec.map_or(net.span, |s| s.span);
        Diagnostic::error(codes::TOO_MUCH_MEMORY, message, span)
            .label(format!(
                "this data set takes {} while it is prepared",
                bytes(data)
            ))
            .help("use fewer points or smaller samples")
    };
    d.notes.push(format!(
        "weights {}, activations {}, compiling {}, data {}",
        bytes(weights),
        bytes(activations),
        bytes(est.code),
        est.data.map_or("read from files".to_string(), bytes)
    ));
    d.notes.push(
        "if the estimate is wrong, raise the limit with `--max-memory` (`Limits::max_memory` \
         in the library); by default it is four fifths of this machine's memory"
            .into(),
    );
    Some(d)
}

/// `12885229570` as `12,885,229,570`.
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The largest matrix a matrix product may address (its strides are 32-bit).
pub const MAX_MATRIX_BYTES: u64 = i32::MAX as u64;

/// Matrix products whose operands exceed what a kernel can address, each
/// at its layer (or at `batch` when only the batch makes it too large).
pub fn unaddressable(graphs: &Graphs, max_batch: usize, culprits: &Culprits) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    let g = graphs.train_step.as_ref().unwrap_or(&graphs.predict);
    for node in &g.nodes {
        // Elements of each matrix at batch 1 and at `max_batch`.
        let matrices: Vec<(u64, u64)> = match &node.op {
            Op::MatMul { a, b, .. } => [g.shape(*a), g.shape(*b), &node.shape]
                .iter()
                .map(|s| (numel(s, 1), numel(s, max_batch)))
                .collect(),
            // Per sample: the weights, the im2col matrix and the output.
            Op::Conv2d { x, w, .. } => {
                let (x, w) = (g.shape(*x).dims(1), g.shape(*w).dims(1));
                let out = node.shape.dims(1);
                let patch = (w[1] as u64).saturating_mul(w[2] as u64 * w[3] as u64);
                let pixels = (out[2] as u64).saturating_mul(out[3] as u64);
                [
                    (w[0] as u64).saturating_mul(patch),
                    patch.saturating_mul(pixels),
                    (out[1] as u64).saturating_mul(pixels),
                    (x[1] as u64).saturating_mul(x[2] as u64 * x[3] as u64),
                ]
                .iter()
                .map(|&e| (e, e))
                .collect()
            }
            _ => continue,
        };
        let Some(&(at_one, worst)) = matrices.iter().max_by_key(|m| m.1) else {
            continue;
        };
        let size = worst.saturating_mul(FLOAT);
        if size <= MAX_MATRIX_BYTES {
            continue;
        }
        let by_batch = at_one.saturating_mul(FLOAT) <= MAX_MATRIX_BYTES;
        let origin = node.origin.as_ref();
        let (span, label) = match (by_batch, culprits.batch) {
            (true, Some(b)) => (b, format!("at batch {max_batch}")),
            _ => (
                origin.map_or(Span::default(), |o| o.span),
                origin.map_or(String::new(), |o| format!("in `{}`", o.layer)),
            ),
        };
        if out.iter().any(|d| d.primary.span == span) {
            continue;
        }
        let mut d = Diagnostic::error(
            codes::TENSOR_TOO_LARGE,
            format!(
                "a matrix of {} floats ({}) is larger than the 2 GiB a matrix product can address",
                group_digits(worst),
                bytes(size)
            ),
            span,
        )
        .label(label);
        if let (true, Some(o)) = (by_batch, origin) {
            d = d.secondary(o.span, format!("the product of `{}`", o.layer));
        }
        out.push(d.help(match (by_batch, &node.op) {
            (true, _) => "lower `batch`",
            (false, Op::Conv2d { .. }) => {
                "use fewer filters, a smaller kernel, a stride, or pool the image first"
            }
            _ => "use a narrower layer",
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(bytes(51_539_607_552), "48.0 GiB");
        assert_eq!(parse_bytes("4G"), Some(4 << 30));
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes("1.5g"), Some(3 << 29));
        assert_eq!(parse_bytes("1000000"), Some(1_000_000));
        assert_eq!(parse_bytes("12 kb"), Some(12 << 10));
        for bad in ["", "G", "4X", "-1", "0", "inf", "1e9"] {
            assert_eq!(parse_bytes(bad), None, "{bad}");
        }
        assert_eq!(group_digits(12_885_229_570), "12,885,229,570");
        assert_eq!(group_digits(100), "100");
    }
}
