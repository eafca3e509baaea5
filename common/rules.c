/* The rule file parser (SPEC "The rule file", lazyfault.ini(5)).
 *
 * inih does the INI syntax; this file checks keys and values.  It runs inside
 * liblazyfault.so at its first initialisation, so: no global mutable state, no
 * atexit, no printing (every message goes into the caller's buffer), errno is
 * left as it was, and the file is read with open/read rather than stdio.
 *
 * Why a reader of our own around ini_parse_stream: Debian's libinih is built
 * with INI_HANDLER_LINENO=0 and INI_CALL_HANDLER_ON_NEW_SECTION=0, so the
 * handler learns neither the line it is on nor that a section began.  Our
 * reader hands inih one line per call and counts them, so the line inih is on
 * is always p->line.  It also looks at each raw line just enough to notice
 * "a section header starts here": that is the only way to see an empty
 * section (a rule without keys), two adjacent sections with the same name,
 * or the line of a header whose rule lacks a required key.  The look mirrors
 * inih's own test for a header, and the handler cross-checks the name inih
 * reports against it (any disagreement is reported as an internal error,
 * which the fuzzer treats as a crash).  The reader also drops each line's
 * leading blanks (see reader()) and refuses NUL bytes and lines longer than
 * inih's buffer, which inih would otherwise cut silently.
 *
 * Errors: the first one found stops the parse; the message is
 * "FILE:LINE: key 'KEY': ...", "FILE:LINE: rule 'NAME': ...",
 * "FILE:LINE: section 'global': ...", "FILE:LINE: syntax error: ..." or,
 * with no line, "FILE: ...". */
#include "rules.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

/* inih keeps the section name in a 50-byte buffer (MAX_SECTION) and would
 * silently cut a longer one; we refuse it instead. */
#define INIH_MAX_SECTION 49
/* A rule file larger than this is surely a mistake (LAZYFAULT_RULES=/dev/zero
 * must not eat the program's memory). */
#define MAX_FILE (1024 * 1024)

/* ---------------------------------------------------------------- values */

static const char *const match_names[] = { "anon", "file", "malloc" };
static const char *const action_names[] = { "zero", "load", "poison" };
static const char *const fill_names[] = { "zero", "load" };
static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const on_error_names[] = { "passthrough", "abort" };

#define NAME_OF(tab, v) ((unsigned)(v) < sizeof(tab) / sizeof(tab[0]) ? tab[v] : "?")

const char *lf_match_name(enum lf_match m) { return NAME_OF(match_names, m); }
const char *lf_action_name(enum lf_action a) { return NAME_OF(action_names, a); }

static int parse_enum(const char *s, const char *const *names, size_t n, int *out)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return -1;
}

/* A decimal unsigned 64-bit number at s (a digit first: strtoull alone would
 * take leading blanks, '+' and even '-', which it negates).  *end is set past
 * it.  errno is restored: the library must not disturb the program's. */
static int parse_u64(const char *s, const char **end, uint64_t *v)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	int saved = errno;
	errno = 0;
	char *e;
	unsigned long long x = strtoull(s, &e, 10);
	int bad = errno == ERANGE;
	errno = saved;
	if (bad)
		return -1;
	*end = e;
	*v = x;
	return 0;
}

