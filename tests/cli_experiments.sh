#!/bin/sh
# The experiment ladders of ladders/ in their quick variant (ladder run --quick): each runs,
# is analysed and reported, its figures exist and its report states computed sentences. The
# pipeline, not the science: the quick variants are far too small for a finding.
. "$(dirname "$0")/lib/cli.sh"
cli_tmp
have_gnuplot=0; command -v gnuplot >/dev/null 2>&1 && have_gnuplot=1
# under the sanitizers (slow), only the two cheapest
names="lr-threshold scratchpad shakespeare multiple-choice leak"
[ -n "$SANITIZE" ] && names="lr-threshold shakespeare"

# name, a key of experiments.json, a sentence its finding must hold, the figure it draws
check() {
    name=$1 key=$2 words=$3 fig=$4
    d="$tmp/$name"
    "$E" ladder run "ladders/$name.json" --out "$d" --quick --jobs 2 --quiet >"$tmp/$name.run" 2>&1 \
        || { bad "$name: quick run: $(tail -3 "$tmp/$name.run")"; return; }
    "$E" ladder analyze "$d" >"$tmp/$name.an" 2>&1 || { bad "$name: analyze: $(tail -3 "$tmp/$name.an")"; return; }
    grep -q "\"$key\"" "$d/experiments.json" && grep -q "\"quick\":.*true" "$d/experiments.json" \
        && ok "$name: experiments.json has $key" || bad "$name: experiments.json lacks $key"
    grep -q -- "$words" "$tmp/$name.an" && ok "$name: analyze says \"$words...\"" \
        || bad "$name: analyze lacks \"$words\": $(tail -5 "$tmp/$name.an")"
    [ $have_gnuplot = 1 ] || return
    "$E" ladder report "$d" >"$tmp/$name.rp" 2>&1 || { bad "$name: report: $(cat "$tmp/$name.rp")"; return; }
    [ -s "$d/report/$fig.png" ] && [ -s "$d/report/$fig.svg" ] && grep -q "report/$fig.png" "$d/report.html" \
        && ok "$name: report draws $fig" || bad "$name: report lacks $fig"
    grep -q -- "$words" "$d/report.html" && grep -q "quick variant" "$d/report.html" \
        && ok "$name: report.html states the finding" || bad "$name: report.html lacks the finding"
}
for n in $names; do
    case $n in
    lr-threshold) check lr-threshold threshold_vs_lr "Exact match emerged at [0-9] of 3 learning rates" threshold_vs_lr ;;
    scratchpad) check scratchpad task_pair "Evaluated on add:4:scratch against add:4:direct" exact_match_by_task ;;
    shakespeare) check shakespeare text_power_law "Kaplan et al. report 0.076" text_loss_vs_nonembedding ;;
    multiple-choice) check multiple-choice multiple_choice "falsebelief: from" multiple_choice ;;
    leak) check leak contamination "Leak 0.1 (planted: the test items whose keyed hash falls below 0.1): the index counts" exact_match_clean_dirty ;;
    esac
done
# each value of the task sweep was evaluated in its own format, one digit further out too
if echo "$names" | grep -q scratchpad; then
    n=$(sqlite3 "$tmp/scratchpad/registry.sqlite" "select count(distinct task) from evaluations" 2>/dev/null)
    [ "$n" = 4 ] && ok "scratchpad: 4 eval tasks (add:3 and add:4, each format)" || bad "scratchpad eval tasks: '$n'"
fi
# the leak sweep: the planted items are counted by the index (none at leak 0, some at 0.1),
# and every evaluation is split over clean and dirty items
if echo "$names" | grep -q leak; then
    q() { sqlite3 "$tmp/leak/registry.sqlite" "select $1 from metric_values m join evaluations e on e.id = m.eval_id where $2" 2>/dev/null; }
    [ "$(q 'max(value)' "m.metric = 'items@dirty' and e.point like '%-leak0-%'")" = 0.0 ] \
        && [ "$(q 'min(value)' "m.metric = 'items@dirty' and e.point like '%-leak0.1-%'")" != 0.0 ] \
        && [ "$(q 'count(*)' "m.metric = 'exact_match@clean'")" = "$(q 'count(*)' "m.metric = 'exact_match'")" ] \
        && ok "leak: dirty items counted (none at leak 0), exact match split at every evaluation" \
        || bad "leak: registry split: $(q 'e.point, value' "m.metric = 'items@dirty'" | head -3)"
fi
[ $fail = 0 ] && echo "cli_experiments: all passed"
exit $fail
