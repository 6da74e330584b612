#!/bin/sh
# The benchmark (`make bench` builds, then runs this): emergent's training speed on three
# configs against the same model in PyTorch, and decoding speed against the memory-
# bandwidth bound. Writes bench/results/latest.json, prints a table and regenerates the
# README block between <!-- bench:begin --> and <!-- bench:end -->.
#
# Environment:
#   BUILD             where the binaries are (default build)
#   BENCH_CONFIGS     which configs (default "baby small gpt2")
#   BENCH_STEPS       timed steps for every config (default: baby 150, small 20, gpt2 10)
#   BENCH_WARMUP      untimed steps first (default 3)
#   BENCH_THREADS     threads for both engines (default 2)
#   BENCH_GEN_TOKENS  tokens decoded with the KV cache on gpt2 (default 64; 0: skip)
#   BENCH_PEER        0: skip PyTorch (default 1)
#   BENCH_PEER_PY     the Python that has torch (default /usr/bin/python3)
#   BENCH_PY          the Python for the report, json only (default: /usr/bin/python3, python3)
#   BENCH_TOKENIZER   0: skip GPT-2's tokenizer encoding speed (default 1)
#   BENCH_LOAD, BENCH_LADDER, BENCH_MPI  0: skip the load, ladder, MPI cases (default 1;
#                     the MPI case, bench/mpi.sh, says why it is skipped without mpirun)
#   BENCH_OUT         results folder (default bench/results)
#   BENCH_README      the README to regenerate (default README.md; empty: none)
#   BENCH_ISA         avx2 (make bench ISA=avx2): the peer runs OpenBLAS's AVX2 kernel too
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BIN=$BUILD/bench/bench_train
CONFIGS=${BENCH_CONFIGS:-baby small gpt2}
WARMUP=${BENCH_WARMUP:-3}
THREADS=${BENCH_THREADS:-2}
GEN=${BENCH_GEN_TOKENS:-64}
PEER=${BENCH_PEER:-1}
PEER_PY=${BENCH_PEER_PY:-/usr/bin/python3}
OUT=${BENCH_OUT:-bench/results}
README=${BENCH_README-README.md}

if [ ! -x "$BIN" ]; then
    echo "bench: $BIN is missing; run 'make bench' (it builds it)" >&2
    exit 1
fi
# any Python 3 does the report (json only); Debian's first, then whatever is on PATH
PY=""
for p in ${BENCH_PY:-/usr/bin/python3 python3 python}; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import json, sys; sys.exit(sys.version_info < (3, 6))' 2>/dev/null; then
        PY=$p; break
    fi
done
if [ -z "$PY" ]; then
    echo "bench: no python3 found for the report (the measurements need none)" >&2
fi

steps_for() {
    case $1 in baby) d=150;; small) d=20;; *) d=10;; esac
    echo "${BENCH_STEPS:-$d}"
}

mkdir -p "$OUT" || exit 1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/emergent-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# ---- the machine -----------------------------------------------------------------
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
[ -n "$cpu" ] || cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)
flags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
if echo " $flags " | grep -q ' avx512f '; then avx512=yes; else avx512=no; fi
ncpu=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
memkb=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
linked=$(ldd "$BIN" 2>/dev/null | grep -i -E 'blas|lapack' | awk '{print $3}' | tr '\n' ' ')
[ -n "$linked" ] || linked="none (the BLAS is loaded at run time)"
compiler=$(${CC:-gcc} --version 2>/dev/null | head -1)
started=$(date +%s)
echo "bench: $cpu, $ncpu CPUs, AVX-512 $avx512, $THREADS threads, fp32, AdamW, random tokens"
echo "bench: BLAS linked into $BIN: $linked"

# ---- the peer's environment: what a careful PyTorch user sets ------------------------
peer_ok=0
peer_note=""
if [ "$PEER" = 0 ]; then
    peer_note="skipped (BENCH_PEER=0)"
elif ! [ -x "$PEER_PY" ] && ! command -v "$PEER_PY" >/dev/null 2>&1; then
    peer_note="not installed: no $PEER_PY (Debian: apt-get install python3-torch)"
elif ! "$PEER_PY" -c 'import torch' >/dev/null 2>&1; then
    peer_note="not installed: $PEER_PY cannot import torch (Debian: apt-get install python3-torch)"
else
    peer_ok=1
