#!/bin/sh
# The same bits on every x86-64 machine kind: with OpenBLAS's Haswell kernel and the same
# thread count, the AVX-512 build and the AVX2 build (make ISA=avx2) train bit-identical
# models: our own loops give the same result at either vector width.
. "$(dirname "$0")/lib/cli.sh"
cli_tmp
if [ "${SANITIZE:-0}" = 1 ]; then echo "cli_portable: SKIP under the sanitizers (the plain builds are compared)"; exit 77; fi
if ! grep -q ' avx2' /proc/cpuinfo 2>/dev/null; then echo "cli_portable: SKIP: this CPU has no AVX2"; exit 77; fi
make --no-print-directory -s ISA=avx2 BUILD=build-avx2 build-avx2/emergent >"$tmp/make" 2>&1 || { cat "$tmp/make"; bad "make ISA=avx2"; exit 1; }
A=build-avx2/emergent
"$A" --version | grep -q 'own loops AVX2' && ok "make ISA=avx2 builds the AVX2 loops" || bad "AVX2 build: $("$A" --version)"
"$A" --version | grep -q 'kernel Haswell' && ok "the AVX2 build asks for the Haswell kernel" || bad "AVX2 build kernel: $("$A" --version)"
flags="--task add:2 --n-layer 2 --n-head 4 --n-embd 48 --block-size 16 --batch-size 32 --steps 40 --lr 3e-3 --eval-every 20 --eval-iters 2 --seed 7"
EMERGENT_BLAS_CORETYPE=Haswell OMP_NUM_THREADS=2 "$E" train $flags --out "$tmp/native" >/dev/null 2>&1 || bad "native run"
OMP_NUM_THREADS=2 "$A" train $flags --out "$tmp/avx2" >/dev/null 2>&1 || bad "AVX2 run"
if cmp -s "$tmp/native/model.safetensors" "$tmp/avx2/model.safetensors"; then
    ok "native and AVX2 builds, Haswell kernel, 2 threads: bit-identical weights after 40 steps"
else bad "the two builds' weights differ"; fi
grep -o '"loss":[^,]*' "$tmp/native/log.jsonl" >"$tmp/l1"; grep -o '"loss":[^,]*' "$tmp/avx2/log.jsonl" >"$tmp/l2"
cmp -s "$tmp/l1" "$tmp/l2" && [ -s "$tmp/l1" ] && ok "and identical logged losses" || bad "logged losses differ"
exit $fail
