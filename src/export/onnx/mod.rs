//! ONNX export: a trained model's evaluation-mode network as an ONNX model
//! (opset 17, batch dimension symbolic) that takes the raw feature rows
//! `dlc predict` reads and gives what it prints.
//!
//! ```text
//! features [N, raw]  --prepare (scale, impute, standardize, reshape)-->
//!          --network (the predict graph; standard layers as ONNX's operators)-->
//!          --outputs (softmax or sigmoid; targets' units)--> probabilities / predictions [N, width]
//! ```
//!
//! `proto` holds the protobuf messages, `builder` writes nodes and
//! constants, `network` translates the graph (op by op, but for the layers
//! that `fused` writes as ONNX's own operators, whose nodes `regions`
//! finds), `prepare` the data's preparation and the outputs. The metadata
//! names the classes, the input features and the outputs' columns, and
//! keeps the program.

mod builder;
mod fused;
mod network;
mod prepare;
pub mod proto;
mod regions;

use crate::check::Loss;
use crate::data::Preparation;
use crate::runtime::CompiledModel;
use builder::Builder;
use network::Tensors;
use prost::Message;
use proto::{GraphProto, ModelProto, OperatorSetIdProto, StringStringEntryProto};

/// The operator set the exported graph is written in.
pub const OPSET: i64 = 17;
/// ONNX's IR version 8 is the one that goes with opset 17.
const IR_VERSION: i64 = 8;

/// The graph input: `[N, raw_len]` raw feature values, as a CSV row gives them.
pub const INPUT: &str = "features";

/// Why a model cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A layer whose computation has no ONNX form here.
    #[error("layer `{layer}` cannot be exported to ONNX: {what}")]
    Unsupported { layer: String, what: String },
    /// The model's preparation does not fit its network.
    #[error("the model's data preparation does not fit its network: {0}")]
    Preparation(String),
    /// A predict graph without an output, or laid out unlike the model's
    /// buffers: a bug in dlc.
    #[error("the network has no output to export")]
    NoOutput,
    #[error("the prediction graph's tensors are not where the model keeps them")]
    Layout,
}

/// The exported model, encoded as an ONNX file's bytes.
pub fn export(model: &CompiledModel, preparation: &Preparation) -> Result<Vec<u8>, ExportError> {
    Ok(to_proto(model, preparation)?.encode_to_vec())
}

/// The exported model as protobuf messages (to encode with [`encode`]).
pub fn to_proto(
    model: &CompiledModel,
    preparation: &Preparation,
) -> Result<ModelProto, ExportError> {
    let g = &model.graphs.predict;
    if !model.layout.fits(g) {
        return Err(ExportError::Layout);
    }
    let buffers = &model.buffers;
    let tensors = Tensors {
        params: (g.params.iter().zip(&model.layout.params))
            .map(|(p, &o)| &buffers.params[o..o + p.len()])
            .collect(),
        states: (g.states.iter().zip(&model.layout.states))
            .map(|(s, &o)| &buffers.states[o..o + s.shape.iter().product::<usize>()])
            .collect(),
    };
    let net = &model.model().network;
    let mut b = Builder::new(INPUT);
    let prepared = prepare::inputs(&mut b, preparation, &net.input_shape)?;
    let raw = network::translate(&mut b, g, &net.layers, &tensors, &prepared)?;
    let outputs = prepare::outputs(
        &mut b,
        preparation,
        model.loss_kind(),
        &raw,
        model.output_width(),
    )?;
    b.graph.name = net.name.clone();
    b.graph.input = vec![builder::value_info(
        INPUT,
        true,
        &[preparation.raw_len],
        "raw feature values, one row per sample, in the order of the metadata's dlc.features",
    )];
    b.graph.output = outputs
        .iter()
        .map(|o| builder::value_info(&o.name, true, &[o.columns.len()], o.doc))
        .collect();
    let metadata = metadata(model, preparation, &outputs);
    Ok(ModelProto {
        ir_version: IR_VERSION,
        producer_name: "dlc".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("network `{}`, exported by dlc", net.name),
        graph: Some(std::mem::take(&mut b.graph)),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        metadata_props: metadata,
    })
}

/// Encodes a model as an ONNX file's bytes.
pub fn encode(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// Translates `graph` with zero-valued tensors, for the project's tests of
/// which ops export: `Err` names the layer of the first that does not.
/// `layers` are the network's, whose standard layers are written as ONNX's
/// operators; without them every node is written op by op.
#[cfg(feature = "internals")]
pub fn translate_graph(
    graph: &crate::ir::Graph,
    layers: &[crate::layers::Layer],
) -> Result<GraphProto, ExportError> {
    let params: Vec<Vec<f32>> = graph.params.iter().map(|p| vec![0.0; p.len()]).collect();
    let states: Vec<Vec<f32>> = (graph.states.iter())
        .map(|s| vec![0.0; s.shape.iter().product()])
        .collect();
    let tensors = Tensors {
        params: params.iter().map(Vec::as_slice).collect(),
        states: states.iter().map(Vec::as_slice).collect(),
    };
    let mut b = Builder::new(INPUT);
    network::translate(&mut b, graph, layers, &tensors, INPUT)?;
    Ok(b.graph)
}

/// One output of the exported graph: its name and its columns' names (as
/// `dlc predict`'s CSV header calls them).
pub struct Output {
    pub name: String,
    pub columns: Vec<String>,
    pub doc: &'static str,
}

fn metadata(
    model: &CompiledModel,
    preparation: &Preparation,
    outputs: &[Output],
) -> Vec<StringStringEntryProto> {
    let json = |v: &[String]| serde_json::to_string(v).unwrap_or_default();
    let loss = match model.loss_kind() {
        Loss::CrossEntropy => "cross_entropy",
        Loss::BinaryCrossEntropy => "binary_cross_entropy",
        Loss::MeanSquaredError => "mse",
    };
    let mut entries: Vec<(String, String)> = [
        ("dlc.network", model.model().network.name.clone()),
        ("dlc.loss", loss.to_string()),
        ("dlc.input", INPUT.to_string()),
        ("dlc.features", json(&preparation.features)),
        ("dlc.classes", json(&preparation.classes)),
        ("dlc.targets", json(&preparation.target_columns)),
        (
            "dlc.outputs",
            json(&outputs.iter().map(|o| o.name.clone()).collect::<Vec<_>>()),
        ),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .into();
    for o in outputs {
        entries.push((format!("dlc.columns.{}", o.name), json(&o.columns)));
    }
    entries.push(("dlc.program".into(), model.source().to_string()));
    entries
        .into_iter()
        .map(|(key, value)| StringStringEntryProto { key, value })
        .collect()
}
