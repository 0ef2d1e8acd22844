# libigq - top-level Makefile (GNU make).
#   make              static + shared library in build/
#   make check        warnings as errors; all tests natively, at every lower ISA level and with
#                     clang (logits hashed and compared with gcc's), symbol/install checks, then the
#                     suites under ASan+UBSan
#   make test         the cmocka suites only
#   make test-cli     the igq command-line tool end to end (test/cli/test_cli.sh)
#   make demo         Fashion-MNIST demo (fp32 accuracy of the bundled model)
#   make install PREFIX=/usr/local DESTDIR=   /   make uninstall   (library, header, igq.pc,
#                     and the igq tool in $(PREFIX)/bin)
#   make bench        benchmarks (bench-accuracy, bench-embed: the longer Fashion-MNIST tables)
# Knobs: CC, CFLAGS, O (build dir), SANITIZE=1 (ASan+UBSan) or thread (TSan), V=1, WERROR=1
# (make check and CI set it)

CC      ?= cc
O       ?= build
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BINDIR  ?= $(PREFIX)/bin
WERROR  ?= 0

# One source of truth for the version: include/igq/igq.h
VMAJOR := $(shell sed -n 's/^\#define IGQ_VERSION_MAJOR \([0-9]*\).*/\1/p' include/igq/igq.h)
VMINOR := $(shell sed -n 's/^\#define IGQ_VERSION_MINOR \([0-9]*\).*/\1/p' include/igq/igq.h)
VPATCH := $(shell sed -n 's/^\#define IGQ_VERSION_PATCH \([0-9]*\).*/\1/p' include/igq/igq.h)
VERSION := $(VMAJOR).$(VMINOR).$(VPATCH)
SONAME  := libigq.so.$(VMAJOR)
SOFULL  := libigq.so.$(VERSION)

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
           -Wcast-qual -Wundef -Wswitch-enum
ifeq ($(WERROR),1)
WARN    += -Werror
endif
OPT     ?= -O2
# -ffp-contract=off: no compiler may fuse a*b+c on its own (clang contracts by default), so the
# scalar kernels stay the specification of every bit; lib/core/compiler.h refuses -ffast-math.
BASE_CFLAGS := -std=c99 $(OPT) -g -D_POSIX_C_SOURCE=200809L $(WARN) -Iinclude -fPIC -fvisibility=hidden \
               -ffp-contract=off
# float-cast-overflow: a float -> int conversion out of range (a NaN) is undefined; clang's
# -fsanitize=undefined (make fuzz) checks it, gcc's needs it named.
ifeq ($(SANITIZE),1)
BASE_CFLAGS += -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined,float-cast-overflow
endif
ifeq ($(SANITIZE),thread)
BASE_CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=thread
endif
ALL_CFLAGS := $(BASE_CFLAGS) $(CFLAGS)
LIBS    := -lm -pthread

