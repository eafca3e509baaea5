/* The rule file: one parser (inih underneath) shared by liblazyfault.so and
 * the lazyfault command; its keys are listed once, in rule_keys.def.  The
 * syntax and meaning of every key: lazyfault.ini(5).
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

#include "values.h"

enum lf_match { LF_MATCH_ANON, LF_MATCH_FILE, LF_MATCH_MALLOC };
enum lf_action { LF_ACTION_ZERO, LF_ACTION_LOAD, LF_ACTION_POISON, LF_ACTION_FAIL };
enum lf_fill { LF_FILL_ZERO, LF_FILL_LOAD };
enum lf_on_error { LF_ON_ERROR_PASSTHROUGH, LF_ON_ERROR_ABORT };
/* Who serves a fault: a helper thread, or the faulting thread itself from
 * the library's SIGBUS handler; auto: signal in user-mode-only mode. */
enum lf_serve { LF_SERVE_AUTO, LF_SERVE_HELPER, LF_SERVE_SIGNAL };
enum lf_level { LF_LEVEL_ERROR, LF_LEVEL_WARN, LF_LEVEL_INFO, LF_LEVEL_DEBUG };
#define LF_NMATCH 3
#define LF_NACTION 4
#define LF_NFILL 2

#define LF_NO_MAX UINT64_MAX       /* max_size when absent */
#define LF_TIMES_UNLIMITED (-1)
/* The largest readahead: the largest window the library serves per fault
 * (its helpers' buffers hold one window). */
#define LF_READAHEAD_MAX (4 * LF_MIB)
/* The largest seed: 2^53 - 1, the largest integer that JSON tools reading
 * numbers as doubles (jq 1.6, JavaScript) keep exact, so that the seed in a
 * statistics file always replays the same run. */
#define LF_SEED_MAX ((UINT64_C(1) << 53) - 1)
/* The exit status of a program in which the library cannot set itself up
 * under `on_error = abort`: sysexits(3)'s EX_CONFIG, apart from the
 * statuses shells give (126, 127, 128+N) and the common 1 and 2. */
#define LF_EXIT_ON_ERROR 78

/* Each rule key's index in rule_keys.def (LF_K_MATCH, ...), and its bit in
 * lf_rule.given (LF_KEY_MATCH = 1u << LF_K_MATCH, ...). */
enum lf_key_index {
#define RULE_KEY(ID, ...) LF_K_##ID,
#define GLOBAL_KEY(ID, ...)
#include "rule_keys.def"
#undef RULE_KEY
#undef GLOBAL_KEY
	LF_NRULE_KEYS
};
enum lf_key_bit {
#define RULE_KEY(ID, ...) LF_KEY_##ID = 1u << LF_K_##ID,
#define GLOBAL_KEY(ID, ...)
#include "rule_keys.def"
#undef RULE_KEY
#undef GLOBAL_KEY
};
_Static_assert(LF_NRULE_KEYS <= 32, "lf_rule.given has a bit per rule key");

/* The keys whose presence makes a poison rule count its faults (the
 * triggers); without them it poisons the pages listed, or every page. */
#define LF_KEY_TRIGGERS (LF_KEY_PROBABILITY | LF_KEY_AFTER | LF_KEY_EVERY | LF_KEY_TIMES)

struct lf_rule {
	char *name;             /* the section name (valid UTF-8, no control character) */
	int line;               /* line of the section header */
	unsigned given;         /* enum lf_key_bit mask: the keys the file set */
	int key_line[LF_NRULE_KEYS]; /* the line of each key given, else 0; a
				      * define's place is below 0 (rules.c) */
	enum lf_match match;
	uint64_t min_size, max_size;
	char *path;             /* fnmatch glob, NULL = any (file rules only) */
	char *caller;           /* fnmatch glob on a function name, NULL = any */
	unsigned caller_depth;
	char *program;          /* fnmatch glob on the executable's path, NULL = any */
	struct lf_page_list regions; /* given & LF_KEY_REGIONS: the numbers (from 1) taken */
	enum lf_action action;
	char *source;           /* load on anon/malloc: the file, else NULL; made
				   absolute against the rule file's folder by
				   lf_rules_load */
	uint64_t source_offset;
	uint64_t readahead;     /* bytes; a poison rule uses one page */
	enum lf_fill fill;      /* poison rules: how unpoisoned pages fill */
	/* The `pages` key, two views of the same bytes: one value for the key
	 * table (page_list), three names for the code that reads it. */
	union {
		struct lf_page_list page_list;
		struct {
			struct lf_page_span *pages;
			size_t npages;
			bool pages_all;
		};
	};
	double probability;     /* 1 when absent */
	uint64_t after;         /* 0 */
	uint64_t every;         /* 1 */
	int64_t times;          /* LF_TIMES_UNLIMITED */
	uint64_t seed;          /* valid when given & LF_KEY_SEED */
	/* Bad pages of the file by their index in it (file rules); `last` is
	 * refused, so each span is first..last. */
	struct lf_page_list file_pages;
	bool io_error;          /* the read family fails at the bad pages */
	uint64_t delay_ns;      /* 0 */
	bool handoff;           /* file + load: give sequential reads to the kernel */
	char *prefetch;         /* a trace of an earlier run to install ahead from, else
				   NULL; made absolute as `source` is */
};

