#!/bin/sh
# Data-parallel training over MPI: 2 ranks train the model one process trains on the same
# global batch (the same loss curve, to a float tolerance), keep identical parameters, write
# from rank 0 alone, resume with a different number of ranks, and report an error once.
#
# Tolerance: the ranks see exactly the sequences one process sees, but the gradient is summed
# in another order (each rank's share, then the allreduce, against one running sum), so the
# float32 gradients differ in their last bits (about 1e-7 relative) and the weights drift
# apart by as much over the steps. Losses (6 decimals in the log) must agree within 1e-4 and
# gradient norms within 1e-3 relative: far above that rounding, far below what a wrong shard
# (another batch: a loss off by ~1e-2) or a double-counted gradient (twice the norm) gives.
. "$(dirname "$0")/lib/cli.sh"
mpi_setup cli_mpi
cli_tmp

i=0
while [ $i -lt 300 ]; do
    echo "To be, or not to be, that is the question: line $((i % 23))."; i=$((i + 1))
done >"$tmp/corpus.txt"

# same_curve A B: every record of log A has its twin in log B (same steps, same kinds), with
# losses within 1e-4 and gradient norms within 1e-3 relative; prints the largest differences
same_curve() {
    awk -F'[{}:,]' '
        function num(key,   i) { for (i = 1; i < NF; i++) if ($i == "\"" key "\"") return $(i + 1); return "" }
        FNR == 1 { f++ }
        { k = num("step") (num("loss") != "" ? "s" : "e") }
        f == 1 { n++; L[k] = num("loss") num("train_loss"); V[k] = num("val_loss"); G[k] = num("grad_norm"); next }
        { m++
          if (!(k in L)) { bad = 1; next }
          d = L[k] - num("loss") - num("train_loss"); if (d < 0) d = -d; if (d > dl) dl = d
          if (V[k] != "") { d = V[k] - num("val_loss"); if (d < 0) d = -d; if (d > dl) dl = d }
          if (G[k] != "") { d = (G[k] - num("grad_norm")) / G[k]; if (d < 0) d = -d; if (d > dg) dg = d } }
        END { printf "%d vs %d records, max |d loss| %.2g, max rel d norm %.2g", n, m, dl, dg
              exit !(n == m && n > 0 && !bad && dl <= 1e-4 && dg <= 1e-3) }' "$1" "$2"
}

# 1. 2 micro-batches of 4 sequences: one micro-batch per rank
T="--data $tmp/corpus.txt --n-layer 2 --n-head 2 --n-embd 16 --block-size 16 --batch-size 4
   --grad-accum 2 --steps 24 --warmup 4 --lr 3e-3 --eval-every 8 --eval-iters 2 --log-every 1 --seed 7"
"$E" train $T --out "$tmp/one" >"$tmp/one.out" 2>&1 || bad "1 process: $(cat "$tmp/one.out")"
$MPI "$E" train $T --out "$tmp/two" >"$tmp/two.out" 2>&1 || bad "2 ranks: $(cat "$tmp/two.out")"
if d=$(same_curve "$tmp/one/log.jsonl" "$tmp/two/log.jsonl"); then ok "2 ranks = 1 process, 2 x 4 sequences ($d)"
else bad "2 ranks differ from 1 process: $d"; fi
for s in 1 24; do
    echo "   step $s loss: 1 process $(sed -n "s/.*\"step\":$s,\"loss\":\([0-9.]*\).*/\1/p" "$tmp/one/log.jsonl")," \
         "2 ranks $(sed -n "s/.*\"step\":$s,\"loss\":\([0-9.]*\).*/\1/p" "$tmp/two/log.jsonl")"
done
grep -q 'x 2 ranks' "$tmp/two.out" && ok "the plan names the 2 ranks" || bad "plan: $(cat "$tmp/two.out")"
n=$(grep -c '^done in' "$tmp/two.out")
[ "$n" = 1 ] && ok "rank 0 alone prints" || bad "'done' printed $n times: $(cat "$tmp/two.out")"
dig=$(sed -n 's/^ranks: 2, the same parameters on every rank (digest \([0-9a-f]*\)).*/\1/p' "$tmp/two.out")
sdig=$(head -c 4000 "$tmp/two/state.safetensors" | tr ',' '\n' | sed -n 's/.*"model_digest":"\([0-9a-f]*\)".*/\1/p')
[ -n "$dig" ] && [ "$dig" = "$sdig" ] && ok "both ranks end with the parameters saved (digest $dig)" \
    || bad "rank digests: '$dig', saved model's: '$sdig'"

