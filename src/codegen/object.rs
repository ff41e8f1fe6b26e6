//! `codegen::object`: a model's evaluation-mode forward pass as a
//! position-independent object file with a C interface (`dlc build`).
//!
//! ```text
//! the predict graph --plan at batch 1, and at batch B--> two kernel plans
//!   --emit, inline only (no host routine, no worker pool)--> <p>.forward1, <p>.forwardB
//!   + the weights, the batch-norm state and the preparation as read-only data
//!   + the C interface (object_wrapper.rs): prepare each chunk of samples,
//!     call the forward pass, turn its outputs into probabilities or values
//!   --cranelift-object--> an ELF object: links with `cc` and the C library alone
//! ```
//!
//! The same emitters as the JIT write the kernels, so the object computes
//! what `dlc predict` computes; it differs only in the matrix products'
//! kernels (the inline ones, as on a CPU without AVX-512), hence in the last
//! bits of a sum. Batch 1 has a plan of its own so that one sample needs a
//! small workspace, which `malloc` hands out without a system call.

use super::func::{Fx, GemmPolicy};
use super::jit::{CodegenError, Jit, TargetCpu};
use super::object_wrapper::{self, Interface, Variant};
use super::plan::{Base, Layout, Plan, plan_with_layout};
use crate::autodiff::graphs::{Entry, Graphs};
use cranelift_codegen::ir::InstBuilder;
use cranelift_module::Linkage;

/// How raw samples become the network's input (the model's preparation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputSpec {
    /// Values per sample.
    pub raw_len: usize,
    /// Every value multiplied by this, first.
    pub scale: Option<f32>,
    /// Per value: what a missing one (NaN) becomes, after the scale.
    /// Without it, a missing value is an error.
    pub fill: Option<Vec<f32>>,
    /// Per value: mean and standard deviation, `(x - mean) / std` last.
    pub standardize: Option<(Vec<f32>, Vec<f32>)>,
}

/// What the exported prediction function writes per sample.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputSpec {
    /// The softmax of the logits: one probability per class.
    Softmax,
    /// Binary: `1 - p` and `p`, with `p` the logit's sigmoid.
    Sigmoid,
    /// Regression values, with `x * std + mean` per output when the network
    /// learnt standardised targets.
    Values { restore: Option<(Vec<f32>, Vec<f32>)> },
}

/// What to build.
#[derive(Clone, Debug)]
pub struct ObjectSpec {
    /// The prefix of every exported symbol (a C identifier).
    pub prefix: String,
    pub cpu: TargetCpu,
    /// The most samples one call of the batch plan takes; larger calls run
    /// in chunks of it.
    pub max_batch: usize,
    pub input: InputSpec,
    pub output: OutputSpec,
    /// The network's outputs per sample.
    pub logits: usize,
}

/// A built object file and the sizes its header states.
#[derive(Clone, Debug)]
pub struct ObjectFile {
    pub bytes: Vec<u8>,
    /// The symbols the final link resolves (`malloc`, `free`, libm's `fmaf`, ...).
    pub undefined: Vec<String>,
    /// The network's outputs per sample (logits).
    pub logits: usize,
    /// The prediction function's outputs per sample.
    pub outputs: usize,
    /// Workspace bytes for one sample, and for more.
    pub workspace: [usize; 2],
    pub max_batch: usize,
}

