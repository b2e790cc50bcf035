#!/usr/bin/python3
"""Independent PyTorch run of ContrastLab's RandBits recipe, for the agreement table (issue 13).

Written from the recipe, not from the engine's code paths; every choice is the one the engine
documents (engine/nn/cl_model.h, engine/data/cl_augment.h, engine/train/cl_schedule.c):

  data     Fashion-MNIST (Debian's dataset-fashion-mnist), 28x28 grey in [0, 1], plus `bits`
           constant 0/1 planes holding a fixed random code per image, identical in both views.
           Data order: a fresh permutation per epoch, batches taken in order.
  augment  two views per image: torchvision RandomResizedCrop (10 attempts, area fraction
           U[0.5, 1], log-uniform aspect in [3/4, 4/3], integer box placed uniformly, fallback the
           whole image), bilinear resize back to 28x28 with half-pixel centres clamped at the box
           edges (what resizing the cropped image does). No flip, no jitter, no noise.
  model    ConvN: three 3x3 stride-2 valid convs without bias (in -> 32 -> 64 -> 64), each BN + ReLU;
           flatten -> Linear(256, 128) + BN + ReLU = y; head Linear(128, 256) + BN + ReLU ->
           Linear(256, 64) = z. Kernels Glorot-uniform (Keras's default, as the paper's colab),
           fan-in of conv1 from its 1 + bits input planes; BN eps 1e-5, momentum 0.1 (running =
           0.9 running + 0.1 batch, unbiased variance).
  loss     NT-Xent over the 2B views: cosine similarity / tau, self masked, mean over 2B anchors.
  optim    Adam in Keras's form (beta 0.9/0.999, eps 1e-7, lr_t = lr sqrt(1-b2^t)/(1-b1^t)),
           weight decay 1e-4 added to the kernels' gradients, lr 1e-3 decayed linearly to 0.
  probe    the frozen y (eval mode) of `probe_images` random training images and as many test
           images, un-augmented; features standardised with the training images' mean/std;
           multinomial logistic regression, mean cross-entropy + lam/2 |W|^2 (bias not
           penalised), fitted to convergence by scikit-learn's L-BFGS; scored on the test images.
           A ridge probe (one-hot targets, alpha n |W|^2, alpha 1e-3, the engine's `ridge`) on
           the same features is reported too.

One run prints (and, with --results, appends) one line:
  ref bits=B tau=T seed=S batch=N steps=K logistic=A ridge=R untrained_logistic=U untrained_ridge=V seconds=X
Run with Debian's interpreter and one thread, e.g.
  nice -n 5 /usr/bin/python3 tests/reference/randbits_ref.py --bits 5 --tau 0.2 --seed 1 \
      --results tests/reference/randbits_ref_results.txt
"""
import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PROBE_L2 = 1e-4      # must equal CL_PROBE_LOGISTIC_L2 in engine/analysis/cl_probe.h
RIDGE_ALPHA = 1e-3   # the engine's PROBE_RIDGE_ALPHA


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def build_model(in_channels, size=28):
    layers = []
    c, h = in_channels, size
    for out_c in (32, 64, 64):
        layers += [nn.Conv2d(c, out_c, 3, stride=2, padding=0, bias=False),
                   nn.BatchNorm2d(out_c, eps=1e-5, momentum=0.1), nn.ReLU()]
        c, h = out_c, (h - 3) // 2 + 1
    layers += [nn.Flatten(),
               nn.Linear(c * h * h, 128, bias=False), nn.BatchNorm1d(128, eps=1e-5, momentum=0.1), nn.ReLU(),
               nn.Linear(128, 256, bias=False), nn.BatchNorm1d(256, eps=1e-5, momentum=0.1), nn.ReLU(),
               nn.Linear(256, 64, bias=False)]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Glorot uniform: limit sqrt(6 / (fan_in + fan_out))
    return model


N_REP = 13  # model[:13] ends at y (after the representation's ReLU)


