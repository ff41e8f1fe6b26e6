//! `dlc build`: a trained model as an object file and a C header.

use std::path::{Path, PathBuf};

pub struct BuildArgs {
    pub model: Option<PathBuf>,
    pub out: PathBuf,
    pub name: Option<String>,
    pub cpu: String,
    pub chunk: usize,
}

pub fn build(file: &Path, args: BuildArgs) -> u8 {
    // A program without a model file means its run's: `runs/<stem>/model.safetensors`.
    let default_model;
    let model_file = match (&args.model, is_program(file)) {
        (Some(m), _) => Some(m.as_path()),
        (None, true) => {
            default_model =
                dlc::report::default_run_dir(file, None, None).join("model.safetensors");
            if !default_model.exists() {
                eprintln!(
                    "error: {} has no model file at {}: train it first (`dlc run {}`), or name one with --model",
                    file.display(),
                    default_model.display(),
                    file.display()
                );
                return 2;
            }
            Some(default_model.as_path())
        }
        (None, false) => None,
    };
    let (model, preparation) = match super::open_prepared(file, model_file) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let options = dlc::deploy::BuildOptions {
        name: args.name,
        cpu: match args.cpu.as_str() {
            "host" | "native" => dlc::deploy::TargetCpu::Host,
            other => dlc::deploy::TargetCpu::Named(other.to_string()),
        },
        max_batch: args.chunk,
    };
    let built = match dlc::deploy::build(&model, &preparation, &options) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    match built.write_to(&args.out) {
        Ok(files) => {
            for f in files {
                println!("wrote {}", f.display());
            }
            println!("link: {}", built.link);
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn is_program(file: &Path) -> bool {
    file.extension().is_some_and(|e| e == "dl")
}
