/* The key table of the rule file, made from rule_keys.def; the questions
 * every walker of it asks (where does a key apply, is its value in force);
 * and setting a key's field from its text.  The library links it: no
 * global mutable state, no printing. */
#include "rule_keys.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const lf_match_names[LF_NMATCH] = { "anon", "file", "malloc" };
const char *const lf_action_names[LF_NACTION] = { "zero", "load", "poison", "fail" };
const char *const lf_fill_names[LF_NFILL] = { "zero", "load" };
const char *const lf_level_names[4] = { "error", "warn", "info", "debug" };
const char *const lf_on_error_names[2] = { "passthrough", "abort" };
const char *const lf_serve_names[3] = { "auto", "helper", "signal" };

#define NAME_OF(tab, v) ((unsigned)(v) < sizeof(tab) / sizeof(tab[0]) ? tab[v] : "?")

const char *lf_match_name(enum lf_match m) { return NAME_OF(lf_match_names, m); }
const char *lf_action_name(enum lf_action a) { return NAME_OF(lf_action_names, a); }

/* ------------------------------------------------------------ the table */

/* 0, or a compile error when cond is false: checks inside an initializer. */
#define CHECK(cond) (0 * sizeof(char[(cond) ? 1 : -1]))
#define TYPE_OF_FIELD(m) __typeof__(((KEY_STRUCT *)0)->m)
/* The offset of field m of KEY_STRUCT, which must be of type T. */
#define FIELD(m, T) .offset = offsetof(KEY_STRUCT, m) + \
	CHECK(__builtin_types_compatible_p(TYPE_OF_FIELD(m), T))

/* The value macros of rule_keys.def: the kind and the field. */
#define V_STRING(m) .kind = LF_KIND_STRING, FIELD(m, char *)
#define V_SIZE(m, min, max) .kind = LF_KIND_SIZE, FIELD(m, uint64_t), .lo = (min), .hi = (max)
#define V_DURATION(m) .kind = LF_KIND_DURATION, FIELD(m, uint64_t)
#define V_LIMIT(m) .kind = LF_KIND_LIMIT, FIELD(m, int64_t)
#define V_BOOL(m) .kind = LF_KIND_BOOL, FIELD(m, bool)
#define V_PROBABILITY(m) .kind = LF_KIND_PROBABILITY, FIELD(m, double)
#define V_PAGES(m) .kind = LF_KIND_PAGES, FIELD(m, struct lf_page_list)
/* A list in the syntax of pages whose numbers count from 1 (.lo), without
 * `last` or `all`. */
#define V_REGIONS(m) .kind = LF_KIND_PAGES, FIELD(m, struct lf_page_list), .lo = 1
/* An enum field is read and written as an unsigned (its compatible type). */
#define V_ENUM(m, T, tab) .kind = LF_KIND_ENUM, \
	FIELD(m, T) + CHECK(sizeof(T) == sizeof(unsigned)), \
	.names = (tab), .nnames = sizeof(tab) / sizeof((tab)[0])
#define V_NUMBER(m, T, min, max) .kind = LF_KIND_NUMBER, \
	FIELD(m, T) + CHECK(__builtin_types_compatible_p(T, unsigned) || \
			    __builtin_types_compatible_p(T, uint64_t)), \
	.width = sizeof(T), .lo = (min), .hi = (max)

/* Not on a rule with file_pages, for the reason given. */
#define NOT_WITH_FILE_PAGES(why) .not_with = LF_KEY_FILE_PAGES, .not_because = (why)

#define ALL(d) { d, d, d }
#define BY_MATCH(anon, file, malloc) { [LF_MATCH_ANON] = anon, [LF_MATCH_FILE] = file, \
				       [LF_MATCH_MALLOC] = malloc }
/* An enum value that is for anon and malloc rules only. */
#define ANON_OR_MALLOC (LF_ON(LF_MATCH_ANON) | LF_ON(LF_MATCH_MALLOC))
#define NOT_ON_FILE(n, v) (const unsigned[n]){ [v] = ANON_OR_MALLOC }
#define ACTIONS_NOT_ON_FILE \
	(const unsigned[LF_NACTION]){ [LF_ACTION_ZERO] = ANON_OR_MALLOC, [LF_ACTION_FAIL] = ANON_OR_MALLOC }
#define POISON_OR_FAIL (LF_ON(LF_ACTION_POISON) | LF_ON(LF_ACTION_FAIL))

#define KEY_STRUCT struct lf_rules
#define GLOBAL_KEY(ID, ...) [LF_G_##ID] = { __VA_ARGS__ },
#define RULE_KEY(ID, ...)
const struct lf_key lf_global_keys[LF_NGLOBAL_KEYS] = {
#include "rule_keys.def"
};
#undef KEY_STRUCT
#undef GLOBAL_KEY
#undef RULE_KEY

#define KEY_STRUCT struct lf_rule
#define GLOBAL_KEY(ID, ...)
#define RULE_KEY(ID, ...) [LF_K_##ID] = { __VA_ARGS__ },
const struct lf_key lf_rule_keys[LF_NRULE_KEYS] = {
#include "rule_keys.def"
};
#undef KEY_STRUCT
#undef GLOBAL_KEY
#undef RULE_KEY

