#!/bin/sh
# Runs the experiment ladders of ladders/ into runs/experiments/<name>/, each with its
# analysis and report, and prints each one's wall time and report path at the end.
# EXPERIMENTS="a b" runs only those; BIN, OUT as below.
BIN=${BIN:-build/emergent}
OUT=${OUT:-runs/experiments}
summary=""
for name in ${EXPERIMENTS:-lr-threshold scratchpad shakespeare multiple-choice grokking leak}; do
    t0=$(date +%s)
    "$BIN" ladder run "ladders/$name.json" --out "$OUT/$name" || exit 1
    "$BIN" ladder analyze "$OUT/$name" >"$OUT/$name/analysis.txt" || exit 1
    "$BIN" ladder report "$OUT/$name" || exit 1
    t=$(( $(date +%s) - t0 ))
    summary="$summary
experiment $name: $t s wall (killed and run again, a ladder resumes: then this is the rest), report $OUT/$name/report.html"
done
echo "$summary"