fi
# the AVX-512 kernel where the CPU has it (Debian's OpenBLAS 0.3.21 does not know Zen 4
# and would take Haswell's); OpenMP threads that sleep instead of spinning against
# OpenBLAS's own; a heap that keeps its memory instead of mmap/munmap every step
peer_env="OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE"
peer_env="$peer_env MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=4294967296"
peer_env="$peer_env MALLOC_TOP_PAD_=67108864"
# (the AVX2 build, make bench ISA=avx2, stands for an AVX2 machine: both engines then run
# OpenBLAS's AVX2 kernel, Haswell)
if [ "${BENCH_ISA:-}" = avx2 ]; then
    peer_env="OPENBLAS_CORETYPE=Haswell $peer_env"
elif echo " $flags " | grep -q ' avx512f ' && echo " $flags " | grep -q ' avx512bw ' &&
   echo " $flags " | grep -q ' avx512vl ' && echo " $flags " | grep -q ' avx512dq '; then
    peer_env="OPENBLAS_CORETYPE=SkylakeX $peer_env"
fi
[ $peer_ok = 1 ] || echo "bench: PyTorch peer $peer_note; emergent's figures only"

# ---- the runs: each config in its own process, emergent then the peer -----------------
fail=0
for c in $CONFIGS; do
    n=$(steps_for "$c")
    gen=0
    [ "$c" = gpt2 ] && gen=$GEN
    echo
    OMP_NUM_THREADS=$THREADS "$BIN" --config "$c" --steps "$n" --warmup "$WARMUP" \
        --threads "$THREADS" --gen-tokens "$gen" --json "$TMP/emergent_$c.json"
    rc=$?
    if [ $rc != 0 ]; then
        echo "bench: bench_train --config $c failed (exit $rc)" >&2
        fail=1
    fi
    if [ $peer_ok = 1 ]; then
        echo "  pytorch: $c, $n steps after $WARMUP warm-up"
        # shellcheck disable=SC2086
        env $peer_env "$PEER_PY" bench/peer_torch.py --config "$c" --steps "$n" \
            --warmup "$WARMUP" --threads "$THREADS" --json "$TMP/peer_$c.json"
        rc=$?
        if [ $rc != 0 ]; then
            echo "bench: peer_torch.py --config $c failed (exit $rc)" >&2
            echo "{\"error\": \"exit $rc\"}" >"$TMP/peer_$c.json"
        fi
    fi
done
# ---- under load: the baby config beside one busy-loop process ---------------------------
# emergent's own wait policy (a short spin, GOMP_SPINCOUNT=300) against libgomp's default spin
# (GOMP_SPINCOUNT=300000 set by hand), each idle and with one other CPU-bound process.
if [ "${BENCH_LOAD:-1}" != 0 ]; then
    echo
    echo "load: baby, $THREADS threads, idle and beside one busy loop"
    for policy in short spin; do
        pe=""; [ $policy = spin ] && pe="GOMP_SPINCOUNT=300000"
        for state in idle busy; do
            bpid=""
            if [ $state = busy ]; then
                sh -c 'while :; do :; done' & bpid=$!
            fi
            # shellcheck disable=SC2086
            env $pe OMP_NUM_THREADS=$THREADS "$BIN" --config baby --steps "$(steps_for baby)" \
                --warmup "$WARMUP" --threads "$THREADS" --json "$TMP/load_${policy}_$state.json" \
                >"$TMP/load_${policy}_$state.txt" 2>&1 || fail=1
            [ -n "$bpid" ] && kill "$bpid" 2>/dev/null; wait "$bpid" 2>/dev/null
            echo "  $policy $state: $(grep 'tokens/s' "$TMP/load_${policy}_$state.txt" | head -1 | sed 's/^ *//')"
        done
    done
fi
# ---- the ladder: the main job's own speed (make demo's ladder, training and evaluation) --
if [ "${BENCH_LADDER:-1}" != 0 ] && [ -x "$BUILD/emergent" ]; then
    echo
    echo "ladder: ladders/addition-3.json (make demo's ladder) from scratch"
    t0=$(date +%s.%N)
    "$BUILD/emergent" ladder run ladders/addition-3.json --out "$TMP/ladder" >"$TMP/ladder.txt" 2>&1 || fail=1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "{\"wall_s\": %.2f}\n", b - a }' >"$TMP/ladder.json"
    echo "  $(tail -1 "$TMP/ladder.txt")"
