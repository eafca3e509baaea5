/* Comparing two parsed rule files key by key, through the key table, so
 * that a key added to it is compared too; and the round trip through the
 * printer (rules_compare.h). */
#include "rules_compare.h"

#include <stdlib.h>
#include <string.h>

#include "rule_keys.h"

static bool same_string(const char *a, const char *b)
{
	if (a && !*a)
		a = NULL;
	if (b && !*b)
		b = NULL;
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_pages(const struct lf_page_list *a, const struct lf_page_list *b)
{
	if (a->pages_all != b->pages_all || a->npages != b->npages)
		return false;
	for (size_t i = 0; i < a->npages; i++)
		if (a->pages[i].first != b->pages[i].first || a->pages[i].last != b->pages[i].last)
			return false;
	return true;
}

static bool same_value(const struct lf_key *k, const void *x, const void *y)
{
	switch (k->kind) {
	case LF_KIND_ENUM:
		return *(const unsigned *)x == *(const unsigned *)y;
	case LF_KIND_STRING:
		return same_string(*(char *const *)x, *(char *const *)y);
	case LF_KIND_SIZE:
	case LF_KIND_DURATION:
		return *(const uint64_t *)x == *(const uint64_t *)y;
	case LF_KIND_NUMBER:
		return k->width == sizeof(unsigned) ? *(const unsigned *)x == *(const unsigned *)y
						    : *(const uint64_t *)x == *(const uint64_t *)y;
	case LF_KIND_LIMIT:
		return *(const int64_t *)x == *(const int64_t *)y;
	case LF_KIND_BOOL:
		return *(const bool *)x == *(const bool *)y;
	case LF_KIND_PROBABILITY:
		return *(const double *)x == *(const double *)y;
	case LF_KIND_PAGES:
		return same_pages(x, y);
	}
	return false;
}

/* The first key of keys[0..n) whose value differs between a and b; when
 * none, the first whose standing differs (a change of one key can bring
 * another into force: fill = load brings source_offset); or NULL.  Values
 * are compared even out of force: the library may still read them
 * (max_size is read whether given or not). */
static const struct lf_key *first_difference(const struct lf_key *keys, size_t n,
					     const void *a, const void *b, bool rule)
{
	for (size_t i = 0; i < n; i++)
		if (!same_value(&keys[i], lf_key_field(&keys[i], a), lf_key_field(&keys[i], b)))
			return &keys[i];
	for (size_t i = 0; i < n; i++)
		if (lf_key_in_force(&keys[i], a, rule) != lf_key_in_force(&keys[i], b, rule))
			return &keys[i];
	return NULL;
}

int lf_rules_compare(const struct lf_rules *a, const struct lf_rules *b, char *why, size_t n)
{
	const struct lf_key *k = first_difference(lf_global_keys, LF_NGLOBAL_KEYS, a, b, false);
	if (k) {
		snprintf(why, n, "[global]: key '%s' differs", k->name);
		return -1;
	}
	if (a->nrules != b->nrules) {
		snprintf(why, n, "%zu rules, then %zu", a->nrules, b->nrules);
		return -1;
	}
	for (size_t i = 0; i < a->nrules; i++) {
		const struct lf_rule *x = &a->rule[i], *y = &b->rule[i];
		if (strcmp(x->name, y->name) != 0) {
			snprintf(why, n, "rule %zu: named '%s', then '%s'", i + 1, x->name, y->name);
			return -1;
		}
		k = first_difference(lf_rule_keys, LF_NRULE_KEYS, x, y, true);
		if (k) {
			snprintf(why, n, "rule '%s': key '%s' differs", x->name, k->name);
			return -1;
		}
	}
	return 0;
}

char *lf_rules_printed(const struct lf_rules *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	lf_rules_print(r, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int lf_rules_round_trip(const struct lf_rules *r, char **printed, char *why, size_t n)
{
	struct lf_rules again;
	char *text = lf_rules_printed(r);
	int rc;
	if (printed)
		*printed = text;
	if (!text) {
		snprintf(why, n, "out of memory");
		return LF_PRINTED_REFUSED;
	}
	if (lf_rules_parse(text, strlen(text), "printed", &again, why, n) < 0) {
		rc = LF_PRINTED_REFUSED;
	} else {
		rc = lf_rules_compare(r, &again, why, n);
		lf_rules_free(&again);
	}
	if (!printed)
		free(text);
	return rc;
}
