#!/usr/bin/env python3
"""Data-parallel scaling on this machine: W2 and W4 epochs with one process
and T threads against R ranks of one thread each (`mpirun -np R`), and the
share of each rank's training time spent summing with the others.

    cargo build --release --features mpi
    python3 bench/distributed.py [--workloads w2,w4] [--repeats 3] [--ranks 2] [--bandwidth-gbit 10]

Prints a Markdown table of medians. The prediction for machines on a network
of the given bandwidth adds, per step, the gradient's bytes there and back
(reduce to rank 0, broadcast) over the bandwidth to the measured step time
of one rank's share of the batch; latency per collective is left out.
"""
import argparse, json, os, re, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DLC = os.path.join(ROOT, "target", "release", "dlc")
PROGRAMS = {"w2": "examples/bench/w2_mlp.dl", "w4": "examples/bench/w4_cnn.dl"}
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=ENV)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    lines = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    epoch = [l for l in lines if "event" not in l][0]
    done = [l for l in lines if l.get("event") == "done"][0]
    return epoch["seconds"], done.get("collective_seconds", 0.0), done["seconds"]


def parameters(program):
    text = subprocess.run([DLC, "check", program], capture_output=True, text=True, cwd=ROOT).stdout
    return int(re.search(r"total: ([\d,]+) trainable", text).group(1).replace(",", ""))


def batch(program):
    return int(re.search(r"batch\s+(\d+)", open(os.path.join(ROOT, program)).read()).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workloads", default="w2,w4")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--bandwidth-gbit", type=float, default=10.0)
    args = ap.parse_args()
    r = args.ranks
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"| workload | 1 process, 1 thread | 1 process, {r} threads | {r} ranks x 1 thread | "
          f"ranks vs threads | summing share | gradient | predicted step on {args.bandwidth_gbit:g} Gb/s |")
    print("|---|---|---|---|---|---|---|---|")
    for w in args.workloads.split(","):
        program = PROGRAMS[w]
        out = f"/tmp/dlc-distributed-{w}"
        base = ["run", program, "--json", "-q", "--out"]
        one, threads, ranks, share = [], [], [], []
        for _ in range(args.repeats):
            one.append(run([DLC, "--threads", "1"] + base + [out + "-1"])[0])
            threads.append(run([DLC, "--threads", str(r)] + base + [out + "-t"])[0])
            e, coll, total = run(["mpirun", "-np", str(r), "--oversubscribe", DLC, "--threads", "1"] + base + [out + "-r"])
            ranks.append(e)
            share.append(coll / total)
        one, threads, ranks, share = map(statistics.median, (one, threads, ranks, share))
        params = parameters(program)
        steps = 60000 // batch(program)
        grad_bytes = 4 * params
        # One rank's compute per step, without the summing, plus the gradient's
        # trip to rank 0 and back over the network.
        compute = ranks * (1 - share) / steps
        network = 2 * grad_bytes * 8 / (args.bandwidth_gbit * 1e9)
        print(f"| {w} | {one:.2f} s | {threads:.2f} s | {ranks:.2f} s | {threads / ranks:.2f}x | "
              f"{100 * share:.1f}% | {grad_bytes / 1e6:.2f} MB | {1e3 * compute:.2f} + {1e3 * network:.3f} ms |")


if __name__ == "__main__":
    main()
