#!/usr/bin/python3
"""Builds the tables of docs/agreement.md from the committed results files.

    /usr/bin/python3 tests/reference/agreement_table.py

reads tests/reference/randbits_engine_results.txt (tests/reference/randbits_engine, the C engine)
and tests/reference/randbits_ref_results.txt (tests/reference/randbits_ref.py, PyTorch) and prints
markdown: the side-by-side class-probe accuracy per cell (mean +- sample std over the seeds run, and
how many), the agreement verdict (|difference of means| <= max(0.03, 2 std)), and the
ridge-vs-logistic table on the same frozen features. When
tests/reference/randbits_engine_rerun_results.txt exists (engine runs of a later build, same
command), a last table sets each rerun beside the run of the same cell and seed in the main file.
"""
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CELLS = [(0, 0.05), (5, 0.2), (5, 0.1), (10, 0.1), (15, 0.05)]


def read(path):
    rows = []
    if not os.path.exists(path):
        return rows
    for line in open(path):
        words = line.split()
        if len(words) < 2:
            continue
        kv = dict(w.split("=", 1) for w in words[1:])
        rows.append({k: (float(v) if k not in ("bits", "seed", "batch", "steps") else int(v)) for k, v in kv.items()})
    return rows


def stats(rows, bits, tau, key):
    vals = [r[key] for r in rows if r["bits"] == bits and abs(r["tau"] - tau) < 1e-9]
    if not vals:
        return None
    mean = statistics.fmean(vals)
    std = statistics.stdev(vals) if len(vals) > 1 else float("nan")
    return mean, std, len(vals)


def fmt(s):
    if s is None:
        return "not run"
    mean, std, n = s
    return "%.3f ± %.3f (%d)" % (mean, std, n) if n > 1 else "%.3f (1)" % mean


def main():
    eng = read(os.path.join(HERE, "randbits_engine_results.txt"))
    ref = read(os.path.join(HERE, "randbits_ref_results.txt"))
    out = sys.stdout
    out.write("| bits | τ | ContrastLab (C) | PyTorch reference | difference | within max(0.03, 2σ)? |"
              " untrained C | untrained PyTorch |\n|---|---|---|---|---|---|---|---|\n")
    for bits, tau in CELLS:
        e, r = stats(eng, bits, tau, "logistic"), stats(ref, bits, tau, "logistic")
        eu, ru = stats(eng, bits, tau, "untrained_logistic"), stats(ref, bits, tau, "untrained_logistic")
        if e and r:
            diff = e[0] - r[0]
            sig = max(s for s in (e[1], r[1]) if s == s) if (e[2] > 1 or r[2] > 1) else 0.0
            lim = max(0.03, 2 * sig)
            verdict = ("yes" if abs(diff) <= lim else "**no**") + ("" if e[2] > 1 and r[2] > 1 else " (too few seeds to tell σ)")
            d = "%+.3f" % diff
        else:
            d, verdict = "–", "–"
        out.write("| %d | %g | %s | %s | %s | %s | %s | %s |\n" % (bits, tau, fmt(e), fmt(r), d, verdict, fmt(eu), fmt(ru)))
    out.write("\n| bits | τ | implementation | logistic | ridge | logistic − ridge | untrained logistic | untrained ridge |\n"
              "|---|---|---|---|---|---|---|---|\n")
    for bits, tau in CELLS:
        for name, rows in (("C", eng), ("PyTorch", ref)):
            lg, rd = stats(rows, bits, tau, "logistic"), stats(rows, bits, tau, "ridge")
            if not lg:
                continue
            gaps = [r["logistic"] - r["ridge"] for r in rows if r["bits"] == bits and abs(r["tau"] - tau) < 1e-9]
            gap = "%+.3f" % statistics.fmean(gaps)
            out.write("| %d | %g | %s | %s | %s | %s | %s | %s |\n"
                      % (bits, tau, name, fmt(lg), fmt(rd), gap, fmt(stats(rows, bits, tau, "untrained_logistic")),
                         fmt(stats(rows, bits, tau, "untrained_ridge"))))

    rerun = read(os.path.join(HERE, "randbits_engine_rerun_results.txt"))
    if rerun:
        out.write("\n| bits | τ | seed | logistic then | logistic now | untrained then | untrained now | loss then | loss now |\n"
                  "|---|---|---|---|---|---|---|---|---|\n")
        for r in rerun:
            old = next((e for e in eng if e["bits"] == r["bits"] and abs(e["tau"] - r["tau"]) < 1e-9
                        and e["seed"] == r["seed"]), None)
            if not old:
                continue
            out.write("| %d | %g | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n"
                      % (r["bits"], r["tau"], r["seed"], old["logistic"], r["logistic"], old["untrained_logistic"],
                         r["untrained_logistic"], old["loss"], r["loss"]))


if __name__ == "__main__":
    main()
