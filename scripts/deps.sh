#!/bin/sh
# Installs the Debian packages emergent needs when they are missing (as root).
#   scripts/deps.sh           what building and running need
#   scripts/deps.sh test      also what the tests need (the PyTorch cross-check, node and
#                             npm for the GPT-2 tokenizer's reference, OpenMPI for the
#                             data-parallel test; `make` builds with MPI once it is there)
#   scripts/deps.sh mpi       only OpenMPI (mpirun and the headers `make` builds MPI with)
#   scripts/deps.sh sanitize  also what the sanitizer suite and its fuzz run need (clang)
#   scripts/deps.sh bench     also what the benchmarks' peers need (PyTorch)
# Packages are checked by name (dpkg-query), never by a file that several packages
# could provide: a machine's cblas.h, say, may come from the reference BLAS.
set -e
level=${1:-run}

installed() {  # true when one of the named packages is installed
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' && return 0
    done
    return 1
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "emergent: not a Debian system: install a C compiler with OpenMP, make, cJSON, GSL," >&2
    echo "  SQLite (library and shell), gnuplot and an OpenBLAS shared library by hand" >&2
    exit 0
fi

need=""
want() { installed "$@" || need="$need $1"; }
want gcc
want make
want libc6-dev
want libcjson-dev
want libgsl-dev
want libsqlite3-dev
want sqlite3
want gnuplot-nox gnuplot-qt gnuplot-x11
# The BLAS is opened at run time; the OpenMP build of OpenBLAS shares one thread pool
# with our kernels. No BLAS header is needed to build.
want libopenblas0-openmp
core="$need"
case "$level" in
    test|bench) want python3-torch; want python3-numpy ;;
esac
case "$level" in
    test|bench|mpi) want openmpi-bin; want libopenmpi-dev ;;
esac
case "$level" in  # node's own npm (as NodeSource's nodejs ships it) counts as npm
    test) want nodejs; command -v npm >/dev/null 2>&1 || want npm ;;
    sanitize) want clang; want libclang-rt-14-dev; want libomp-14-dev ;;
esac

[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "emergent: missing Debian packages:$need" >&2
    echo "  install them with: sudo apt-get install -y --no-install-recommends$need" >&2
    [ -n "$core" ] && exit 1
    echo "  (continuing: what needs them reports itself skipped)" >&2
    exit 0
fi
echo "emergent: installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $need >/dev/null 2>&1 || \
    { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends $need; }
