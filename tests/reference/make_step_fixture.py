#!/usr/bin/python3
"""PyTorch dump of one whole training step of the ConvN model, for tests/engine/train/test_step_parity.c
(llm.c's test_gpt2 idea: the engine against an independent framework, every tensor of a step).

Regenerate from the repository root with Debian's interpreter (python3-torch, python3-numpy):

    /usr/bin/python3 tests/reference/make_step_fixture.py

which rewrites tests/reference/step_fixture.bin (another path may be given as the first argument).

The step, written from the engine's documented contract (engine/nn/cl_model.h, cl_loss.h,
cl_optimizer.h), not from its code:
  model  ConvN at model.width 0.25: three 3x3 stride-2 valid convs without bias (2 -> 8 -> 16 -> 16
         channels on 28x28: 13x13, 6x6, 2x2), each BatchNorm (batch statistics, biased variance,
         eps 1e-5) + ReLU; flatten -> Linear(64, 32) + BN + ReLU = y; head Linear(32, 64) + BN + ReLU
         -> Linear(64, 16) = z (head_layers 2, rep_dim 32, head_hidden 64, out_dim 16: the paper's
         shape at a size whose fixture stays small). Running statistics: 0.9 running + 0.1 batch
         (unbiased variance), i.e. torch's momentum 0.1.
  input  4 images x 2 views = 8 rows (views 1 then views 2): an image plane uniform in [0, 1] and
         one constant 0/1 bit plane, the same code in both views of an image.
  loss   NT-Xent at tau 0.1: cosine logits, self masked, positive of row i is (i + 4) mod 8, mean
         over the 8 anchors.
  update Adam in Keras's form: m = 0.1 g, v = 0.001 g^2 at t = 1, lr_t = lr sqrt(1 - 0.999) / (1 - 0.9),
         p -= lr_t m / (sqrt(v) + 1e-7), lr 1e-3, weight decay 1e-4 added to the kernels' gradients
         (not to BatchNorm's gamma and beta).
Parameters are random (Glorot-uniform kernels, gamma in [0.5, 1.5], beta in [-0.2, 0.2], running
mean in [-0.1, 0.1] and var in [0.5, 1.5]) so that no gradient or update is trivially zero or one.

The same step runs twice: in float64 (the reference values written) and in float32 (as the
engine computes). For every tensor the file records err32 = max |float32 - float64|: how far an
honest float32 implementation of the same step lands from the exact values. The C test accepts the
engine's float32 result when max |engine - float64| <= 4 err32 + 4 ulp(max |float64|): a float32
computation with a different summation order has an error of the same size as PyTorch's, not
4 times larger, and the ulp term covers tensors that PyTorch happens to get (almost) exactly.

File format (little-endian): "CLSTEP01", uint32 count, then count records of
  uint32 name length, name bytes, uint32 n, float64 err32, n x float32 values.
The float64 reference values are stored rounded to float32 (half an ulp, inside the 4 ulp term).
Names: x, params0, buffers0 (inputs, exact), act0..act5 (conv1..3, y, head hidden, z, each
[8][size], channel-major), loss, dz, grads, params1, buffers1 (arenas in the engine's layout:
kernels in layer order [out][in](kh)(kw), then gamma and beta of each BN layer; buffers: running
mean then var of each BN layer).
"""
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_IMAGES, SIZE, IN_CH = 4, 28, 2
CHANNELS = (8, 16, 16)
REP, HIDDEN, OUT = 32, 64, 16
TAU, LR, WD = 0.1, 1e-3, 1e-4


def build(dtype):
    layers = []
    c = IN_CH
    for oc in CHANNELS:
        layers += [nn.Conv2d(c, oc, 3, stride=2, bias=False), nn.BatchNorm2d(oc, eps=1e-5, momentum=0.1), nn.ReLU()]
        c = oc
    layers += [nn.Flatten(), nn.Linear(c * 2 * 2, REP, bias=False), nn.BatchNorm1d(REP, eps=1e-5, momentum=0.1),
               nn.ReLU(), nn.Linear(REP, HIDDEN, bias=False), nn.BatchNorm1d(HIDDEN, eps=1e-5, momentum=0.1),
               nn.ReLU(), nn.Linear(HIDDEN, OUT, bias=False)]
    return nn.Sequential(*layers).to(dtype)


def kernels(model):
    return [m.weight for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]


def bns(model):
    return [m for m in model if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d))]


def arena(model, grads=False):
    parts = [(k.grad if grads else k).detach().reshape(-1) for k in kernels(model)]
    for b in bns(model):
        parts += [(b.weight.grad if grads else b.weight).detach(), (b.bias.grad if grads else b.bias).detach()]
    return torch.cat(parts)


