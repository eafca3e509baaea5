# `make bench`: the performance tables of the README, ratios against
# baselines measured in the same run (see bench/run.py).  BENCH_RUNS=N sets
# the runs per case (default 5).
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

bench: deps all bench-build
	python3 bench/run.py
	python3 bench/prefetch.py

bench-build: $(BENCH_BIN)

$(B)/bench/%: bench/%.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -o $@ $< -lpthread

.PHONY: bench bench-build
