/* libFuzzer target for the rule parser: any bytes must give either rules or
 * one error message, never a crash, a leak or undefined behaviour (built with
 * -fsanitize=fuzzer,address,undefined by tests/fuzz/fuzz.mk, `make fuzz`).
 *
 * An input with a NUL byte is rules, then defines one per line (the -D of
 * the command: the parser refuses a NUL in a rule file anyway).
 *
 * Beyond "no crash" it checks what can be checked cheaply:
 *  - an error message is always "NAME:..." (or "-D DEFINE: ...") and never
 *    an internal error (the reader's look at section headers disagreeing
 *    with inih's);
 *  - on error *out is left empty;
 *  - the printed form of accepted rules parses again (unless a printed line
 *    grew past inih's line limit) and gives the same rules, compared key by
 *    key through the key table (lf_rules_compare), so no key is left out. */
#include <stdbool.h>
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
	const uint8_t *nul = memchr(data, 0, size);
	size_t len = nul ? (size_t)(nul - data) : size;
	struct lf_defines defs = { .label = "-D" };
	char *joined = nul ? strndup((const char *)nul + 1, size - len - 1) : NULL, *store = NULL;
	if (nul && (!joined || lf_defines_split(joined, "-D", &defs, &store) < 0))
		abort();
	free(joined);
	int parsed = lf_rules_parse_defs((const char *)data, len, "fuzz.ini", &defs, &r, err, sizeof(err));
	lf_defines_free(&defs, store);
	if (parsed < 0) {
		/* "fuzz.ini:LINE: what", "fuzz.ini: what" or "-D DEFINE: what";
		 * what is never an internal error (those always name the file;
		 * the input itself may hold the words). */
		const char *what = err + 9;
		while (*what >= '0' && *what <= '9')
			what++;
		if (*what == ':')
			what++;
		bool def = nul && strncmp(err, "-D ", 3) == 0;
		if (!def && (strncmp(err, "fuzz.ini:", 9) != 0 ||
			     strncmp(what, " internal error", 15) == 0)) {
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