def buffers(model):
    return torch.cat([t.detach() for b in bns(model) for t in (b.running_mean, b.running_var)])


def ntxent(z):
    n2 = z.shape[0]
    h = F.normalize(z, dim=1)
    logits = (h @ h.t()) / TAU
    logits = logits.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n2 // 2, n2), torch.arange(0, n2 // 2)])
    return F.cross_entropy(logits, targets)


def step(dtype, x, params, bufs):
    model = build(dtype)
    with torch.no_grad():
        ks, off = kernels(model), 0
        for k in ks:
            k.copy_(torch.from_numpy(params[off:off + k.numel()]).reshape(k.shape))
            off += k.numel()
        boff = 0
        for b in bns(model):
            c = b.num_features
            b.weight.copy_(torch.from_numpy(params[off:off + c]))
            b.bias.copy_(torch.from_numpy(params[off + c:off + 2 * c]))
            off += 2 * c
            b.running_mean.copy_(torch.from_numpy(bufs[boff:boff + c]))
            b.running_var.copy_(torch.from_numpy(bufs[boff + c:boff + 2 * c]))
            boff += 2 * c
    model.train()
    acts = []
    h = torch.from_numpy(x).to(dtype)
    for i, m in enumerate(model):
        h = m(h)
        # outputs after each ReLU (conv1..3, y, head hidden), then z
        if isinstance(m, nn.ReLU) or i == len(model) - 1:
            if i == len(model) - 1:
                h.retain_grad()
            acts.append(h)
    z = acts[-1]
    loss = ntxent(z)
    loss.backward()
    out = {"loss": loss.detach().reshape(1), "dz": z.grad.detach().reshape(-1), "grads": arena(model, grads=True)}
    for i, a in enumerate(acts):
        out["act%d" % i] = a.detach().reshape(-1)
    # Adam (Keras form), t = 1
    g = out["grads"].clone()
    p = arena(model)
    n_decay = sum(k.numel() for k in kernels(model))
    g[:n_decay] += WD * p[:n_decay]
    m = 0.1 * g
    v = 0.001 * g * g
    lr_t = LR * np.sqrt(1 - 0.999) / (1 - 0.9)
    out["params1"] = p - lr_t * m / (torch.sqrt(v) + 1e-7)
    out["buffers1"] = buffers(model)
    return {k: t.double().numpy() for k, t in out.items()}


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/reference/step_fixture.bin"
    torch.set_num_threads(1)
    rng = np.random.default_rng(7)
    n_views = 2 * N_IMAGES
    img = rng.uniform(0, 1, (N_IMAGES, 2, SIZE, SIZE)).astype(np.float32)  # two crops per image (any content)
    code = rng.integers(0, 2, N_IMAGES).astype(np.float32)
    x = np.zeros((n_views, IN_CH, SIZE, SIZE), np.float32)
    for v in range(2):
        x[v * N_IMAGES:(v + 1) * N_IMAGES, 0] = img[:, v]
        x[v * N_IMAGES:(v + 1) * N_IMAGES, 1] = code[:, None, None]

    ref = build(torch.float32)
    params, bufs = [], []
    for k in kernels(ref):
        fan_in = k.shape[1] * (k[0, 0].numel() if k.dim() == 4 else 1)
        fan_out = k.shape[0] * (k[0, 0].numel() if k.dim() == 4 else 1)
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        params.append(rng.uniform(-lim, lim, k.numel()))
    for b in bns(ref):
        c = b.num_features
        params += [rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c)]
        bufs += [rng.uniform(-0.1, 0.1, c), rng.uniform(0.5, 1.5, c)]
    params = np.concatenate(params).astype(np.float32)
    bufs = np.concatenate(bufs).astype(np.float32)

    r64 = step(torch.float64, x.astype(np.float64), params.astype(np.float64), bufs.astype(np.float64))
    r32 = step(torch.float32, x, params, bufs)
    records = [("x", x.reshape(-1).astype(np.float64), 0.0), ("params0", params.astype(np.float64), 0.0),
               ("buffers0", bufs.astype(np.float64), 0.0)]
    for name in ["act%d" % i for i in range(6)] + ["loss", "dz", "grads", "params1", "buffers1"]:
        err = float(np.abs(r32[name] - r64[name]).max())
        records.append((name, r64[name], err))
        print("%-8s n=%6d max|ref|=%.3e err32=%.3e" % (name, r64[name].size, np.abs(r64[name]).max(), err))
    with open(path, "wb") as f:
        f.write(b"CLSTEP01")
        f.write(struct.pack("<I", len(records)))
        for name, values, err in records:
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)) + nb + struct.pack("<Id", values.size, err))
            f.write(values.astype("<f4").tobytes())
    print("wrote", path, "torch", torch.__version__)


if __name__ == "__main__":
    main()
