/* The rule file: one parser (inih underneath) shared by liblazyfault.so and
 * the lazyfault command.  See lazyfault.ini(5) and SPEC "The rule file".
 *
 * Memory: the parser allocates with malloc; lf_rules_free() releases it all.
 * The library parses once, at its first initialisation, and keeps the result
 * for the life of the process. */
#ifndef LAZYFAULT_RULES_H
#define LAZYFAULT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lf_match { LF_MATCH_ANON, LF_MATCH_FILE, LF_MATCH_MALLOC };
enum lf_action { LF_ACTION_ZERO, LF_ACTION_LOAD, LF_ACTION_POISON };
enum lf_fill { LF_FILL_ZERO, LF_FILL_LOAD };
enum lf_on_error { LF_ON_ERROR_PASSTHROUGH, LF_ON_ERROR_ABORT };
enum lf_level { LF_LEVEL_ERROR, LF_LEVEL_WARN, LF_LEVEL_INFO, LF_LEVEL_DEBUG };

#define LF_NO_MAX UINT64_MAX       /* max_size when absent */
#define LF_PAGE_LAST UINT64_MAX    /* "last" in a pages list */
#define LF_TIMES_UNLIMITED (-1)

/* One item of a `pages` list: pages first..last (inclusive, 0-based).
 * "last" is stored as first = last = LF_PAGE_LAST; "all" sets pages_all. */
struct lf_page_span {
	uint64_t first, last;
};

/* Bits of lf_rule.given: which keys the file set explicitly. */
enum lf_key_bit {
	LF_KEY_MATCH = 1u << 0, LF_KEY_MIN_SIZE = 1u << 1, LF_KEY_MAX_SIZE = 1u << 2,
	LF_KEY_PATH = 1u << 3, LF_KEY_CALLER = 1u << 4, LF_KEY_CALLER_DEPTH = 1u << 5,
	LF_KEY_ACTION = 1u << 6, LF_KEY_SOURCE = 1u << 7, LF_KEY_SOURCE_OFFSET = 1u << 8,
	LF_KEY_READAHEAD = 1u << 9, LF_KEY_FILL = 1u << 10, LF_KEY_PAGES = 1u << 11,
	LF_KEY_PROBABILITY = 1u << 12, LF_KEY_AFTER = 1u << 13, LF_KEY_EVERY = 1u << 14,
	LF_KEY_TIMES = 1u << 15, LF_KEY_SEED = 1u << 16, LF_KEY_DELAY = 1u << 17,
	LF_KEY_HANDOFF = 1u << 18,
};

struct lf_rule {
	char *name;             /* the section name */
	int line;               /* line of the section header */
	unsigned given;         /* enum lf_key_bit mask */
	enum lf_match match;
	uint64_t min_size, max_size;
	char *path;             /* fnmatch glob, NULL = any (file rules only) */
	char *caller;           /* fnmatch glob on a function name, NULL = any */
	unsigned caller_depth;
	enum lf_action action;
	char *source;           /* load on anon/malloc: the file, else NULL */
	uint64_t source_offset;
	uint64_t readahead;     /* bytes; a poison rule uses one page */
	enum lf_fill fill;      /* poison rules: how unpoisoned pages fill */
	struct lf_page_span *pages;
	size_t npages;
	bool pages_all;
	double probability;     /* 1 when absent */
	uint64_t after;         /* 0 */
	uint64_t every;         /* 1 */
	int64_t times;          /* LF_TIMES_UNLIMITED */
	uint64_t seed;          /* valid when given & LF_KEY_SEED */
	uint64_t delay_ns;      /* 0 */
	bool handoff;           /* file + load: give sequential reads to the kernel */
};

struct lf_rules {
	char *file;             /* the path it was read from */
	char *log;              /* "stderr", "off" or a path (may hold %p) */
	enum lf_level log_level;
	char *stats;            /* NULL or "" = none; may hold %p */
	enum lf_on_error on_error;
	unsigned workers;
	struct lf_rule *rule;
	size_t nrules;
};

/* Parse a rule file.  Returns 0, or -1 with a message in err of the form
 * "FILE:LINE: key 'KEY': what is wrong" (or "FILE: ..." when no line
 * applies, e.g. the file cannot be opened).  On error *out is left empty. */
int lf_rules_load(const char *path, struct lf_rules *out, char *err, size_t errlen);
/* The same from a buffer; `name` stands for the file name in messages. */
int lf_rules_parse(const char *text, size_t len, const char *name,
		   struct lf_rules *out, char *err, size_t errlen);
void lf_rules_free(struct lf_rules *r);
/* Print the rules as understood, every key with its effective value. */
void lf_rules_print(const struct lf_rules *r, FILE *out);

/* Value syntax, shared with the rest of the code.  Each returns 0 or -1. */
int lf_parse_size(const char *s, uint64_t *out);      /* 4096, 64K, 1M, 2G */
int lf_parse_duration(const char *s, uint64_t *ns);   /* 10ns, 5us, 3ms, 1s */
int lf_parse_bool(const char *s, bool *out);          /* yes/no true/false 1/0 */

const char *lf_match_name(enum lf_match m);
const char *lf_action_name(enum lf_action a);

#endif
