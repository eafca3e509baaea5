/* The user's rule file, as every command reads it: parsed, every `source`
 * opened as the library will open it, and what cannot be what was meant
 * said, before anything runs. */
#include <stdio.h>

#include "lazyfault.h"
#include "rules.h"

int lf_load_rules(const char *path, struct lf_rules *out)
{
	char err[2 * PATH_MAX + 512];
	if (lf_rules_load(path, out, err, sizeof err) != 0) {
		lf_error("%s", err);
		return LF_EXIT_USAGE;
	}
	if (lf_rules_check_sources(out, err, sizeof err) != 0) {
		lf_error("%s", err);
		lf_rules_free(out);
		return LF_EXIT_USAGE;
	}
	for (size_t i = 0; i < out->nwarnings; i++)
		lf_warn("%s", out->warning[i]);
	return 0;
}
