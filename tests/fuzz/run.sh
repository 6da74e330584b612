#!/bin/sh
# Runs every libFuzzer target in $BUILD/fuzz/ (built by `make fuzz-build`) for FUZZ_SECONDS
# (default 600) on a scratch copy of its corpus tests/fuzz/corpus/<target>/, and prints per
# target the executions, the coverage reached and the findings (crash, leak, oom and timeout
# inputs, kept in the scratch directory). A target stopped by a finding is started again on
# its grown corpus until its time is spent. Exit status 1 when anything was found.
#
#   tests/fuzz/run.sh --probe   exit 0 when clang can build a libFuzzer target with OpenMP
#   FUZZ_TARGETS="w2v args"     only these targets
#   FUZZ_WORK=dir               scratch directory (default: a new one under /tmp)
#   FUZZ_MERGE=1                merge the inputs that added coverage into the checked-in corpus
#   FUZZ_MAX_FINDINGS=20        stop restarting a target after this many finding files
BUILD=${BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_CC=${FUZZ_CC:-clang}
FUZZ_MAX_FINDINGS=${FUZZ_MAX_FINDINGS:-20}
here=$(dirname "$0")

if [ "$1" = "--probe" ]; then
    command -v "$FUZZ_CC" >/dev/null 2>&1 || exit 1
    t=$(mktemp -d /tmp/emergent-fuzz-probe.XXXXXX) || exit 1
    printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; return (int)n * 0; }\n' > "$t/p.c"
    "$FUZZ_CC" -fsanitize=fuzzer,address,undefined -fopenmp "$t/p.c" -o "$t/p" >/dev/null 2>&1
    rc=$?
    rm -rf "$t"
    exit $rc
fi

work=${FUZZ_WORK:-$(mktemp -d /tmp/emergent-fuzz.XXXXXX)} || exit 1
mkdir -p "$work"
export OMP_NUM_THREADS=1
status=0
found_any=0
for bin in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); name=${name#fuzz_}
    if [ -n "$FUZZ_TARGETS" ]; then
        case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue;; esac
    fi
    corpus="$work/corpus/$name"; findings="$work/findings/$name"; log="$work/$name.log"
    mkdir -p "$corpus" "$findings"
    [ -d "$here/corpus/$name" ] && cp "$here/corpus/$name"/* "$corpus"/ 2>/dev/null
    dict=""
    [ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
    : > "$log"
    # inputs that once crashed this target (tests/fuzz/crashes/<target>/) must pass first
    bad=0
    for r in "$here/crashes/$name"/*; do
        [ -f "$r" ] || continue
        "$bin" "$r" >>"$log" 2>&1 || { bad=$((bad + 1)); echo "fuzz $name: regression input fails: $r"; }
    done
    [ "$bad" = 0 ] || status=1
    start=$(date +%s); runs=0
    while :; do
        left=$((FUZZ_SECONDS - ($(date +%s) - start)))
        [ "$left" -ge 1 ] || break
        before=$(ls "$findings" | wc -l)
        "$bin" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=1 \
            -print_final_stats=1 -artifact_prefix="$findings/" $dict "$corpus" >>"$log" 2>&1
        rc=$?; runs=$((runs + 1))
        [ "$rc" = 0 ] && break
        after=$(ls "$findings" | wc -l)
        # stopped without leaving an input (a broken binary), or finding the same things again
        [ "$after" -gt "$before" ] && [ "$after" -lt "$FUZZ_MAX_FINDINGS" ] || { [ "$after" = "$before" ] && status=1; break; }
    done
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    units=$(sed -n 's/^stat::new_units_added: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    cov0=$(grep -m1 'INITED cov:' "$log" | sed 's/.*cov: \([0-9]*\).*/\1/')
    cov1=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    n=$(ls "$findings" | grep -cE '^(crash|leak|oom|timeout)-')
    secs=$(($(date +%s) - start))
    printf 'fuzz %-10s %4ss  %10s execs  cov %s -> %s (%s new inputs)  findings %s\n' \
        "$name" "$secs" "$execs" "${cov0:-?}" "${cov1:-?}" "$units" "$n"
    if [ "$n" != 0 ]; then
        found_any=1
        ls "$findings" | grep -E '^(crash|leak|oom|timeout)-' | head -5 | sed "s|^|    $findings/|"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*fuzz check failed)' "$log" | sed 's/==[0-9]*==/==/' | sort | uniq -c | sort -rn | head -12 | sed 's/^/    /'
    fi
    if [ "$FUZZ_MERGE" = 1 ]; then
        "$bin" -merge=1 -close_fd_mask=1 "$here/corpus/$name" "$corpus" >>"$log" 2>&1
    fi
done
echo "fuzz: logs, corpora and findings in $work"
[ "$found_any" = 0 ] && [ "$status" = 0 ]