# 2. one micro-batch of 3 sequences of a masked task mixture: ranks split a micro-batch
M="--task add:2@0.5,file:$tmp/corpus.txt@0.5 --n-layer 1 --n-head 2 --n-embd 16 --block-size 16
   --batch-size 3 --steps 16 --warmup 2 --log-every 1 --seed 3"
"$E" train $M --out "$tmp/m1" >"$tmp/m1.out" 2>&1 || bad "1 process (task): $(cat "$tmp/m1.out")"
$MPI "$E" train $M --out "$tmp/m2" >"$tmp/m2.out" 2>&1 || bad "2 ranks (task): $(cat "$tmp/m2.out")"
if d=$(same_curve "$tmp/m1/log.jsonl" "$tmp/m2/log.jsonl"); then ok "2 ranks = 1 process, 1 x 3 masked sequences split 1 + 2 ($d)"
else bad "split micro-batch differs: $d"; fi

# 3. resumed with another number of ranks: the same curve as run 1
$MPI "$E" train $T --out "$tmp/r21" --stop-after 10 >/dev/null 2>&1 \
    && "$E" train --resume "$tmp/r21" >"$tmp/r21.out" 2>&1 || bad "2 ranks, then 1: $(cat "$tmp/r21.out")"
if d=$(same_curve "$tmp/one/log.jsonl" "$tmp/r21/log.jsonl"); then ok "2 ranks to step 10, resumed by 1 process ($d)"
else bad "2 -> 1 resume differs: $d"; fi
"$E" train $T --out "$tmp/r12" --stop-after 10 >/dev/null 2>&1 \
    && $MPI "$E" train --resume "$tmp/r12" >"$tmp/r12.out" 2>&1 || bad "1 process, then 2 ranks: $(cat "$tmp/r12.out")"
