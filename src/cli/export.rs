//! `dlc export --onnx`: a trained model as an ONNX file, its data's
//! preparation included, for runtimes other than dlc (see `dlc::export`).

use std::path::Path;

pub fn export_onnx(file: &Path, model_file: Option<&Path>, out: &Path) -> u8 {
    if let Err(code) = super::check_outputs(&[(out, "--onnx")], &[]) {
        return code;
    }
    let (model, preparation) = match super::open_prepared(file, model_file) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let onnx = match dlc::export::onnx::to_proto(&model, &preparation) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let bytes = dlc::export::onnx::encode(&onnx);
    if let Err(e) = dlc::outputs::write_atomically(out, &bytes) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return 2;
    }
    let graph = onnx.graph.unwrap_or_default();
    let names = |v: &[dlc::export::onnx::proto::ValueInfoProto]| {
        v.iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "wrote {}: {} nodes, opset {}, input {}, outputs {} ({} bytes)",
        out.display(),
        graph.node.len(),
        dlc::export::onnx::OPSET,
        names(&graph.input),
        names(&graph.output),
        bytes.len()
    );
    0
}
