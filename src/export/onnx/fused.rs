//! Layers written as ONNX's own operators: a layer whose computation is a
//! standard operator's (batch, layer and instance norm, softmax, the
//! parametrised activations, dense and convolutional layers with their
//! biases) becomes that operator, so that the exported graph reads as the
//! network was written and other tools (optimisers, quantisers, viewers)
//! recognise its layers.
//!
//! The operator is chosen from the layer's kind and settings, not from the
//! shape of its nodes, and only where its definition in the ONNX operator
//! specification is the same function as dlc's lowering (each mapping below
//! says why). It replaces the layer's nodes only when they form one region
//! with one input and one output (`regions`) and read exactly the tensors
//! the operator is given; otherwise the nodes are translated one by one, so
//! the graph never computes something else.

use super::builder::{Attr, Builder};
use super::network::Tensors;
use super::regions::{Region, regions};
use crate::ir::{Dim, Graph, ParamId, Shape, StateId, ValueId};
use crate::layers::{Layer, Op as Kind};
use std::collections::HashMap;

/// Softplus is written as ONNX's (`ln(1 + e^x)`, no threshold) only when
/// dlc's threshold is at least this: above 16, `ln(1 + e^-x) < e^-16` is
/// below half a float's spacing at `x`, so the linear part dlc switches to
/// there is what ONNX's gives in `f32` too.
const SOFTPLUS_THRESHOLD: f64 = 20.0;

/// An input of a fused operator.
enum Operand {
    /// The layer's input.
    Data,
    /// A parameter with the dimensions the operator wants (its own, or
    /// with axes of 1 so that it broadcasts along the channels).
    Param(ParamId, Vec<usize>),
    State(StateId),
    /// A constant: its name's stem, dimensions and values.
    Floats(&'static str, Vec<usize>, Vec<f32>),
}

/// One layer as one operator.
struct Fused {
    op: &'static str,
    attrs: Vec<(&'static str, Attr)>,
    operands: Vec<Operand>,
    /// The value the layer reads.
    input: ValueId,
}

/// Which layers are written as one operator each, and which nodes that
/// leaves unwritten.
pub struct Plan {
    /// Each fused layer, by the node of its output.
    fused: HashMap<usize, Fused>,
    /// The nodes of the fused layers.
    inside: Vec<bool>,
}

impl Plan {
    /// The layers of `layers` that can be fused in `g` (the needed nodes of
    /// which lead to the node `output`). No layers, no fusion.
    pub fn new(g: &Graph, layers: &[Layer], needed: &[bool], output: usize) -> Plan {
        let mut plan = Plan {
            fused: HashMap::new(),
            inside: vec![false; g.nodes.len()],
        };
        if layers.is_empty() {
            return plan;
        }
        let mut regions = regions(g, needed, output);
        for layer in layers {
            let Some(region) = regions.remove(layer.name.as_str()) else {
                continue;
            };
            let Some(fused) = fuse(g, layer, &region) else {
                continue;
            };
            for &i in &region.nodes {
                plan.inside[i] = true;
            }
            plan.fused.insert(region.output, fused);
        }
        plan
    }

    /// Whether node `i` belongs to a fused layer (and so is not written by
    /// itself).
    pub fn is_inside(&self, i: usize) -> bool {
        self.inside[i]
    }