/* The whole string is a decimal unsigned 64-bit number. */
static int parse_u64_all(const char *s, uint64_t *v)
{
	const char *e;
	return parse_u64(s, &e, v) < 0 || *e ? -1 : 0;
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
	if (!s || parse_u64(s, &e, &v) < 0)
		return -1;
	e = skip_blanks(e);
	switch (*e) {
	case 'k': case 'K': mul = KIB; e++; break;
	case 'm': case 'M': mul = MIB; e++; break;
	case 'g': case 'G': mul = GIB; e++; break;
	}
	if (*e || __builtin_mul_overflow(v, mul, &v))
		return -1;
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
	if (!s || parse_u64(s, &e, &v) < 0)
		return -1;
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
				return -1;
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

/* 0 = ok, -1 = not a number, -2 = a number outside 0..1. */
static int parse_probability(const char *s, double *out)
{
	/* Only plain decimal notation: strtod would also take "nan", "inf",
	 * hex floats and leading blanks. */
	if (!*s)
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
		return -2;
	*out = d == 0.0 ? 0.0 : d; /* -0 is 0 */
	return 0;
}

/* `pages`: N, A-B, last, all, separated by commas, blanks allowed around
 * items.  Fills r->pages/npages/pages_all; on error writes why into `why`. */
static int parse_pages(const char *s, struct lf_rule *r, char *why, size_t whylen)
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
	const char *c = s;
	for (;;) {
		while (isspace((unsigned char)*c))
			c++;
		const char *item = c;
		uint64_t a, b;
		const char *e;
		if (strncmp(c, "all", 3) == 0) {
			all = true;
			c += 3;
		} else if (strncmp(c, "last", 4) == 0) {
			v[n].first = v[n].last = LF_PAGE_LAST;
			n++;
			c += 4;
		} else if (parse_u64(c, &e, &a) == 0) {
			b = a;
			c = skip_blanks(e);
			if (*c == '-') {
				c = skip_blanks(c + 1);
				if (parse_u64(c, &e, &b) < 0) {
					snprintf(why, whylen, "a range needs two page numbers, as in 10-19");
					goto fail;
				}
				c = e;
				if (a > b) {
					snprintf(why, whylen, "range %llu-%llu goes backwards",
						 (unsigned long long)a, (unsigned long long)b);
					goto fail;
				}
			}
			/* UINT64_MAX stands for "last" (LF_PAGE_LAST). */
			if (b == UINT64_MAX) {
				snprintf(why, whylen, "page number too large");
				goto fail;
			}
			v[n].first = a;
			v[n].last = b;
			n++;
		} else {
			const char *end = c;
			while (*end && *end != ',')
				end++;
			while (end > item && isspace((unsigned char)end[-1]))
				end--;
			if (end == item)
				snprintf(why, whylen, "empty item");
			else
				snprintf(why, whylen, "'%.*s' is not a page number, a range A-B, 'last' or 'all'",
					 (int)(end - item), item);
			goto fail;
		}
		while (isspace((unsigned char)*c))
			c++;
		if (*c == '\0')
			break;
		if (*c != ',') {
			const char *end = c;
			while (*end && *end != ',')
				end++;
			snprintf(why, whylen, "'%.*s' is not a page number, a range A-B, 'last' or 'all'",
				 (int)(end - item), item);
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
	r->pages = v;
	r->npages = n;
	r->pages_all = all;
	return 0;
fail:
	free(v);
	return -1;
}

/* ------------------------------------------------------------------ keys */

/* Rule keys, in the order of enum lf_key_bit: key i has bit 1u << i. */
enum {
	K_MATCH, K_MIN_SIZE, K_MAX_SIZE, K_PATH, K_CALLER, K_CALLER_DEPTH,
	K_ACTION, K_SOURCE, K_SOURCE_OFFSET, K_READAHEAD, K_FILL, K_PAGES,
	K_PROBABILITY, K_AFTER, K_EVERY, K_TIMES, K_SEED, K_DELAY, K_HANDOFF, NRULEKEYS
};
static const char *const rule_keys[NRULEKEYS] = {
	"match", "min_size", "max_size", "path", "caller", "caller_depth",
	"action", "source", "source_offset", "readahead", "fill", "pages",
	"probability", "after", "every", "times", "seed", "delay", "handoff",
};
enum { G_LOG, G_LOG_LEVEL, G_STATS, G_ON_ERROR, G_WORKERS, NGLOBALKEYS };
static const char *const global_keys[NGLOBALKEYS] = {
	"log", "log_level", "stats", "on_error", "workers",
};
/* Keys that only mean something to a poison rule. */
#define POISON_ONLY (LF_KEY_FILL | LF_KEY_PAGES | LF_KEY_PROBABILITY | LF_KEY_AFTER | \
		     LF_KEY_EVERY | LF_KEY_TIMES | LF_KEY_SEED)

_Static_assert(LF_KEY_HANDOFF == 1u << K_HANDOFF, "rule_keys[] follows enum lf_key_bit");

static int key_index(const char *const *keys, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], name) == 0)
			return i;
	return -1;
}

/* ---------------------------------------------------------------- parser */

enum section { SEC_NONE, SEC_GLOBAL, SEC_RULE };

struct parser {
	const char *file;           /* name for messages */
	const char *text;
	size_t len, pos;
	int line;                   /* the line inih is on (1-based) */
	struct lf_rules *out;
	enum section sec;
	char sec_raw[INIH_MAX_SECTION + 1]; /* the section name as inih sees it */
	int global_line;            /* line of [global], 0 when none yet */
	int key_line[NRULEKEYS];    /* line of each key of the current section */
	char *err;
	size_t errlen;
	int err_line;               /* line of the recorded error, 0 = none */
	int err_seen;               /* the line being read when it was found */
	bool failed;
	bool eof;                   /* the whole text was read */
};