LIB_SRC := $(sort $(wildcard lib/*/*.c lib/kernels/*/*.c))
# ISA kernels (lib/kernels/x86_*/) get per-directory -m flags and are built only for x86-64
# targets; everything else stays baseline (never -march=native). The dispatcher selects them
# at run time after checking cpuid/xgetbv; other targets get the scalar kernels.
IGQ_X86_64 := $(if $(filter x86_64-% amd64-%,$(shell $(CC) -dumpmachine 2>/dev/null)),1,)
ifneq ($(IGQ_X86_64),1)
LIB_SRC := $(filter-out lib/kernels/x86_%,$(LIB_SRC))
endif
$(O)/obj/lib/kernels/x86_avx2/%.o: ALL_CFLAGS += -mavx2 -mfma
$(O)/obj/lib/kernels/x86_avxvnni/%.o: ALL_CFLAGS += -mavx2 -mfma -mavxvnni
$(O)/obj/lib/kernels/x86_avx512/%.o: ALL_CFLAGS += -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma
# executor helpers: one plain-C source per level, vectorized by the compiler
$(O)/obj/lib/kernels/x86_avx2/exec_%.o $(O)/obj/lib/kernels/x86_avx512/exec_%.o: ALL_CFLAGS += -O3
# GPTQ's double-precision loops (lib/quant/gptq.c) run over independent elements: -O3 lets the
# compiler vectorize them at the baseline ISA; no reassociation, so the bits do not change.
$(O)/obj/lib/quant/gptq.o $(O)/tobj/lib/quant/gptq.o: ALL_CFLAGS += -O3
LIB_OBJ := $(patsubst %.c,$(O)/obj/%.o,$(LIB_SRC))
# Tests and benches link a second build of the library with IGQ_TESTING defined: it adds the
# hooks they use (forcing an ISA level, failing the Nth allocation, stage timers). The shipped
# libigq.a / libigq.so never contain them (check-abi verifies it).
TLIB_OBJ := $(patsubst %.c,$(O)/tobj/%.o,$(LIB_SRC))
$(O)/tobj/%.o: ALL_CFLAGS += -DIGQ_TESTING
$(O)/tobj/lib/kernels/x86_avx2/%.o: ALL_CFLAGS += -mavx2 -mfma
$(O)/tobj/lib/kernels/x86_avxvnni/%.o: ALL_CFLAGS += -mavx2 -mfma -mavxvnni
$(O)/tobj/lib/kernels/x86_avx512/%.o: ALL_CFLAGS += -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma
$(O)/tobj/lib/kernels/x86_avx2/exec_%.o $(O)/tobj/lib/kernels/x86_avx512/exec_%.o: ALL_CFLAGS += -O3
# The igq command-line tool (programs/igq/), linked statically against libigq.a.
CLI_SRC := $(sort $(wildcard programs/igq/*.c))
CLI_OBJ := $(patsubst %.c,$(O)/obj/%.o,$(CLI_SRC))
CLI_BIN := $(O)/igq
DEPS    := $(LIB_OBJ:.o=.d) $(TLIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

TEST_SUPPORT_SRC := $(wildcard test/support/*.c)
TEST_SUPPORT_OBJ := $(patsubst %.c,$(O)/obj/%.o,$(TEST_SUPPORT_SRC))
TEST_SRC := $(sort $(wildcard test/test_*.c))
TEST_BIN := $(patsubst test/%.c,$(O)/test/%,$(TEST_SRC))
EXAMPLES := $(O)/examples/fmnist_demo $(O)/examples/classify $(O)/examples/deploy $(O)/examples/quickstart
BENCH_BIN := $(patsubst bench/%.c,$(O)/bench/%,$(wildcard bench/*.c))

.SECONDARY:

.PHONY: fuzz fuzz-run all lib cli test-cli test check check-native check-asan check-tsan check-abi check-fastmath check-install check-clang check-isa check-isa-avxvnni check-isa-avx2 check-isa-scalar demo examples bench bench-accuracy bench-embed \
        install uninstall clean update-abi

all: lib cli

lib: $(O)/libigq.a $(O)/$(SOFULL)

cli: $(CLI_BIN)

$(CLI_BIN): $(CLI_OBJ) $(O)/libigq.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(CLI_OBJ) $(O)/libigq.a $(SAN_LDFLAGS) $(LIBS)

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(O)/tobj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC-T    $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(O)/libigq.a: $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/libigq-testing.a: $(TLIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/$(SOFULL): $(LIB_OBJ) lib/libigq.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libigq.map \
	    -Wl,--no-undefined -Wl,-z,noexecstack $(SAN_LDFLAGS) -o $@ $(LIB_OBJ) $(LIBS)
	$(Q)ln -sf $(SOFULL) $(O)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(O)/libigq.so

# ---- tests ------------------------------------------------------------------------------------
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

$(O)/test/%: test/%.c $(TEST_SUPPORT_OBJ) $(O)/libigq-testing.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(ALL_CFLAGS) -DIGQ_TESTING -Ilib -Itest -o $@ $< $(TEST_SUPPORT_OBJ) $(O)/libigq-testing.a \
	    $(CMOCKA_LIBS) $(SAN_LDFLAGS) $(LIBS)

$(O)/obj/test/support/%.o: test/support/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -DIGQ_TESTING -Ilib -Itest -MMD -MP -c $< -o $@

cmocka-present:
	@printf '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <cmocka.h>\nint main(void){return 0;}\n' \
	  | $(CC) -x c - -o /dev/null $(CMOCKA_LIBS) 2>/dev/null || { \
	  echo "cmocka is missing: install it with  sudo apt-get install -y libcmocka-dev"; exit 1; }

# test_bits writes the scalar-spec logits hashes of every executor to $(O)/bits.txt.
test: cmocka-present $(TEST_BIN) $(O)/$(SOFULL)
	$(Q)set -e; for t in $(TEST_BIN); do echo "== $$t"; IGQ_FIXTURES=test/fixtures IGQ_SO=$(O)/$(SOFULL) \
	    IGQ_BITS_OUT=$(O)/bits.txt $$t; done

# The igq tool end to end on the bundled model; test/cli/cli_ref computes the accuracies it
# must print with the library API alone.
$(O)/test/cli_ref: test/cli/cli_ref.c $(O)/libigq.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libigq.a $(SAN_LDFLAGS) $(LIBS)

test-cli: $(CLI_BIN) $(O)/test/cli_ref
	$(Q)sh test/cli/test_cli.sh $(O)

check-abi: $(O)/$(SOFULL) $(O)/libigq.a
	$(Q)sh test/abi/check_symbols.sh $(O)/$(SOFULL) test/abi/exported.txt
	$(Q)if nm $(O)/libigq.a $(O)/$(SOFULL) | grep -E 'igq__(dispatch_force|alloc_fail_after|int_prof)'; then \
	    echo "check-abi: a test hook is in the shipped library"; exit 1; fi
	$(Q)sh test/abi/check_abidiff.sh $(O)/$(SOFULL) test/abi/libigq.abi

# A -ffast-math build must stop at compile time (lib/core/compiler.h).
check-fastmath:
	$(Q)if $(CC) -std=c99 -Iinclude -ffast-math -fsyntax-only lib/kernels/dispatch.c 2>/dev/null; then \
	    echo "check-fastmath: -ffast-math was not refused"; exit 1; else echo "check-fastmath: refused"; fi

check-install: lib cli
	$(Q)sh test/abi/check_install.sh "$(CC)" "$(O)"

# The whole suite again built by clang (warnings as errors), then the scalar-spec logits hashes
# of both compilers compared line for line: gcc and clang must give the same bits.
check-clang: test
	$(Q)command -v clang >/dev/null 2>&1 || { echo "check-clang: clang is missing (apt-get install clang)"; exit 1; }
	+$(Q)$(MAKE) --no-print-directory O=$(O)-clang CC=clang test > $(O)/clang.log 2>&1 || { cat $(O)/clang.log; exit 1; }
	$(Q)diff $(O)/bits.txt $(O)-clang/bits.txt || { echo "check-clang: gcc and clang logits differ"; exit 1; }
	$(Q)echo "check-clang: all suites pass with clang; logits of $$(wc -l < $(O)/bits.txt) executor cases hash identically with gcc"

# The suites again with the dispatcher masked down to each lower level (IGQ_ISA can only lower
# the level the CPU supports; a level the CPU lacks runs as the best one below it).
check-isa: check-isa-avxvnni check-isa-avx2 check-isa-scalar
check-isa-%: $(TEST_BIN) $(O)/$(SOFULL)
	$(Q)set -e; for t in $(TEST_BIN); do \
	    echo "== IGQ_ISA=$* $$t"; IGQ_ISA=$* IGQ_FIXTURES=test/fixtures IGQ_SO=$(O)/$(SOFULL) $$t > $(O)/isa-$*.log 2>&1 \
	    || { cat $(O)/isa-$*.log; exit 1; }; done

check-native: test test-cli check-isa check-abi check-fastmath check-install check-clang

check-asan:
	+$(Q)$(MAKE) --no-print-directory O=$(O)-asan SANITIZE=1 OPT=-O1 test

# ThreadSanitizer over the suites that run threads (pools, sessions, concurrent runs).
TSAN_TESTS := test_session test_bits test_int
check-tsan:
	+$(Q)$(MAKE) --no-print-directory O=$(O)-tsan SANITIZE=thread OPT=-O1 \
	    $(patsubst %,$(O)-tsan/test/%,$(TSAN_TESTS))
	$(Q)set -e; for t in $(TSAN_TESTS); do echo "== tsan $$t"; \
	    TSAN_OPTIONS=halt_on_error=1 IGQ_FIXTURES=test/fixtures $(O)-tsan/test/$$t > $(O)-tsan/$$t.log 2>&1 \
	    || { tail -50 $(O)-tsan/$$t.log; exit 1; }; done

# The parts of make check are independent: they run side by side on every core (CHECK_JOBS).
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check:
	+$(Q)$(MAKE) --no-print-directory -j$(CHECK_JOBS) WERROR=1 check-native check-asan check-tsan
	@echo "make check: all passed"

# ---- fuzzing (clang + libclang-rt: libFuzzer) --------------------------------------------------
# make fuzz FUZZ_SECONDS=60: each harness in test/fuzz/ against a library built with coverage
# and ASan+UBSan, seeded from test/fixtures and, when it exists, test/fuzz/corpus/<harness>/
# (read-only: new inputs go to $(O)-fuzz/corpus-<harness>).
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_HARNESS := $(patsubst test/fuzz/%.c,%,$(wildcard test/fuzz/fuzz_*.c))
fuzz:
	+$(Q)$(MAKE) --no-print-directory O=$(O)-fuzz CC=clang OPT=-O1 CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(O)-fuzz/libigq.a
	$(Q)set -e; for n in $(FUZZ_HARNESS); do \
	    clang -std=c99 -g -O1 -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib $(FUZZ_SAN) -fsanitize=fuzzer \
	        test/fuzz/$$n.c $(O)-fuzz/libigq.a -lm -pthread -o $(O)-fuzz/$$n; done
	@echo "fuzz: built $(FUZZ_HARNESS) in $(O)-fuzz (run them: make fuzz-run FUZZ_SECONDS=N)"

# Each harness for FUZZ_SECONDS from its committed seeds (test/fuzz/corpus/<harness>/; the
# checkpoint readers also from the fixtures, fuzz_pth from the small pth_* ones); new corpus
# entries stay in $(O)-fuzz/corpus-*.
fuzz-run: fuzz
	$(Q)set -e; for n in $(FUZZ_HARNESS); do \
	    mkdir -p $(O)-fuzz/corpus-$$n; \
	    case $$n in fuzz_checkpoint|fuzz_safetensors) \
	        cp test/fixtures/*/model.safetensors $(O)-fuzz/corpus-$$n/ 2>/dev/null || true;; \
	    fuzz_pth) for f in test/fixtures/pth_*/*.pth test/fixtures/pth_*/*.bin; do \
	        cp $$f $(O)-fuzz/corpus-$$n/$$(echo $$f | tr / _); done;; esac; \
	    seeds=; if [ -d test/fuzz/corpus/$$n ]; then seeds=test/fuzz/corpus/$$n; fi; \
	    echo "== $$n ($(FUZZ_SECONDS) s)"; \
	    if ! $(O)-fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=1048576 -rss_limit_mb=4096 \
	        -print_final_stats=1 -artifact_prefix=$(O)-fuzz/ $(O)-fuzz/corpus-$$n $$seeds \
	        > $(O)-fuzz/$$n.log 2>&1; then tail -60 $(O)-fuzz/$$n.log; \
	        echo "fuzz-run: $$n FAILED (input saved in $(O)-fuzz/)"; exit 1; fi; \
	    grep -E '^#[0-9]+.*(DONE|pulse)' $(O)-fuzz/$$n.log | tail -1; \
	    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' $(O)-fuzz/$$n.log; done

# ---- examples / demo / bench ------------------------------------------------------------------
$(O)/examples/%: examples/%.c $(O)/libigq.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libigq.a $(SAN_LDFLAGS) $(LIBS)

examples: $(EXAMPLES)

demo: $(O)/examples/fmnist_demo
	$(O)/examples/fmnist_demo examples/data 2 $(O)/fmnist_vit_w4a4.igq

$(O)/bench/%: bench/%.c $(O)/libigq-testing.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -DIGQ_TESTING -Ilib -o $@ $< $(O)/libigq-testing.a $(LIBS)

# Quick benchmarks (kernels, calibration time). The accuracy and embedding tables take longer:
# make bench-accuracy, make bench-embed (all 10,000 test images, 5 calibration seeds, 2 models).
bench: $(BENCH_BIN)
	$(Q)set -e; for b in $(filter-out %/bench_accuracy %/bench_embed,$(BENCH_BIN)); do $$b; done

bench-accuracy: $(O)/bench/bench_accuracy
	$(O)/bench/bench_accuracy examples/data

bench-embed: $(O)/bench/bench_embed
	$(O)/bench/bench_embed examples/data

# ---- install ----------------------------------------------------------------------------------
install: lib cli
	install -d $(DESTDIR)$(INCLUDEDIR)/igq $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR)
	install -m 755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/igq
	install -m 644 include/igq/igq.h $(DESTDIR)$(INCLUDEDIR)/igq/igq.h
	install -m 644 $(O)/libigq.a $(DESTDIR)$(LIBDIR)/libigq.a
	install -m 755 $(O)/$(SOFULL) $(DESTDIR)$(LIBDIR)/$(SOFULL)
	ln -sf $(SOFULL) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libigq.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' pkgconfig/igq.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/igq.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/igq/igq.h $(DESTDIR)$(LIBDIR)/libigq.a \
	      $(DESTDIR)$(LIBDIR)/$(SOFULL) $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libigq.so \
	      $(DESTDIR)$(PKGCONFIGDIR)/igq.pc $(DESTDIR)$(BINDIR)/igq
	-rmdir $(DESTDIR)$(INCLUDEDIR)/igq 2>/dev/null

# Regenerates the committed exported-symbol list (review the diff before committing).
# After an intended ABI change (additions; or, with a SONAME bump, anything): record the new
# exported-symbol list and the abidw description that check-abi compares against.
update-abi: $(O)/$(SOFULL)
	nm -D --defined-only $(O)/$(SOFULL) | awk '$$2 == "T" {print $$3}' | sed 's/@.*//' | sort > test/abi/exported.txt
	abidw --headers-dir include/igq --no-corpus-path --out-file test/abi/libigq.abi $(O)/$(SOFULL)

clean:
	rm -rf $(O) $(O)-asan $(O)-clang $(O)-fuzz

-include $(DEPS)
