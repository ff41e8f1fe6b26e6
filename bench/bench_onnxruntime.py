"""W5 in onnxruntime: the ONNX file `cargo bench --bench workloads -- --onnx PATH`
writes (W5's network exported by `dlc export --onnx`), timed as the reference
scripts time W5: batch 1 (2000 calls) and batch 1024 (20 calls), warmed up,
median of --repeats.

    python3 bench/bench_onnxruntime.py --model W5.onnx --threads 1 --json [--repeats 5]

Prints one JSON line shaped like the reference scripts' output. Thread
control: SessionOptions.intra_op_num_threads (inter-op 1, sequential).
The input is random in [0, 1), W5's data's range.
"""

import argparse, json, os, statistics, time

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--workloads", default="w5", help="accepted for symmetry; only w5 runs")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0]
    width = feed.shape[1]
    # One output, as `dlc predict` and the built object compute one.
    wanted = [session.get_outputs()[0].name]
    x = np.random.default_rng(0).random((1024, width), dtype=np.float32)

    def timed(fn):
        ts = []
        for _ in range(args.repeats):
            t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
        return statistics.median(ts)

    out = {}
    for name, xx, n in (("b1", x[:1], 2000), ("b1024", x, 20)):
        inputs = {feed.name: xx}
        for _ in range(max(5, n // 10)):
            session.run(wanted, inputs)
        out[name] = timed(lambda: [session.run(wanted, inputs) for _ in range(n)]) / n
    res = {
        "framework": "onnxruntime",
        "onnxruntime": ort.__version__,
        "threads": args.threads,
        "thread_control": f"SessionOptions.intra_op_num_threads = {args.threads}",
        "loadavg_start": load_start,
        "results": {"w5": {"b1_latency_us": out["b1"] * 1e6, "b1024_samples_per_s": 1024 / out["b1024"]}},
        "loadavg_end": os.getloadavg()[0],
    }
    print(json.dumps(res) if args.json else json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
