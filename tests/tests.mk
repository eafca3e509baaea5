# Tests: `make test` installs what it needs, builds, then runs
#  - unit tests (Criterion), one binary per tests/unit/*.c;
#  - the integration suite (tests/integration/run.py), which runs the small
#    programs of tests/progs/ and real Debian programs under the library and
#    checks both their output and the statistics the library wrote;
#  - the whole suite again with LAZYFAULT_SERVE=signal (serve = signal: each
#    process serves its faults in the faulting thread; util.helper_only marks
#    the tests of what helper threads alone do);
#  - the suite's memory modules again, against the debug library (its
#    assertions on), chosen by module name: DEBUG_MODULES.
# `make test-asan` runs the unit tests and the command under ASan+UBSan.
# tests/README.md says where a new test goes.

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRC))
PROG_SRC := $(wildcard tests/progs/*.c)
PROG_BIN := $(patsubst tests/progs/%.c,$(B)/tests/progs/%,$(PROG_SRC))
DEBUG_MODULES := anon file fork malloc badblock prefetch stream

# A unit test is compiled with the sources it tests in one command, which
# gcc's -MMD cannot describe (one .d file for several sources): it depends on
# every header instead.  UNIT_LINK_<test>: the sources of the module it tests
# (the library's pure parts: no kernel, no state; or a module of the
# command), UNIT_LIBS_<test>: the libraries that module needs.
UNIT_LINK_test_window := preload/window.c
UNIT_LINK_test_poison := preload/poison_decide.c
UNIT_LINK_test_seed := preload/seed.c
UNIT_LINK_test_symbolize := injector/symbolize.c
UNIT_LIBS_test_symbolize := -lz
UNIT_LINK_test_sweep_classify := injector/sweep_classify.c
UNIT_LIBS_test_sweep_classify := -lz
UNIT_LINK_test_crash_report := injector/crash_report.c injector/statsfile.c injector/symbolize.c \
	injector/sweep_classify.c
UNIT_LIBS_test_crash_report := -ljson-c -lz -ldl

.SECONDEXPANSION:
$(B)/tests/unit/%: tests/unit/%.c $$(UNIT_LINK_$$*) $(COMMON_SRC) $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) -Iinjector -Ipreload -o $@ $< $(UNIT_LINK_$*) $(COMMON_SRC) \
		$(UNIT_LIBS_$*) -lcriterion -linih -lelf

# A test program is one source: gcc writes the headers it included to
# $@.d (-MMD), which is read back below, so that a program is rebuilt when
# lftest.h or file_util.h changes (-MP: a header that goes away breaks
# nothing).  A program without its .d file is rebuilt, to write one.
# PROG_CFLAGS_NAME: flags of one program (after the others).
PROG_CFLAGS_crash_target := -fno-omit-frame-pointer -fno-inline
$(B)/tests/progs/%: tests/progs/%.c $(B)/tests/progs/%.d
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -MMD -MP $(PROG_CFLAGS_$*) -o $@ $< -lpthread

$(B)/tests/progs/%.d: ;
.PRECIOUS: $(B)/tests/progs/%.d
-include $(PROG_BIN:=.d)

test-build: all $(B)/debug/liblazyfault.so $(UNIT_BIN) $(PROG_BIN)

test: deps test-build
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs 2; done
	python3 tests/integration/run.py
	@echo "== the suite again with LAZYFAULT_SERVE=signal: faults served in the faulting thread"
	LAZYFAULT_SERVE=signal python3 tests/integration/run.py
	@echo "== the modules $(DEBUG_MODULES) again, against $(B)/debug/liblazyfault.so"
	LF_LIBRARY=$(abspath $(B)/debug/liblazyfault.so) python3 tests/integration/run.py $(DEBUG_MODULES)

# Sanitizers: the parser's unit tests and the command, rebuilt apart.
test-asan: deps
	$(MAKE) B=build/asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		build/asan/lazyfault $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN))
	@set -e; for t in $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN)); do echo "== $$t"; $$t --jobs 2; done
	LF_COMMAND=build/asan/lazyfault python3 tests/integration/run.py command trust

.PHONY: test test-build test-asan test-cpython

# CPython's own test package under the library against native (slow: see
# the README, "CPython's test suite").
test-cpython: deps all
	python3 tests/cpython_suite.py $(B)/liblazyfault.so
