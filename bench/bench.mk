# `make bench`: the performance tables of SPEC, ratios against baselines
# measured in the same run (see bench/run.py).
bench: deps all
	$(MAKE) -C . $(B)/bench/zero_touch
	python3 bench/run.py

$(B)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -o $@ $< -lpthread

.PHONY: bench