/* Record an error; the one on the earliest line wins (a rule-level problem
 * found when its section ends can be earlier than the line being read). */
static void fail(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct parser *p, int line, const char *fmt, ...)
{
	if (p->failed && line >= p->err_line)
		return;
	if (!p->failed)
		p->err_seen = p->eof ? INT_MAX : p->line;
	p->failed = true;
	p->err_line = line;
	if (!p->err || !p->errlen)
		return;
	int n = line > 0 ? snprintf(p->err, p->errlen, "%s:%d: ", p->file, line)
			 : snprintf(p->err, p->errlen, "%s: ", p->file);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static struct lf_rule *cur_rule(struct parser *p)
{
	return &p->out->rule[p->out->nrules - 1];
}

static void rule_defaults(struct lf_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->min_size = 64 * KIB;     /* 128K for malloc, set when the rule ends */
	r->max_size = LF_NO_MAX;
	r->caller_depth = 8;
	r->readahead = 64 * KIB;
	r->probability = 1.0;
	r->every = 1;
	r->times = LF_TIMES_UNLIMITED;
}

/* The checks that need the whole section, run when it ends. */
static void end_rule(struct parser *p)
{
	struct lf_rule *r = cur_rule(p);
	const int *kl = p->key_line;
	unsigned g = r->given;
	if (!(g & LF_KEY_MATCH)) {
		fail(p, r->line, "rule '%s': missing required key 'match'", r->name);
		return;
	}
	bool file = r->match == LF_MATCH_FILE;
	if (!(g & LF_KEY_MIN_SIZE) && r->match == LF_MATCH_MALLOC)
		r->min_size = 128 * KIB;
	if (!(g & LF_KEY_ACTION))
		r->action = file ? LF_ACTION_LOAD : LF_ACTION_ZERO;
	if (!(g & LF_KEY_FILL))
		r->fill = file ? LF_FILL_LOAD : LF_FILL_ZERO;

	if ((g & LF_KEY_PATH) && !file)
		fail(p, kl[K_PATH], "key 'path': only for match = file rules (this one matches %s)",
		     lf_match_name(r->match));
	if (r->action != LF_ACTION_POISON) {
		for (int k = 0; k < NRULEKEYS; k++)
			if ((g & POISON_ONLY & (1u << k)))
				fail(p, kl[k], "key '%s': only for action = poison rules (this one's action is %s)",
				     rule_keys[k], lf_action_name(r->action));
	} else if (g & LF_KEY_READAHEAD) {
		fail(p, kl[K_READAHEAD], "key 'readahead': a poison rule serves one page per fault");
	}
	bool loads = r->action == LF_ACTION_LOAD ||
		     (r->action == LF_ACTION_POISON && r->fill == LF_FILL_LOAD);
	if (file) {
		if (g & LF_KEY_SOURCE)
			fail(p, kl[K_SOURCE], "key 'source': not allowed on match = file rules (the mapped file is the source)");
		if (g & LF_KEY_SOURCE_OFFSET)
			fail(p, kl[K_SOURCE_OFFSET], "key 'source_offset': not allowed on match = file rules");
	} else if (loads) {
		if (!(g & LF_KEY_SOURCE))
			fail(p, r->line, "rule '%s': missing required key 'source' (%s on a match = %s rule fills the region from it)",
			     r->name, r->action == LF_ACTION_LOAD ? "action = load" : "fill = load",
			     lf_match_name(r->match));
	} else {
		if (g & LF_KEY_SOURCE)
			fail(p, kl[K_SOURCE], "key 'source': only used by action = load or fill = load");
		if (g & LF_KEY_SOURCE_OFFSET)
			fail(p, kl[K_SOURCE_OFFSET], "key 'source_offset': only used by action = load or fill = load");
	}
	/* A handoff gives the rest of a mapping to the kernel: only a plain
	 * load of a file mapping may do it, and not when each fault must be
	 * held (delay). */
	if (g & LF_KEY_HANDOFF) {
		if (!file || r->action != LF_ACTION_LOAD)
			fail(p, kl[K_HANDOFF], "key 'handoff': only for match = file rules with action = load");
		else if (r->handoff && r->delay_ns)
			fail(p, kl[K_HANDOFF], "key 'handoff': a rule with a 'delay' serves every fault itself");
	} else {
		r->handoff = file && r->action == LF_ACTION_LOAD && !r->delay_ns;
	}
	if (r->min_size > r->max_size) {
		int k = (g & LF_KEY_MAX_SIZE) ? K_MAX_SIZE : K_MIN_SIZE;
		fail(p, kl[k], "key '%s': max_size (%llu) is below min_size (%llu%s)", rule_keys[k],
		     (unsigned long long)r->max_size, (unsigned long long)r->min_size,
		     (g & LF_KEY_MIN_SIZE) ? "" : ", the default");
	}
}

static void end_section(struct parser *p)
{
	if (p->sec == SEC_RULE)
		end_rule(p);
	p->sec = SEC_NONE;
}

/* A section header at p->line; raw is the name between the brackets exactly
 * as inih will store it. */
static void begin_section(struct parser *p, const char *raw, size_t n)
{
	end_section(p);
	if (p->failed)
		return;
	if (n > INIH_MAX_SECTION) {
		fail(p, p->line, "syntax error: section name longer than %d characters", INIH_MAX_SECTION);
		return;
	}
	memcpy(p->sec_raw, raw, n);
	p->sec_raw[n] = '\0';
	memset(p->key_line, 0, sizeof(p->key_line));

	/* "[ name ]" names the rule "name". */
	const char *a = raw, *b = raw + n;
	while (a < b && isspace((unsigned char)*a))
		a++;
	while (b > a && isspace((unsigned char)b[-1]))
		b--;
	if (a == b) {
		fail(p, p->line, "syntax error: empty section name");
		return;
	}
	for (const char *c = a; c < b; c++)
		if (iscntrl((unsigned char)*c)) {
			fail(p, p->line, "syntax error: control character in section name");
			return;
		}
	size_t len = (size_t)(b - a);
	if (len == 6 && memcmp(a, "global", 6) == 0) {
		if (p->global_line) {
			fail(p, p->line, "section 'global': given twice (first on line %d)", p->global_line);
			return;
		}
		p->global_line = p->line;
		p->sec = SEC_GLOBAL;
		return;
	}
	struct lf_rules *o = p->out;
	for (size_t i = 0; i < o->nrules; i++)
		if (strlen(o->rule[i].name) == len && memcmp(o->rule[i].name, a, len) == 0) {
			fail(p, p->line, "rule '%s': duplicate rule name (first on line %d)",
			     o->rule[i].name, o->rule[i].line);
			return;
		}
	struct lf_rule *v = realloc(o->rule, (o->nrules + 1) * sizeof(*v));
	char *name = strndup(a, len);
	if (!v || !name) {
		if (v)
			o->rule = v;
		free(name);
		fail(p, 0, "out of memory");
		return;
	}
	o->rule = v;
	struct lf_rule *r = &v[o->nrules++];
	rule_defaults(r);
	r->name = name;
	r->line = p->line;
	p->sec = SEC_RULE;
}

/* inih's reader callback (fgets-like): one line of the buffer per call. */
static char *reader(char *buf, int num, void *stream)
{
	struct parser *p = stream;
	if (p->failed || p->pos >= p->len)
		return NULL;    /* stop at the first error, or at the end */
	const char *s = p->text + p->pos;
	size_t rest = p->len - p->pos;
	const char *nl = memchr(s, '\n', rest);
	size_t n = nl ? (size_t)(nl - s) : rest;
	p->pos += nl ? n + 1 : n;
	p->line++;

	if (memchr(s, '\0', n)) {
		fail(p, p->line, "syntax error: NUL byte (is this a text file?)");
		return NULL;
	}
	/* Leading blanks are dropped before inih sees the line: inih would
	 * otherwise take an indented line for the continuation of the previous
	 * value (its multi-line values), and rule files are commonly indented.
	 * Nothing else of the line is changed. */
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	/* Keep room for the '\n' and the '\0'. */
	if (num < 2 || n > (size_t)num - 2) {
		fail(p, p->line, "syntax error: line longer than %d characters", num - 2);
		return NULL;
	}
	memcpy(buf, s, n);
	buf[n] = '\n';
	buf[n + 1] = '\0';

	/* Is it a section header?  The same test as inih's on the same text:
	 * skip a UTF-8 BOM on line 1 and blanks, then '[' ... ']' where the ']'
	 * comes before any inline comment (a ';' after a blank).  When there
	 * is no such ']' inih reports a syntax error on this line itself. */
	const char *c = buf;
	if (p->line == 1 && strncmp(c, "\xEF\xBB\xBF", 3) == 0)
		c += 3;
	while (isspace((unsigned char)*c))
		c++;
	if (*c == '[') {
		const char *e = ++c;
		bool was_space = false;
		while (*e && *e != ']' && !(was_space && *e == ';')) {
			was_space = isspace((unsigned char)*e);
			e++;
		}
		if (*e == ']')
			begin_section(p, c, (size_t)(e - c));
	}
	return p->failed ? NULL : buf;
}

static int set_string(struct parser *p, char **dst, const char *value)
{
	char *s = strdup(value);
	if (!s) {
		fail(p, 0, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static void bad_enum(struct parser *p, const char *key, const char *value,
		     const char *const *names, size_t n)
{
	char list[128] = "";
	size_t at = 0;
	for (size_t i = 0; i < n && at < sizeof(list); i++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s",
				       i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	fail(p, p->line, "key '%s': unknown value '%s' (expected %s)", key, value, list);
}

#define ENUM(key, value, tab, dst) do { \
		int v_; \
		if (parse_enum(value, tab, sizeof(tab) / sizeof(tab[0]), &v_) < 0) \
			bad_enum(p, key, value, tab, sizeof(tab) / sizeof(tab[0])); \
		else \
			(dst) = v_; \
	} while (0)

static const char SIZE_HELP[] = "a number of bytes with an optional K, M or G suffix, e.g. 64K";

static void size_value(struct parser *p, const char *key, const char *value, uint64_t *dst)
{
	if (lf_parse_size(value, dst) < 0)
		fail(p, p->line, "key '%s': bad size '%s' (expected %s)", key, value, SIZE_HELP);
}

/* A whole number in lo..hi. */
static void int_value(struct parser *p, const char *key, const char *value,
		      uint64_t lo, uint64_t hi, uint64_t *dst)
{
	uint64_t v;
	if (parse_u64_all(value, &v) < 0) {
		fail(p, p->line, "key '%s': bad number '%s' (expected a whole number)", key, value);
	} else if (v < lo || v > hi) {
		if (hi == UINT64_MAX)
			fail(p, p->line, "key '%s': %s is out of range (at least %llu)", key, value,
			     (unsigned long long)lo);
		else
			fail(p, p->line, "key '%s': %s is out of range (%llu to %llu)", key, value,
			     (unsigned long long)lo, (unsigned long long)hi);
	} else {
		*dst = v;
	}
}

static void global_key(struct parser *p, int k, const char *key, const char *value)
{
	struct lf_rules *o = p->out;
	uint64_t v;
	switch (k) {
	case G_LOG:
		if (!*value)
			fail(p, p->line, "key 'log': empty (expected stderr, off or a path)");
		else
			set_string(p, &o->log, value);
		break;
	case G_LOG_LEVEL:
		ENUM(key, value, level_names, o->log_level);
		break;
	case G_STATS:
		/* empty: no statistics file */
		free(o->stats);
		o->stats = NULL;
		if (*value)
			set_string(p, &o->stats, value);
		break;
	case G_ON_ERROR:
		ENUM(key, value, on_error_names, o->on_error);
		break;
	case G_WORKERS:
		v = o->workers;
		int_value(p, key, value, 1, 64, &v);
		o->workers = (unsigned)v;
		break;
	}
}

static void rule_key(struct parser *p, int k, const char *key, const char *value)
{
	struct lf_rule *r = cur_rule(p);
	uint64_t v;
	char why[160];
	switch (k) {
	case K_MATCH:
		ENUM(key, value, match_names, r->match);
		break;
	case K_MIN_SIZE:
		size_value(p, key, value, &r->min_size);
		break;
	case K_MAX_SIZE:
		size_value(p, key, value, &r->max_size);
		break;
	case K_SOURCE_OFFSET:
		size_value(p, key, value, &r->source_offset);
		break;
	case K_READAHEAD:
		size_value(p, key, value, &r->readahead);
		if (!p->failed && r->readahead == 0)
			fail(p, p->line, "key 'readahead': must be more than 0");
		break;
	case K_PATH:
	case K_CALLER:
	case K_SOURCE:
		if (!*value) {
			fail(p, p->line, "key '%s': empty value", key);
			break;
		}
		set_string(p, k == K_PATH ? &r->path : k == K_CALLER ? &r->caller : &r->source, value);
		break;
	case K_CALLER_DEPTH:
		v = r->caller_depth;
		int_value(p, key, value, 1, 64, &v);
		r->caller_depth = (unsigned)v;
		break;
	case K_ACTION:
		ENUM(key, value, action_names, r->action);
		break;
	case K_FILL:
		ENUM(key, value, fill_names, r->fill);
		break;
	case K_PAGES:
		if (parse_pages(value, r, why, sizeof(why)) < 0)
			fail(p, p->line, "key 'pages': bad page list '%s': %s", value, why);
		break;
	case K_PROBABILITY:
		switch (parse_probability(value, &r->probability)) {
		case -1:
			fail(p, p->line, "key 'probability': bad number '%s' (expected 0 to 1, e.g. 0.25)", value);
			break;
		case -2:
			fail(p, p->line, "key 'probability': %s is out of range (0 to 1)", value);
			break;
		}
		break;
	case K_AFTER:
		int_value(p, key, value, 0, UINT64_MAX, &r->after);
		break;
	case K_EVERY:
		int_value(p, key, value, 1, UINT64_MAX, &r->every);
		break;
	case K_TIMES:
		if (strcmp(value, "-1") == 0)
			r->times = LF_TIMES_UNLIMITED;
		else if (parse_u64_all(value, &v) == 0 && v <= INT64_MAX)
			r->times = (int64_t)v;
		else
			fail(p, p->line, "key 'times': bad value '%s' (expected -1 for unlimited, or a whole number from 0)",
			     value);
		break;
	case K_SEED:
		if (parse_u64_all(value, &r->seed) < 0)
			fail(p, p->line, "key 'seed': bad seed '%s' (expected a whole number from 0 to %llu)",
			     value, (unsigned long long)UINT64_MAX);
		break;
	case K_DELAY:
		if (lf_parse_duration(value, &r->delay_ns) < 0)
			fail(p, p->line, "key 'delay': bad duration '%s' (expected a whole number with ns, us, ms or s, e.g. 5ms)",
			     value);
		break;
	case K_HANDOFF:
		if (lf_parse_bool(value, &r->handoff) < 0)
			fail(p, p->line, "key 'handoff': bad value '%s' (expected yes or no)", value);
		break;
	}
	r->given |= 1u << k;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parser *p = user;
	if (p->failed)
		return 0;
	if (strcmp(section, p->sec_raw) != 0) {
		fail(p, p->line, "internal error: inih is in section '%s', the reader thought '%s'",
		     section, p->sec_raw);
		return 0;
	}
	if (!*key) {
		fail(p, p->line, "syntax error: no key before '='");
		return 0;
	}
	if (p->sec == SEC_NONE) {
		fail(p, p->line, "key '%s': outside any section (global settings go under [global], rules under [NAME])",
		     key);
		return 0;
	}
	int k;
	if (p->sec == SEC_GLOBAL) {
		k = key_index(global_keys, NGLOBALKEYS, key);
		if (k < 0) {
			fail(p, p->line, "key '%s': not a [global] key (those are log, log_level, stats, on_error, workers)%s",
			     key, key_index(rule_keys, NRULEKEYS, key) >= 0 ? "; rule keys go in a rule's own section" : "");
			return 0;
		}
	} else {
		k = key_index(rule_keys, NRULEKEYS, key);
		if (k < 0) {
			fail(p, p->line, "key '%s': unknown key in rule '%s'%s", key, cur_rule(p)->name,
			     key_index(global_keys, NGLOBALKEYS, key) >= 0 ? " (it belongs in [global])" : "");
			return 0;
		}
	}
	if (p->key_line[k]) {
		if (p->sec == SEC_GLOBAL)
			fail(p, p->line, "key '%s': given twice in [global] (first on line %d)", key, p->key_line[k]);
		else
			fail(p, p->line, "key '%s': given twice in rule '%s' (first on line %d)", key,
			     cur_rule(p)->name, p->key_line[k]);
		return 0;
	}
	p->key_line[k] = p->line;
	/* inih takes ';' as a comment only after a blank, so "stats =;x" sets
	 * stats to ";x": surely a comment gone wrong, and not printable back. */
	if (*value == ';') {
		fail(p, p->line, "key '%s': value starts with ';' (a comment needs a blank before it: key = value ; comment)",
		     key);
		return 0;
	}
	if (!*value && !(p->sec == SEC_GLOBAL && k == G_STATS)) {
		fail(p, p->line, "key '%s': empty value", key);
		return 0;
	}
	if (p->sec == SEC_GLOBAL)
		global_key(p, k, key, value);
	else
		rule_key(p, k, key, value);
	return !p->failed;
}

/* Line n of the text (for the message of a syntax error inih found). */
static const char *line_start(const char *text, size_t len, int n, size_t *linelen)
{
	const char *s = text, *end = text + len;
	for (int i = 1; i < n && s < end; i++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		s = nl ? nl + 1 : end;
	}
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	*linelen = (size_t)((nl ? nl : end) - s);
	return s;
}

void lf_rules_free(struct lf_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrules; i++) {
		struct lf_rule *x = &r->rule[i];
		free(x->name);
		free(x->path);
		free(x->caller);
		free(x->source);
		free(x->pages);
	}
	free(r->rule);
	free(r->file);
	free(r->log);
	free(r->stats);
	memset(r, 0, sizeof(*r));
}

int lf_rules_parse(const char *text, size_t len, const char *name,
		   struct lf_rules *out, char *err, size_t errlen)
{
	struct parser p = {
		.file = name ? name : "(rules)",
		.text = text ? text : "",
		.len = text ? len : 0,
		.out = out,
		.err = err,
		.errlen = errlen,
	};
	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	out->file = strdup(p.file);
	out->log = strdup("stderr");
	out->log_level = LF_LEVEL_WARN;
	out->on_error = LF_ON_ERROR_PASSTHROUGH;
	out->workers = 1;
	if (!out->file || !out->log) {
		fail(&p, 0, "out of memory");
		goto out;
	}

	int ret = ini_parse_stream(reader, &p, handler, &p);
	p.eof = true;
	if (!p.failed)
		end_section(&p);
	/* ret is the first line inih found wrong: where our handler failed, or
	 * a syntax error of inih's own.  The error found first in reading
	 * order is reported: a syntax error inside a rule explains that
	 * rule's problems found when it ends ("match anon" without '=' is not
	 * a missing match). */
	if (ret > 0 && (!p.failed || ret < p.err_seen)) {
		size_t n;
		const char *s = line_start(p.text, p.len, ret, &n);
		while (n > 0 && isspace((unsigned char)*s)) {
			s++;
			n--;
		}
		if (ret == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3;
		p.failed = false;
		fail(&p, ret, "syntax error: %s", *s == '[' ? "section header without a closing ']'"
						  : "expected 'key = value', '[section]' or a comment");
	} else if (ret < 0 && !p.failed) {
		fail(&p, 0, "cannot parse (inih error %d)", ret);
	}
out:
	if (p.failed) {
		lf_rules_free(out);
		return -1;
	}
	return 0;
}

int lf_rules_load(const char *path, struct lf_rules *out, char *err, size_t errlen)
{
	int saved = errno;
	char ebuf[128];
	if (!err)
		errlen = 0;
	memset(out, 0, sizeof(*out));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror_r(errno, ebuf, sizeof(ebuf)));
		errno = saved;
		return -1;
	}
	/* Read to the end (it may be a pipe), at most MAX_FILE bytes. */
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	const char *why = NULL;
	int rerr = 0;
	while (buf) {
		if (len == cap) {
			if (cap >= MAX_FILE) {
				why = "too large for a rule file (over 1M)";
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rerr = errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	int rc = -1;
	if (!buf)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (rerr)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror_r(rerr, ebuf, sizeof(ebuf)));
	else if (why)
		snprintf(err, errlen, "%s: %s", path, why);
	else
		rc = lf_rules_parse(buf, len, path, out, err, errlen);
	free(buf);
	errno = saved;
	return rc;
}

/* ----------------------------------------------------------------- print */

/* "65536 ; 64K": the exact value, then the value as one would write it.  The
 * ';' after a blank starts an inline comment, so the output parses back. */
static void print_size(FILE *f, const char *key, uint64_t v)
{
	fprintf(f, "%s = %llu", key, (unsigned long long)v);
	static const struct { uint64_t mul; char c; } u[] = { { GIB, 'G' }, { MIB, 'M' }, { KIB, 'K' } };
	for (size_t i = 0; i < 3; i++)
		if (v >= u[i].mul && v % u[i].mul == 0) {
			fprintf(f, " ; %llu%c", (unsigned long long)(v / u[i].mul), u[i].c);
			break;
		}
	fputc('\n', f);
}

static void print_duration(FILE *f, const char *key, uint64_t ns)
{
	if (ns == 0) {
		fprintf(f, "%s = 0\n", key);
		return;
	}
	fprintf(f, "%s = %lluns", key, (unsigned long long)ns);
	static const struct { uint64_t ns; const char *unit; } u[] = {
		{ 1000000000, "s" }, { 1000000, "ms" }, { 1000, "us" },
	};
	for (size_t i = 0; i < 3; i++)
		if (ns % u[i].ns == 0) {
			fprintf(f, " ; %llu%s", (unsigned long long)(ns / u[i].ns), u[i].unit);
			break;
		}
	fputc('\n', f);
}

static void print_probability(FILE *f, double d)
{
	/* The shortest form that reads back as the same double. */
	char b[32];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(b, sizeof(b), "%.*g", prec, d);
		if (strtod(b, NULL) == d)
			break;
	}
	fprintf(f, "probability = %s\n", b);
}

void lf_rules_print(const struct lf_rules *r, FILE *f)
{
	fprintf(f, "# %s, as lazyfault understands it: every key with its effective value\n",
		r->file ? r->file : "(rules)");
	fprintf(f, "[global]\n");
	fprintf(f, "log = %s\n", r->log ? r->log : "stderr");
	fprintf(f, "log_level = %s\n", NAME_OF(level_names, r->log_level));
	if (r->stats && *r->stats)
		fprintf(f, "stats = %s\n", r->stats);
	else
		fprintf(f, "stats = ; none\n");
	fprintf(f, "on_error = %s\n", NAME_OF(on_error_names, r->on_error));
	fprintf(f, "workers = %u\n", r->workers);
	if (r->nrules == 0)
		fprintf(f, "\n# no rules: every region is left to the kernel\n");

	for (size_t i = 0; i < r->nrules; i++) {
		const struct lf_rule *x = &r->rule[i];
		bool poison = x->action == LF_ACTION_POISON;
		bool file = x->match == LF_MATCH_FILE;
		fprintf(f, "\n[%s]\n", x->name);
		fprintf(f, "# rule %zu, line %d\n", i + 1, x->line);
		fprintf(f, "match = %s\n", lf_match_name(x->match));
		print_size(f, "min_size", x->min_size);
		if (x->max_size == LF_NO_MAX)
			fprintf(f, "# max_size: none\n");
		else
			print_size(f, "max_size", x->max_size);
		if (file) {
			if (x->path)
				fprintf(f, "path = %s\n", x->path);
			else
				fprintf(f, "# path: any\n");
		}
		if (x->caller)
			fprintf(f, "caller = %s\n", x->caller);
		else
			fprintf(f, "# caller: any\n");
		fprintf(f, "caller_depth = %u\n", x->caller_depth);
		fprintf(f, "action = %s\n", lf_action_name(x->action));
		if (x->source) {
			fprintf(f, "source = %s\n", x->source);
			print_size(f, "source_offset", x->source_offset);
		}
		if (poison)
			fprintf(f, "# readahead: one page (a poison rule serves one page per fault)\n");
		else
			print_size(f, "readahead", x->readahead);
		if (poison) {
			fprintf(f, "fill = %s\n", NAME_OF(fill_names, x->fill));
			if (x->pages_all) {
				fprintf(f, "pages = all\n");
			} else if (x->npages) {
				fprintf(f, "pages = ");
				for (size_t j = 0; j < x->npages; j++) {
					const struct lf_page_span *s = &x->pages[j];
					if (j)
						fputc(',', f);
					if (s->first == LF_PAGE_LAST)
						fprintf(f, "last");
					else if (s->first == s->last)
						fprintf(f, "%llu", (unsigned long long)s->first);
					else
						fprintf(f, "%llu-%llu", (unsigned long long)s->first,
							(unsigned long long)s->last);
				}
				fputc('\n', f);
			} else {
				fprintf(f, "# pages: none\n");
			}
			unsigned sel = LF_KEY_PROBABILITY | LF_KEY_AFTER | LF_KEY_EVERY | LF_KEY_TIMES;
			if (!(x->given & (sel | LF_KEY_PAGES)))
				fprintf(f, "# none of pages, probability, after, every, times: every page is poisoned\n");
			else if (!(x->given & sel))
				fprintf(f, "# only the pages listed are poisoned\n");
			print_probability(f, x->probability);
			fprintf(f, "after = %llu\n", (unsigned long long)x->after);
			fprintf(f, "every = %llu\n", (unsigned long long)x->every);
			if (x->times < 0)
				fprintf(f, "times = -1 ; unlimited\n");
			else
				fprintf(f, "times = %lld\n", (long long)x->times);
			if (x->given & LF_KEY_SEED)
				fprintf(f, "seed = %llu\n", (unsigned long long)x->seed);
			else
				fprintf(f, "# seed: random, chosen at start (logged at info, written to the stats)\n");
		}
		print_duration(f, "delay", x->delay_ns);
		if (file && x->action == LF_ACTION_LOAD)
			fprintf(f, "handoff = %s\n", x->handoff ? "yes" : "no");
	}
}
