/* libFuzzer target for the rule parser: any bytes must give either rules or
 * one error message, never a crash, a leak or undefined behaviour (built with
 * -fsanitize=fuzzer,address,undefined by tests/fuzz/fuzz.mk, `make fuzz`).
 *
 * Beyond "no crash" it checks what can be checked cheaply:
 *  - an error message is always "NAME:..." and never an internal error (the
 *    reader's look at section headers disagreeing with inih's);
 *  - on error *out is left empty;
 *  - the printed form of accepted rules, parsed again, gives the same rules
 *    (when it parses: a printed line can exceed inih's line limit). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static FILE *devnull;

static int same_str(const char *a, const char *b)
{
	if (a && !*a)
		a = NULL;
	if (b && !*b)
		b = NULL;
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int same_rules(const struct lf_rules *a, const struct lf_rules *b)
{
	if (!same_str(a->log, b->log) || !same_str(a->stats, b->stats) ||
	    a->log_level != b->log_level || a->on_error != b->on_error ||
	    a->workers != b->workers || a->nrules != b->nrules)
		return 0;
	for (size_t i = 0; i < a->nrules; i++) {
		const struct lf_rule *x = &a->rule[i], *y = &b->rule[i];
		if (strcmp(x->name, y->name) || !same_str(x->path, y->path) ||
		    !same_str(x->caller, y->caller) || !same_str(x->source, y->source) ||
		    x->match != y->match || x->min_size != y->min_size ||
		    x->max_size != y->max_size || x->caller_depth != y->caller_depth ||
		    x->action != y->action || x->source_offset != y->source_offset ||
		    x->readahead != y->readahead || x->fill != y->fill ||
		    x->npages != y->npages || x->pages_all != y->pages_all ||
		    x->probability != y->probability || x->after != y->after ||
		    x->every != y->every || x->times != y->times ||
		    (x->given & LF_KEY_SEED) != (y->given & LF_KEY_SEED) ||
		    ((x->given & LF_KEY_SEED) && x->seed != y->seed) ||
		    x->delay_ns != y->delay_ns)
			return 0;
		for (size_t j = 0; j < x->npages; j++)
			if (x->pages[j].first != y->pages[j].first || x->pages[j].last != y->pages[j].last)
				return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lf_rules empty;
	struct lf_rules r, again;
	char err[256];

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (lf_rules_parse((const char *)data, size, "fuzz.ini", &r, err, sizeof(err)) < 0) {
		/* "fuzz.ini:LINE: what" or "fuzz.ini: what"; what is never an
		 * internal error (the input itself may hold those words). */
		const char *what = err + 9;
		while (*what >= '0' && *what <= '9')
			what++;
		if (*what == ':')
			what++;
		if (strncmp(err, "fuzz.ini:", 9) != 0 || strncmp(what, " internal error", 15) == 0) {
			fprintf(stderr, "bad message: %s\n", err);
			abort();
		}
		if (memcmp(&r, &empty, sizeof(r)) != 0)
			abort();
		return 0;
	}
	lf_rules_print(&r, devnull);

	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		abort();
	lf_rules_print(&r, m);
	fclose(m);
	if (lf_rules_parse(buf, len, "printed", &again, err, sizeof(err)) == 0) {
		if (!same_rules(&r, &again)) {
			fprintf(stderr, "printed form parses to other rules:\n%s\n", buf);
			abort();
		}
		lf_rules_free(&again);
	}
	free(buf);
	lf_rules_free(&r);
	return 0;
}