fi
# ---- data parallelism: 2 ranks x 1 thread against 1 process x 2 threads (bench/mpi.sh) ----
if [ "${BENCH_MPI:-1}" != 0 ]; then
    echo
    BUILD=$BUILD sh bench/mpi.sh >"$TMP/mpi.txt" 2>&1 || fail=1
    cat "$TMP/mpi.txt"
fi
# ---- GPT-2's tokenizer: encoding speed on one core -------------------------------------
if [ "${BENCH_TOKENIZER:-1}" != 0 ]; then
    echo
    "$BUILD/bench/bench_tokenizer" --json "$TMP/tokenizer.json" || {
        echo "bench: bench_tokenizer failed" >&2; fail=1; }
fi
elapsed=$(( $(date +%s) - started ))
[ -n "$PY" ] || exit $fail

# ---- the report: latest.json, the tables, the README block ----------------------------
export B_CPU="$cpu" B_FLAGS="$flags" B_AVX512="$avx512" B_NCPU="$ncpu" B_MEMKB="$memkb" \
    B_LINKED="$linked" B_COMPILER="$compiler" B_THREADS="$THREADS" B_WARMUP="$WARMUP" \
    B_CONFIGS="$CONFIGS" B_PEER_OK="$peer_ok" B_PEER_NOTE="$peer_note" B_PEER_ENV="$peer_env" \
    B_PEER_PY="$PEER_PY" B_TMP="$TMP" B_OUT="$OUT" B_README="$README" B_ELAPSED="$elapsed"
"$PY" - <<'EOF' || fail=1
import datetime, json, os, platform, re

E = os.environ
configs = E["B_CONFIGS"].split()
GOAL_RATIO = {"baby": 2.0, "small": 1.4, "gpt2": 1.4}
GOAL_MFU = {"small": 0.75, "gpt2": 0.75}  # of the sgemm ceiling the bench measures
GOAL_RSS_GPT2 = 2.4 * 2**30
GOAL_GEN = 0.80


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


flags = E["B_FLAGS"].split()
res = {
    "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    "command": "make bench",
    "elapsed_s": int(E["B_ELAPSED"]),
    "machine": {
        "cpu": E["B_CPU"], "cpus_online": int(E["B_NCPU"] or 0),
        "memory_bytes": int(E["B_MEMKB"] or 0) * 1024, "avx512f": E["B_AVX512"] == "yes",
        "simd_flags": [f for f in flags if re.match(r"(sse4|avx|fma|amx|f16c)", f)],
        "cpu_flags": " ".join(flags), "os": platform.platform(), "compiler": E["B_COMPILER"],
        "blas_linked": E["B_LINKED"].strip(),
    },
    "settings": {"threads": int(E["B_THREADS"]), "warmup": int(E["B_WARMUP"]),
                 "dtype": "fp32", "optimizer": "AdamW", "data": "random tokens"},
    "peer": {"available": E["B_PEER_OK"] == "1", "note": E["B_PEER_NOTE"],
             "python": E["B_PEER_PY"], "env": dict(kv.split("=", 1) for kv in E["B_PEER_ENV"].split())},
    "goals": {"ratio": GOAL_RATIO, "mfu": GOAL_MFU, "gpt2_peak_rss_bytes": GOAL_RSS_GPT2,
              "generation_fraction_of_bound": GOAL_GEN},
    "configs": {},
}
gen = None
for c in configs:
    em = load(os.path.join(E["B_TMP"], f"emergent_{c}.json"))
    pt = load(os.path.join(E["B_TMP"], f"peer_{c}.json")) if res["peer"]["available"] else None
    entry = {"emergent": em, "pytorch": pt, "goal_ratio": GOAL_RATIO.get(c)}
    if em and pt and "tokens_per_s" in pt:
        entry["ratio"] = em["tokens_per_s"]["median"] / pt["tokens_per_s"]["median"]
        entry["ratio_met"] = entry["ratio"] >= GOAL_RATIO.get(c, 0)
    if em and c in GOAL_MFU:
        entry["mfu_met"] = em["mfu"] >= GOAL_MFU[c]
    if em and c == "gpt2":
        entry["peak_rss_met"] = em["peak_rss_bytes"] <= GOAL_RSS_GPT2
    if em and "generation" in em:
        gen = em.pop("generation")
        gen["config"] = c
        gen["met"] = gen["fraction_of_bound"] >= GOAL_GEN
    if em:
        res["machine"].setdefault("kernels", em.get("kernels"))
        res["machine"].setdefault("blas_loaded", em.get("blas"))
        res["settings"].setdefault("steps", {})[c] = em["steps"]
    if pt and "torch_version" in pt:
        res["peer"].setdefault("torch_version", pt["torch_version"])
        res["peer"].setdefault("blas", pt.get("blas"))
    res["configs"][c] = entry
