#!/bin/sh
# The ladder over MPI ranks: 2 ranks (one worker each) fill the registry one process fills,
# value for value; a worker killed mid-point is queued again and resumes from its checkpoint;
# a point whose worker dies every time fails after 2 retries (non-zero exit); the whole job
# killed (its ranks by SIGKILL) and run again resumes to the same registry.
#
# Exact equality: every point is trained and evaluated by one process with one thread from
# its own seed, whichever rank runs it, and a resumed point continues from the optimizer state
# its checkpoint holds (tests/cli_ladder.sh checks the same for one machine). Only the
# machine column (it names the rank) and the wall time differ.
. "$(dirname "$0")/lib/cli.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "cli_mpi_ladder: SKIP: no sqlite3 command (Debian: sqlite3)"; exit 77; }
mpi_setup cli_mpi_ladder
cli_tmp
steps=60; [ -n "$SANITIZE" ] && steps=12
cat >"$tmp/tiny.json" <<JSON
{
  "name": "tiny", "task": "add:2", "task_n": 2000, "task_val_n": 100,
  "budget": {"steps": $steps}, "batch_size": 16, "block_size": 16,
  "sizes": [{"n_layer": 1, "n_head": 1, "n_embd": 8}, {"n_layer": 1, "n_head": 2, "n_embd": 16}],
  "seeds": [1, 2],
  "optimizer": {"lr": 1e-2, "warmup": 5},
  "eval": {"tasks": ["add:2"], "n": 30, "points": 3}
}
JSON
# rows DIR: every run's status and final losses, every loss row and every metric value
rows() {
    sqlite3 "$1/registry.sqlite" "select point, status, quote(train_loss), quote(val_loss) from runs order by 1;
        select point, step, quote(train_loss), quote(val_loss) from losses order by 1, 2;
        select e.point, e.step, e.task, m.metric, quote(m.value), quote(m.lo), quote(m.hi)
        from metric_values m join evaluations e on m.eval_id = e.id order by 1, 2, 3, 4"
}
same_rows() {  # same_rows DIR WHAT
    rows "$1" >"$tmp/rows"
    if [ -s "$tmp/ref" ] && cmp -s "$tmp/ref" "$tmp/rows"; then ok "$2: the registry of 1 process ($(wc -l <"$tmp/ref") rows)"
    else bad "$2: the registry differs from 1 process's: $(diff "$tmp/ref" "$tmp/rows" | head -4)"; fi
}

# 1. one process, then 2 ranks
t0=$(date +%s.%N)
"$E" ladder run "$tmp/tiny.json" --out "$tmp/one" --jobs 1 >"$tmp/one.out" 2>&1 || bad "1 process: $(tail -3 "$tmp/one.out")"
t1=$(date +%s.%N)
$MPI "$E" ladder run "$tmp/tiny.json" --out "$tmp/two" --jobs 1 >"$tmp/two.out" 2>&1 || bad "2 ranks: $(tail -5 "$tmp/two.out")"
t2=$(date +%s.%N)
echo "$t0 $t1 $t2" | awk '{ printf "   wall time: 1 process %.2f s, 2 ranks %.2f s\n", $2 - $1, $3 - $2 }'
rows "$tmp/one" >"$tmp/ref"
n=$(sqlite3 "$tmp/one/registry.sqlite" "select count(*) from runs where status = 'done'")
[ "$n" = 4 ] && ok "1 process: 4 points done" || bad "1 process: $n points done"
same_rows "$tmp/two" "2 ranks"
n=$(sqlite3 "$tmp/two/registry.sqlite" "select count(distinct substr(machine, instr(machine, 'rank '))) from runs where machine like '%rank _ of 2'")
[ "$n" = 2 ] && ok "points ran on both ranks" || bad "ranks that ran points: '$n' ($(sqlite3 "$tmp/two/registry.sqlite" "select machine from runs"))"
n=$(grep -c 'over 2 MPI ranks' "$tmp/two.out")
[ "$n" = 1 ] && grep -q 'points done' "$tmp/two.out" && ok "rank 0 alone prints the plan and progress" \
    || bad "plan printed $n times: $(cat "$tmp/two.out")"
ls "$tmp/two/shared-fs-check" >/dev/null 2>&1 && bad "the shared file system check left its file" || ok "no check file left"

