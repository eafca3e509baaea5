/* The key table of the rule file (its entries: rule_keys.def), for the code
 * that walks it: the parser (rules.c), the printer (rules_print.c) and the
 * round-trip comparison (rules_compare.c). */
#ifndef LAZYFAULT_RULE_KEYS_H
#define LAZYFAULT_RULE_KEYS_H

#include "rules.h"

/* What a key's value is, and so the type of its field. */
enum lf_kind {
	LF_KIND_ENUM,           /* one of .names; an enum field */
	LF_KIND_STRING,         /* char *, malloc'd; NULL when absent */
	LF_KIND_SIZE,           /* uint64_t bytes, at least .lo */
	LF_KIND_DURATION,       /* uint64_t nanoseconds */
	LF_KIND_NUMBER,         /* a whole number .lo to .hi: unsigned or uint64_t (.width) */
	LF_KIND_LIMIT,          /* int64_t, -1 for no limit */
	LF_KIND_BOOL,           /* bool */
	LF_KIND_PROBABILITY,    /* double, 0 to 1 */
	LF_KIND_PAGES,          /* struct lf_page_list */
};

/* A mask of enum lf_match, lf_action or lf_fill values; 0 stands for all. */
#define LF_ON(v) (1u << (v))

struct lf_key {
	const char *name;
	enum lf_kind kind;
	size_t offset;          /* of its field in struct lf_rule or struct lf_rules */
	unsigned width;         /* LF_KIND_NUMBER: sizeof the field (else unused) */
	uint64_t lo, hi;        /* LF_KIND_SIZE, LF_KIND_NUMBER: the values accepted;
				   LF_KIND_PAGES: lo 1 numbers from 1 (regions) */
	const char *const *names; /* LF_KIND_ENUM: the value names, by value */
	unsigned nnames;
	/* LF_KIND_ENUM, optional: per value, the matches it is for (0: all),
	 * and why a value is refused elsewhere. */
	const unsigned *name_matches;
	const char *name_because;
	/* The default, written as in the file, per enum lf_match (global keys:
	 * [0]).  NULL: the field stays zero, or rules.c derives it. */
	const char *def[LF_NMATCH];
	/* Rule keys: where the key applies; given anywhere else, it is refused.
	 * fills is the fill of the pages a rule does not poison
	 * (lf_rule_fill); needs, keys of which one must be given too. */
	unsigned matches, actions, fills, needs;
	/* Keys with which it does not apply, and why (they change what the
	 * rule is); like a key given where it does not apply, it is refused. */
	unsigned not_with;
	const char *not_because;
	bool required;          /* must be given wherever it applies */
	/* In force (its value used) only when one of these keys is given;
	 * 0: always.  A string key is also out of force when empty. */
	unsigned group;
	bool empty_ok;          /* an empty value is allowed, and means none */
	const char *absent;     /* what it means when out of force ("any") */
	const char *because;    /* why it is refused where it does not apply */
};

enum lf_global_key_index {
#define RULE_KEY(ID, ...)
#define GLOBAL_KEY(ID, ...) LF_G_##ID,
#include "rule_keys.def"
#undef RULE_KEY
#undef GLOBAL_KEY
	LF_NGLOBAL_KEYS
};

extern const struct lf_key lf_rule_keys[LF_NRULE_KEYS];
extern const struct lf_key lf_global_keys[LF_NGLOBAL_KEYS];

extern const char *const lf_match_names[LF_NMATCH];
extern const char *const lf_action_names[LF_NACTION];
extern const char *const lf_fill_names[LF_NFILL];
extern const char *const lf_level_names[4];
extern const char *const lf_on_error_names[2];
extern const char *const lf_serve_names[3];

/* The key's field in `base` (a struct lf_rule, or the struct lf_rules for
 * a global key). */
static inline void *lf_key_field(const struct lf_key *k, const void *base)
{
	return (char *)base + k->offset;
}

/* The index of the key named `name` in keys[0..n), or -1. */
int lf_key_find(const struct lf_key *keys, size_t n, const char *name);

/* What fills the pages rule r does not poison: zero or load. */
enum lf_fill lf_rule_fill(const struct lf_rule *r);

/* The key applies to the rule: its match, action and fill, the keys it
 * needs, and none it is not with.  A global key applies everywhere. */
bool lf_key_applies(const struct lf_key *k, const struct lf_rule *r);

/* Its value is used: it applies, its group is given, and a string is not
 * empty.  base: the rule for a rule key, the struct lf_rules for a global
 * key (then rule is false). */
bool lf_key_in_force(const struct lf_key *k, const void *base, bool rule);

/* "a, b or c": the names whose bit is in mask (0: all of them). */
void lf_names_of(const char *const *names, unsigned n, unsigned mask, char *buf, size_t len);

/* Set key k's field in base from its text v (not empty, unless k allows
 * it).  0; or -1 with what is wrong with v in why (the message that follows
 * "key 'K': "); or LF_KEY_NO_MEMORY.  The field is changed only on 0. */
#define LF_KEY_NO_MEMORY (-2)
int lf_key_set(const struct lf_key *k, void *base, const char *v, char *why, size_t n);
/* The bytes of key k's field. */
size_t lf_key_size(const struct lf_key *k);
/* Free what key k's field holds (strings, page lists) and clear it. */
void lf_key_free(const struct lf_key *k, void *base);

#endif
