#!/bin/sh
# OpenMP threads spin only briefly before they sleep unless the user chose otherwise: emergent
# re-executes itself once with GOMP_SPINCOUNT=300 (libgomp reads it before main), and keeps a
# policy given.
. "$(dirname "$0")/lib/cli.sh"
cli_tmp
# libgomp prints its settings at load: the last process's are the ones that run
OMP_DISPLAY_ENV=verbose "$E" --version >"$tmp/d" 2>&1 || bad "--version"
last=$(grep 'GOMP_SPINCOUNT' "$tmp/d" | tail -1)
echo "$last" | grep -q "'300'" && ok "threads spin briefly, then sleep (GOMP_SPINCOUNT 300)" || bad "spin count: $(cat "$tmp/d")"
OMP_DISPLAY_ENV=verbose OMP_WAIT_POLICY=ACTIVE "$E" --version >"$tmp/a" 2>&1 || bad "--version"
[ "$(grep -c 'OMP_WAIT_POLICY' "$tmp/a")" = 1 ] && grep -q "OMP_WAIT_POLICY = 'ACTIVE'" "$tmp/a" \
    && ok "a policy the user set is kept (no re-execution)" || bad "user policy: $(cat "$tmp/a")"
OMP_DISPLAY_ENV=verbose GOMP_SPINCOUNT=1000 "$E" --version >"$tmp/s" 2>&1 || bad "--version"
grep -q "GOMP_SPINCOUNT = '1000'" "$tmp/s" && [ "$(grep -c 'GOMP_SPINCOUNT' "$tmp/s")" = 1 ] \
    && ok "a spin count the user set is kept" || bad "user spin count: $(cat "$tmp/s")"
exit $fail
