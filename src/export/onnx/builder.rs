//! A small builder of ONNX graphs: nodes with fresh value names, constant
//! tensors as initializers, and the batch size as a value, so that the
//! translation of each part reads as the operators it writes.

use super::proto::{
    AttributeProto, Dimension, DimensionValue, GraphProto, NodeProto, TensorProto,
    TensorShapeProto, TensorTypeProto, TypeProto, ValueInfoProto, attribute_type, data_type,
};

/// The name of the symbolic batch dimension of the inputs and outputs.
pub const BATCH: &str = "N";

/// An attribute of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    Float(f32),
    Int(i64),
    Ints(Vec<i64>),
}

#[derive(Default)]
pub struct Builder {
    pub graph: GraphProto,
    next: usize,
    /// The batch size as a 1-element int64 tensor, made once when needed.
    batch: Option<String>,
    /// The graph input it is read from.
    pub batch_source: String,
}

impl Builder {
    pub fn new(batch_source: &str) -> Builder {
        Builder {
            batch_source: batch_source.to_string(),
            ..Builder::default()
        }
    }

    /// A value name not used before, from a readable stem.
    pub fn fresh(&mut self, stem: &str) -> String {
        self.next += 1;
        format!("{stem}_{}", self.next)
    }

    /// Appends a node of `op` on `inputs`, giving its one output's name.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.node_into(op, inputs, attrs, &out);
        out
    }

    /// Appends a node of `op` writing the value named `out`.
    pub fn node_into(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>, out: &str) {
        let attribute = attrs
            .into_iter()
            .map(|(name, a)| attribute(name, a))
            .collect();
        let name = format!("{op}_{}", self.graph.node.len());
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.to_string()],
            name,
            op_type: op.to_string(),
            attribute,
            doc_string: String::new(),
        });
    }

    /// A float initializer named `name` (a parameter, a statistic).
    /// A tensor read twice is written once.
    pub fn floats_named(&mut self, name: &str, dims: &[usize], values: &[f32]) -> String {
        if self.graph.initializer.iter().any(|t| t.name == name) {
            return name.to_string();
        }
        let raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(name, dims, data_type::FLOAT, raw_data)
    }

    /// A float constant with a fresh name.
    pub fn floats(&mut self, stem: &str, dims: &[usize], values: &[f32]) -> String {
        let name = self.fresh(stem);
        self.floats_named(&name, dims, values)
    }

    /// A 1-D int64 constant (shapes, axes, slice bounds).
    pub fn ints(&mut self, stem: &str, values: &[i64]) -> String {
        let name = self.fresh(stem);
        let raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(&name, &[values.len()], data_type::INT64, raw_data)
    }

    fn initializer(&mut self, name: &str, dims: &[usize], ty: i32, raw_data: Vec<u8>) -> String {
        self.graph.initializer.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: ty,
            name: name.to_string(),
            raw_data,
        });
        name.to_string()
    }

    /// The batch size, as the 1-element int64 tensor that `Reshape` and
    /// `Expand` take in their shape inputs.
    pub fn batch(&mut self) -> String {
        if let Some(b) = &self.batch {
            return b.clone();
        }
        let source = self.batch_source.clone();
        let shape = self.node("Shape", &[&source], vec![]);
        let (start, end) = (self.ints("zero", &[0]), self.ints("one", &[1]));
        let b = self.node("Slice", &[&shape, &start, &end], vec![]);
        self.batch = Some(b.clone());
        b
    }

    /// A shape as an int64 tensor: `batched` puts the batch size first.
    pub fn shape_tensor(&mut self, batched: bool, rest: &[usize]) -> String {
        let rest: Vec<i64> = rest.iter().map(|&d| d as i64).collect();
        let fixed = self.ints("shape", &rest);
        if !batched {
            return fixed;
        }
        let batch = self.batch();
        self.node("Concat", &[&batch, &fixed], vec![("axis", Attr::Int(0))])
    }
}

fn attribute(name: &str, a: Attr) -> AttributeProto {
    let mut p = AttributeProto {
        name: name.to_string(),
        ..AttributeProto::default()
    };
    match a {
        Attr::Float(f) => (p.f, p.r#type) = (f, attribute_type::FLOAT),
        Attr::Int(i) => (p.i, p.r#type) = (i, attribute_type::INT),
        Attr::Ints(v) => (p.ints, p.r#type) = (v, attribute_type::INTS),
    }
    p
}

/// A float tensor's type: the batch first (`N`) when `batched`.
pub fn value_info(name: &str, batched: bool, rest: &[usize], doc: &str) -> ValueInfoProto {
    let batch = batched.then(|| Dimension {
        value: Some(DimensionValue::DimParam(BATCH.into())),
    });
    let dim = batch
        .into_iter()
        .chain(rest.iter().map(|&d| Dimension {
            value: Some(DimensionValue::DimValue(d as i64)),
        }))
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
        doc_string: doc.to_string(),
    }
}
