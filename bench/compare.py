#!/usr/bin/env python3
"""Run dlc's benchmark and the reference scripts side by side; print medians and ratios.

    python3 bench/compare.py --reference DIR [--python PY] [--threads 1,2] [--workloads w1,w2,w3,w4,w5] [--repeats 5]

DIR holds the reference scripts (bench_torch.py, bench_jax.py, bench_numpy.py),
PY a Python with torch, jax, numpy and threadpoolctl installed (and
onnxruntime, for W5's exported graph; without it that column is left out). Every
framework runs in its own process, one after another, at each thread count;
the raw JSON lines go to bench/results.jsonl and a table to stdout.
"""
import argparse, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        print(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def has_onnxruntime(python):
    found = subprocess.run([python, "-c", "import onnxruntime"], capture_output=True).returncode == 0
    if not found:
        print(f"note: {python} has no onnxruntime; W5 is not timed in it", file=sys.stderr)
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workloads", default="w1,w2,w3,w4,w5")
    ap.add_argument("--repeats", default="5")
    ap.add_argument("--skip", default="", help="frameworks to leave out, e.g. torch.compile")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    subprocess.run(["cargo", "build", "--release", "--benches"], cwd=ROOT, check=True)
    ort = "onnxruntime" not in skip and has_onnxruntime(args.python)
    results = []
    for t in args.threads.split(","):
        common = ["--threads", t, "--json", "--workloads", args.workloads, "--repeats", args.repeats]
        env = dict(os.environ, DLC_THREADS=t)
        onnx = os.path.join(HERE, "w5.onnx")
        with_onnx = "w5" in args.workloads.split(",") and ort
        export = ["--onnx", onnx] if with_onnx else []
        results.append(run(["cargo", "bench", "--bench", "workloads", "--"] + common + export, env))
        ref = lambda script: os.path.join(args.reference, script)
        if "torch-eager" not in skip:
            results.append(run([args.python, ref("bench_torch.py")] + common))
        if "torch.compile" not in skip:
            results.append(run([args.python, ref("bench_torch.py"), "--compile"] + common))
        if "jax.jit" not in skip:
            results.append(run([args.python, ref("bench_jax.py")] + common))
        # The numpy script covers w1, w2 and w5 only (no autodiff for the rest).
        numpy_workloads = [w for w in args.workloads.split(",") if w in ("w1", "w2", "w5")]
        if "numpy" not in skip and numpy_workloads:
            numpy_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
            numpy_args = ["--threads", t, "--json", "--workloads", ",".join(numpy_workloads), "--repeats", args.repeats]
            results.append(run([args.python, ref("bench_numpy.py")] + numpy_args, numpy_env))
        # W5's exported graph in onnxruntime, when the Python has it.
        if with_onnx and os.path.exists(onnx):
            script = os.path.join(HERE, "bench_onnxruntime.py")
            results.append(run([args.python, script, "--model", onnx, "--threads", t, "--json", "--repeats", args.repeats]))
    results = [r for r in results if r]
    with open(os.path.join(HERE, "results.jsonl"), "a") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")
    table(results, args.workloads.split(","))


def metric(res, w):
    r = res["results"].get(w)
    if not r:
        return None
    return r.get("b1024_samples_per_s") if w == "w5" else r.get("samples_per_s")


def table(results, workloads):
    """Samples per second (median of repeats) and dlc's ratio to each framework."""
    by = {(r["framework"], r["threads"]): r for r in results}
    frameworks = sorted({r["framework"] for r in results if r["framework"] != "dlc"})
    threads = sorted({r["threads"] for r in results})
    print("| workload | threads | dlc | " + " | ".join(f"{f} (dlc x)" for f in frameworks) + " |")
    print("|---|---|---|" + "---|" * len(frameworks))
    for w in workloads:
        for t in threads:
            d = by.get(("dlc", t))
            dv = metric(d, w) if d else None
            cells = []
            for f in frameworks:
                r = by.get((f, t))
                v = metric(r, w) if r else None
                cells.append(f"{v:,.0f} ({dv / v:.2f}x)" if v and dv else "-")
            print(f"| {w}{' b1024' if w == 'w5' else ''} | {t} | {f'{dv:,.0f}' if dv else '-'} | " + " | ".join(cells) + " |")
        if w == "w5":
            for t in threads:
                d = by.get(("dlc", t))
                dl = d["results"]["w5"]["b1_latency_us"] if d and "w5" in d["results"] else None
                cells = []
                for f in frameworks:
                    r = by.get((f, t))
                    v = r["results"].get("w5", {}).get("b1_latency_us") if r else None
                    cells.append(f"{v:.1f} us ({v / dl:.2f}x)" if v and dl else "-")
                print(f"| w5 b1 latency | {t} | {f'{dl:.1f} us' if dl else '-'} | " + " | ".join(cells) + " |")
            # The same network built by `dlc build` into an object file, called from C.
            for t in threads:
                d = by.get(("dlc", t))
                w5 = d["results"].get("w5", {}) if d else {}
                built, jit = w5.get("built_b1_latency_us"), w5.get("b1_latency_us")
                if not built:
                    continue
                cells = []
                for f in frameworks:
                    r = by.get((f, t))
                    v = r["results"].get("w5", {}).get("b1_latency_us") if r else None
                    cells.append(f"{v:.1f} us ({v / built:.2f}x)" if v else "-")
                print(f"| w5 b1 latency, built .o (JIT {jit:.1f} us) | {t} | {built:.1f} us | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
