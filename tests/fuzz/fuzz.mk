# `make fuzz`: the rule parser (common/rules.c and what it uses) under libFuzzer with ASan and
# UBSan, for FUZZ_SECONDS (default 600).  The kept seed corpus is
# tests/fuzz/corpus; the run works on a copy in $(B)/fuzz/corpus, so the
# inputs it finds stay in build/, and any crash or leak lands in
# $(B)/fuzz/artifacts/ (add a reproducer to tests/fuzz/corpus once fixed).

FUZZ_SECONDS ?= 600
FUZZ_CC ?= clang
FUZZ_DIR := $(B)/fuzz

# The parser, its printer and the comparison of the round trip: libinih
# itself is not instrumented, our code is.
FUZZ_SRC := common/rules.c common/rule_keys.c common/values.c common/text.c common/files.c \
	common/rules_print.c common/rules_compare.c
$(FUZZ_DIR)/fuzz_rules: tests/fuzz/fuzz_rules.c $(FUZZ_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -D_GNU_SOURCE -Icommon $(WARN) -O1 -g -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ tests/fuzz/fuzz_rules.c $(FUZZ_SRC) -linih

fuzz: deps $(FUZZ_DIR)/fuzz_rules
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	cp tests/fuzz/corpus/* $(FUZZ_DIR)/corpus/
	ASAN_OPTIONS=detect_leaks=1 $(FUZZ_DIR)/fuzz_rules -max_total_time=$(FUZZ_SECONDS) \
		-detect_leaks=1 -max_len=4096 -dict=tests/fuzz/rules.dict \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus

.PHONY: fuzz