res["generation"] = gen
res["tokenizer"] = load(os.path.join(E["B_TMP"], "tokenizer.json"))
ld = {}
for pol in ("short", "spin"):
    for st in ("idle", "busy"):
        j = load(os.path.join(E["B_TMP"], f"load_{pol}_{st}.json"))
        if j: ld[f"{pol}_{st}"] = j["tokens_per_s"]["median"]
lj = load(os.path.join(E["B_TMP"], "ladder.json"))
if lj and lj.get("wall_s"):
    import sqlite3
    db = sqlite3.connect(os.path.join(E["B_TMP"], "ladder", "registry.sqlite"))
    lj["flops"], lj["points"] = db.execute("select sum(flops), count(*) from runs").fetchone()
    db.close()
    lj["gflops_per_s"] = lj["flops"] / lj["wall_s"] / 1e9
    em = (res["configs"].get("baby") or {}).get("emergent") or {}
    ceil = ((em.get("sgemm_ceiling") or {}).get("large") or {}).get("gflops")
    if ceil: lj["fraction_of_sgemm_ceiling"] = lj["gflops_per_s"] / ceil
    lj["goal_fraction_of_sgemm_ceiling"] = 0.5
    res["ladder"] = lj
if ld:
    for pol in ("short", "spin"):
        if f"{pol}_idle" in ld and f"{pol}_busy" in ld:
            ld[f"{pol}_busy_over_idle"] = ld[f"{pol}_busy"] / ld[f"{pol}_idle"]
    ld["goal_busy_over_idle"] = 0.45
    res["load"] = ld
try:
    with open(os.path.join(E["B_TMP"], "mpi.txt")) as f:
        res["mpi"] = [l.rstrip("\n") for l in f if l.strip()]
except OSError:
    pass

out = os.path.join(E["B_OUT"], "latest.json")
with open(out + ".tmp", "w") as f:
    json.dump(res, f, indent=2)
    f.write("\n")
os.replace(out + ".tmp", out)


# ---- tables ---------------------------------------------------------------------------
def mib(b):
    return f"{b / 2**20:.0f} MiB" if b < 2**30 else f"{b / 2**30:.2f} GiB"


def main_rows():
    rows = []
    for c in configs:
        e = res["configs"][c]
        em, pt = e["emergent"], e["pytorch"]
        if not em:
            rows.append([c, "failed", "", "", "", "", "", ""])
            continue
        t = em["tokens_per_s"]
        ptt = (f"{pt['tokens_per_s']['median']:,.0f}" if pt and "tokens_per_s" in pt
               else ("failed" if pt else "n/a"))
        ratio = f"{e['ratio']:.2f}x" if "ratio" in e else "n/a"
        goal = f">= {e['goal_ratio']:.1f}x"
        if "ratio" in e:
            goal += " met" if e["ratio_met"] else " missed"
        rss = mib(em["peak_rss_bytes"])
        if "peak_rss_met" in e:
            rss += " (<= 2.4 GiB " + ("met" if e["peak_rss_met"] else "missed") + ")"
        mfu = f"{100 * em['mfu']:.1f}%"
        if "mfu_met" in e:
            mfu += f" (>= {100 * GOAL_MFU[c]:.0f}% " + ("met" if e["mfu_met"] else "missed") + ")"
        rows.append([c, f"{t['median']:,.0f} ({t['min']:,.0f}-{t['max']:,.0f})", ptt, ratio, goal,
                     f"{em['gflops']:.1f}", mfu, rss])
    return ["config", "emergent tok/s (min-max)", "PyTorch tok/s", "ratio", "goal",
            "GFLOP/s", "MFU", "peak RSS"], rows


