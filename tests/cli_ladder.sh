#!/bin/sh
# The ladder end to end: a micro-ladder (3 tiny sizes x 2 seeds, few steps), spec errors,
# and a run killed with SIGKILL then run again: the same registry rows as an uninterrupted one.
. "$(dirname "$0")/lib/cli.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "cli_ladder: SKIP: no sqlite3 command (Debian: sqlite3)"; exit 77; }
cli_tmp
steps=60; [ -n "$SANITIZE" ] && steps=12
cat >"$tmp/micro.json" <<JSON
{
  "name": "micro", "task": "add:2", "task_n": 2000, "task_val_n": 100,
  "budget": {"steps": $steps}, "batch_size": 16, "block_size": 16,
  "sizes": [{"n_layer": 1, "n_head": 1, "n_embd": 8}, {"n_layer": 1, "n_head": 2, "n_embd": 16},
            {"n_layer": 2, "n_head": 2, "n_embd": 24}],
  "seeds": [1, 2],
  "optimizer": {"lr": 1e-2, "warmup": 5},
  "eval": {"tasks": ["add:2"], "n": 50, "points": 3}
}
JSON
"$E" ladder run "$tmp/micro.json" --out "$tmp/a" --jobs 2 >"$tmp/a.out" 2>&1 \
    && ok "micro-ladder runs" || bad "micro-ladder: $(tail -5 "$tmp/a.out")"
R="$tmp/a/registry.sqlite"
n=$(sqlite3 "$R" "select count(*) from runs where status = 'done'")
[ "$n" = 6 ] && ok "6 points done" || bad "points done: '$n'"
n=$(sqlite3 "$R" "select count(distinct step) from evaluations")
[ "$n" = 3 ] && ok "3 evaluation steps per point" || bad "evaluation steps: '$n'"
n=$(sqlite3 "$R" "select count(*) from metric_values m join evaluations e on m.eval_id = e.id where m.metric = 'exact_match'")
[ "$n" = 18 ] && ok "exact match at every (point, step)" || bad "exact_match rows: '$n'"
grep -q 'points done' "$tmp/a.out" && grep -q 'ETA' "$tmp/a.out" && ok "progress display" || bad "progress: $(cat "$tmp/a.out")"

# analysis and report
"$E" ladder analyze "$tmp/a" >"$tmp/an.out" 2>&1 && grep -q 'emergence threshold' "$tmp/an.out" \
    && [ -s "$tmp/a/analysis.json" ] && ok "ladder analyze writes analysis.json" || bad "analyze: $(cat "$tmp/an.out")"
if command -v gnuplot >/dev/null 2>&1; then
    "$E" ladder report "$tmp/a" >"$tmp/rp.out" 2>&1 || bad "report: $(cat "$tmp/rp.out")"
    for f in exact_match_vs_params mirage loss_vs_params predicted_vs_observed exact_match_vs_step; do
        [ -s "$tmp/a/report/$f.png" ] && [ -s "$tmp/a/report/$f.svg" ] || bad "report lacks $f.png/.svg"
    done
    grep -q 'report/mirage.png' "$tmp/a/report.html" && ok "report.html with its figures" || bad "report.html"
else
    echo "note: gnuplot not installed: report not tested"
fi
[ -s "$tmp/a/runs.csv" ] && [ -s "$tmp/a/evaluations.csv" ] && [ -s "$tmp/a/registry.json" ] \
    && ok "registry exported as CSV and JSON" || bad "exports missing"