/* The `pages` key writes page_list; the library reads the same bytes as
 * pages, npages and pages_all. */
_Static_assert(offsetof(struct lf_rule, pages) ==
	       offsetof(struct lf_rule, page_list) + offsetof(struct lf_page_list, pages) &&
	       offsetof(struct lf_rule, npages) ==
	       offsetof(struct lf_rule, page_list) + offsetof(struct lf_page_list, npages) &&
	       offsetof(struct lf_rule, pages_all) ==
	       offsetof(struct lf_rule, page_list) + offsetof(struct lf_page_list, pages_all),
	       "the two views of the pages key agree");

/* ------------------------------------------------------------ questions */

int lf_key_find(const struct lf_key *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

enum lf_fill lf_rule_fill(const struct lf_rule *r)
{
	switch (r->action) {
	case LF_ACTION_ZERO:
	case LF_ACTION_FAIL: /* fills nothing; zero stands for "no file" */
		return LF_FILL_ZERO;
	case LF_ACTION_LOAD:
		return LF_FILL_LOAD;
	case LF_ACTION_POISON:
		break;
	}
	return r->fill;
}

bool lf_rule_draws(const struct lf_rule *r)
{
	return (r->action == LF_ACTION_POISON || r->action == LF_ACTION_FAIL) &&
	       (r->given & LF_KEY_PROBABILITY) &&
	       r->probability > 0 && r->probability < 1;
}

static bool in_mask(unsigned mask, unsigned v) { return !mask || (mask & LF_ON(v)); }

bool lf_key_applies(const struct lf_key *k, const struct lf_rule *r)
{
	return in_mask(k->matches, r->match) && in_mask(k->actions, r->action) &&
	       in_mask(k->fills, lf_rule_fill(r)) && (!k->needs || (r->given & k->needs)) &&
	       !(r->given & k->not_with);
}

bool lf_key_in_force(const struct lf_key *k, const void *base, bool rule)
{
	if (rule && !lf_key_applies(k, base))
		return false;
	if (rule && k->group && !(((const struct lf_rule *)base)->given & k->group))
		return false;
	if (k->kind == LF_KIND_STRING) {
		const char *s = *(char *const *)lf_key_field(k, base);
		return s && *s;
	}
	return true;
}

/* ------------------------------------------------------------ values */

/* "a, b or c": the names whose bit is in mask (0: all of them). */
void lf_names_of(const char *const *names, unsigned n, unsigned mask, char *buf, size_t len)
{
	unsigned left = 0;
	for (unsigned i = 0; i < n; i++)
		left += in_mask(mask, i);
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < n && at < len; i++) {
		if (!in_mask(mask, i))
			continue;
		left--;
		at += (size_t)snprintf(buf + at, len - at, "%s%s", names[i],
				       left > 1 ? ", " : left == 1 ? " or " : "");
	}
}

/* What a value of each kind looks like, for the message of a bad one. */
static const struct { const char *noun, *expect; } syntax[] = {
	[LF_KIND_SIZE] = { "size", "a number of bytes with an optional K, M or G suffix, e.g. 64K" },
	[LF_KIND_DURATION] = { "duration", "a whole number with ns, us, ms or s, e.g. 5ms" },
	[LF_KIND_NUMBER] = { "number", "a whole number" },
	[LF_KIND_LIMIT] = { "value", "-1 for unlimited, or a whole number from 0" },
	[LF_KIND_BOOL] = { "value", "yes or no" },
	[LF_KIND_PROBABILITY] = { "number", "0 to 1, e.g. 0.25" },
};

static int bad_syntax(const struct lf_key *k, const char *v, char *why, size_t n)
{
	char range[64] = "";
	if (k->kind == LF_KIND_NUMBER)
		snprintf(range, sizeof(range), " from %llu to %llu", (unsigned long long)k->lo,
			 (unsigned long long)k->hi);
	snprintf(why, n, "bad %s '%s' (expected %s%s)", syntax[k->kind].noun, v,
		 syntax[k->kind].expect, range);
	return -1;
}