def phase_rows():
    fams = ["matmul", "attention", "norm+activation", "head+loss"]
    rows = []
    for c in configs:
        em, pt = res["configs"][c]["emergent"], res["configs"][c]["pytorch"]
        if em:
            p, f = em["phase_ms"], em["family_ms"]
            # the ops other than the GEMMs: attention and norm+activation (LayerNorm, GELU,
            # residuals, embedding), as a share of the step
            ng = sum(f[k]["total"] for k in ("attention", "norm+activation") if k in f)
            share = f"{100 * ng / em['step_ms']['median']:.0f}%"
            if c == "baby":
                share += " (<= 25% " + ("met" if ng <= 0.25 * em["step_ms"]["median"] else "missed") + ")"
            rows.append([c, "emergent", f"{em['step_ms']['median']:.1f}", f"{p['forward']:.1f}",
                         f"{p['backward']:.1f}", f"{p['optimizer']:.1f}"] +
                        [f"{f[k]['total']:.1f}" if k in f else "" for k in fams] + [share])
        if pt and "phase_ms" in pt:
            p = pt["phase_ms"]
            rows.append([c, "PyTorch", f"{pt['step_ms']['median']:.1f}", f"{p['forward']:.1f}",
                         f"{p['backward']:.1f}", f"{p['optimizer']:.1f}", "", "", "", "", ""])
    return ["config", "engine", "step", "forward", "backward", "optimizer"] + fams + ["non-GEMM"], rows


def gen_rows():
    if not gen:
        return None, None
    g = gen
    return (["config", "tokens/s", "ms/token (median)", "bandwidth", "weights/token",
             "bound tok/s", "of bound", "goal"],
            [[g["config"], f"{g['tokens_per_s']:.2f}", f"{g['ms_per_token_median']:.1f}",
              f"{g['bandwidth_gbs']:.1f} GB/s", f"{g['weight_bytes_per_token'] / 1e6:.0f} MB",
              f"{g['bound_tokens_per_s']:.2f}", f"{100 * g['fraction_of_bound']:.0f}%",
              f">= {100 * GOAL_GEN:.0f}% " + ("met" if g["met"] else "missed")]])


def text_table(head, rows):
    w = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  ".join(str(x).rjust(w[i]) if i else str(x).ljust(w[i]) for i, x in enumerate(r))
    return "\n".join([line(head), "  ".join("-" * x for x in w)] + [line(r) for r in rows])


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return "\n".join(out + ["| " + " | ".join(str(x) for x in r) + " |" for r in rows])


m = res["machine"]
ceil = next((res["configs"][c]["emergent"]["sgemm_ceiling"]["large"]
             for c in configs if res["configs"][c]["emergent"]), None)
machine_line = (f"{m['cpu']}, {m['cpus_online']} CPUs, AVX-512 {'yes' if m['avx512f'] else 'no'}, "
                f"{m['memory_bytes'] / 2**30:.0f} GiB; {res['settings']['threads']} threads")
kern_line = m.get("kernels") or "?"
ceil_line = (f"sgemm ceiling {ceil['gflops']:.1f} GFLOP/s (matmul_forward "
             f"{'x'.join(map(str, ceil['shape_N_C_OC']))}, {res['settings']['threads']} threads)"
             if ceil else "")
p = res["peer"]
if p["available"]:
    b = p.get("blas") or {}
    peer_line = (f"PyTorch {p.get('torch_version', '?')} ({p['python']}), OpenBLAS kernel "
                 f"{b.get('openblas_core', '?')} ({b.get('openblas_threading', '?')}), env: "
                 + " ".join(f"{k}={v}" for k, v in p["env"].items()))
else:
    peer_line = f"PyTorch peer {p['note']}"
steps = ", ".join(f"{c} {n}" for c, n in res["settings"].get("steps", {}).items())

print()
print(f"machine: {machine_line}")
print(f"kernels: {kern_line}")
print(f"{ceil_line}")
print(f"peer:    {peer_line}")
print(f"steps:   {steps} timed after {res['settings']['warmup']} warm-up; tok/s is the median step")
print()
print(text_table(*main_rows()))
print("\nms/step: medians per phase; op families of forward + backward (emergent's profile)")
print(text_table(*phase_rows()))
gh, gr = gen_rows()
if gh:
    print("\ngeneration: KV cache, batch 1; bound = bandwidth / bytes of weights read per token")
    print(text_table(gh, gr))
