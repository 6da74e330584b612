#!/bin/sh
# Every command's --help: exit 0, one entry per line (a default with a newline is shown
# escaped, never as a line break), no section printed twice; the version names the machine.
. "$(dirname "$0")/lib/cli.sh"
cli_tmp
check_help() {
    name=$1; shift
    "$E" "$@" --help >"$tmp/help" 2>&1; rc=$?
    if [ $rc != 0 ]; then bad "$name --help exits $rc"; return; fi
    # a line that is only a closing parenthesis: a default broken over two lines
    if grep -qE '^\)|\(default $' "$tmp/help"; then bad "$name --help: a default broken over lines: $(cat "$tmp/help")"; return; fi
    dup=$(grep -E '^[a-z][a-z -]*:$' "$tmp/help" | sort | uniq -d)
    if [ -n "$dup" ]; then bad "$name --help prints '$dup' twice"; return; fi
    ok "$name --help"
}
for c in train generate params info eval; do check_help "$c" "$c"; done
for t in lens attention ablate patch neurons vectors; do check_help "inspect $t" inspect "$t"; done
for t in train neighbors analogy eval; do check_help "w2v $t" w2v "$t"; done
if "$E" generate --help | grep -q -- '--prompt S .*(default "\\n")'; then ok "generate shows its newline default escaped"
else bad "generate --prompt default: $("$E" generate --help | grep -A1 -- --prompt)"; fi
n=$("$E" eval --help | grep -c '^task specs:')
[ "$n" = 1 ] && ok "eval --help lists the task specs once" || bad "eval --help: 'task specs:' $n times"
if "$E" --version | grep -q '^machine: .*own loops .*kernel .*thread'; then ok "--version names the machine"
else bad "--version: $("$E" --version)"; fi
exit $fail
