#!/bin/sh
# A ladder whose answers are one token (a + b mod 31): exact match, per-token accuracy and edit
# distance are one number, so every metric jumps together. The report and the analysis must say
# so, and no sentence of either may claim that a metric moved gradually or that the metric made
# the jump (the mirage): that would be a finding written in advance, not read from the numbers.
. "$(dirname "$0")/lib/cli.sh"
command -v python3 >/dev/null 2>&1 || { echo "cli_ladder_onetoken: SKIP: no python3"; exit 77; }
cli_tmp
cat >"$tmp/onetoken.json" <<JSON
{
  "name": "one-token", "task": "mod:31:+:0.7", "task_n": 0, "task_val_n": 100,
  "budget": {"steps": 1500}, "batch_size": 64, "block_size": 8,
  "sizes": [{"n_layer": 1, "n_head": 1, "n_embd": 4}, {"n_layer": 1, "n_head": 2, "n_embd": 16},
            {"n_layer": 1, "n_head": 2, "n_embd": 32}, {"n_layer": 1, "n_head": 4, "n_embd": 64}],
  "seeds": [1, 2],
  "optimizer": {"lr": 1e-3, "warmup": 10, "weight_decay": 1.0},
  "eval": {"tasks": ["mod:31:+:0.7"], "n": 100, "points": 3}
}
JSON
"$E" ladder run "$tmp/onetoken.json" --out "$tmp/l" --jobs 2 >"$tmp/run.out" 2>&1 \
    || bad "one-token ladder: $(tail -3 "$tmp/run.out")"
"$E" ladder analyze "$tmp/l" >"$tmp/an.out" 2>&1 || bad "analyze: $(cat "$tmp/an.out")"
text="$tmp/an.out"
if command -v gnuplot >/dev/null 2>&1; then
    "$E" ladder report "$tmp/l" >"$tmp/rp.out" 2>&1 || bad "report: $(cat "$tmp/rp.out")"
    # the report's words: tags, the style sheet and entities removed
    python3 - "$tmp/l/report.html" >"$tmp/report.txt" <<'PY' || bad "report text"
import html, re, sys
s = open(sys.argv[1], encoding="utf-8").read()
s = re.sub(r"<style.*?</style>", " ", s, flags=re.S)
print(html.unescape(re.sub(r"<[^>]+>", "\n", s)))
PY
    text="$text $tmp/report.txt"
fi
# The ladder did jump: the smallest size is near chance, the largest solves the test split.
python3 - "$tmp/l/analysis.json" >"$tmp/py.out" 2>&1 <<'PY' && ok "exact match jumps, with one-token answers" || bad "$(cat "$tmp/py.out")"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["one_token_answers"] is True, "one_token_answers is %r" % a["one_token_answers"]
em = a["metrics"]["exact_match"]["mean"]
assert em[0] < 0.2 and em[-1] > 0.9, "exact match by size %r: no jump to test" % em
PY
# No sentence claims a gradual metric or the mirage; the sentences say what happened instead.
if grep -n -i -E 'gradual|smooth|mirage|shapes? the curve|metric shapes|more slowly' $text >"$tmp/claims"; then
    bad "a sentence claims what the numbers do not show: $(cat "$tmp/claims")"
else
    ok "no sentence claims a gradual metric or the mirage"
fi
grep -q 'one-token answers' $text && grep -q 'cannot shape this curve' $text \
    && ok "the finding says the metrics are one number here" || bad "finding missing: $(cat $text | head -30)"
exit $fail
