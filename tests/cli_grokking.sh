#!/bin/sh
# Emergence over training time, end to end on a tiny modular task: dense evaluation in
# `train` (dense.jsonl) and in a ladder with weight decay as its second axis (the registry's
# dense table, overtime.json, the report's section and figures). The pipeline, not the science.
. "$(dirname "$0")/lib/cli.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "cli_grokking: SKIP: no sqlite3 command (Debian: sqlite3)"; exit 77; }
cli_tmp
steps=200; [ -n "$SANITIZE" ] && steps=40

"$E" train --help 2>&1 | grep -q -- '--eval-task-every' && ok "train --help lists --eval-task-every" \
    || bad "--help lacks --eval-task-every"
"$E" train --task mod:23:-:0.4 --n-layer 1 --n-head 2 --n-embd 16 --block-size 5 --batch-size 32 \
    --steps 40 --warmup 2 --eval-task-every 10 --fourier-k 3 --out "$tmp/t" --quiet >"$tmp/t.out" 2>&1 \
    && ok "train with dense evaluation" || bad "train: $(tail -3 "$tmp/t.out")"
D="$tmp/t/dense.jsonl"
n=$(grep -c '"test_acc"' "$D" 2>/dev/null)
[ "$n" = 5 ] && ok "dense.jsonl: steps 0, 10, 20, 30, 40" || bad "dense.jsonl lines: '$n'"
grep -q '^{"step":0,' "$D" && grep -q '"fourier_k":3' "$D" && grep -q 'tied head' "$D" \
    && ok "dense.jsonl: step 0, the Fourier share (tied head said)" || bad "dense.jsonl: $(head -1 "$D")"
# resumed: the dense log reads as one run (no duplicate step, none lost)
"$E" train --task mod:23:-:0.4 --n-layer 1 --n-head 2 --n-embd 16 --block-size 5 --batch-size 32 \
    --steps 40 --warmup 2 --eval-task-every 10 --stop-after 20 --out "$tmp/r" --quiet >/dev/null 2>&1
"$E" train --resume "$tmp/r" --eval-task-every 10 --quiet >/dev/null 2>&1
[ "$(grep -o '"step":[0-9]*' "$tmp/r/dense.jsonl" | tr '\n' ' ')" = '"step":0 "step":10 "step":20 "step":30 "step":40 ' ] \
    && ok "resumed: dense.jsonl steps 0..40 once each" || bad "resumed dense.jsonl: $(cat "$tmp/r/dense.jsonl")"
for i in 1 2 3 4 5 6 7 8; do echo 'plain text for a text run, long enough to split'; done >"$tmp/text.txt"
expect_error "--eval-task-every needs a task" "needs a run on --task" \
    "$E" train --data "$tmp/text.txt" --block-size 4 --steps 2 --eval-task-every 1 --out "$tmp/x"

cat >"$tmp/grok.json" <<JSON
{"name": "grok-quick", "task": "mod:23:-:0.4", "budget": {"steps": $steps},
 "batch_size": 64, "block_size": 5,
 "sizes": [{"n_layer": 1, "n_head": 2, "n_embd": 16}], "seeds": [1, 2],
 "optimizer": {"lr": 3e-3, "min_lr_ratio": 1.0, "warmup": 10, "beta1": 0.9, "beta2": 0.98, "grad_clip": 0},
 "sweep": {"name": "weight_decay", "values": [0, 1.0]},
 "eval": {"tasks": ["mod:23:-:0.4"], "n": 50, "points": 1},
 "dense": {"every": 20, "fourier_k": 3}}
JSON
"$E" ladder run "$tmp/grok.json" --out "$tmp/g" --jobs 2 >"$tmp/g.out" 2>&1 \
    && ok "grokking micro-ladder runs" || bad "ladder: $(tail -5 "$tmp/g.out")"
R="$tmp/g/registry.sqlite"
n=$(sqlite3 "$R" "select count(*) from dense")
want=$((4 * (steps / 20 + 1)))
[ "$n" = "$want" ] && ok "dense table: $want rows (4 runs x every 20 steps and step 0)" || bad "dense rows: '$n', expected $want"
n=$(sqlite3 "$R" "select count(distinct point) from dense d join runs r using(point) where r.sweep_name = 'weight_decay'")
[ "$n" = 4 ] && ok "both weight decays, both seeds" || bad "dense points: '$n'"
ls "$tmp"/g/points/*-wd0-seed1/dense.jsonl "$tmp"/g/points/*-wd1-seed2/dense.jsonl >/dev/null 2>&1 \
    && ok "each point's dense.jsonl" || bad "points: $(ls "$tmp/g/points")"
"$E" ladder analyze "$tmp/g" >"$tmp/an.out" 2>&1 || bad "analyze: $(cat "$tmp/an.out")"
if command -v gnuplot >/dev/null 2>&1; then
    "$E" ladder report "$tmp/g" >"$tmp/rp.out" 2>&1 || bad "report: $(cat "$tmp/rp.out")"
    for f in test_acc_vs_step train_acc_vs_step test_loss_vs_step weight_norm_vs_step fourier_share_vs_step; do
        [ -s "$tmp/g/report/$f.png" ] && [ -s "$tmp/g/report/$f.svg" ] || bad "report lacks $f.png/.svg"
    done
    grep -q 'Emergence over training time' "$tmp/g/report.html" && grep -q 'report/fourier_share_vs_step.png' "$tmp/g/report.html" \
        && ok "report.html: the section and its figures" || bad "report.html lacks the section"
    grep -q 'weight_decay 0: ' "$tmp/g/report.html" && grep -q 'weight_decay 1: ' "$tmp/g/report.html" \
        && ok "report: a sentence per weight decay" || bad "report: sentences"
    O="$tmp/g/overtime.json"
    grep -q '"step_test_acc_0.5"' "$O" && grep -q '"step_test_acc_0.99"' "$O" && grep -q '"step_train_acc_0.99"' "$O" \
        && grep -q '"lead"' "$O" && grep -q '"fourier_share"' "$O" \
        && ok "overtime.json: the steps, moves and leads" || bad "overtime.json: $(head -c 600 "$O")"
else
    echo "cli_grokking: no gnuplot: report skipped"
fi
sed 's/"values": \[0, 1.0\]/"values": [0, 11]/' "$tmp/grok.json" >"$tmp/bad.json"
expect_error "a weight decay outside [0, 10] names the field" "sweep.values\[1\]: expected a weight decay" \
    "$E" ladder run "$tmp/bad.json" --out "$tmp/b"
sed 's/"every": 20/"every": 0/' "$tmp/grok.json" >"$tmp/bad2.json"
expect_error "dense.every 0 names the field" "dense.every" "$E" ladder run "$tmp/bad2.json" --out "$tmp/b2"
[ $fail = 0 ] && echo "cli_grokking: all passed"
exit $fail