/// Builds the object file of `graphs`' predict entry with these parameters
/// and states (the layout graph's order).
pub fn compile_object(
    graphs: &Graphs,
    params: &[f32],
    states: &[f32],
    spec: &ObjectSpec,
) -> Result<ObjectFile, CodegenError> {
    let g = graphs.get(Entry::Predict).ok_or_else(|| {
        CodegenError::InvalidShape("the program has no prediction entry point".into())
    })?;
    let layout = Layout::of(graphs.layout_graph());
    if params.len() != layout.params_len || states.len() != layout.states_len {
        return Err(CodegenError::InvalidShape(format!(
            "{} parameters and {} state values given, the network has {} and {}",
            params.len(),
            states.len(),
            layout.params_len,
            layout.states_len
        )));
    }
    let logits = spec.logits;
    let outputs = match spec.output {
        OutputSpec::Sigmoid => 2,
        _ => logits,
    };
    let mut jit = Jit::new_object(&spec.prefix, &spec.cpu, &object_wrapper::IMPORTS)?;
    jit.keep_text(false);
    let p = &spec.prefix;
    let data = [
        jit.define_data(&format!("{p}.params"), Linkage::Local, false, floats(params), 64)?,
        jit.define_data(&format!("{p}.states"), Linkage::Local, false, floats(states), 64)?,
        jit.define_data(
            &format!("{p}.prep"),
            Linkage::Local,
            false,
            floats(&object_wrapper::prep_table(&spec.input, &spec.output)),
            64,
        )?,
    ];
    let batches = if spec.max_batch > 1 {
        vec![1, spec.max_batch]
    } else {
        vec![1]
    };
    let mut functions = Vec::new();
    let mut variants = Vec::new();
    for &max_batch in &batches {
        let plan = plan_with_layout(g, max_batch, layout.clone()).map_err(|source| {
            CodegenError::Plan {
                entry: Entry::Predict.name().to_string(),
                source,
            }
        })?;
        check_plan(&plan)?;
        let scratch_len = plan
            .scratch_len
            .checked_add(super::compile::workspace_len(&plan)?)
            .ok_or_else(|| CodegenError::InvalidShape("the workspace overflows".into()))?;
        let forward = build_forward(&mut jit, &plan, &format!("{p}.forward{max_batch}"))?;
        let variant = Variant::new(max_batch, spec.input.raw_len, logits, scratch_len, forward.id())?;
        functions.push(forward);
        variants.push(variant);
    }
    let interface = Interface {
        prefix: spec.prefix.clone(),
        input: spec.input.clone(),
        output: spec.output.clone(),
        logits,
        outputs,
        data,
        variants: variants.clone(),
    };
    functions.extend(object_wrapper::build(&mut jit, &interface)?);
    jit.define_built(functions, super::compile::default_threads())?;
    let (bytes, undefined) = jit.finish_object()?;
    if let Some(own) = undefined.iter().find(|n| n.starts_with("__cranelift")) {
        return Err(CodegenError::Link(format!(
            "the code for this processor calls `{own}`, which no library provides: build for a processor with SSSE3 or later"
        )));
    }
    let workspace = [
        variants[0].bytes,
        variants.last().map_or(variants[0].bytes, |v| v.bytes),
    ];
    Ok(ObjectFile {
        bytes,
        undefined,
        logits,
        outputs,
        workspace,
        max_batch: spec.max_batch.max(1),
    })
}

/// A prediction plan only reads the weights and state and writes scratch and
/// its output: the object's weights are read-only data shared by every call.
fn check_plan(plan: &Plan) -> Result<(), CodegenError> {
    for k in &plan.kernels {
        for (loc, _) in k.writes() {
            if !matches!(loc.base, Base::Scratch | Base::Output) {
                return Err(CodegenError::InvalidShape(format!(
                    "the prediction pass writes {:?} memory, which an object file keeps read-only",
                    loc.base
                )));
            }
        }
        for buf in k.reads() {
            if !matches!(
                buf.loc.base,
                Base::Params | Base::States | Base::Scratch | Base::Features | Base::Output
            ) {
                return Err(CodegenError::InvalidShape(format!(
                    "the prediction pass reads {:?} memory, which an object file does not have",
                    buf.loc.base
                )));
            }
        }
    }
    Ok(())
}

/// The plan's kernels, in order, in one function of a `CallCtx`.
fn build_forward(
    jit: &mut Jit,
    plan: &Plan,
    name: &str,
) -> Result<super::jit::BuiltFunction, CodegenError> {
    let ptr = jit.pointer_type();
    let signature = jit.signature(&[ptr], &[]);
    jit.build_linked_function(name, Linkage::Local, signature, |b, _| {
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let ctx = b.block_params(block)[0];
        let mut fx = Fx::prologue(
            b,
            ctx,
            None,
            GemmPolicy::SelfContained,
            plan.max_batch,
            plan.scratch_len,
        );
        for k in &plan.kernels {
            super::compile::emit_kernel(&mut fx, k)?;
        }
        fx.b.ins().return_(&[]);
        Ok(())
    })
}

fn floats(values: &[f32]) -> Vec<u8> {
    let mut bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    // An empty data object still needs an address to point at.
    if bytes.is_empty() {
        bytes.resize(4, 0);
    }
    bytes
}
