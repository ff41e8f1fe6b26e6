#!/usr/bin/env python3
"""Compare dlc with PyTorch on the example networks.

For each program, `dlc parity-export` writes the network's structure, its
initial state (a dlc checkpoint), a few batches and dlc's loss at each step
and state after them. This script rebuilds the same network in PyTorch from
the structure alone, loads the initial state with safetensors.torch.load_file,
runs the same steps on the same batches (dropout with the very masks dlc draws,
recomputed here from its counter-based generator), and compares every loss
and every parameter and state tensor.

    python3 parity/parity.py [--dlc target/release/dlc] [--steps 5] [--tol 1e-4] [examples/*.dl]

Exit status 0 when every program agrees within the tolerance.
"""
import argparse, glob, json, os, subprocess, sys, tempfile

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def mix(z):
    """SplitMix64's finaliser on uint64 numpy arrays (or ints), wrapping."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def dropout_mask(seed, step, salt, shape, rate):
    """dlc's inverted-dropout mask (ir/dropout.rs), element by flat index."""
    salted = np.uint64((seed ^ ((salt * GOLDEN_GAMMA) & MASK64)) & MASK64)
    key = mix(mix(salted) ^ np.uint64(step))
    index = np.arange(int(np.prod(shape)), dtype=np.uint64)
    with np.errstate(over="ignore"):
        bits = mix(key + index)
    u = (bits >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    scale = np.float32(1.0) / (np.float32(1.0) - np.float32(rate))
    return torch.from_numpy(np.where(u >= np.float32(rate), scale, np.float32(0.0)).reshape(shape))


def forward(model, params, state, x, seed, step):
    """The network, layer by layer as dlc lays it out, in training mode."""
    values = []
    for layer in model["layers"]:
        op, name = layer["op"], layer["name"]
        ins = [values[i] for i in layer["inputs"]]
        p = lambda t: params[f"{name}.{t}"]
        kind = op["type"]
        if kind == "input":
            y = x
        elif kind == "dense":
            y = F.linear(ins[0], p("weight"), params.get(f"{name}.bias"))
        elif kind == "conv":
            y = F.conv2d(ins[0], p("weight"), params.get(f"{name}.bias"), stride=op["stride"], padding=op["pad"])
        elif kind == "maxpool":
            y = F.max_pool2d(ins[0], op["window"], op["stride"], op["pad"])
        elif kind == "avgpool":
            y = F.avg_pool2d(ins[0], op["window"], op["stride"], op["pad"], count_include_pad=True)
        elif kind == "flatten":
            y = ins[0].flatten(1)
        elif kind == "identity":
            y = ins[0]
        elif kind == "relu":
            y = F.relu(ins[0])
        elif kind == "tanh":
            y = torch.tanh(ins[0])
        elif kind == "sigmoid":
            y = torch.sigmoid(ins[0])
        elif kind == "softmax":
            y = F.softmax(ins[0], dim=1)
        elif kind == "leaky_relu":
            y = F.leaky_relu(ins[0], op["slope"])
        elif kind == "elu":
            y = F.elu(ins[0], op["alpha"])
        elif kind == "silu":
            y = F.silu(ins[0])
        elif kind == "softplus":
            y = F.softplus(ins[0], op["beta"], op["threshold"])
        elif kind == "hardtanh":
            y = F.hardtanh(ins[0], op["min"], op["max"])
        elif kind == "gelu":
            y = F.gelu(ins[0], approximate=op["approximate"])
        elif kind == "prelu":
            y = F.prelu(ins[0], p("weight"))
        elif kind == "batchnorm":
            y = F.batch_norm(ins[0], state[f"{name}.running_mean"], state[f"{name}.running_var"], p("weight"), p("bias"),
                             training=True, momentum=op["momentum"], eps=op["eps"])
        elif kind == "layernorm":
            y = F.layer_norm(ins[0], layer["shape"], p("weight"), p("bias"), eps=op["eps"])
        elif kind == "instancenorm":
            w = params.get(f"{name}.weight")
            b = params.get(f"{name}.bias")
            y = F.instance_norm(ins[0], weight=w, bias=b, eps=op["eps"])
        elif kind == "dropout":
            y = ins[0] * dropout_mask(seed, step, layer["salt"], tuple(ins[0].shape), op["rate"])
        elif kind == "add":
            y = ins[0]
            for other in ins[1:]:
                y = y + other
        elif kind == "concat":
            y = torch.cat(ins, dim=1)
        else:
            raise ValueError(f"unknown layer kind {kind}")
        values.append(y)
    return values[model["output"]]


def loss_of(kind, z, y, class_weights=None):
    """dlc's loss; with class weights the weighted mean sum(w[y] l) / sum(w[y])."""
    w = None if class_weights is None else torch.tensor(class_weights, dtype=z.dtype)
    if kind == "cross_entropy":
        return F.cross_entropy(z, y.long(), weight=w)
    if kind == "binary_cross_entropy":
        if w is None:
            return F.binary_cross_entropy_with_logits(z.view(-1), y)
        per_sample = F.binary_cross_entropy_with_logits(z.view(-1), y, reduction="none")
        wy = w[y.long()]
        return (per_sample * wy).sum() / wy.sum()
    return F.mse_loss(z, y.view(z.shape))


def optimizer_for(model, params):
    """PyTorch's optimizer with dlc's settings; decay applies to weights only."""
    o = model["optimizer"]
    decay = [params[p["name"]] for p in model["params"] if p["decay"]]
    rest = [params[p["name"]] for p in model["params"] if not p["decay"]]
    if o["kind"] == "sgd":
        return torch.optim.SGD(decay + rest, lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"])
    if o["kind"] == "adam":
        return torch.optim.Adam(decay + rest, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    if o["kind"] == "rmsprop":
        return torch.optim.RMSprop(
            decay + rest, lr=o["lr"], alpha=o["alpha"], eps=o["eps"], momentum=o["momentum"], centered=o["centered"]
        )
    if o["kind"] == "adagrad":
        return torch.optim.Adagrad(
            decay + rest, lr=o["lr"], lr_decay=o["lr_decay"], eps=o["eps"],
            initial_accumulator_value=o["initial_accumulator"],
        )
    groups = [{"params": decay, "weight_decay": o["weight_decay"]}, {"params": rest, "weight_decay": 0.0}]
    if o["kind"] == "lion":
        return Lion(groups, lr=o["lr"], betas=(o["beta1"], o["beta2"]))
    if o["kind"] == "adamw":
        return torch.optim.AdamW(groups, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    raise SystemExit(f"parity.py has no optimizer `{o['kind']}`")


class Lion(torch.optim.Optimizer):
    """Lion as its paper (Chen et al., 2023) writes it; PyTorch has none."""

    def __init__(self, params, lr, betas):
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": 0.0})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                m = self.state[p].setdefault("exp_avg", torch.zeros_like(p))
                p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_(torch.sign(beta1 * m + (1 - beta1) * p.grad), alpha=-group["lr"])
                m.mul_(beta2).add_(p.grad, alpha=1 - beta2)


def cancelled_biases(model):
    """Biases whose only reader is a batch or instance norm: the norm subtracts
    the per-channel mean, so their gradient is zero in exact arithmetic and
    whatever they hold after a few steps is rounding noise (amplified to
    +-lr by Adam) in any implementation. They are reported, not compared."""
    layers = model["layers"]
    out = set()
    for i, layer in enumerate(layers):
        if "bias" not in layer["params"] or layer["op"]["type"] not in ("dense", "conv"):
            continue
        readers = [l for l in layers if i in l["inputs"]]
        if readers and all(r["op"]["type"] in ("batchnorm", "instancenorm") for r in readers):
            out.add(f"{layer['name']}.bias")
    return out


def compare(program, dlc, steps, tol, workdir):
    out = os.path.join(workdir, os.path.basename(program).replace(".dl", ""))
    subprocess.run([dlc, "parity-export", program, "--out", out, "--steps", str(steps)], check=True, capture_output=True)
    model = json.load(open(os.path.join(out, "model.json")))
    records = json.load(open(os.path.join(out, "steps.json")))
    init = load_file(os.path.join(out, "init.safetensors"))  # a dlc checkpoint, read by safetensors.torch
    after = load_file(os.path.join(out, "after.safetensors"))
    batches = load_file(os.path.join(out, "batches.safetensors"))
    names = [p["name"] for p in model["params"]]
    params = {n: init[n].clone().requires_grad_(True) for n in names}
    state = {k: v.clone() for k, v in init.items() if k not in params and not k.startswith("optimizer.")}
    opt = optimizer_for(model, params)
    decay = [p["name"] for p in model["params"] if p["decay"]]
    worst_loss = 0.0
    for i, rec in enumerate(records):
        x, y = batches[f"x{i}"], batches[f"y{i}"]
        opt.zero_grad(set_to_none=True)
        z = forward(model, params, state, x, rec["seed"], rec["step"])
        loss = loss_of(model["loss"], z, y, model.get("class_weights"))
        loss.backward()
        if model["clip_norm"]:
            torch.nn.utils.clip_grad_norm_([params[n] for n in names], model["clip_norm"])
        with torch.no_grad():  # dlc's L2 and L1 act on the gradient of decayed weights
            for n in decay:
                if model["l2"]:
                    params[n].grad += model["l2"] * params[n]
                if model["l1"]:
                    params[n].grad += model["l1"] * torch.sign(params[n])
        opt.step()
        rel = abs(loss.item() - rec["loss"]) / max(abs(rec["loss"]), 1e-6)
        worst_loss = max(worst_loss, rel)
    worst_tensor, worst_name = 0.0, ""
    skipped = cancelled_biases(model)
    worst_max = 0.0
    worst_param = 0.0  # parameters alone; states are running statistics and moments
    tensors = [(n, params[n].detach()) for n in names if n not in skipped] + list(state.items())
    for n, ref in tensors:
        # Relative error of the tensor as a whole (L2 norms): an element whose
        # gradient is rounding noise (Adam scales noise of 1e-8 up to a step
        # of lr) moves the largest element-wise error but not this.
        err = (torch.linalg.vector_norm(after[n] - ref) / torch.linalg.vector_norm(ref).clamp_min(1e-12)).item()
        worst_max = max(worst_max, ((after[n] - ref).abs().max() / ref.abs().max().clamp_min(1e-12)).item())
        if n in params:
            worst_param = max(worst_param, err)
        if err > worst_tensor:
            worst_tensor, worst_name = err, n
    ok = worst_loss <= tol and worst_tensor <= tol
    print(f"{'ok  ' if ok else 'FAIL'} {program}: {len(records)} steps, loss rel. error {worst_loss:.2e}, "
          f"worst tensor {worst_name or '-'} rel. error {worst_tensor:.2e} (largest element-wise {worst_max:.1e}), "
          f"worst parameter {worst_param:.2e}"
          + (f" (not compared: {', '.join(sorted(skipped))}, cancelled by a norm)" if skipped else ""))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("programs", nargs="*")
    ap.add_argument("--dlc", default="target/release/dlc")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    programs = args.programs or sorted(
        glob.glob("examples/*.dl") + glob.glob("examples/bench/w[1-4]*.dl") + glob.glob("parity/programs/*.dl")
    )
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    with tempfile.TemporaryDirectory() as work:
        results = [compare(p, args.dlc, args.steps, args.tol, work) for p in programs]
    print(f"{sum(results)}/{len(results)} programs agree with PyTorch within {args.tol:g} (relative)")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
