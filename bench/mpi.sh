#!/bin/sh
# Data parallelism on one machine: `emergent train` on the small config (6 layers, 384 wide,
# block 256, char-level Shakespeare, global batch 8 x 256 tokens) as 1 process x 2 threads
# against 2 ranks x 1 thread (mpirun), the same global batch: tokens/s (median over the
# steps after the first) and the seconds the ranks spent in the gradient allreduce.
#   BUILD        where emergent is (default build)
#   MPI_STEPS    steps per run (default 12)
set -u
cd "$(dirname "$0")/.." || exit 1
E=${BUILD:-build}/emergent
STEPS=${MPI_STEPS:-12}
if ! command -v mpirun >/dev/null 2>&1 || ! "$E" --version | grep -q '^mpi: .*MPI [0-9]'; then
    echo "bench mpi: skipped (needs mpirun and an emergent built with MPI: scripts/deps.sh mpi; make)"
    exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/emergent-mpi.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
A="--data data/tinyshakespeare.txt --n-layer 6 --n-head 6 --n-embd 384 --block-size 256
   --batch-size 8 --steps $STEPS --warmup 2 --log-every 1 --seed 1"
median_tps() {  # median tokens/s of the log's steps 2..
    sed -n 's/.*"step":\([0-9]*\),"loss".*"tok_per_s":\([0-9.]*\).*/\1 \2/p' "$1" |
        awk '$1 > 1 { print $2 }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
OMP_NUM_THREADS=2 "$E" train $A --out "$TMP/one" >"$TMP/one.out" 2>&1 || { cat "$TMP/one.out"; exit 1; }
OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np 2 "$E" train $A --out "$TMP/two" \
    >"$TMP/two.out" 2>&1 || { cat "$TMP/two.out"; exit 1; }
t1=$(median_tps "$TMP/one/log.jsonl")
t2=$(median_tps "$TMP/two/log.jsonl")
ar=$(sed -n 's/.*; \([0-9.]*\) s of \([0-9.]*\) s in the gradient allreduce/\1 \2/p' "$TMP/two.out")
params=$(sed -n 's/.*: \([0-9.]*M\) parameters/\1/p' "$TMP/one.out")
echo "bench mpi: small config ($params parameters, gradient $(awk "BEGIN { printf \"%.1f\", ${params%M} * 4 }") MB), $STEPS steps of 8 x 256 tokens"
echo "  1 process x 2 threads: $t1 tok/s"
echo "  2 ranks x 1 thread:    $t2 tok/s ($(awk "BEGIN { printf \"%.2f\", $t2 / $t1 }") x), allreduce ${ar% *} s of ${ar#* } s ($(awk "BEGIN { split(\"$ar\", a, \" \"); printf \"%.1f\", 100 * a[1] / a[2] }")%)"
echo "  last loss: 1 process $(sed -n "s/.*\"step\":$STEPS,\"loss\":\([0-9.]*\).*/\1/p" "$TMP/one/log.jsonl"), 2 ranks $(sed -n "s/.*\"step\":$STEPS,\"loss\":\([0-9.]*\).*/\1/p" "$TMP/two/log.jsonl")"
