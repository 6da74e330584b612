#!/usr/bin/env python3
"""A model of data-parallel training on N machines, for the presets gpt2 .. gpt2-xl.

Per optimizer step every rank sends and receives the float32 gradient in a ring allreduce:
    bytes = 4 P,   t_allreduce(N) = 2 (N-1)/N * bytes / bw + 2 (N-1) * latency
and computes its 1/N of the global batch:
    t_compute(N) = G * flops_per_token / (N * F)
with G the global batch in tokens (GPT-2's recipe: 480 x 1024 = 491,520), flops_per_token
from `emergent params` (PaLM's 6N + attention) and F one machine's training FLOP/s, measured
by `make bench` on the gpt2 config (bench/results/latest.json). emergent allreduces once,
after the backward pass (no overlap), so the scaling efficiency is
    e(N) = t_compute(N) / (t_compute(N) + t_allreduce(N))
and the table gives the largest N (at most one sequence per rank: N <= 480; "(all)" when
every N up to that bound keeps e >= 0.8) with its efficiency and step time.

usage: bench/mpi_model.py [--emergent build/emergent] [--flops F] [--readme README.md]
"""
import argparse, json, os, re, subprocess, sys

PRESETS = ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"]
GLOBAL_SEQS, SEQ = 480, 1024
BANDWIDTHS = [("10 Gb/s", 10e9 / 8), ("100 Gb/s", 100e9 / 8)]
LATENCY = 20e-6


def measured_flops(path):
    d = json.load(open(path))
    e = d["configs"]["gpt2"]["emergent"]
    return e["tokens_per_s"]["median"] * e["flops_per_token"], d.get("machine", {}).get("cpu", "?")


def efficiency(n, t1, ar_bytes, bw):
    tc = t1 / n
    ta = 2 * (n - 1) / n * ar_bytes / bw + 2 * (n - 1) * LATENCY
    return tc / (tc + ta), tc, ta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emergent", default="build/emergent")
    ap.add_argument("--flops", type=float, default=0, help="one machine's training FLOP/s")
    ap.add_argument("--results", default="bench/results/latest.json")
    ap.add_argument("--readme", default="")
    a = ap.parse_args()
    src = "--flops"
    F = a.flops
    if F <= 0:
        F, cpu = measured_flops(a.results)
        src = "make bench, gpt2 config, %s" % cpu
    G = GLOBAL_SEQS * SEQ
    lines = ["One machine: %.1f GFLOP/s of training (%s); global batch %d x %d tokens; ring "
             "allreduce, %g us latency per hop, no overlap." % (F / 1e9, src, GLOBAL_SEQS, SEQ,
                                                               LATENCY * 1e6), "",
             "| preset | parameters | gradient per step | step on 1 machine | " +
             " | ".join("allreduce at %s | largest N at >= 80%%" % b for b, _ in BANDWIDTHS) + " |",
             "|---|---:|---:|---:|" + "---:|---:|" * len(BANDWIDTHS)]
    for p in PRESETS:
        j = json.loads(subprocess.run([a.emergent, "params", "--preset", p, "--json"],
                                      check=True, capture_output=True, text=True).stdout)
        P, fpt = j["n_params"], j["flops_per_token"]["train"]
        t1 = G * fpt / F
        row = "| %s | %.0fM | %.0f MB | %.0f s |" % (p, P / 1e6, 4 * P / 1e6, t1)
        for _, bw in BANDWIDTHS:
            best = 1
            for n in range(2, GLOBAL_SEQS + 1):
                if efficiency(n, t1, 4 * P, bw)[0] >= 0.8:
                    best = n
            e, tc, ta = efficiency(max(best, 2), t1, 4 * P, bw)
            row += " %.2f s | %d%s (%.0f%%, %.1f s/step) |" % (
                ta, best, " (all)" if best == GLOBAL_SEQS else "", 100 * e, tc + ta)
        lines.append(row)
    text = "\n".join(lines)
    print(text)
    if a.readme:
        r = open(a.readme).read()
        new = re.sub(r"(<!-- mpi-model:begin -->\n).*?(<!-- mpi-model:end -->)",
                     lambda m: m.group(1) + text + "\n" + m.group(2), r, flags=re.S)
        if new == r and "<!-- mpi-model:begin -->" not in r:
            sys.exit("%s: no <!-- mpi-model:begin --> block" % a.readme)
        tmp = a.readme + ".tmp"
        with open(tmp, "w") as f:
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, a.readme)


if __name__ == "__main__":
    main()