    /// When node `i` is a fused layer's output, writes the layer's operator
    /// and gives its output's name. `names` holds the names of the values
    /// written so far.
    pub fn write(
        &self,
        b: &mut Builder,
        g: &Graph,
        i: usize,
        tensors: &Tensors,
        names: &[String],
    ) -> Option<String> {
        let f = self.fused.get(&i)?;
        let inputs: Vec<String> = (f.operands.iter())
            .map(|o| match o {
                Operand::Data => names[f.input.index()].clone(),
                Operand::Param(p, dims) => {
                    b.floats_named(&g.params[*p].name, dims, tensors.params[p.index()])
                }
                Operand::State(s) => {
                    let info = &g.states[*s];
                    b.floats_named(&info.name, &info.shape, tensors.states[s.index()])
                }
                Operand::Floats(stem, dims, values) => b.floats(stem, dims, values),
            })
            .collect();
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        Some(b.node(f.op, &inputs, f.attrs.clone()))
    }
}

/// The operator for `layer`, whose nodes are `region`, if its kind and
/// settings have one and the region reads what the operator is given.
fn fuse(g: &Graph, layer: &Layer, region: &Region) -> Option<Fused> {
    let x = g.shape(region.input);
    let y = g.shape(ValueId(region.output as u32));
    if !x.is_batched() {
        return None;
    }
    let param = |t: &str| {
        let name = format!("{}.{t}", layer.name);
        let p = g.params.iter().position(|p| p.name == name)?;
        Some(Operand::Param(ParamId(p), g.params[p].shape.clone()))
    };
    let state = |t: &str| {
        let name = format!("{}.{t}", layer.name);
        let s = g.states.iter().position(|s| s.name == name)?;
        Some(Operand::State(StateId(s)))
    };
    let eps = |e: f64| ("epsilon", Attr::Float(e as f32));
    let rank = x.rank();
    let channels = match x.0.get(1) {
        Some(Dim::K(c)) => *c,
        _ => return None,
    };
    let (op, attrs, operands) = match &layer.op {
        // `(x - mean) / sqrt(var + epsilon) * scale + B` with the running
        // statistics (`training_mode` 0): dlc's evaluation-mode batch norm,
        // `(x - running_mean) * rsqrt(running_var + eps) * weight + bias`.
        // Channels are axis 1 for vectors `[N, C]` and images alike.
        Kind::BatchNorm(l) => (
            "BatchNormalization",
            vec![eps(l.eps)],
            vec![
                Operand::Data,
                param("weight")?,
                param("bias")?,
                state("running_mean")?,
                state("running_var")?,
            ],
        ),
        // Normalises over the axes from `axis` on, with the biased variance
        // (opset 17): axis 1 is every value of a sample, as dlc's; Scale and
        // B have the sample's shape, as its weight and bias.
        Kind::LayerNorm(l) => (
            "LayerNormalization",
            vec![("axis", Attr::Int(1)), eps(l.eps)],
            vec![Operand::Data, param("weight")?, param("bias")?],
        ),
        // Each channel of each image over its pixels, biased variance,
        // then `scale * y + B` per channel; without `affine` dlc applies
        // neither, which is scale 1 and B 0.
        Kind::InstanceNorm(l) if rank == 4 => {
            let (scale, offset) = if l.affine {
                (param("weight")?, param("bias")?)
            } else {
                (
                    Operand::Floats("scale", vec![channels], vec![1.0; channels]),
                    Operand::Floats("offset", vec![channels], vec![0.0; channels]),
                )
            };
            (
                "InstanceNormalization",
                vec![eps(l.eps)],
                vec![Operand::Data, scale, offset],
            )
        }
        // Over the features of `[N, n]`; dlc's subtracts the maximum first,
        // which changes the rounding only.
        Kind::Softmax(_) if rank == 2 => {
            ("Softmax", vec![("axis", Attr::Int(1))], vec![Operand::Data])
        }
        // `x` for `x >= 0`, `alpha (e^x - 1)` below: dlc's takes the left
        // branch at 0, where both are 0.
        Kind::Elu(l) => (
            "Elu",
            vec![("alpha", Attr::Float(l.alpha as f32))],
            vec![Operand::Data],
        ),
        // `x` for `x >= 0`, `alpha x` below; at 0 both are 0.
        Kind::LeakyRelu(l) => (
            "LeakyRelu",
            vec![("alpha", Attr::Float(l.slope as f32))],
            vec![Operand::Data],
        ),
        // The slope broadcasts from the right (numpy's rule), so one per
        // channel is `[C, 1, ...]`, as dlc's reshape to axis 1; a shared
        // slope is `[1]`.
        Kind::PRelu(l) => {
            let Operand::Param(p, _) = param("weight")? else {
                return None;
            };
            let dims = if l.per_channel {
                let mut dims = vec![1; rank - 1];
                dims[0] = channels;
                dims
            } else {
                vec![1]
            };
            (
                "PRelu",
                vec![],
                vec![Operand::Data, Operand::Param(p, dims)],
            )
        }
        // `ln(1 + e^x)`: dlc's with beta 1 and a threshold past which the
        // two agree in f32 (see [`SOFTPLUS_THRESHOLD`]); another beta or a
        // lower threshold stays as dlc's ops.
        Kind::Softplus(l) if l.beta == 1.0 && l.threshold >= SOFTPLUS_THRESHOLD => {
            ("Softplus", vec![], vec![Operand::Data])
        }
        // `min(max(x, min), max)`, dlc's clamp; its strict comparisons
        // matter for the gradient, and for a NaN, which dlc clamps to `min`
        // and `Clip` need not.
        Kind::Hardtanh(l) => (
            "Clip",
            vec![],
            vec![
                Operand::Data,
                Operand::Floats("min", vec![], vec![l.min as f32]),
                Operand::Floats("max", vec![], vec![l.max as f32]),
            ],
        ),
        // `x W^T + b` as `Gemm(A, B, C)` with `transB` and C `[units]`
        // broadcast over the rows; without a bias the matrix product alone
        // is already a `Gemm`.
        Kind::Dense(l) if l.bias && rank == 2 && *y == Shape(vec![Dim::N, Dim::K(l.units)]) => (
            "Gemm",
            vec![("transB", Attr::Int(1))],
            vec![Operand::Data, param("weight")?, param("bias")?],
        ),
        // The convolution with its bias as `B` (one per filter), at the
        // layer's kernel, strides and symmetric padding; without a bias the
        // convolution alone is already a `Conv`.
        Kind::Conv(l) if l.bias && rank == 4 => {
            let ints = |v: &[usize]| Attr::Ints(v.iter().map(|&d| d as i64).collect());
            let [p0, p1] = l.pad;
            (
                "Conv",
                vec![
                    ("kernel_shape", ints(&l.kernel)),
                    ("strides", ints(&l.stride)),
                    ("pads", ints(&[p0, p1, p0, p1])),
                ],
                vec![Operand::Data, param("weight")?, param("bias")?],
            )
        }
        _ => return None,
    };
    // All but the dense and convolutional layers give a value of their
    // input's shape.
    let shaped = matches!(layer.op, Kind::Dense(_) | Kind::Conv(_)) || y == x;
    (shaped && reads_what_it_is_given(region, &operands)).then_some(Fused {
        op,
        attrs,
        operands,
        input: region.input,
    })
}

/// Whether the region's nodes read exactly the parameters and states the
/// operator is given: a lowering that read another tensor (or left one
/// out) would not be the function the operator computes.
fn reads_what_it_is_given(region: &Region, operands: &[Operand]) -> bool {
    let mut params: Vec<ParamId> = (operands.iter())
        .filter_map(|o| match o {
            Operand::Param(p, _) => Some(*p),
            _ => None,
        })
        .collect();
    let mut states: Vec<StateId> = (operands.iter())
        .filter_map(|o| match o {
            Operand::State(s) => Some(*s),
            _ => None,
        })
        .collect();
    let (mut read_params, mut read_states) = (region.params.clone(), region.states.clone());
    for v in [&mut params, &mut read_params] {
        v.sort();
        v.dedup();
    }
    for v in [&mut states, &mut read_states] {
        v.sort();
        v.dedup();
    }
    params == read_params && states == read_states
}
