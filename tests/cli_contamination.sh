#!/bin/sh
# emergent contamination end to end: a planted item found in a text file with its span, a
# near-duplicate not; a generated test split clean against its own training data and a run
# directory's recorded data; bad input refused with one clear error.
. "$(dirname "$0")/lib/cli.sh"
cli_tmp
"$E" contamination --help >"$tmp/h" && grep -q -- '--eval' "$tmp/h" && grep -q -- '--run' "$tmp/h" \
    && ok "contamination --help" || bad "help: $(cat "$tmp/h")"
printf 'It was the best of times, it was the worst of times.\nThe quick brown fox jumps over the lazy dog.\n' >"$tmp/train.txt"
printf 'Some more text so that a tenth of it can be held out for validation, as train does.\n%.0s' 1 2 3 >>"$tmp/train.txt"
cat >"$tmp/eval.jsonl" <<'JSONL'
{"input": "Finish: the quick brown fox jumps ", "target": "over"}
{"input": "brown fox juXps over thX lazy dog", "target": "."}
{"input": "nothing like it", "target": "at all"}
JSONL
"$E" contamination --train "$tmp/train.txt" --block-size 8 --eval "$tmp/eval.jsonl" --out "$tmp/c.json" >"$tmp/o" 2>&1 \
    || bad "contamination on a text file: $(cat "$tmp/o")"
python3 - "$tmp/c.json" <<'PY' >"$tmp/py" 2>&1 && ok "the planted item is dirty with its span, the near-duplicate clean" || bad "$(cat "$tmp/py")"
import json, sys
t = json.load(open(sys.argv[1]))["tasks"][0]
assert t["items"] == 3 and t["dirty"] == 1, t
assert t["dirty_flags"] == [1, 0, 0], t["dirty_flags"]
it = t["dirty_items"][0]
span = it["prompt"] + it["target"]
s, e = it["spans"][0]
assert span[s:e] == "he quick brown fox jumps over", span[s:e]
PY
grep -q 'bytes per training character' "$tmp/o" && grep -q 'items/s' "$tmp/o" \
    && ok "index size and speed printed" || bad "no index figures: $(cat "$tmp/o")"

# generated data: the test split is never in the training data
"$E" contamination --train add:2:pad --block-size 16 --eval add:2:pad --eval-n 0 >"$tmp/g" 2>&1 \
    && grep -E -q '^add:2:pad +[0-9]+ +0 ' "$tmp/g" && ok "a generator's test split is clean" \
    || bad "generated: $(cat "$tmp/g")"
# a run directory: its recorded data and seed
"$E" train --task add:2:pad --task-n 500 --steps 2 --n-layer 1 --n-embd 16 --n-head 2 --block-size 16 \
    --warmup 1 --eval-every 0 --out "$tmp/run" --quiet >/dev/null 2>&1 || bad "train for --run"
"$E" contamination --run "$tmp/run" --eval add:2:pad,add:3:pad >"$tmp/r" 2>&1 \
    && grep -q 'task=add:2:pad;n=500' "$tmp/r" && grep -E -q '^add:3:pad +1000 +0 ' "$tmp/r" \
    && ok "--run reads the run's recorded training data" || bad "run: $(cat "$tmp/r")"

# planted test items (leak:FRAC:N:SEED:SPEC) are found by the index, not assumed: about FRAC
# of the evaluation's items, none when FRAC is 0, and for another evaluation seed's items only
# the chance overlap of two draws (1000 x 1000 / ~101k test pairs x 10%: about 1)
leak() { "$E" contamination --train "add:3:pad@0.95,leak:$1:1000:7:add:3:pad@0.05" --task-n 20000 \
    --block-size 16 --eval add:3:pad --eval-seed "$2" --eval-n 1000 | awk '$1 == "add:3:pad" {print $3}'; }
d1=$(leak 0.1 7); d0=$(leak 0 7); dx=$(leak 0.1 8)
[ -n "$d1" ] && [ "$d1" -gt 60 ] && [ "$d1" -lt 140 ] && [ "$d0" = 0 ] && [ "$dx" -lt 10 ] \
    && ok "leaked test items counted by the index ($d1 of 1000 at 10%, 0 at 0%)" \
    || bad "leak counts: '$d1' '$d0' '$dx'"
expect_error "a malformed leak" "expected leak:FRAC:N:SEED:SPEC" "$E" contamination --train 'add:3:pad,leak:2:10:1:add:3' --task-n 100 --eval add:3

# eval splits every metric over the items seen and unseen in the run's training data
"$E" train --task 'add:2:pad@0.8,leak:0.2:300:1:add:2:pad@0.2' --task-n 2000 --steps 3 --n-layer 1 \
    --n-embd 16 --n-head 2 --block-size 16 --warmup 1 --eval-every 0 --out "$tmp/leak" --quiet >/dev/null 2>&1 \
    || bad "train with a leak"
"$E" eval --model "$tmp/leak" --task add:2:pad --n 300 --contamination --out "$tmp/lr.json" \
    --samples "$tmp/ls.jsonl" --quiet >"$tmp/le" 2>&1 || bad "eval --contamination: $(cat "$tmp/le")"
python3 - "$tmp/lr.json" "$tmp/ls.jsonl" <<'PY' >"$tmp/py" 2>&1 && ok "eval --contamination: metrics over clean and dirty items" || bad "$(cat "$tmp/py")"
import json, sys
c = json.load(open(sys.argv[1]))["results"]["add:2:pad"]["contamination"]
assert c["n_clean"] + c["n_dirty"] == 300 and 30 < c["n_dirty"] < 100, c
for part in ("clean", "dirty"):
    em = c[part]["exact_match"]
    assert 0 <= em["value"] <= 1 and em["ci95"][0] <= em["value"] <= em["ci95"][1], em
flags = [json.loads(l)["dirty"] for l in open(sys.argv[2])]
assert sum(flags) == c["n_dirty"], (sum(flags), c["n_dirty"])
PY
expect_error "eval --contamination on a bare checkpoint" "run directory" \
    "$E" eval --model "$tmp/leak/model.safetensors" --task add:2:pad --n 10 --contamination --quiet

expect_error "neither --run nor --train" "one of --run DIR or --train DATA" "$E" contamination --eval add:2
expect_error "no --eval" "--eval TASK is required" "$E" contamination --train add:2
expect_error "a missing training file" "nope.txt" "$E" contamination --train "$tmp/nope.txt" --eval add:2
expect_error "a run directory without a run" "no run here" "$E" contamination --run "$tmp" --eval add:2
expect_error "an n out of range" "--n" "$E" contamination --train add:2 --eval add:2 --n 0
printf '{"input": "x"\n' >"$tmp/bad.jsonl"
expect_error "a malformed eval file" "bad.jsonl" "$E" contamination --train "$tmp/train.txt" --block-size 8 --eval "$tmp/bad.jsonl"
exit $fail
