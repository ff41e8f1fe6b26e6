//! `dlc parity-export`: the files `parity/parity.py` compares with PyTorch.

use super::{compile_or_report, read};
use std::path::Path;

pub fn parity_export(file: &Path, out: &Path, steps: usize) -> u8 {
    let Some(text) = read(file) else { return 2 };
    let mut model = match compile_or_report(file, &text) {
        Ok(m) => m,
        Err(code) => return code,
    };
    match dlc::parity::export(&mut model, out, steps) {
        Ok(()) => {
            println!(
                "wrote {} steps of {} to {}",
                steps,
                file.display(),
                out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
