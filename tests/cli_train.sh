#!/bin/sh
# End to end: train, stop, resume (bit-identical to an uninterrupted run), generate,
# info, and the errors a user meets (bad flags, missing or broken files).
. "$(dirname "$0")/lib/cli.sh"
cli_tmp

i=0
while [ $i -lt 300 ]; do
    echo "To be, or not to be, that is the question: line $((i % 23))."; i=$((i + 1))
done >"$tmp/corpus.txt"
T="--data $tmp/corpus.txt --n-layer 2 --n-head 2 --n-embd 16 --block-size 16 --batch-size 4
   --steps 24 --warmup 4 --lr 3e-3 --eval-every 8 --eval-iters 2 --log-every 1 --seed 7"

# uninterrupted
"$E" train $T --out "$tmp/a" >"$tmp/a.out" 2>&1 || bad "train: $(cat "$tmp/a.out")"
for f in model.safetensors state.safetensors log.jsonl; do
    [ -f "$tmp/a/$f" ] && ok "train wrote $f" || bad "train did not write $f"
done
grep -q 'ETA' "$tmp/a.out" && grep -q 'tok/s' "$tmp/a.out" && grep -q 'val loss' "$tmp/a.out" \
    && ok "progress lines show tok/s, ETA and val loss" || bad "progress: $(cat "$tmp/a.out")"
first=$(sed -n 's/.*"step":1,"loss":\([0-9.]*\).*/\1/p' "$tmp/a/log.jsonl")
last=$(sed -n 's/.*"step":24,"loss":\([0-9.]*\).*/\1/p' "$tmp/a/log.jsonl")
awk "BEGIN { exit !($last < $first - 0.3) }" && ok "loss falls ($first -> $last)" \
    || bad "loss did not fall: $first -> $last"

# stopped at 10, resumed to 24: the same log, line for line (tokens/s aside)
"$E" train $T --out "$tmp/b" --stop-after 10 >"$tmp/b.out" 2>&1 || bad "stop-after: $(cat "$tmp/b.out")"
grep -q 'stopped at step 10' "$tmp/b.out" && ok "--stop-after stops and says how to resume" \
    || bad "stop-after output: $(cat "$tmp/b.out")"
"$E" train --resume "$tmp/b" >"$tmp/b2.out" 2>&1 || bad "resume: $(cat "$tmp/b2.out")"
sed 's/,"tok_per_s":[0-9.]*//' "$tmp/a/log.jsonl" >"$tmp/la"
sed 's/,"tok_per_s":[0-9.]*//' "$tmp/b/log.jsonl" >"$tmp/lb"
if cmp -s "$tmp/la" "$tmp/lb"; then ok "resume is bit-identical (log.jsonl)"
else bad "resumed log differs: $(diff "$tmp/la" "$tmp/lb" | head -5)"; fi
if cmp -s "$tmp/a/model.safetensors" "$tmp/b/model.safetensors"; then ok "resume is bit-identical (weights)"
else bad "resumed weights differ"; fi
out=$("$E" train --resume "$tmp/b" 2>&1)
echo "$out" | grep -q 'nothing to do' && ok "resume of a finished run does nothing" || bad "finished resume: $out"

# killed between the two renames of a save: the new state beside the previous model, the
# new model whole in model.safetensors.tmp; --resume finishes the save and goes on
"$E" train $T --out "$tmp/k" --stop-after 10 >/dev/null 2>&1 && cp -r "$tmp/k" "$tmp/k10" \
    && "$E" train --resume "$tmp/k" --stop-after 16 >/dev/null 2>&1 || bad "runs stopped at 10 and 16 failed"
mv "$tmp/k/model.safetensors" "$tmp/k/model.safetensors.tmp"
cp "$tmp/k10/model.safetensors" "$tmp/k/model.safetensors"
: >"$tmp/k/state.safetensors.tmp.tmp"   # and a write cut short
"$E" train --resume "$tmp/k" >"$tmp/k.out" 2>&1 && grep -q 'at step 16 of 24' "$tmp/k.out" \
    && ok "a save killed between its renames is finished on resume" || bad "resume after a kill: $(cat "$tmp/k.out")"
cmp -s "$tmp/a/model.safetensors" "$tmp/k/model.safetensors" && ok "and the run ends bit-identical" \
    || bad "weights differ after a kill between renames"
ls "$tmp"/k/*.tmp >/dev/null 2>&1 && bad "temporary files left after resume: $(ls "$tmp/k")" \
    || ok "no temporary files left after resume"
sed 's/,"tok_per_s":[0-9.]*//' "$tmp/k/log.jsonl" >"$tmp/lk"
cmp -s "$tmp/la" "$tmp/lk" && ok "the same log.jsonl" || bad "log after a kill: $(diff "$tmp/la" "$tmp/lk" | head -5)"
cp "$tmp/k10/state.safetensors" "$tmp/k/state.safetensors"
expect_error "a model and a state of different steps are refused" "step 24.*step 10\|step 10.*step 24" \
    "$E" train --resume "$tmp/k"