if d=$(same_curve "$tmp/one/log.jsonl" "$tmp/r12/log.jsonl"); then ok "1 process to step 10, resumed by 2 ranks ($d)"
else bad "1 -> 2 resume differs: $d"; fi
ls "$tmp"/two/*.tmp "$tmp"/r12/*.tmp >/dev/null 2>&1 && bad "temporary files left" || ok "no temporary files left"

# 4. an error every rank meets is printed once, and the run fails
$MPI "$E" train --data "$tmp/nope.txt" --out "$tmp/x" >"$tmp/x.out" 2>&1; rc=$?
n=$(grep -c 'nope.txt' "$tmp/x.out")
[ $rc != 0 ] && [ "$n" = 1 ] && ok "a missing data file: exit $rc, the error printed once" \
    || bad "missing file over 2 ranks (exit $rc, $n mentions): $(cat "$tmp/x.out")"

# 5. the gradient sum in buckets that start during backward (EMERGENT_ALLREDUCE=bucketed)
# against one sum after backward (the default, also named: EMERGENT_ALLREDUCE=single): over 2 ranks each float is a + b either way, so
# the runs must be bit-identical (tolerance 0: the same parameter digest, the same logged
# losses and norms); against 1 process, the tolerance of test 1. 3 layers; bucket sizes: a
# bucket per layer (0), two layers to a bucket (0.02 MB: a layer is 13 kB), and the default
# 25 MB (one bucket). Grad-accum 2 (one micro-batch per rank), and grad-accum 3 of 2
# sequences (each rank accumulates a micro-batch and a split one before its last backward).
digest() { sed -n 's/^ranks: 2, the same parameters on every rank (digest \([0-9a-f]*\)).*/\1/p' "$1"; }
nolog_tps() { sed 's/,"tok_per_s":[0-9.]*//' "$1"; }
for acc in 2 3; do
    [ $acc = 2 ] && bs=4 || bs=2
    K="--data $tmp/corpus.txt --n-layer 3 --n-head 2 --n-embd 16 --block-size 16 --batch-size $bs
       --grad-accum $acc --steps 12 --warmup 2 --lr 3e-3 --eval-every 6 --eval-iters 2 --log-every 1 --seed 5"
    "$E" train $K --out "$tmp/k1_$acc" >"$tmp/k1_$acc.out" 2>&1 || bad "1 process (accum $acc): $(cat "$tmp/k1_$acc.out")"
    EMERGENT_ALLREDUCE=single $MPI "$E" train $K --out "$tmp/ks_$acc" >"$tmp/ks_$acc.out" 2>&1 \
        || bad "2 ranks, single (accum $acc): $(cat "$tmp/ks_$acc.out")"
    grep -q 'in the gradient allreduce, [0-9.]* s of it after backward (0% overlapped)' "$tmp/ks_$acc.out" \
        && ok "accum $acc, single allreduce: all of it after backward (0% overlapped)" \
        || bad "single allreduce's end line: $(tail -2 "$tmp/ks_$acc.out")"
    sdig=$(digest "$tmp/ks_$acc.out")
    for mb in 0 0.02 ""; do
        o="$tmp/kb_${acc}_$mb"
        EMERGENT_ALLREDUCE=bucketed EMERGENT_BUCKET_MB=$mb $MPI "$E" train $K --out "$o" >"$o.out" 2>&1 \
            || bad "2 ranks, buckets of '${mb:-25}' MB (accum $acc): $(cat "$o.out")"
        bdig=$(digest "$o.out")
        if [ -n "$bdig" ] && [ "$bdig" = "$sdig" ] && nolog_tps "$o/log.jsonl" >"$o.a" \
           && nolog_tps "$tmp/ks_$acc/log.jsonl" >"$o.b" && cmp -s "$o.a" "$o.b"; then
            ok "accum $acc, buckets of ${mb:-25 (default)} MB: bit-identical to the single allreduce (digest $bdig)"
        else bad "accum $acc, buckets of '${mb:-25}' MB differ from the single allreduce: digests '$bdig' '$sdig'"; fi
        if d=$(same_curve "$tmp/k1_$acc/log.jsonl" "$o/log.jsonl"); then ok "  and = 1 process ($d)"
        else bad "accum $acc, buckets of '${mb:-25}' MB differ from 1 process: $d"; fi
        grep -q 'in the gradient allreduce, [0-9.]* s of it after backward ([0-9]*% overlapped)' "$o.out" \
            || bad "the end line has no overlap: $(tail -2 "$o.out")"
    done
done
echo "   $(sed -n 's/.*; \([0-9.]* s of [0-9.]* s in the gradient allreduce.*\)/\1/p' "$tmp/kb_3_0.out") (buckets per layer)"

# 6. a bad choice of the gradient sum: one error, naming the variable
EMERGENT_ALLREDUCE=ring $MPI "$E" train $K --out "$tmp/kx" >"$tmp/kx.out" 2>&1; rc=$?
n=$(grep -c 'EMERGENT_ALLREDUCE' "$tmp/kx.out")
[ $rc != 0 ] && [ "$n" = 1 ] && ok "EMERGENT_ALLREDUCE=ring: exit $rc, the error printed once" \
    || bad "EMERGENT_ALLREDUCE=ring (exit $rc, $n mentions): $(cat "$tmp/kx.out")"
EMERGENT_BUCKET_MB=-1 $MPI "$E" train $K --out "$tmp/ky" >"$tmp/ky.out" 2>&1; rc=$?
n=$(grep -c 'EMERGENT_BUCKET_MB' "$tmp/ky.out")
[ $rc != 0 ] && [ "$n" = 1 ] && ok "EMERGENT_BUCKET_MB=-1: exit $rc, the error printed once" \
    || bad "EMERGENT_BUCKET_MB=-1 (exit $rc, $n mentions): $(cat "$tmp/ky.out")"

[ $fail = 0 ] && echo "cli_mpi: all passed"
exit $fail
