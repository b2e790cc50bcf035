#!/usr/bin/python3
"""PyTorch reference for tests/bench/bench_step.c: times one ConvN training step.

The model, loss and optimizer mirror the C engine (paper.md section 3.3):
three 3x3 stride-2 'valid' convs without bias (in->32->64->64), each + BatchNorm2d + ReLU,
flatten -> Linear(256,128) + BN1d + ReLU = y, head Linear(128,256) + BN1d + ReLU -> Linear(256,64) = z.
--arch convn-same pads the convs by 1 (a 64x64 canvas gives 32/16/8 maps, flatten 4096).
Loss: NT-Xent over 2B rows, cosine similarity, temperature 0.1, self masked (2B-2 negatives),
mean over the 2B anchors. Adam lr 1e-3, eps 1e-7 (the engine's Keras value), weight decay 1e-4
added to the gradient of the conv/linear kernels only.

One step = forward + loss + backward + optimizer step, on views prepared once.
Prints one line: "torch batch=B threads=T views_per_s=... ms_per_step=... min_ms_per_step=... loss=..."
(ms_per_step is the median over repetitions; numbers in C locale).
Run with Debian's interpreter: /usr/bin/python3 torch_step.py --batch 256 --threads 2

--serve is the mode bench_step.c uses, so that its repetitions and ours alternate and both sides
see the same machine load: after the warm-up the script prints "ready", then answers each stdin
line "run N" with "time SECONDS_PER_STEP loss L" (N steps timed as one block) until "quit" or EOF.
Any failure is reported as one stdout line "error <reason>" and a non-zero exit.

--table-run times one whole run of the randbits-table preset as a PyTorch user would write it:
Fashion-MNIST from its .gz files, two random-resized-crop views per image (area >= 0.5, aspect
3/4..4/3, bilinear, batched through affine_grid/grid_sample), --bits constant random bit planes
per image, NT-Xent, Adam with the linear learning-rate decay, --steps steps at --batch, and a ridge
probe of the class on 5000 + 5000 held-out images every --probe-every steps and at the end (as
the engine does). Prints "table-run steps=N seconds=S train_seconds=T probe_seconds=P accuracy=A".
"""
import gzip
import os
import argparse
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as exc:  # Debian's python3-torch missing: say so where bench_step.c looks.
    print("error cannot import torch with %s: %s" % (sys.executable, exc), flush=True)
    sys.exit(3)


def build_model(in_channels, height, width, pad=0):
    layers = []
    c, h, w = in_channels, height, width
    for out_c in (32, 64, 64):
        layers += [nn.Conv2d(c, out_c, 3, stride=2, padding=pad, bias=False),
                   nn.BatchNorm2d(out_c, eps=1e-5, momentum=0.1),
                   nn.ReLU()]
        c, h, w = out_c, (h + 2 * pad - 3) // 2 + 1, (w + 2 * pad - 3) // 2 + 1
    flat = c * h * w
    layers += [nn.Flatten(),
               nn.Linear(flat, 128, bias=False), nn.BatchNorm1d(128, eps=1e-5, momentum=0.1), nn.ReLU(),
               nn.Linear(128, 256, bias=False), nn.BatchNorm1d(256, eps=1e-5, momentum=0.1), nn.ReLU(),
               nn.Linear(256, 64, bias=False)]
    return nn.Sequential(*layers)


def ntxent(z, tau):
    # Rows 0..B-1 are view 1, B..2B-1 view 2: the positive of row i is row (i + B) mod 2B.
    n2 = z.shape[0]
    b = n2 // 2
    h = F.normalize(z, dim=1)
    logits = (h @ h.t()) / tau
    self_mask = torch.eye(n2, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    targets = torch.cat([torch.arange(b, n2), torch.arange(0, b)])
    return F.cross_entropy(logits, targets)


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    import numpy as np
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def random_resized_crop(img, min_area, gen):
    """Batched RandomResizedCrop to the same size: img [n,1,h,w] in [0,1]."""
    n = img.shape[0]
    area = torch.empty(n).uniform_(min_area, 1.0, generator=gen)
    log_ratio = torch.empty(n).uniform_(float(torch.log(torch.tensor(3 / 4))), float(torch.log(torch.tensor(4 / 3))),
                                        generator=gen)
    ratio = torch.exp(log_ratio)
    sw = torch.sqrt(area * ratio).clamp(max=1.0)
    sh = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = (torch.rand(n, generator=gen) * 2 - 1) * (1 - sw)
    cy = (torch.rand(n, generator=gen) * 2 - 1) * (1 - sh)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = sw
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = sh
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, list(img.shape), align_corners=False)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)