# a mixture of a generator and a text file, stopped and resumed: the same as uninterrupted
M="--task add:2@0.5,file:$tmp/corpus.txt@0.5 --n-layer 1 --n-head 2 --n-embd 16 --block-size 16
   --batch-size 4 --steps 12 --warmup 2 --eval-every 6 --eval-iters 2 --log-every 1 --seed 3"
"$E" train $M --out "$tmp/m1" >"$tmp/m1.out" 2>&1 || bad "mixture: $(cat "$tmp/m1.out")"
grep -q 'data: task=add:2@0.5' "$tmp/m1.out" && ok "mixture of add:2 and a text file trains" \
    || bad "mixture output: $(cat "$tmp/m1.out")"
"$E" train $M --out "$tmp/m2" --stop-after 5 >/dev/null 2>&1 && "$E" train --resume "$tmp/m2" >/dev/null 2>&1 \
    || bad "mixture stop/resume failed"
cmp -s "$tmp/m1/model.safetensors" "$tmp/m2/model.safetensors" && ok "mixture resume is bit-identical" \
    || bad "mixture resume differs"
expect_error "bad mixture weight" "expected a positive number" "$E" train --task "add:2@-1" --out "$tmp/m3"

# generation: deterministic under a seed, greedy, all flags
g1=$("$E" generate --model "$tmp/a" --prompt "To be" --max-new 40 --temperature 0.8 --top-k 5 --top-p 0.9 --seed 3 2>/dev/null)
g2=$("$E" generate --model "$tmp/a/model.safetensors" --prompt "To be" --max-new 40 --temperature 0.8 --top-k 5 --top-p 0.9 --seed 3 2>/dev/null)
[ -n "$g1" ] && [ "$g1" = "$g2" ] && ok "generate: same seed, same text" || bad "generate: '$g1' vs '$g2'"
n=$(printf '%s' "$g1" | wc -m)
[ "$n" -ge 45 ] && ok "generate: prompt + 40 characters ($n)" || bad "generate length $n"
"$E" generate --model "$tmp/a" --prompt "T" --max-new 60 --temperature 0 >/dev/null 2>&1 \
    && ok "greedy generation past the block size" || bad "greedy generation failed"

# info
out=$("$E" info "$tmp/a" --tensors 2>&1)
echo "$out" | grep -q 'transformer.h.1.mlp.c_proj.weight' && echo "$out" | grep -q 'n_layer' \
    && ok "info lists config and tensors" || bad "info: $out"

# errors
expect_error "unknown flag is refused" "unknown flag '--bogus'" "$E" train --bogus 1
expect_error "bad value is refused" "expects an integer" "$E" train --steps ten
expect_error "out-of-range value is refused" "must be in" "$E" train --data x --n-layer 0
expect_error "missing data file names it" "nope.txt" "$E" train --data "$tmp/nope.txt"
expect_error "n_embd not divisible by n_head" "divisible" "$E" train --data "$tmp/corpus.txt" --n-embd 10 --n-head 3 --out "$tmp/c"
expect_error "corpus shorter than a block" "too short" "$E" train --data "$tmp/corpus.txt" --block-size 60000 --out "$tmp/c"
expect_error "unknown command" "unknown command" "$E" trian
expect_error "unknown character in a prompt" "not in the model" "$E" generate --model "$tmp/a" --prompt "xyz#"
head -c 3000 "$tmp/a/model.safetensors" >"$tmp/trunc.safetensors"
expect_error "truncated checkpoint is refused" "trunc.safetensors" "$E" generate --model "$tmp/trunc.safetensors"
expect_error "resume from an empty directory" "model.safetensors" "$E" train --resume "$tmp/nothing"
ls "$tmp"/a/*.tmp "$tmp"/b/*.tmp >/dev/null 2>&1 && bad "temporary files left behind" || ok "no temporary files left"
# Ctrl-C: the run saves at the end of its step, says where, exits 130, and resumes
"$E" train --data "$tmp/corpus.txt" --n-layer 2 --n-head 2 --n-embd 32 --block-size 16 \
    --batch-size 8 --steps 1000000 --out "$tmp/int" >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
i=0; while [ ! -s "$tmp/int.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
kill -INT $pid; wait $pid; rc=$?
if [ $rc = 130 ] && grep -q 'interrupted at step [0-9]*; checkpoint saved in .*--resume' "$tmp/int.err" \
    && [ -s "$tmp/int/model.safetensors" ] && [ -s "$tmp/int/state.safetensors" ]; then
    ok "Ctrl-C saves, says how to resume, exits 130"
else bad "Ctrl-C (exit $rc): $(cat "$tmp/int.err")"; fi
at=$(sed -n 's/^interrupted at step \([0-9]*\);.*/\1/p' "$tmp/int.err")
"$E" train --resume "$tmp/int" --steps $((at + 2)) >"$tmp/int2.out" 2>&1 \
    && grep -q "resuming .* at step $at of" "$tmp/int2.out" && ok "... and resumes at step $at" \
    || bad "resume after Ctrl-C: $(cat "$tmp/int2.out")"

"$E" train --help | grep -q -- '--grad-accum' && ok "train --help lists flags" || bad "train --help"
"$E" --version | grep -q threads && ok "--version" || bad "--version"

[ $fail = 0 ] && echo "cli_train: all passed"
exit $fail