# a second axis (learning rate) beside size: one analysis per value, the threshold against it
sed 's/"seeds": \[1, 2\],/"seeds": [1], "sweep": {"name": "lr", "values": [0.003, 0.01]},/' "$tmp/micro.json" >"$tmp/sweep.json"
"$E" ladder run "$tmp/sweep.json" --out "$tmp/sw" >"$tmp/sw.out" 2>&1 || bad "sweep ladder: $(tail -3 "$tmp/sw.out")"
n=$(sqlite3 "$tmp/sw/registry.sqlite" "select count(distinct sweep_value) from runs where status = 'done'")
[ "$n" = 2 ] && ok "a learning-rate sweep beside size (2 values)" || bad "sweep values done: '$n'"
"$E" ladder analyze "$tmp/sw" >"$tmp/swa.out" 2>&1 && grep -q 'threshold against lr' "$tmp/swa.out" \
    && ok "analysis per learning rate" || bad "sweep analysis: $(cat "$tmp/swa.out")"
if command -v gnuplot >/dev/null 2>&1; then
    "$E" ladder report "$tmp/sw" >/dev/null 2>&1 && [ -s "$tmp/sw/report/exact_match_by_sweep.png" ] \
        && ok "report compares the learning rates" || bad "sweep report"
fi

# done points are never redone
before=$(sqlite3 "$R" "select group_concat(updated) from runs")
"$E" ladder run "$tmp/micro.json" --out "$tmp/a" --jobs 2 >"$tmp/a2.out" 2>&1 || bad "re-run failed"
grep -q '0 to run' "$tmp/a2.out" && ok "a finished ladder has nothing to run" || bad "re-run: $(cat "$tmp/a2.out")"

# a point is resumed only from what it recorded: a state of another model (here another seed's)
# or a checkpoint older than the registry's results is refused, naming the file
p1=$(sqlite3 "$R" "select point from runs where size_idx = 0 order by seed limit 1")
p2=$(sqlite3 "$R" "select point from runs where size_idx = 0 order by seed limit 1 offset 1")
cp -r "$tmp/a" "$tmp/x"
sqlite3 "$tmp/x/registry.sqlite" "update runs set status = 'running' where point = '$p1'"
cp "$tmp/x/points/$p2/state.safetensors" "$tmp/x/points/$p1/state.safetensors"
"$E" ladder run "$tmp/micro.json" --out "$tmp/x" --jobs 1 >"$tmp/x.out" 2>&1 \
    && bad "a point with another model's state was resumed" \
    || { grep -q "$p1/state.safetensors" "$tmp/x.out" && ok "a point with another model's state is refused" \
         || bad "mixed pair: $(cat "$tmp/x.out")"; }
rm -rf "$tmp/x"; cp -r "$tmp/a" "$tmp/x"
sqlite3 "$tmp/x/registry.sqlite" "update runs set status = 'running' where point = '$p1';
    insert into checkpoints(point, step, path) values('$p1', $((steps + 5)), 'elsewhere')"
"$E" ladder run "$tmp/micro.json" --out "$tmp/x" --jobs 1 >"$tmp/x.out" 2>&1 \
    && bad "a checkpoint older than the registry's was resumed" \
    || { grep -q "registry recorded a checkpoint at step $((steps + 5))" "$tmp/x.out" \
         && ok "a checkpoint older than the registry's results is refused" || bad "registry check: $(cat "$tmp/x.out")"; }

