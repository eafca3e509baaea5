/* libFuzzer target for the rule parser: any bytes must give either rules or
 * one error message, never a crash, a leak or undefined behaviour (built with
 * -fsanitize=fuzzer,address,undefined by tests/fuzz/fuzz.mk, `make fuzz`).
 *
 * Beyond "no crash" it checks what can be checked cheaply:
 *  - an error message is always "NAME:..." and never an internal error (the
 *    reader's look at section headers disagreeing with inih's);
 *  - on error *out is left empty;
 *  - the printed form of accepted rules parses again (unless a printed line
 *    grew past inih's line limit) and gives the same rules, compared key by
 *    key through the key table (lf_rules_compare), so no key is left out. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lf_rules empty;
	struct lf_rules r;
	char err[256];

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
	char *printed, why[256];
	int rc = lf_rules_round_trip(&r, &printed, why, sizeof(why));
	if (rc == LF_PRINTED_REFUSED && !strstr(why, "syntax error: line longer than")) {
		fprintf(stderr, "printed form refused (%s):\n%s\n", why, printed ? printed : "");
		abort();
	}
	if (rc == -1) {
		fprintf(stderr, "printed form parses to other rules (%s):\n%s\n", why, printed);
		abort();
	}
	free(printed);
	lf_rules_free(&r);
	return 0;
}
