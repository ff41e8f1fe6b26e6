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
    let model_file = args.model.as_deref();
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
