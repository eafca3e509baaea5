/* The value syntax of the rule file (values.h). */
#include "values.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* strtoull alone would take leading blanks, '+' and even '-' (which it
 * negates): a digit must come first.  errno is restored because the library
 * parses inside the program, whose errno is not ours to change. */
int lf_parse_u64(const char *s, const char **end, uint64_t *v)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	int saved = errno;
	errno = 0;
	char *e;
	unsigned long long x = strtoull(s, &e, 10);
	int overflow = errno == ERANGE;
	errno = saved;
	if (overflow)
		return LF_TOO_LARGE;
	*end = e;
	*v = x;
	return 0;
}

int lf_parse_number(const char *s, uint64_t *v)
{
	const char *e;
	uint64_t x;
	int rc = lf_parse_u64(s, &e, &x);
	if (rc < 0)
		return rc;
	if (*e)
		return -1;
	*v = x;
	return 0;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int lf_parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mul = 1;
	const char *e;
	int rc = lf_parse_u64(s, &e, &v);
	if (rc < 0)
		return rc;
	e = skip_blanks(e);
	switch (*e) {
	case 'k': case 'K': mul = LF_KIB; e++; break;
	case 'm': case 'M': mul = LF_MIB; e++; break;
	case 'g': case 'G': mul = LF_GIB; e++; break;
	}
	if (*e)
		return -1;
	if (__builtin_mul_overflow(v, mul, &v))
		return LF_TOO_LARGE;
	*out = v;
	return 0;
}

int lf_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
	};
	uint64_t v;
	const char *e;
	int rc = lf_parse_u64(s, &e, &v);
	if (rc < 0)
		return rc;
	e = skip_blanks(e);
	if (!*e) {
		/* No unit: only a zero is unambiguous. */
		if (v != 0)
			return -1;
		*ns = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(e, units[i].unit) == 0) {
			if (__builtin_mul_overflow(v, units[i].ns, &v))
				return LF_TOO_LARGE;
			*ns = v;
			return 0;
		}
	return -1;
}

int lf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1" }, *const no[] = { "no", "false", "0" };
	if (!s)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int lf_parse_probability(const char *s, double *out)
{
	/* Only plain decimal notation: strtod would also take "nan", "inf",
	 * hex floats and leading blanks. */
	if (!s || !*s)
		return -1;
	for (const char *c = s; *c; c++)
		if (!isdigit((unsigned char)*c) && !strchr(".eE+-", *c))
			return -1;
	int saved = errno;
	char *e;
	double d = strtod(s, &e);
	errno = saved;
	if (e == s || *e)
		return -1;
	if (!(d >= 0.0 && d <= 1.0))
		return LF_OUT_OF_RANGE;
	*out = d == 0.0 ? 0.0 : d; /* -0 is 0 */
	return 0;
}

int lf_parse_limit(const char *s, int64_t *out)
{
	uint64_t v;
	if (s && strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	int rc = lf_parse_number(s, &v);
	if (rc < 0)
		return rc;
	if (v > INT64_MAX)
		return LF_TOO_LARGE;
	*out = (int64_t)v;
	return 0;
}

int lf_parse_name(const char *s, const char *const *names, size_t n, unsigned *out)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (unsigned)i;
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------------ page lists */

/* The item that starts at `item` and ends before the next comma, without
 * its trailing blanks, for a message. */
static void not_an_item(const char *item, char *why, size_t whylen)
{
	const char *end = item;
	while (*end && *end != ',')
		end++;
	while (end > item && isspace((unsigned char)end[-1]))
		end--;
	if (end == item)
		snprintf(why, whylen, "empty item");
	else
		snprintf(why, whylen, "'%.*s' is not a page number, a range A-B, 'last' or 'all'",
			 (int)(end - item), item);
}

/* One item at c (blanks skipped): a span in *span (returns 1), `all`
 * (returns 2), or -1 with why set.  *next is set past the item. */
static int page_item(const char *c, const char **next, struct lf_page_span *span,
		     char *why, size_t whylen)
{
	uint64_t a, b;
	const char *e;
	if (strncmp(c, "all", 3) == 0) {
		*next = c + 3;
		return 2;
	}
	if (strncmp(c, "last", 4) == 0) {
		span->first = span->last = LF_PAGE_LAST;
		*next = c + 4;
		return 1;
	}
	int rc = lf_parse_u64(c, &e, &a);
	if (rc == LF_TOO_LARGE) {
		snprintf(why, whylen, "page number too large");
		return -1;
	}
	if (rc < 0) {
		not_an_item(c, why, whylen);
		return -1;
	}
	b = a;
	c = skip_blanks(e);
	if (*c == '-') {
		c = skip_blanks(c + 1);
		rc = lf_parse_u64(c, &e, &b);
		if (rc == LF_TOO_LARGE) {
			snprintf(why, whylen, "page number too large");
			return -1;
		}
		if (rc < 0) {
			snprintf(why, whylen, "a range needs two page numbers, as in 10-19");
			return -1;
		}
		c = e;
		if (a > b) {
			snprintf(why, whylen, "range %llu-%llu goes backwards",
				 (unsigned long long)a, (unsigned long long)b);
			return -1;
		}
	}
	if (b == LF_PAGE_LAST) {
		snprintf(why, whylen, "page number too large");
		return -1;
	}
	span->first = a;
	span->last = b;
	*next = c;
	return 1;
}

int lf_parse_pages(const char *s, struct lf_page_list *out, char *why, size_t whylen)
{
	size_t cap = 1;
	for (const char *c = s; *c; c++)
		cap += *c == ',';
	struct lf_page_span *v = calloc(cap, sizeof(*v));
	if (!v) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	size_t n = 0;
	bool all = false;
	for (const char *c = s;;) {
		while (isspace((unsigned char)*c))
			c++;
		const char *item = c;
		int got = page_item(item, &c, &v[n], why, whylen);
		if (got < 0)
			goto fail;
		if (got == 2)
			all = true;
		else
			n++;
		while (isspace((unsigned char)*c))
			c++;
		if (*c == '\0')
			break;
		if (*c != ',') {
			/* "3 4", "lastly": the item goes on past what was read */
			not_an_item(item, why, whylen);
			goto fail;
		}
		c++;
	}
	if (all && n > 0) {
		snprintf(why, whylen, "'all' cannot be combined with other pages");
		goto fail;
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	out->pages = v;
	out->npages = n;
	out->pages_all = all;
	return 0;
fail:
	free(v);
	return -1;
}