# 2. a worker killed once right after a checkpoint the registry holds: queued again, resumed
mid=$(sqlite3 "$tmp/one/registry.sqlite" "select distinct step from checkpoints order by step limit 1 offset 1")
EMERGENT_TEST_KILL_POINT="s00-seed2:$mid" $MPI "$E" ladder run "$tmp/tiny.json" --out "$tmp/k" --jobs 1 >"$tmp/k.out" 2>&1 \
    || bad "2 ranks, a worker killed: $(tail -5 "$tmp/k.out")"
grep -q 'point s00-seed2: its worker.* was killed by signal 9.*retry 1 of 2' "$tmp/k.out" \
    && ok "the killed worker is reported and its point queued again (step $mid)" || bad "kill message: $(cat "$tmp/k.out")"
same_rows "$tmp/k" "a worker killed at step $mid and resumed"
EMERGENT_TEST_KILL_POINT="s00-seed2:$mid:3" $MPI "$E" ladder run "$tmp/tiny.json" --out "$tmp/k3" --jobs 1 >"$tmp/k3.out" 2>&1
rc=$?
st=$(sqlite3 "$tmp/k3/registry.sqlite" "select status from runs where point = 's00-seed2'")
[ $rc != 0 ] && [ "$st" = failed ] && grep -q 'after 2 retries' "$tmp/k3.out" \
    && ok "killed 3 times: the point fails after 2 retries, exit $rc" || bad "3 kills: exit $rc, status '$st': $(cat "$tmp/k3.out")"
n=$(sqlite3 "$tmp/k3/registry.sqlite" "select count(*) from runs where status = 'done'")
[ "$n" = 3 ] && ok "the other 3 points done" || bad "done beside the failed point: $n"
# the same recovery on one machine without MPI
EMERGENT_TEST_KILL_POINT="s01-seed1:$mid" "$E" ladder run "$tmp/tiny.json" --out "$tmp/k1" --jobs 2 >"$tmp/k1.out" 2>&1 \
    || bad "1 process, a worker killed: $(tail -3 "$tmp/k1.out")"
grep -q 'retry 1 of 2' "$tmp/k1.out" && same_rows "$tmp/k1" "1 process, a worker killed and resumed" \
    || bad "1 process kill: $(cat "$tmp/k1.out")"

# 3. the whole job killed mid-run (every rank by SIGKILL), then run again
ksteps=4000; [ -n "$SANITIZE" ] && ksteps=400
sed "s/\"steps\": $steps/\"steps\": $ksteps/" "$tmp/tiny.json" >"$tmp/long.json"
"$E" ladder run "$tmp/long.json" --out "$tmp/l1" --jobs 2 >/dev/null 2>&1 || bad "uninterrupted long ladder failed"
rows "$tmp/l1" >"$tmp/ref"
$MPI "$E" ladder run "$tmp/long.json" --out "$tmp/b" --jobs 1 >"$tmp/b0.out" 2>&1 &
pid=$!
i=0  # wait until the first checkpoint lands (files: no registry lock taken), then kill
while [ $i -lt 400 ]; do
    ls "$tmp"/b/points/*/model.safetensors >/dev/null 2>&1 && break
    sleep 0.025; i=$((i + 1))
done
kill -KILL $(pgrep -P $pid) 2>/dev/null  # both ranks at once (their workers die with them)
wait $pid 2>/dev/null
sleep 0.5
left=$(sqlite3 "$tmp/b/registry.sqlite" "select count(*) from runs where status != 'done'")
[ "$left" -gt 0 ] && ok "killed mid-run ($left of 4 points unfinished)" || bad "the kill came too late ($left unfinished)"
pgrep -f "ladder run $tmp/long.json --out $tmp/b" >/dev/null && bad "processes of the killed job are left" || ok "the killed job left no process"
$MPI "$E" ladder run "$tmp/long.json" --out "$tmp/b" --jobs 1 >"$tmp/b.out" 2>&1 || bad "rerun: $(tail -5 "$tmp/b.out")"
same_rows "$tmp/b" "killed and run again over 2 ranks"

[ $fail = 0 ] && echo "cli_mpi_ladder: all passed"
exit $fail
