# Tests: `make test` installs what it needs, builds, then runs
#  - unit tests (Criterion), one binary per tests/unit/*.c;
#  - the integration suite (tests/integration/run.py), which runs the small
#    programs of tests/progs/ and real Debian programs under the library and
#    checks both their output and the statistics the library wrote.
# `make test-asan` runs the unit tests and the command under ASan+UBSan.

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRC))
PROG_SRC := $(wildcard tests/progs/*.c)
PROG_BIN := $(patsubst tests/progs/%.c,$(B)/tests/progs/%,$(PROG_SRC))

$(B)/tests/unit/%: tests/unit/%.c $(COMMON_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) $(TEST_SAN) -Iinjector -o $@ $< $(COMMON_SRC) $(UNIT_EXTRA) -lcriterion -linih -lelf

# Unit tests of the command's own modules link the module and its library.
$(B)/tests/unit/test_symbolize: injector/symbolize.c
$(B)/tests/unit/test_symbolize: UNIT_EXTRA := injector/symbolize.c -lz
$(B)/tests/unit/test_sweep_classify: injector/sweep_classify.c
$(B)/tests/unit/test_sweep_classify: UNIT_EXTRA := injector/sweep_classify.c -lz

$(B)/tests/progs/%: tests/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -o $@ $< -lpthread

test-build: all $(UNIT_BIN) $(PROG_BIN)

test: deps test-build
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs 2; done
	python3 tests/integration/run.py

# Sanitizers: the parser's unit tests and the command, rebuilt apart.
test-asan: deps
	$(MAKE) B=build/asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		TEST_SAN= build/asan/lazyfault $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN))
	@set -e; for t in $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN)); do echo "== $$t"; $$t --jobs 2; done
	LF_COMMAND=build/asan/lazyfault python3 tests/integration/run.py command

.PHONY: test test-build test-asan
