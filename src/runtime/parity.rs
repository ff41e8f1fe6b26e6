//! Export for the PyTorch parity check (`parity/parity.py`): the network's
//! structure, its initial parameters, a few batches, and what dlc computes
//! from them, so that an independent implementation can redo the steps.
//!
//! Files written into the output directory:
//! - `model.json`: layers (op, arguments, inputs, shapes, dropout salts),
//!   parameters (name, shape, decay), the loss and optimizer settings;
//! - `init.safetensors`: a checkpoint of the initial state;
//! - `batches.safetensors`: `x0`, `y0`, `x1`, ... the batches used;
//! - `steps.json`: the loss of each step, its learning rate and dropout key;
//! - `after.safetensors`: a checkpoint after the last step.

use super::backend::Call;
use super::checkpoint::{save, write_atomically};
use super::load::load;
use super::model::{CompiledModel, RunError};
use crate::autodiff::graphs::Entry;
use crate::check::Loss;
use crate::data::Batcher;
use crate::rng::Rng;
use safetensors::tensor::{Dtype, TensorView};
use serde_json::{Value, json};
use std::path::Path;

fn model_json(m: &CompiledModel) -> Value {
    let net = &m.model.network;
    let layers: Vec<Value> = net
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "name": l.name, "op": l.op.rule().parity(), "inputs": l.inputs, "shape": l.shape,
                "params": l.params.iter().map(|t| &t.name).collect::<Vec<_>>(),
                // The dropout stream of this layer (see ir::dropout).
                "salt": i,
            })
        })
        .collect();
    let params: Vec<Value> = m
        .graphs
        .layout_graph()
        .params
        .iter()
        .map(|p| json!({"name": p.name, "shape": p.shape, "decay": p.decay}))
        .collect();
    let t = m.model.train.as_ref();
    let optimizer = t.map(|t| {
        let rule = t.optimizer.kind.rule();
        let mut fields = rule.parity();
        fields.insert("kind".into(), rule.keyword().into());
        fields.insert("lr".into(), t.optimizer.lr.into());
        Value::Object(fields)
    });
    json!({
        "network": net.name,
        "input_shape": net.input_shape,
        "output": net.output,
        "layers": layers,
        "params": params,
        "loss": t.map(|t| match t.loss {
            Loss::CrossEntropy => "cross_entropy",
            Loss::BinaryCrossEntropy => "binary_cross_entropy",
            Loss::MeanSquaredError => "mse",
        }),
        // The weights in use (a list, or `balanced` as counted), or null.
        "class_weights": t
            .and_then(|t| t.class_weights.as_ref())
            .map(|_| m.class_weights().to_vec()),
        "optimizer": optimizer,
        "l1": t.map(|t| t.l1),
        "l2": t.map(|t| t.l2),
        "clip_norm": t.and_then(|t| t.clip_norm),
    })
}

fn json_file(path: &Path, v: &Value) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(v).expect("JSON values serialise");
    write_atomically(path, text.as_bytes()).map_err(RunError::from)
}

/// Runs `steps` training steps from the initial state and writes the files
/// above into `dir`.
pub fn export(m: &mut CompiledModel, dir: &Path, steps: usize) -> Result<(), RunError> {
    let plan = m.model.train.clone().ok_or(RunError::NoTrainPlan)?;
    let spec = m.model.data.clone().ok_or(RunError::NoTrainPlan)?;
    let data = load(&spec, &crate::data::FilePolicy::default())?.train;
    m.check_data(&data, "training")?;
    m.weigh_classes_by(&data)?;
    let batch = match plan.batch {
        crate::check::Batch::All => data.len(),
        crate::check::Batch::Size(b) => b.min(data.len()),
    };
    m.ensure_max_batch(batch)?;
    json_file(&dir.join("model.json"), &model_json(m))?;
    save(
        m,
        &dir.join("init.safetensors"),
        &m.source.clone(),
        plan.seed,
    )?;
    let mut batcher = Batcher::new(&data, batch, false, Rng::new(spec.seed).fork(0))?;
    let mut xs = Vec::new();
    let mut records = Vec::new();
    let width = m.output_width();
    let mut output = vec![0.0; batch * width];
    while xs.len() < steps {
        let mut x = vec![0.0; batcher.features_len()];
        let mut y = vec![0.0; batcher.targets_len()];
        let Some(n) = batcher.next_batch(&mut x, &mut y)? else {
            continue;
        };
        x.truncate(n * m.input_len());
        y.truncate(n * data.targets.target_len());
        let lr = plan.optimizer.lr;
        let call = Call {
            n,
            features: &x,
            labels: &y,
            scalars: plan.optimizer.kind.rule().step_scalars(lr, m.step + 1),
            seed: plan.seed,
            step: m.step,
            shard: crate::ir::Shard::WHOLE,
        };
        let loss = m.call(Entry::TrainStep, &call, &mut output)?;
        records.push(json!({"step": m.step, "n": n, "loss": loss, "lr": lr, "seed": plan.seed}));
        m.step += 1;
        xs.push((x, y, n));
    }
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = xs
        .iter()
        .enumerate()
        .flat_map(|(i, (x, y, n))| {
            let mut xshape = vec![*n];
            xshape.extend(&m.model.network.input_shape);
            let yshape = if y.len() == *n {
                vec![*n]
            } else {
                vec![*n, y.len() / n]
            };
            let le = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
            [
                (format!("x{i}"), xshape, le(x)),
                (format!("y{i}"), yshape, le(y)),
            ]
        })
        .collect();
    let views: Vec<(String, TensorView)> = bytes
        .iter()
        .map(|(name, shape, b)| {
            (
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), b).expect("sizes agree"),
            )
        })
        .collect();
    let data = safetensors::tensor::serialize(views, None).expect("tensors serialise");
    write_atomically(&dir.join("batches.safetensors"), &data)?;
    json_file(&dir.join("steps.json"), &Value::Array(records))?;
    save(
        m,
        &dir.join("after.safetensors"),
        &m.source.clone(),
        plan.seed,
    )?;
    Ok(())
}
