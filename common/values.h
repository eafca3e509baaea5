/* The value syntax of the rule file: sizes, durations, booleans, whole
 * numbers, probabilities, page lists and names from a list, apart from what
 * any key means (rules.c and rule_keys.def say which key takes which).
 *
 * Linked into liblazyfault.so, so: no global mutable state, no printing,
 * errno left as it was.  Each parser reads one whole value (no blanks
 * around it: inih has stripped those) and returns 0, or a negative number
 * and leaves its output as it was. */
#ifndef LAZYFAULT_VALUES_H
#define LAZYFAULT_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LF_KIB (UINT64_C(1) << 10)
#define LF_MIB (UINT64_C(1) << 20)
#define LF_GIB (UINT64_C(1) << 30)

/* The value is a number, but outside what the parser accepts. */
#define LF_OUT_OF_RANGE (-2)
/* The value is a number too large for its field (a size past 2^64 - 1). */
#define LF_TOO_LARGE (-3)

/* A decimal unsigned 64-bit number at the start of s (a digit first: no
 * sign, no blank); *end is set past it.  -1 when there is none,
 * LF_TOO_LARGE when it overflows.  The parsers below return LF_TOO_LARGE
 * the same way. */
int lf_parse_u64(const char *s, const char **end, uint64_t *v);
/* The whole string is such a number. */
int lf_parse_number(const char *s, uint64_t *v);

int lf_parse_size(const char *s, uint64_t *out);      /* 4096, 64K, 1M, 2G (x 1024) */
int lf_parse_duration(const char *s, uint64_t *ns);   /* 0, 10ns, 5us, 3ms, 1s */
int lf_parse_bool(const char *s, bool *out);          /* yes/no true/false 1/0, any case */

/* 0 to 1 in plain decimal notation (no nan, inf, hex, blanks): -1 when it
 * is not such a number, LF_OUT_OF_RANGE when it lies outside 0..1. */
int lf_parse_probability(const char *s, double *out);

/* A limit on a count: -1 (no limit, stored as -1) or 0 to INT64_MAX. */
int lf_parse_limit(const char *s, int64_t *out);

/* s is names[i]: *out = i. */
int lf_parse_name(const char *s, const char *const *names, size_t n, unsigned *out);

/* A list of pages: items N, A-B (inclusive), `last`, or just `all`,
 * separated by commas, blanks allowed around items and around '-'.
 * Page numbers are 0-based; UINT64_MAX is taken by `last`. */
#define LF_PAGE_LAST UINT64_MAX

/* One item: pages first..last; `last` is first = last = LF_PAGE_LAST. */
struct lf_page_span {
	uint64_t first, last;
};

struct lf_page_list {
	struct lf_page_span *pages;     /* malloc'd, NULL when npages is 0 */
	size_t npages;
	bool pages_all;                 /* `all`: then npages is 0 */
};

/* -1 with the reason in why (e.g. "range 5-2 goes backwards"), or 0 with
 * *out set (its array the caller's to free). */
int lf_parse_pages(const char *s, struct lf_page_list *out, char *why, size_t whylen);

#endif