/* "4M" for a size that is a whole number of K, M or G, else the bytes. */
static void size_text(uint64_t v, char *buf, size_t n)
{
	static const struct { uint64_t mul; char c; } u[] = {
		{ LF_GIB, 'G' }, { LF_MIB, 'M' }, { LF_KIB, 'K' },
	};
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (v >= u[i].mul && v % u[i].mul == 0) {
			snprintf(buf, n, "%llu%c", (unsigned long long)(v / u[i].mul), u[i].c);
			return;
		}
	snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* The largest value of key k, as one would write it. */
static void largest(const struct lf_key *k, char *buf, size_t n)
{
	switch (k->kind) {
	case LF_KIND_SIZE:
		if (k->hi == UINT64_MAX)
			snprintf(buf, n, "%llu bytes", (unsigned long long)k->hi);
		else
			size_text(k->hi, buf, n);
		break;
	case LF_KIND_DURATION:
		snprintf(buf, n, "%lluns, about 584 years", (unsigned long long)UINT64_MAX);
		break;
	case LF_KIND_LIMIT:
		snprintf(buf, n, "%lld", (long long)INT64_MAX);
		break;
	default:
		snprintf(buf, n, "%llu", (unsigned long long)k->hi);
		break;
	}
}

/* x (written v) is outside k's range, or too large for any (x unknown). */
static int out_of_range(const struct lf_key *k, const char *v, uint64_t x, bool too_large,
			char *why, size_t n)
{
	char hi[64], lo[32];
	largest(k, hi, sizeof(hi));
	if (k->kind == LF_KIND_PROBABILITY)
		snprintf(why, n, "%s is out of range (0 to 1)", v);
	else if (too_large || (k->kind == LF_KIND_SIZE && x > k->hi))
		snprintf(why, n, "'%s' is too large (at most %s)", v, hi);
	else if (k->hi == UINT64_MAX || k->kind == LF_KIND_SIZE) {
		if (k->kind == LF_KIND_SIZE)
			size_text(k->lo, lo, sizeof(lo));
		else
			snprintf(lo, sizeof(lo), "%llu", (unsigned long long)k->lo);
		snprintf(why, n, "%s is out of range (at least %s)", v, lo);
	} else
		snprintf(why, n, "%s is out of range (%llu to %llu)", v, (unsigned long long)k->lo,
			 (unsigned long long)k->hi);
	return -1;
}

int lf_key_set(const struct lf_key *k, void *base, const char *v, char *why, size_t n)
{
	void *f = lf_key_field(k, base);
	uint64_t x = 0;
	unsigned e;
	int rc = -1;
	char list[128], reason[128];
	struct lf_page_list pages;
	switch (k->kind) {
	case LF_KIND_ENUM:
		if (lf_parse_name(v, k->names, k->nnames, &e) < 0) {
			lf_names_of(k->names, k->nnames, 0, list, sizeof(list));
			snprintf(why, n, "unknown value '%s' (expected %s)", v, list);
			return -1;
		}
		*(unsigned *)f = e;
		return 0;
	case LF_KIND_STRING: {
		char *s = NULL;
		if (*v && !(s = strdup(v)))
			return LF_KEY_NO_MEMORY;
		free(*(char **)f);
		*(char **)f = s;
		return 0;
	}
	case LF_KIND_PAGES:
		if (lf_parse_pages(v, &pages, reason, sizeof(reason)) < 0 ||
		    (k->lo && lf_pages_from_one(&pages, reason, sizeof(reason)) < 0)) {
			snprintf(why, n, "bad %s list '%s': %s", k->lo ? "region" : "page", v, reason);
			return -1;
		}
		free(((struct lf_page_list *)f)->pages);
		*(struct lf_page_list *)f = pages;
		return 0;
	/* These parsers write the field only on success. */
	case LF_KIND_DURATION: rc = lf_parse_duration(v, f); break;
	case LF_KIND_LIMIT: rc = lf_parse_limit(v, f); break;
	case LF_KIND_BOOL: rc = lf_parse_bool(v, f); break;
	case LF_KIND_PROBABILITY: rc = lf_parse_probability(v, f); break;
	case LF_KIND_SIZE:
	case LF_KIND_NUMBER:
		rc = k->kind == LF_KIND_SIZE ? lf_parse_size(v, &x) : lf_parse_number(v, &x);
		if (rc == 0 && (x < k->lo || x > k->hi))
			rc = LF_OUT_OF_RANGE;
		if (rc == 0 && k->width == sizeof(unsigned))
			*(unsigned *)f = (unsigned)x;
		else if (rc == 0)
			*(uint64_t *)f = x;
		break;
	}
	if (rc == LF_OUT_OF_RANGE || rc == LF_TOO_LARGE)
		return out_of_range(k, v, x, rc == LF_TOO_LARGE, why, n);
	return rc < 0 ? bad_syntax(k, v, why, n) : 0;
}

size_t lf_key_size(const struct lf_key *k)
{
	switch (k->kind) {
	case LF_KIND_ENUM: return sizeof(unsigned);
	case LF_KIND_STRING: return sizeof(char *);
	case LF_KIND_SIZE:
	case LF_KIND_DURATION: return sizeof(uint64_t);
	case LF_KIND_NUMBER: return k->width;
	case LF_KIND_LIMIT: return sizeof(int64_t);
	case LF_KIND_BOOL: return sizeof(bool);
	case LF_KIND_PROBABILITY: return sizeof(double);
	case LF_KIND_PAGES: return sizeof(struct lf_page_list);
	}
	return 0;
}

void lf_key_free(const struct lf_key *k, void *base)
{
	void *f = lf_key_field(k, base);
	if (k->kind == LF_KIND_STRING) {
		free(*(char **)f);
		*(char **)f = NULL;
	} else if (k->kind == LF_KIND_PAGES) {
		free(((struct lf_page_list *)f)->pages);
		memset(f, 0, sizeof(struct lf_page_list));
	}
}