struct lf_rules {
	char *file;             /* the path it was read from */
	char *defines_label;    /* the label of the defines applied ("-D"), NULL: none */
	char *log;              /* "stderr", "off" or a path (may hold %p) */
	enum lf_level log_level;
	char *stats;            /* NULL or "" = none; may hold %p */
	char *trace;            /* the fault trace: NULL or "" = none; may hold %p */
	enum lf_on_error on_error;
	unsigned workers;
	enum lf_serve serve;
	char *program;          /* fnmatch glob on the executable's path, NULL = any */
	bool control;           /* listen for `lazyfault ctl` */
	struct lf_rule *rule;
	size_t nrules;
	/* What the file says that works but cannot be what was meant (a rule
	 * that never fires, a key with no effect): "FILE:LINE: ..." each. */
	char **warning;
	size_t nwarnings;
};

/* Parse a rule file.  Returns 0, or -1 with a message in err of the form
 * "FILE:LINE: key 'KEY': what is wrong" (or "FILE: ..." when no line
 * applies, e.g. the file cannot be opened).  On error *out is left empty.
 * The file must be a regular file (it is opened without blocking: a FIFO
 * is refused, not waited for); a relative `source` is made absolute
 * against the rule file's folder.  Whether the sources can be read is
 * lf_rules_check_sources'. */
int lf_rules_load(const char *path, struct lf_rules *out, char *err, size_t errlen);
/* Open the `source` of rule r for reading (lf_open_input: a regular file
 * or a block device, opened without blocking): the descriptor, or -1 with
 * "FILE:LINE: key 'source': rule 'NAME': cannot use PATH: why" in err
 * ("-D NAME.source=PATH: ..." when a define gave it). */
int lf_rule_open_source(const struct lf_rules *rs, const struct lf_rule *r, char *err,
			size_t errlen);
/* Every rule's source can be opened: 0, or -1 with the first failure in
 * err (what `lazyfault check` and `run` refuse before anything runs). */
int lf_rules_check_sources(const struct lf_rules *rs, char *err, size_t errlen);
/* The rule draws random numbers (a poison or fail rule with a probability
 * below 1): only then does its seed matter. */
bool lf_rule_draws(const struct lf_rule *r);
/* The same from a buffer; `name` stands for the file name in messages. */
int lf_rules_parse(const char *text, size_t len, const char *name,
		   struct lf_rules *out, char *err, size_t errlen);
void lf_rules_free(struct lf_rules *r);

/* Keys set from outside the file: `-D RULE.KEY=VALUE` and `-D
 * global.KEY=VALUE` of the command (the library gets them through
 * LAZYFAULT_DEFINES), and the `set` of the control socket.  Each is applied
 * as if the key were written in that section, in place of the file's, and
 * checked as the file is; a message names it instead of a line:
 * "LABEL RULE.KEY=VALUE: key 'KEY': what is wrong". */
struct lf_defines {
	const char *label;      /* "-D", "set" */
	const char *const *text; /* "RULE.KEY=VALUE" each */
	size_t n;
};
int lf_rules_load_defs(const char *path, const struct lf_defines *d, struct lf_rules *out,
		       char *err, size_t errlen);
int lf_rules_parse_defs(const char *text, size_t len, const char *name,
			const struct lf_defines *d, struct lf_rules *out, char *err, size_t errlen);
/* "A\nB" (LAZYFAULT_DEFINES: one per line) as defines; *store holds what
 * d points into, freed with lf_defines_free.  0, or -1 out of memory. */
int lf_defines_split(const char *joined, const char *label, struct lf_defines *d, char **store);
void lf_defines_free(struct lf_defines *d, char *store);
/* Rule i of rs with the one define `text` applied and checked as
 * lf_rules_parse_defs does (the `set` of the control socket): 0 with *out
 * a copy of the rule in which only the field of key *key is its own (free
 * it alone, lf_key_free), or -1 with the message in err. */
int lf_rule_with_define(const struct lf_rules *rs, size_t i, const char *label, const char *text,
			struct lf_rule *out, int *key, char *err, size_t errlen);

/* Print the rules as understood: every key in force with its effective
 * value, in a form that parses back to the same rules.  In rules_print.c,
 * which the library does not link (it never prints rules). */
void lf_rules_print(const struct lf_rules *r, FILE *out);

const char *lf_match_name(enum lf_match m);
const char *lf_action_name(enum lf_action a);

#endif