def ridge_probe(train_f, train_y, test_f, test_y, n_classes, alpha=1e-3):
    mu = train_f.mean(0, keepdim=True)
    sd = train_f.std(0, keepdim=True).clamp(min=1e-6)
    a = torch.cat([(train_f - mu) / sd, torch.ones(train_f.shape[0], 1)], 1).double()
    b = torch.cat([(test_f - mu) / sd, torch.ones(test_f.shape[0], 1)], 1).double()
    onehot = F.one_hot(train_y, n_classes).double()
    gram = a.t() @ a + alpha * a.shape[0] * torch.eye(a.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(gram, a.t() @ onehot)
    return float(((b @ w).argmax(1) == test_y).double().mean())


def table_run(args):
    """One run of the randbits-table preset, end to end."""
    import numpy as np
    data_dir = os.environ.get("CONTRASTLAB_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    t_start = time.perf_counter()
    train_x = torch.from_numpy(load_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255)
    train_y = torch.from_numpy(load_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    test_x = torch.from_numpy(load_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255)
    test_y = torch.from_numpy(load_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    gen = torch.Generator().manual_seed(args.seed)
    bits = args.bits
    train_codes = torch.randint(0, 2, (train_x.shape[0], bits), generator=gen).float()
    test_codes = torch.randint(0, 2, (test_x.shape[0], bits), generator=gen).float()
    probe_train = torch.randperm(train_x.shape[0], generator=gen)[:5000]
    probe_test = torch.randperm(test_x.shape[0], generator=gen)[:5000]

    def with_bits(img, codes):
        planes = codes[:, :, None, None].expand(img.shape[0], bits, 28, 28)
        return torch.cat([img, planes], 1)

    model = build_model(1 + bits, 28, 28)
    kernels = [p for name, p in model.named_parameters() if p.dim() >= 2]
    others = [p for name, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.Adam([{"params": kernels, "weight_decay": 1e-4},
                            {"params": others, "weight_decay": 0.0}],
                           lr=args.lr, betas=(0.9, 0.999), eps=1e-7)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - s / args.steps)
    probe_seconds = 0.0
    accuracy = float("nan")

    def probe():
        model.eval()
        with torch.no_grad():
            feats = []
            for xs, cs, idx in ((train_x, train_codes, probe_train), (test_x, test_codes, probe_test)):
                out = []
                for i in range(0, idx.shape[0], 2 * args.batch):
                    j = idx[i:i + 2 * args.batch]
                    out.append(model[:13](with_bits(xs[j][:, None], cs[j])))  # up to y (after the representation ReLU)
                feats.append(torch.cat(out))
        model.train()
        return ridge_probe(feats[0], train_y[probe_train], feats[1], test_y[probe_test], 10)

    order = torch.randperm(train_x.shape[0], generator=gen)
    pos = 0
    t_train = time.perf_counter()
    for step in range(args.steps + 1):
        if step % args.probe_every == 0 or step == args.steps:
            t0 = time.perf_counter()
            accuracy = probe()
            probe_seconds += time.perf_counter() - t0
        if step == args.steps:
            break
        if pos + args.batch > order.shape[0]:
            order = torch.randperm(train_x.shape[0], generator=gen)
            pos = 0
        idx = order[pos:pos + args.batch]
        pos += args.batch
        img = train_x[idx][:, None]
        v1 = with_bits(random_resized_crop(img, 0.5, gen), train_codes[idx])
        v2 = with_bits(random_resized_crop(img, 0.5, gen), train_codes[idx])
        opt.zero_grad(set_to_none=True)
        loss = ntxent(model(torch.cat([v1, v2])), args.tau)
        loss.backward()
        opt.step()
        sched.step()
        if not torch.isfinite(loss):
            print("error loss is not finite at step %d" % step, flush=True)
            return 1
    t_end = time.perf_counter()
    print("table-run steps=%d seconds=%.1f train_seconds=%.1f probe_seconds=%.1f accuracy=%.4f threads=%d"
          % (args.steps, t_end - t_start, t_end - t_train - probe_seconds, probe_seconds, accuracy, args.threads),
          flush=True)
    return 0


def serve(step):
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] != "run" or len(words) != 2 or not words[1].isdigit() or int(words[1]) < 1:
            print("error expected 'run N' or 'quit', got %r" % line.strip(), flush=True)
            return 2
        n = int(words[1])
        t0 = time.perf_counter()
        for _ in range(n):
            loss = step()
        sec = (time.perf_counter() - t0) / n
        if not torch.isfinite(loss):
            print("error loss is not finite", flush=True)
            return 1
        print("time %.6f loss %.4f" % (sec, float(loss)), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=256, help="images per step (2x views)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10, help="steps per timed repetition")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before timing")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions (the median is reported)")
    ap.add_argument("--bits", type=int, default=8, help="constant 0/1 bit planes after the image planes")
    ap.add_argument("--planes", type=int, default=1, help="image planes")
    ap.add_argument("--size", type=int, default=28, help="input height and width")
    ap.add_argument("--arch", choices=("convn", "convn-same"), default="convn")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serve", action="store_true", help="answer 'run N' lines on stdin (for bench_step.c)")
    ap.add_argument("--table-run", action="store_true",
                    help="time one randbits-table run end to end (use with --bits 10 --batch 1000 --steps 600)")
    ap.add_argument("--tau", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--probe-every", type=int, default=200)
    args = ap.parse_args()
    if (args.batch < 2 or args.threads < 1 or args.steps < 1 or args.reps < 1 or args.warmup < 0
            or args.planes < 1 or args.bits < 0 or args.size < 15):
        ap.error("batch >= 2, threads >= 1, steps >= 1, reps >= 1, warmup >= 0, planes >= 1, bits >= 0, "
                 "size >= 15 expected")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.table_run:
        return table_run(args)
    in_channels = args.planes + args.bits
    n_views = 2 * args.batch
    size = args.size

    # Prepared views: random image planes plus per-image constant bit planes shared by both views.
    img = torch.rand(n_views, args.planes, size, size)
    codes = torch.randint(0, 2, (args.batch, args.bits), dtype=torch.float32)
    codes = torch.cat([codes, codes], dim=0)
    planes = codes[:, :, None, None].expand(n_views, args.bits, size, size)
    x = torch.cat([img, planes], dim=1).contiguous()

    model = build_model(in_channels, size, size, 1 if args.arch == "convn-same" else 0)
    model.train()
    kernels = [p for name, p in model.named_parameters() if p.dim() >= 2]
    others = [p for name, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.Adam([{"params": kernels, "weight_decay": 1e-4},
                            {"params": others, "weight_decay": 0.0}],
                           lr=1e-3, betas=(0.9, 0.999), eps=1e-7)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = ntxent(model(x), 0.1)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    if args.serve:
        return serve(step)
    times = []
    loss = None
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = step()
        times.append((time.perf_counter() - t0) / args.steps)
    sec = statistics.median(times)
    if not torch.isfinite(loss):
        print("torch_step: loss is not finite", file=sys.stderr)
        return 1
    print("torch arch=%s batch=%d threads=%d views_per_s=%.1f ms_per_step=%.2f min_ms_per_step=%.2f loss=%.4f"
          % (args.arch, args.batch, args.threads, n_views / sec, sec * 1e3, min(times) * 1e3, float(loss)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
