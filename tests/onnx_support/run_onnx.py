"""Checks an exported ONNX model and runs it, for tests/onnx_export.rs.

    python run_onnx.py MODEL.onnx INPUTS.f32 ROWS COLUMNS OUT_DIR

INPUTS.f32 holds ROWS x COLUMNS little-endian float32 values (NaN for a
missing value). The model is checked with onnx's full checker (which infers
every shape), then run in onnxruntime on all the rows at once and on the
first row alone (the batch is symbolic). OUT_DIR receives NAME.f32 for each
output, first_NAME.f32 for the single-row run, and summary.json: each
output's shape, the input's declared dimensions, the opset and the metadata.
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    model_path, inputs_path, rows, columns, out_dir = sys.argv[1:6]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    x = np.fromfile(inputs_path, dtype="<f4").reshape(int(rows), int(columns))
    options = ort.SessionOptions()
    # The graph as written, so that the comparison is of dlc's arithmetic
    # rather than of onnxruntime's rewrites of it.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        model_path, options, providers=["CPUExecutionProvider"]
    )
    [graph_input] = session.get_inputs()
    names = [o.name for o in session.get_outputs()]
    outputs = session.run(names, {graph_input.name: x})
    first = session.run(names, {graph_input.name: x[:1]})
    shapes = {}
    for name, value, one in zip(names, outputs, first):
        value.astype("<f4").tofile(os.path.join(out_dir, name + ".f32"))
        one.astype("<f4").tofile(os.path.join(out_dir, "first_" + name + ".f32"))
        shapes[name] = list(value.shape)
    dims = [
        d.dim_param if d.HasField("dim_param") else d.dim_value
        for d in model.graph.input[0].type.tensor_type.shape.dim
    ]
    summary = {
        "outputs": shapes,
        "input": graph_input.name,
        "input_dims": dims,
        "opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")],
        "producer": model.producer_name,
        "ops": sorted({n.op_type for n in model.graph.node}),
        "metadata": {p.key: p.value for p in model.metadata_props},
    }
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f)


if __name__ == "__main__":
    main()
