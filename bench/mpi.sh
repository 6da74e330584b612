#!/bin/sh
# Data parallelism on one machine: `emergent train` as 1 process x 2 threads against 2 ranks
# x 1 thread (mpirun), the same global batch, with the gradient summed in buckets that start
# during backward (EMERGENT_ALLREDUCE=bucketed) and in one allreduce after backward (the default).
# Two configs: small (6 layers, 384 wide, block 256, char-level Shakespeare, 8 x 256 tokens)
# and gpt2 (12 layers, 768 wide, 12 heads, block 64, GPT-2's tokenizer and 50257 vocab, 4 x 64
# tokens: 124M parameters, 495 MB of gradient). Per run: tokens/s (median over the steps
# after the first), the seconds in the gradient sum's MPI calls, the part of them after
# backward (exposed), and the share overlapped (1 - exposed / total).
#   BUILD        where emergent is (default build)
#   MPI_STEPS    steps per run of small (default 8); gpt2 runs half as many (at least 3)
#   EMERGENT_BUCKET_MB  the bucket size (default 25)
set -u
cd "$(dirname "$0")/.." || exit 1
E=${BUILD:-build}/emergent
STEPS=${MPI_STEPS:-8}
GSTEPS=$((STEPS / 2 > 3 ? STEPS / 2 : 3))
if ! command -v mpirun >/dev/null 2>&1 || ! "$E" --version | grep -q '^mpi: .*MPI [0-9]'; then
    echo "bench mpi: skipped (needs mpirun and an emergent built with MPI: scripts/deps.sh mpi; make)"
    exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/emergent-mpi.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
MPI="mpirun --allow-run-as-root --oversubscribe -np 2"
median_tps() {  # median tokens/s of the log's steps 2..
    sed -n 's/.*"step":\([0-9]*\),"loss".*"tok_per_s":\([0-9.]*\).*/\1 \2/p' "$1" |
        awk '$1 > 1 { print $2 }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
last_loss() { sed -n 's/.*"step":\([0-9]*\),"loss":\([0-9.]*\).*/\2/p' "$1" | tail -1; }
# comm OUT: "total exposed overlap%" from the end line
comm() { sed -n 's/.*; \([0-9.]*\) s of [0-9.]* s in the gradient allreduce, \([0-9.]*\) s of it after backward (\([0-9]*\)% overlapped)/\1 \2 \3/p' "$1"; }

bench() {  # NAME STEPS ARGS...
    name=$1 steps=$2; shift 2
    A="$* --steps $steps --warmup 1 --log-every 1 --eval-every 0 --seed 1"
    d="$TMP/$name"
    OMP_NUM_THREADS=2 "$E" train $A --out "$d.one" >"$d.one.out" 2>&1 || { cat "$d.one.out"; exit 1; }
    EMERGENT_ALLREDUCE=bucketed OMP_NUM_THREADS=1 $MPI "$E" train $A --out "$d.bkt" >"$d.bkt.out" 2>&1 || { cat "$d.bkt.out"; exit 1; }
    EMERGENT_ALLREDUCE=single OMP_NUM_THREADS=1 $MPI "$E" train $A --out "$d.single" \
        >"$d.single.out" 2>&1 || { cat "$d.single.out"; exit 1; }
    t1=$(median_tps "$d.one/log.jsonl")
    params=$(sed -n 's/.*: \([0-9.]*M\) parameters/\1/p' "$d.one.out")
    echo "bench mpi: $name ($params parameters, gradient $(awk "BEGIN { printf \"%.0f\", ${params%M} * 4 }") MB), $steps steps"
    echo "  1 process x 2 threads:        $t1 tok/s, last loss $(last_loss "$d.one/log.jsonl")"
    for r in bkt single; do
        t=$(median_tps "$d.$r/log.jsonl")
        set -- $(comm "$d.$r.out")
        [ $r = bkt ] && what="buckets (${EMERGENT_BUCKET_MB:-25} MB)" || what="single allreduce  "
        printf "  2 ranks x 1 thread, %s: %s tok/s (%.2f x), allreduce %s s, exposed %s s, %s%% overlapped, last loss %s\n" \
            "$what" "$t" "$(awk "BEGIN { print $t / $t1 }")" "$1" "$2" "$3" "$(last_loss "$d.$r/log.jsonl")"
    done
}
bench small "$STEPS" --data data/tinyshakespeare.txt --n-layer 6 --n-head 6 --n-embd 384 \
    --block-size 256 --batch-size 8
bench gpt2 "$GSTEPS" --data data/tinyshakespeare.txt --tokenizer gpt2 --n-layer 12 --n-head 12 \
    --n-embd 768 --block-size 64 --batch-size 4