tk = res["tokenizer"]
if tk:
    print(f"\ntokenizer: gpt2 encode on one core, {tk['text']}: {tk['mb_per_s_cold']:.1f} MB/s cold, "
          f"{tk['mb_per_s_warm']:.1f} MB/s warm; Unicode corpus {tk['unicode_mb_per_s_cold']:.1f} MB/s; "
          f"goal >= {tk['goal_mb_per_s']:.0f} MB/s: {'met' if tk['met'] else 'NOT met'}")
if res.get("load"):
    ld = res["load"]
    def f(k): return f"{ld[k]:,.0f}" if k in ld else "-"
    def r(k): return f"{ld[k]:.2f}" if k in ld else "-"
    print(f"\nload: baby tok/s, idle and beside one busy loop (goal: busy >= 45% of idle, no variable set)")
    print(f"  emergent's policy (short spin):    {f('short_idle')} idle, {f('short_busy')} busy: {r('short_busy_over_idle')}")
    print(f"  libgomp's default spin:            {f('spin_idle')} idle, {f('spin_busy')} busy: {r('spin_busy_over_idle')}")
if res.get("ladder"):
    lj = res["ladder"]
    fr = f", {100 * lj['fraction_of_sgemm_ceiling']:.0f}% of the sgemm ceiling" if "fraction_of_sgemm_ceiling" in lj else ""
    print(f"\nladder: make demo's ladder, {lj['flops']:.3g} training FLOPs in {lj['wall_s']:.0f} s wall "
          f"(training and evaluation): {lj['gflops_per_s']:.1f} GFLOP/s{fr} (goal: 50%)")
if res.get("mpi"):
    print("\n" + "\n".join(res["mpi"]))
print(f"\nbench: wrote {out} ({res['elapsed_s']} s)")

readme = E["B_README"]
if readme:
    md = [
        "<!-- bench:begin -->",
        f"Generated by `make bench` on {res['date'][:10]}; do not edit by hand "
        "([bench/README.md](bench/README.md) says what is measured and how).",
        "",
        f"Machine: {machine_line}. Kernels: {kern_line}. {ceil_line}.",
        f"Peer: {peer_line}.",
        f"fp32, AdamW, random tokens; steps: {steps} timed after {res['settings']['warmup']} warm-up.",
        "",
        md_table(*main_rows()),
        "",
        "ms per step (median per phase; op families of forward + backward):",
        "",
        md_table(*phase_rows()),
    ]
    if gh:
        md += ["", "Generation (KV cache, batch 1; bound = measured read bandwidth / bytes of "
               "weights per token):", "", md_table(gh, gr)]
    if res.get("load"):
        ld = res["load"]
        if "short_busy_over_idle" in ld:
            md += ["", f"Under load (baby beside one busy loop, no variable set): {ld['short_busy']:,.0f} "
                   f"of {ld['short_idle']:,.0f} tok/s idle, {ld['short_busy_over_idle']:.2f} (goal >= 0.45: "
                   + ("met" if ld["short_busy_over_idle"] >= 0.45 else "missed") + ")."]
    if res.get("ladder") and "fraction_of_sgemm_ceiling" in res["ladder"]:
        lj = res["ladder"]
        md += ["", f"The main job (make demo's ladder, training and evaluation): {lj['flops']:.3g} FLOPs in "
               f"{lj['wall_s']:.0f} s, {lj['gflops_per_s']:.1f} GFLOP/s, "
               f"{100 * lj['fraction_of_sgemm_ceiling']:.0f}% of the sgemm ceiling (goal 50%: "
               + ("met" if lj["fraction_of_sgemm_ceiling"] >= 0.5 else "missed") + ")."]
    if res.get("mpi"):
        md += ["", "Data parallelism (`bench/mpi.sh`):", "", "```"] + res["mpi"] + ["```"]
    md += ["", f"Every figure: [{out}]({out}).", "<!-- bench:end -->"]
    block = "\n".join(md)
    try:
        with open(readme) as f:
            text = f.read()
    except OSError:
        text = ""
    a, z = text.find("<!-- bench:begin -->"), text.find("<!-- bench:end -->")
    if a >= 0 and z > a:
        text = text[:a] + block + text[z + len("<!-- bench:end -->"):]
    else:
        text = text.rstrip("\n") + "\n\n## Speed\n\n" + block + "\n"
    with open(readme + ".tmp", "w") as f:
        f.write(text)
    os.replace(readme + ".tmp", readme)
    print(f"bench: regenerated the Speed block of {readme}")
EOF
exit $fail
