//! Predicts the samples on standard input (one per line, comma-separated raw
//! feature values) with the linked model, one line of outputs per sample.

use std::io::{BufRead, Write};

const INPUTS: usize = parse(env!("MODEL_INPUTS"));
const OUTPUTS: usize = parse(env!("MODEL_OUTPUTS"));

const fn parse(s: &str) -> usize {
    let (bytes, mut i, mut n) = (s.as_bytes(), 0, 0);
    while i < bytes.len() {
        n = n * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    n
}

extern "C" {
    fn model_predict(x: *const f32, n: usize, out: *mut f32) -> i32;
}

/// The model's outputs for `x` (whole samples), or its error code.
fn predict(x: &[f32]) -> Result<Vec<f32>, i32> {
    assert_eq!(x.len() % INPUTS, 0, "whole samples");
    let n = x.len() / INPUTS;
    let mut out = vec![0.0; n * OUTPUTS];
    // SAFETY: `x` holds n samples and `out` room for n outputs, as the header asks.
    match unsafe { model_predict(x.as_ptr(), n, out.as_mut_ptr()) } {
        0 => Ok(out),
        code => Err(code),
    }
}

fn main() {
    let mut x = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("standard input");
        let row: Vec<f32> = line.split(',').map(|v| v.trim().parse().expect("a number")).collect();
        assert_eq!(row.len(), INPUTS, "{INPUTS} values per line");
        x.extend(row);
    }
    let out = predict(&x).unwrap_or_else(|code| panic!("the model returned {code}"));
    let mut stdout = std::io::stdout().lock();
    for row in out.chunks(OUTPUTS) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.9}")).collect();
        writeln!(stdout, "{}", cells.join(",")).unwrap();
    }
}