def sample_boxes(n, h, w, min_area, rng):
    """torchvision RandomResizedCrop.get_params for n views at once: (top, left, height, width)."""
    area = h * w
    top = np.zeros(n, np.int64)
    left = np.zeros(n, np.int64)
    bh = np.full(n, h, np.int64)
    bw = np.full(n, w, np.int64)
    done = np.zeros(n, bool)
    for _ in range(10):
        target = area * rng.uniform(min_area, 1.0, n)
        ratio = np.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3), n))
        cw = np.floor(np.sqrt(target * ratio) + 0.5).astype(np.int64)
        ch = np.floor(np.sqrt(target / ratio) + 0.5).astype(np.int64)
        ok = (~done) & (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
        t = (rng.uniform(0, 1, n) * (h - ch + 1)).astype(np.int64)
        l = (rng.uniform(0, 1, n) * (w - cw + 1)).astype(np.int64)
        top[ok], left[ok], bh[ok], bw[ok] = t[ok], l[ok], ch[ok], cw[ok]
        done |= ok
    return top, left, bh, bw


def resized_crops(img, boxes):
    """img [n,1,h,w] float; bilinear resize of each box to h x w, half-pixel centres, clamped."""
    n, _, h, w = img.shape
    top, left, bh, bw = (torch.from_numpy(b).float()[:, None] for b in boxes)
    o_y = torch.arange(h, dtype=torch.float32)[None, :] + 0.5
    o_x = torch.arange(w, dtype=torch.float32)[None, :] + 0.5
    sy = torch.minimum(torch.clamp(o_y * bh / h - 0.5, min=0.0), bh - 1) + top   # [n, h] source rows
    sx = torch.minimum(torch.clamp(o_x * bw / w - 0.5, min=0.0), bw - 1) + left  # [n, w] source cols
    gy = (2 * sy + 1) / h - 1  # grid_sample's align_corners=False normalisation
    gx = (2 * sx + 1) / w - 1
    grid = torch.stack([gx[:, None, :].expand(n, h, w), gy[:, :, None].expand(n, h, w)], dim=3)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)


def ntxent(z, tau):
    n2 = z.shape[0]
    b = n2 // 2
    h = F.normalize(z, dim=1)
    logits = (h @ h.t()) / tau
    logits = logits.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(b, n2), torch.arange(0, b)])
    return F.cross_entropy(logits, targets)


class KerasAdam:
    def __init__(self, params, decay_params):
        self.params = list(params)
        self.decay = {id(p) for p in decay_params}
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    @torch.no_grad()
    def step(self, lr, weight_decay=1e-4, b1=0.9, b2=0.999, eps=1e-7):
        self.t += 1
        lr_t = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            if id(p) in self.decay:
                g = g + weight_decay * p
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.sub_(lr_t * m / (v.sqrt() + eps))


def standardise(train_f, test_f):
    mu = train_f.mean(0)
    sd = train_f.std(0)
    inv = np.where(sd > 1e-12, 1.0 / np.maximum(sd, 1e-300), 0.0)
    return (train_f - mu) * inv, (test_f - mu) * inv


def logistic_probe(train_f, train_y, test_f, test_y, lam=PROBE_L2):
    from sklearn.linear_model import LogisticRegression
    a, b = standardise(train_f.astype(np.float64), test_f.astype(np.float64))
    n = a.shape[0]
    clf = LogisticRegression(C=1.0 / (n * lam), solver="lbfgs", tol=1e-8, max_iter=5000)
    clf.fit(a, train_y)
    return float((clf.predict(b) == test_y).mean())


