#!/usr/bin/python3
"""PyTorch reference for tests/bench_step.c: times one ConvN training step.

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
"""
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
    args = ap.parse_args()
    if (args.batch < 2 or args.threads < 1 or args.steps < 1 or args.reps < 1 or args.warmup < 0
            or args.planes < 1 or args.bits < 0 or args.size < 15):
        ap.error("batch >= 2, threads >= 1, steps >= 1, reps >= 1, warmup >= 0, planes >= 1, bits >= 0, "
                 "size >= 15 expected")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
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
