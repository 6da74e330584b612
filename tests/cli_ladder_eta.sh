#!/bin/sh
# The ladder's first progress line already has an ETA: each point's FLOPs are known before
# it starts, and the rate comes from the steps its workers report in the first second.
# The machine each point ran on is in the registry and in the report.
. "$(dirname "$0")/lib/cli.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "cli_ladder_eta: SKIP: no sqlite3 command (Debian: sqlite3)"; exit 77; }
cli_tmp
steps=1500; [ -n "$SANITIZE" ] && steps=300
cat >"$tmp/eta.json" <<JSON
{
  "name": "eta", "task": "add:2", "task_n": 2000, "task_val_n": 50,
  "budget": {"steps": $steps}, "batch_size": 64, "block_size": 16,
  "sizes": [{"n_layer": 2, "n_head": 2, "n_embd": 32}, {"n_layer": 2, "n_head": 2, "n_embd": 48}],
  "seeds": [1],
  "optimizer": {"lr": 1e-2, "warmup": 5},
  "eval": {"tasks": ["add:2"], "n": 20, "points": 2}
}
JSON
"$E" ladder run "$tmp/eta.json" --out "$tmp/a" --jobs 2 >"$tmp/a.out" 2>&1 || bad "ladder: $(tail -5 "$tmp/a.out")"
first=$(grep -m1 'points done' "$tmp/a.out")
if [ -z "$first" ]; then echo "note: the ladder finished before its first progress line: ETA not tested"
elif echo "$first" | grep -q 'ETA ?'; then bad "the first progress line has no ETA: $first"
else ok "the first progress line has an ETA: $first"; fi
n=$(sqlite3 "$tmp/a/registry.sqlite" "select count(*) from runs where machine like '%own loops%kernel%thread%'")
[ "$n" = 2 ] && ok "the registry records the machine of each run" || bad "runs with a machine: '$n'"
m=$("$E" --version | sed -n 's/^machine: //p')
n=$(sqlite3 "$tmp/a/registry.sqlite" "select count(*) from runs where machine = '$(echo "$m" | sed 's/ [0-9]* threads*$//')' || ' 1 thread'")
[ "$n" = 2 ] && ok "... the one this machine reports (one thread per point with 2 jobs)" || bad "machine: '$m' against $(sqlite3 "$tmp/a/registry.sqlite" 'select machine from runs')"
if command -v gnuplot >/dev/null 2>&1; then
    "$E" ladder analyze "$tmp/a" >/dev/null 2>&1 && "$E" ladder report "$tmp/a" >/dev/null 2>&1 || bad "report"
    grep -q 'Where it ran' "$tmp/a/report.html" && grep -q '2 runs on: .*own loops' "$tmp/a/report.html" \
        && ok "the report says where the runs were made" || bad "report.html lacks the machine"
fi
exit $fail
