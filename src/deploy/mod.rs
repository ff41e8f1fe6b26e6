//! `dlc build`: a trained model as an object file and a C header, to link
//! into a program that has no compiler in it.
//!
//! ```text
//! CompiledModel (weights, batch-norm state) + Preparation
//!   --codegen::object--> NAME.o   the evaluation-mode forward pass, the weights and the
//!                                 preparation, with a C interface (NAME_predict, ...)
//!   --header-----------> NAME.h   sizes, class and feature names, return codes, the link line
//!   --readme-----------> README.txt
//! ```
//!
//! The object needs only the C library (`malloc`, `free`): `cc main.c NAME.o`.

mod header;

use crate::check::Loss;
pub use crate::codegen::TargetCpu;
use crate::codegen::object::{InputSpec, ObjectSpec, OutputSpec, compile_object};
use crate::data::Preparation;
use crate::runtime::CompiledModel;
use std::path::{Path, PathBuf};

/// Why a model could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The name is not usable as a C identifier.
    #[error(
        "`{0}` cannot name the built functions: use letters, digits and `_`, not starting with a digit, and no C keyword"
    )]
    Name(String),
    /// The preparation does not fit the network.
    #[error("the model's preparation does not fit its network: {0}")]
    Preparation(String),
    #[error("cannot compile the prediction pass: {0}")]
    Codegen(#[from] crate::codegen::CodegenError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The prefix of the files and functions (default: the network's name).
    pub name: Option<String>,
    /// The processor the code is for.
    pub cpu: TargetCpu,
    /// Samples per chunk of a large call.
    pub max_batch: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            name: None,
            cpu: TargetCpu::Host,
            max_batch: 256,
        }
    }
}

/// A built model: the object file's bytes and the texts beside it.
#[derive(Clone, Debug)]
pub struct Built {
    /// The prefix of the files and functions.
    pub name: String,
    pub object: Vec<u8>,
    pub header: String,
    pub readme: String,
    /// The command that links `main.c` with the object.
    pub link: String,
}

impl Built {
    /// Writes `NAME.o`, `NAME.h` and `README.txt` into `dir` (created if
    /// missing), each atomically: a failed write leaves no partial file.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<PathBuf>, DeployError> {
        let error = |path: &Path, source| DeployError::Write {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| error(dir, e))?;
        let files = [
            (format!("{}.o", self.name), self.object.as_slice()),
            (format!("{}.h", self.name), self.header.as_bytes()),
            ("README.txt".to_string(), self.readme.as_bytes()),
        ];
        let mut written = Vec::new();
        for (file, bytes) in files {
            let path = dir.join(file);
            crate::outputs::write_atomically(&path, bytes).map_err(|e| error(&path, e))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// What the built prediction function computes, for the header.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    pub name: String,
    pub network: String,
    pub inputs: usize,
    pub logits: usize,
    pub outputs: usize,
    pub loss: Loss,
    pub features: Vec<String>,
    pub classes: Vec<String>,
    pub targets: Vec<String>,
    pub imputes: bool,
    pub max_batch: usize,
    pub workspace: [usize; 2],
    pub cpu: String,
    /// The symbols the final link resolves.
    pub undefined: Vec<String>,
}

/// Builds `model` (its current weights) with the preparation its samples
/// were trained with.
pub fn build(
    model: &CompiledModel,
    preparation: &Preparation,
    options: &BuildOptions,
) -> Result<Built, DeployError> {
    let network = &model.model().network;
    let name = options.name.clone().unwrap_or_else(|| network.name.clone());
    if !header::is_c_identifier(&name) {
        return Err(DeployError::Name(name));
    }
    let inputs = model.input_len();
    if preparation.raw_len != inputs {
        return Err(DeployError::Preparation(format!(
            "samples of {} values are prepared, the network takes {inputs}",
            preparation.raw_len
        )));
    }
    let logits = model.output_width();
    let loss = model.loss_kind();
    let input = input_spec(preparation)?;
    let output = match loss {
        Loss::CrossEntropy => OutputSpec::Softmax,
        Loss::BinaryCrossEntropy => OutputSpec::Sigmoid,
        Loss::MeanSquaredError => OutputSpec::Values {
            restore: preparation
                .target_standardizer
                .as_ref()
                .filter(|s| s.mean.len() == logits)
                .map(|s| (s.mean.clone(), s.std.clone())),
        },
    };
    let spec = ObjectSpec {
        prefix: name.clone(),
        cpu: options.cpu.clone(),
        max_batch: options.max_batch.max(1),
        input,
        output,
        logits,
    };
    let buffers = model.buffers();
    let object = compile_object(&model.graphs, &buffers.params, &buffers.states, &spec)?;
    let summary = Summary {
        name: name.clone(),
        network: network.name.clone(),
        inputs,
        logits,
        outputs: object.outputs,
        loss,
        features: preparation.features.clone(),
        classes: match loss {
            Loss::CrossEntropy => (0..logits).map(|c| preparation.class_name(c)).collect(),
            Loss::BinaryCrossEntropy => (0..2).map(|c| preparation.class_name(c)).collect(),
            Loss::MeanSquaredError => Vec::new(),
        },
        targets: preparation.target_columns.clone(),
        imputes: preparation.imputer.is_some(),
        max_batch: object.max_batch,
        workspace: object.workspace,
        cpu: match &options.cpu {
            TargetCpu::Host => "host".to_string(),
            TargetCpu::Named(n) => n.clone(),
        },
        undefined: object.undefined.clone(),
    };
    Ok(Built {
        link: header::link_line(&name, &summary.undefined),
        header: header::header(&summary),
        readme: header::readme(&summary),
        name,
        object: object.bytes,
    })
}

/// The preparation's constants, checked against the sample length.
fn input_spec(p: &Preparation) -> Result<InputSpec, DeployError> {
    let fits = |what: &str, len: usize| {
        if len == p.raw_len {
            Ok(())
        } else {
            Err(DeployError::Preparation(format!(
                "{len} {what} for samples of {} values",
                p.raw_len
            )))
        }
    };
    if let Some(i) = &p.imputer {
        fits("fill values", i.fill.len())?;
    }
    if let Some(s) = &p.standardizer {
        fits("means", s.mean.len())?;
        fits("standard deviations", s.std.len())?;
    }
    Ok(InputSpec {
        raw_len: p.raw_len,
        scale: p.scale,
        fill: p.imputer.as_ref().map(|i| i.fill.clone()),
        standardize: p
            .standardizer
            .as_ref()
            .map(|s| (s.mean.clone(), s.std.clone())),
    })
}
