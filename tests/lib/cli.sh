# Shared by the CLI tests (sourced, not run): the binary, a temporary directory, and the
# ok / bad / expect_error reporting each script prints.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
E="$BUILD/emergent"
[ -x "$E" ] || make --no-print-directory -s BUILD="$BUILD" "$E" || exit 1
fail=0

# A fresh temporary directory in $tmp, removed on exit.
cli_tmp() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$0" .sh).XXXXXX") || exit 1
    trap 'rm -rf "$tmp"' EXIT
}
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
# expect_error DESCRIPTION PATTERN COMMAND...: a non-zero exit and PATTERN in stderr
expect_error() {
    desc=$1; pat=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ $rc != 0 ] && grep -q -- "$pat" "$tmp/err"; then ok "$desc"
    else bad "$desc (exit $rc): $(cat "$tmp/err")"; fi
}

# MPI tests: skip (exit 77) without mpirun or an emergent built with MPI; else one thread
# per rank (the machine may have few cores), the sanitizers' leak check off (it would report
# the MPI library's own allocations at exit), and $MPI to start 2 ranks.
mpi_setup() {
    if ! command -v mpirun >/dev/null 2>&1; then
        echo "$1: SKIP: mpirun not found (Debian: openmpi-bin libopenmpi-dev; scripts/deps.sh test)"
        exit 77
    fi
    if ! "$E" --version | grep -q '^mpi: Open MPI\|^mpi: MPICH\|^mpi: .*MPI [0-9]'; then
        echo "$1: SKIP: $E was built without MPI ($("$E" --version | grep '^mpi:')); install libopenmpi-dev and rebuild"
        exit 77
    fi
    export OMP_NUM_THREADS=1
    [ -n "$SANITIZE" ] && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    MPI="mpirun --allow-run-as-root --oversubscribe -np 2"
}
