/* -D RULE.KEY=VALUE on the command line (run, check, sweep): collected in
 * the order given, checked by the rule file's parser (rules.h, struct
 * lf_defines), and handed to the library one per line in
 * LAZYFAULT_DEFINES. */
#include <stdlib.h>
#include <string.h>

#include "lazyfault.h"

int lf_defines_add(struct lf_defines *d, const char *text)
{
	const char **v = realloc((void *)d->text, (d->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	v[d->n++] = text;
	d->text = v;
	d->label = "-D";
	return 0;
}

char *lf_defines_join(const struct lf_defines *d)
{
	size_t len = 1;
	for (size_t i = 0; i < d->n; i++)
		len += strlen(d->text[i]) + 1;
	char *s = malloc(len), *at = s;
	for (size_t i = 0; s && i < d->n; i++) {
		size_t n = strlen(d->text[i]);
		memcpy(at, d->text[i], n);
		at += n;
		*at++ = i + 1 < d->n ? '\n' : '\0';
	}
	if (s && !d->n)
		*s = '\0';
	return s;
}

void lf_defines_release(struct lf_defines *d)
{
	free((void *)d->text);
	memset(d, 0, sizeof(*d));
}