# killed with SIGKILL mid-run, then run again: the same rows as an uninterrupted run
ksteps=1500; [ -n "$SANITIZE" ] && ksteps=150
sed "s/\"steps\": $steps/\"steps\": $ksteps/" "$tmp/micro.json" >"$tmp/long.json"
"$E" ladder run "$tmp/long.json" --out "$tmp/k1" --jobs 2 >/dev/null 2>&1 || bad "uninterrupted long ladder failed"
"$E" ladder run "$tmp/long.json" --out "$tmp/b" --jobs 2 >/dev/null 2>&1 &
pid=$!
i=0  # wait until the first evaluation lands, then kill
while [ $i -lt 100 ]; do
    n=$(sqlite3 "$tmp/b/registry.sqlite" "select count(*) from evaluations" 2>/dev/null)
    [ -n "$n" ] && [ "$n" -gt 0 ] && break
    sleep 0.1; i=$((i + 1))
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
sleep 0.3
left=$(sqlite3 "$tmp/b/registry.sqlite" "select count(*) from runs where status != 'done'")
[ "$left" -gt 0 ] && ok "killed mid-run ($left of 6 points unfinished)" || bad "the kill came too late ($left unfinished)"
"$E" ladder run "$tmp/long.json" --out "$tmp/b" --jobs 2 >"$tmp/b.out" 2>&1 || bad "resumed ladder: $(tail -3 "$tmp/b.out")"
q="select e.point, e.step, e.task, m.metric, quote(m.value) from metric_values m join evaluations e on m.eval_id = e.id order by 1, 2, 3, 4"
sqlite3 "$tmp/k1/registry.sqlite" "$q" >"$tmp/ra"
sqlite3 "$tmp/b/registry.sqlite" "$q" >"$tmp/rb"
if [ -s "$tmp/ra" ] && cmp -s "$tmp/ra" "$tmp/rb"; then ok "killed and resumed: the same $(wc -l <"$tmp/ra") metric rows"
else bad "registry rows differ after a kill: $(diff "$tmp/ra" "$tmp/rb" | head -4)"; fi
q="select point, step, quote(train_loss), quote(val_loss) from losses order by 1, 2"
[ "$(sqlite3 "$tmp/k1/registry.sqlite" "$q")" = "$(sqlite3 "$tmp/b/registry.sqlite" "$q")" ] && ok "the same loss rows" || bad "loss rows differ"

# the runner loads a seed's data once for its workers (4 of the 6 points here take the
# runner's copy): the same rows as when every worker loads its own
EMERGENT_TEST_NO_DATA_CACHE=1 "$E" ladder run "$tmp/micro.json" --out "$tmp/nc" --jobs 2 >"$tmp/nc.out" 2>&1 \
    || bad "micro-ladder without the shared data: $(tail -3 "$tmp/nc.out")"
q="select e.point, e.step, e.task, m.metric, quote(m.value) from metric_values m join evaluations e on m.eval_id = e.id order by 1, 2, 3, 4"
sqlite3 "$tmp/a/registry.sqlite" "$q" >"$tmp/ca"
sqlite3 "$tmp/nc/registry.sqlite" "$q" >"$tmp/cb"
q="select point, step, quote(train_loss), quote(val_loss) from losses order by 1, 2"
if [ -s "$tmp/ca" ] && cmp -s "$tmp/ca" "$tmp/cb" &&
   [ "$(sqlite3 "$tmp/a/registry.sqlite" "$q")" = "$(sqlite3 "$tmp/nc/registry.sqlite" "$q")" ]; then
    ok "data shared by the runner: the same $(wc -l <"$tmp/ca") metric rows and losses as data loaded per worker"
else bad "shared data changed the results: $(diff "$tmp/ca" "$tmp/cb" | head -4)"; fi

# spec errors name the file and the field
printf '{"name": "x", "task": "add:2", "budget": {"steps": 10}, "batch_size": 4, "block_size": 8, "sizes": [{"n_layer": 1, "n_head": 3, "n_embd": 8}], "seeds": [1], "eval": {"tasks": ["add:2"]}}' >"$tmp/bad1.json"
expect_error "n_embd not divisible by n_head" "sizes\[0\]" "$E" ladder run "$tmp/bad1.json" --out "$tmp/c"
printf '{"name": "x", "task": "add:2", "budget": {"steps": 10, "tokens": 5}, "batch_size": 4, "block_size": 8, "sizes": [], "seeds": [1], "eval": {"tasks": ["add:2"]}}' >"$tmp/bad2.json"
expect_error "two budgets" "budget" "$E" ladder run "$tmp/bad2.json" --out "$tmp/c"
printf '{"name": "x",' >"$tmp/bad3.json"
expect_error "truncated JSON" "bad3.json" "$E" ladder run "$tmp/bad3.json" --out "$tmp/c"
expect_error "missing --out" "--out" "$E" ladder run "$tmp/micro.json"

[ $fail = 0 ] && echo "cli_ladder: all passed"
exit $fail
