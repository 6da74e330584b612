# emergent: `make demo` runs the main job, `make test` runs the tests.
# Both install missing Debian packages (when root) and build what is missing.

CC      ?= gcc
# ISA=avx2 builds the AVX2 path on any x86-64 machine (own loops for x86-64-v3, OpenBLAS's
# Haswell kernel), in build-avx2/, so that an AVX-512 machine tests both paths.
ISA     ?= native
ifeq ($(ISA),avx2)
ARCH    := -march=x86-64-v3 -DEMERGENT_ISA_AVX2
BUILD   ?= build-avx2
else
ARCH    := -march=native
endif
OPT     ?= -O3 $(ARCH)
CFLAGS  ?= $(OPT) -g
SAN     ?=
XCFLAGS := $(CFLAGS) $(SAN) -std=c11 -D_GNU_SOURCE -fno-math-errno -fno-trapping-math -Wall -Wextra -Wno-unused-parameter \
           -Wno-missing-field-initializers -fopenmp -Isrc
# The BLAS is opened at run time (src/kernels/matmul.c), after choosing its kernel.
LDLIBS  := -lcjson -lsqlite3 -lgsl -lgslcblas -lm -ldl -lpthread
XLDFLAGS := $(LDFLAGS) $(SAN) -fopenmp
BUILD   ?= build
# MPI is optional: found (OpenMPI's mpicc, or pkg-config ompi-c), `mpirun -np N emergent
# train` trains over N ranks (src/train/dist.c, the one file that includes mpi.h); MPI=0
# builds without it, MPI=1 insists on it.
MPI     ?= auto
ifneq ($(MPI),0)
MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null || pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS   := $(shell mpicc --showme:link 2>/dev/null || pkg-config --libs ompi-c 2>/dev/null)
endif
ifneq ($(strip $(MPI_LIBS)),)
MPI_DEFS := -DEMERGENT_MPI $(MPI_CFLAGS)
LDLIBS   += $(MPI_LIBS)
MPI_NOTE := MPI: on (mpirun -np N $(BUILD)/emergent train ...)
else ifeq ($(MPI),1)
$(error MPI=1: no MPI found (neither mpicc --showme nor pkg-config ompi-c); install libopenmpi-dev)
else
MPI_NOTE := MPI: off; to train over ranks with mpirun, install OpenMPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and run make again
endif

LIB_SRC := $(wildcard src/core/*.c src/kernels/*.c src/model/*.c src/tokenizer/*.c \
                      src/data/*.c src/train/*.c src/eval/*.c src/ladder/*.c src/report/*.c \
                      src/inspect/*.c src/w2v/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTS   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%) $(BUILD)/tests/torch_dump
BENCH_SRC := $(wildcard bench/*.c)
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
BIN     := $(BUILD)/emergent

.PHONY: all deps deps-test deps-sanitize deps-bench demo experiments shakespeare test test-sanitize bench \
        clean fuzz fuzz-build
all: $(BIN) $(TESTS)

deps:
	@scripts/deps.sh
deps-test:
	@scripts/deps.sh test
deps-sanitize:
	@scripts/deps.sh sanitize
deps-bench:
	@scripts/deps.sh bench

# Objects depend on the flags they were built with: a change of flags rebuilds them.
FLAGSTAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD); echo '$(XCFLAGS) $(MPI_DEFS)' | cmp -s - $(FLAGSTAMP) || echo '$(XCFLAGS) $(MPI_DEFS)' > $(FLAGSTAMP))
$(BUILD)/src/train/dist.o: XCFLAGS += $(MPI_DEFS)

$(BUILD)/%.o: %.c $(FLAGSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -MMD -MP -c $< -o $@

# GPT-2's tokenizer files are assembled into the library (.incbin).
$(BUILD)/src/tokenizer/bpe_io.o: data/gpt2/encoder.json data/gpt2/vocab.bpe

$(BUILD)/libemergent.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(BUILD)/libemergent.a
	$(CC) $(XLDFLAGS) $^ $(LDLIBS) -o $@
	@echo "emergent: $(MPI_NOTE)"
	@if [ "$(BUILD)" = build ]; then ln -sf $(BIN) emergent 2>/dev/null || true; fi

$(BUILD)/tests/%: tests/%.c $(BUILD)/libemergent.a tests/test.h
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -Itests $< $(BUILD)/libemergent.a $(XLDFLAGS) $(LDLIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/libemergent.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $< $(BUILD)/libemergent.a $(XLDFLAGS) $(LDLIBS) -o $@

# The main job: the addition-3 ladder (6 sizes x 3 seeds on 3-digit addition), its
# analysis and its report. Killed and run again, it resumes.
demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) ladder run ladders/addition-3.json --out runs/addition-3
	$(BIN) ladder analyze runs/addition-3
	$(BIN) ladder report runs/addition-3

# The experiment ladders (ladders/lr-threshold, scratchpad, shakespeare, multiple-choice),
# each into runs/experiments/<name>/ with its report; prints each one's wall time.
experiments: deps
	@$(MAKE) --no-print-directory $(BIN)
	@BIN=$(BIN) scripts/experiments.sh

# nanoGPT's "baby" char-level Shakespeare model, then a sample from it.
shakespeare: deps
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) train --data data/tinyshakespeare.txt --out runs/shakespeare \
	    --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --batch-size 12 \
	    --steps 2000 --lr 1e-3 --min-lr 1e-4 --warmup 100 --beta2 0.99 \
	    --weight-decay 0.1 --grad-clip 1.0 --eval-every 250 --eval-iters 20 --seed 1337
	$(BIN) generate --model runs/shakespeare/model.safetensors \
	    --prompt "ROMEO:" --max-new 500 --temperature 0.8 --top-k 40 --seed 1

test: deps-test
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/run.sh

# The C suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: deps-sanitize
	@$(MAKE) --no-print-directory BUILD=build-san CFLAGS="-O1 $(ARCH) -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all
	@BUILD=build-san SANITIZE=1 tests/run.sh
	@if tests/fuzz/run.sh --probe; then $(MAKE) --no-print-directory fuzz-build && \
	    FUZZ_SECONDS=30 tests/fuzz/run.sh; \
	else echo "fuzz: skipped (needs clang with libFuzzer and OpenMP: clang libclang-rt-14-dev libomp-14-dev)"; fi

# libFuzzer targets (tests/fuzz/), each run FUZZ_SECONDS on a copy of its corpus; the library
# is built with clang into build-fuzz/.
FUZZ_CC ?= clang
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz: fuzz-build
	@tests/fuzz/run.sh
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) CFLAGS="-O1 -g" \
	    SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" $(FUZZ_BINS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/libemergent.a $(BUILD)/src/cli/args.o
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -fsanitize=fuzzer $< $(BUILD)/src/cli/args.o $(BUILD)/libemergent.a $(XLDFLAGS) -fsanitize=fuzzer $(LDLIBS) -o $@

bench: deps-bench
	@$(MAKE) --no-print-directory $(BIN) $(BENCHES)
	@BUILD=$(BUILD) BENCH_ISA=$(ISA) bench/run.sh

clean:
	rm -rf build build-avx2 build-san build-fuzz emergent

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
