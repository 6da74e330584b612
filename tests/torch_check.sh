#!/bin/sh
# The PyTorch cross-check: tests/torch_dump.c writes our checkpoint, logits, loss and
# gradients for two small models; tests/torch_check.py recomputes them with a GPT-2
# written in PyTorch (float64) and compares, then proves it would catch a 1e-3 error.
# Exit status: 0 pass, 1 fail, 77 skipped (no PyTorch for /usr/bin/python3).
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=${TORCH_PYTHON:-/usr/bin/python3}

if ! [ -x "$PY" ] || ! "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "torch_check: SKIP: $PY cannot import torch and numpy (Debian: python3-torch)"
    exit 77
fi

# The Makefile's pattern rule $(BUILD)/tests/% builds it with the project's flags.
make --no-print-directory -s BUILD="$BUILD" "$BUILD/tests/torch_dump" || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/torch_check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
"$BUILD/tests/torch_dump" "$tmp" || exit 1
TORCH_CHECK_SELFTEST=1 "$PY" tests/torch_check.py "$tmp" || exit $?
# a checkpoint PyTorch writes in the Hugging Face layout, loaded by our foreign reader
make --no-print-directory -s BUILD="$BUILD" "$BUILD/emergent" || exit 1
"$PY" tests/torch_check.py --hf-write "$tmp/hf" || exit 1
"$BUILD/tests/torch_dump" --hf "$tmp/hf" || exit 1
"$PY" tests/torch_check.py --hf-check "$tmp/hf" "$BUILD/emergent"
exit $?