def ridge_probe(train_f, train_y, test_f, test_y, n_classes=10, alpha=RIDGE_ALPHA):
    a, b = standardise(train_f.astype(np.float64), test_f.astype(np.float64))
    a = np.hstack([a, np.ones((a.shape[0], 1))])
    b = np.hstack([b, np.ones((b.shape[0], 1))])
    gram = a.T @ a
    reg = alpha * a.shape[0] * np.eye(a.shape[1])
    reg[-1, -1] = 1e-9 * a.shape[0]
    w = np.linalg.solve(gram + reg, a.T @ np.eye(n_classes)[train_y])
    return float(((b @ w).argmax(1) == test_y).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bits", type=int, default=0)
    ap.add_argument("--tau", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--probe-images", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--results", help="append the result line to this file")
    ap.add_argument("--features", help="save the final frozen features (.npz) here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t_start = time.perf_counter()

    d = os.environ.get("CONTRASTLAB_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    train_x = load_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))
    train_y = load_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    test_x = load_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))
    test_y = load_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    bits, size = args.bits, train_x.shape[1]
    train_codes = torch.from_numpy(rng.integers(0, 2, (train_x.shape[0], bits)).astype(np.float32))
    test_codes = torch.from_numpy(rng.integers(0, 2, (test_x.shape[0], bits)).astype(np.float32))
    probe_train = rng.permutation(train_x.shape[0])[:args.probe_images]
    probe_test = rng.permutation(test_x.shape[0])[:args.probe_images]
    train_t = torch.from_numpy(train_x.astype(np.float32) / 255.0)[:, None]
    test_t = torch.from_numpy(test_x.astype(np.float32) / 255.0)[:, None]

    def with_bits(img, codes):
        return torch.cat([img, codes[:, :, None, None].expand(img.shape[0], bits, size, size)], 1)

    model = build_model(1 + bits, size)
    kernels = [p for p in model.parameters() if p.dim() >= 2]
    opt = KerasAdam(model.parameters(), kernels)

    def probe():
        model.eval()
        feats = []
        with torch.no_grad():
            for xs, cs, idx in ((train_t, train_codes, probe_train), (test_t, test_codes, probe_test)):
                out = [model[:N_REP](with_bits(xs[idx[i:i + 1024]], cs[idx[i:i + 1024]]))
                       for i in range(0, idx.shape[0], 1024)]
                feats.append(torch.cat(out).numpy())
        model.train()
        return feats

    f0 = probe()
    untrained = (logistic_probe(f0[0], train_y[probe_train], f0[1], test_y[probe_test]),
                 ridge_probe(f0[0], train_y[probe_train], f0[1], test_y[probe_test]))

    order = rng.permutation(train_x.shape[0])
    pos = 0
    model.train()
    for step in range(args.steps):
        if pos + args.batch > order.shape[0]:
            order = rng.permutation(train_x.shape[0])
            pos = 0
        idx = order[pos:pos + args.batch]
        pos += args.batch
        img = train_t[idx]
        views = [with_bits(resized_crops(img, sample_boxes(len(idx), size, size, 0.5, rng)), train_codes[idx])
                 for _ in range(2)]
        for p in model.parameters():
            p.grad = None
        loss = ntxent(model(torch.cat(views)), args.tau)
        loss.backward()
        opt.step(args.lr * (1.0 - step / args.steps))
        if not torch.isfinite(loss):
            print("error: loss is not finite at step %d" % step, file=sys.stderr)
            return 3

    f = probe()
    if args.features:
        np.savez_compressed(args.features, train=f[0], test=f[1], train_y=train_y[probe_train],
                            test_y=test_y[probe_test])
    acc = (logistic_probe(f[0], train_y[probe_train], f[1], test_y[probe_test]),
           ridge_probe(f[0], train_y[probe_train], f[1], test_y[probe_test]))
    line = ("ref bits=%d tau=%g seed=%d batch=%d steps=%d logistic=%.4f ridge=%.4f untrained_logistic=%.4f "
            "untrained_ridge=%.4f loss=%.4f seconds=%.0f"
            % (bits, args.tau, args.seed, args.batch, args.steps, acc[0], acc[1], untrained[0], untrained[1],
               float(loss), time.perf_counter() - t_start))
    print(line, flush=True)
    if args.results:
        with open(args.results, "a") as out:
            out.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
