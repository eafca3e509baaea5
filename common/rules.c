/* The rule file parser: the INI syntax (inih), sections, and what each
 * rule's keys together mean; the keys themselves are in rule_keys.def, the
 * syntax of their values in values.c.  See lazyfault.ini(5).
 *
 * It runs inside liblazyfault.so at its first initialisation, so: no global
 * mutable state, no atexit, no printing (every message goes into the
 * caller's buffer), errno is left as it was, and the file is read with
 * open/read rather than stdio.
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
 * leading blanks (see reader()) and refuses NUL bytes, bytes that are not
 * UTF-8 text, control characters, and lines longer than inih's buffer,
 * which inih would otherwise cut silently.  A value that ends in a
 * backslash (or a `pages` list that ends in ',') goes on on the next line:
 * the reader hands that line to inih as "=REST", and the handler appends
 * REST to the value it keeps (struct parser's cont), so that a value is not
 * bounded by the line length.
 *
 * Errors: the first one found stops the parse; the message is
 * "FILE:LINE: key 'KEY': ...", "FILE:LINE: rule 'NAME': ...",
 * "FILE:LINE: section 'global': ...", "FILE:LINE: syntax error: ..." or,
 * with no line, "FILE: ...".
 *
 * Defines (-D RULE.KEY=VALUE, rules.h) go through the same code as the
 * file's lines: each stands at a line number of its own below every real
 * line (DEF_LINE), so that the checks, which name the line of the key at
 * fault, name the define instead, and an error in a define is the one
 * reported first. */
#include "rule_keys.h"

#include "files.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* inih keeps the section name in a 50-byte buffer (MAX_SECTION) and would
 * silently cut a longer one; we refuse it instead. */
#define INIH_MAX_SECTION 49
/* A rule file larger than this is surely a mistake (LAZYFAULT_RULES=/dev/zero
 * must not eat the program's memory). */
#define MAX_FILE (1024 * 1024)

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
	int global_key_line[LF_NGLOBAL_KEYS]; /* line of each key of [global], 0 = not given */
	/* A value that goes on on the next line (it ended in a backslash, or ','
	 * for a page list): its key, the struct it goes in, its first line and
	 * the text so far.  key is NULL when no value goes on. */
	struct {
		const struct lf_key *key;
		void *base;
		int line;
		char *text;
	} cont;
	char *err;
	size_t errlen;
	int err_line;               /* line of the recorded error, 0 = none */
	int err_seen;               /* the line being read when it was found */
	bool failed;
	bool eof;                   /* the whole text was read */
	const struct lf_defines *defs; /* NULL: none */
};

/* Define i stands at line DEF_LINE(i): below 0 (no line) and every line. */
#define DEF_LINE(i) (INT_MIN + 1 + (int)(i))
static bool is_def_line(int line) { return line < 0; }
static size_t def_index(int line) { return (size_t)(line - DEF_LINE(0)); }

/* Bytes that are not printable UTF-8 (from a file name, say) as \xHH, so
 * that a message never sends raw bytes to a terminal. */
static void escape_in_place(char *s, size_t cap)
{
	char *raw = strdup(s);
	if (raw) {
		lf_escape_text(raw, s, cap);
		free(raw);
	}
}

/* Where a message is about, with ": " after it: "FILE:LINE: ", the
 * define's "-D RULE.KEY=VALUE: ", or "FILE: " for no line.  The length
 * written, as snprintf's. */
static int place(const struct parser *p, int line, char *buf, size_t n)
{
	if (line > 0)
		return snprintf(buf, n, "%s:%d: ", p->file, line);
	if (is_def_line(line))
		return snprintf(buf, n, "%s %s: ", p->defs->label, p->defs->text[def_index(line)]);
	return snprintf(buf, n, "%s: ", p->file);
}

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
	int n = place(p, line, p->err, p->errlen);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	escape_in_place(p->err, p->errlen);
}

/* Record a warning: what works but cannot be what was meant. */
static void warn(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn(struct parser *p, int line, const char *fmt, ...)
{
	char msg[1024];
	struct lf_rules *o = p->out;
	int n = place(p, line, msg, sizeof(msg));
	if (n >= 0 && (size_t)n < sizeof(msg)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	escape_in_place(msg, sizeof(msg));
	char **v = realloc(o->warning, (o->nwarnings + 1) * sizeof(*v));
	char *w = strdup(msg);
	if (!v || !w) {
		if (v)
			o->warning = v;
		free(w);
		fail(p, 0, "out of memory");
		return;
	}
	o->warning = v;
	o->warning[o->nwarnings++] = w;
}

static struct lf_rule *cur_rule(struct parser *p)
{
	return &p->out->rule[p->out->nrules - 1];
}

/* ------------------------------------------------------------- values */

/* Key k of base (a rule, or the globals) from the file's text, on `line`. */
static void set_key(struct parser *p, const struct lf_key *k, void *base, const char *value,
		    int line)
{
	char why[256];
	int rc = lf_key_set(k, base, value, why, sizeof(why));
	if (rc == LF_KEY_NO_MEMORY)
		fail(p, 0, "out of memory");
	else if (rc < 0)
		fail(p, line, "key '%s': %s", k->name, why);
}

/* The defaults of the keys not given, as the key table writes them (some
 * depend on the rule's match, hence at the end of the section). */
static void set_defaults(struct parser *p, const struct lf_key *keys, size_t n, void *base,
			 const int *key_line, enum lf_match m)
{
	for (size_t i = 0; i < n && !p->failed; i++) {
		const struct lf_key *k = &keys[i];
		char why[256];
		if (key_line[i] || !k->def[m])
			continue;
		int rc = lf_key_set(k, base, k->def[m], why, sizeof(why));
		if (rc == LF_KEY_NO_MEMORY)
			fail(p, 0, "out of memory");
		else if (rc < 0)
			fail(p, 0, "internal error: the default of key '%s' is refused: %s", k->name, why);
	}
}

/* -------------------------------------------------------- a whole rule */

static void describe(const struct lf_rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "match = %s, action = %s%s%s", lf_match_name(r->match),
		 lf_action_name(r->action), r->action == LF_ACTION_POISON ? ", fill = " : "",
		 r->action == LF_ACTION_POISON ? lf_fill_names[r->fill] : "");
}

/* Key k was given to rule r, where it does not apply: say why. */
static void refuse_key(struct parser *p, const struct lf_key *k, const struct lf_rule *r, int line)
{
	char want[64], names[64];
	const char *sep = k->because ? ": " : "", *because = k->because ? k->because : "";
	if (k->matches && !(k->matches & LF_ON(r->match))) {
		lf_names_of(lf_match_names, LF_NMATCH, k->matches, want, sizeof(want));
		fail(p, line, "key '%s': only for match = %s rules (this one matches %s)%s%s",
		     k->name, want, lf_match_name(r->match), sep, because);
	} else if (k->actions && !(k->actions & LF_ON(r->action))) {
		lf_names_of(lf_action_names, LF_NACTION, k->actions, want, sizeof(want));
		fail(p, line, "key '%s': only for action = %s rules (this one's action is %s)%s%s",
		     k->name, want, lf_action_name(r->action), sep, because);
	} else if (k->fills && !(k->fills & LF_ON(lf_rule_fill(r)))) {
		lf_names_of(lf_fill_names, LF_NFILL, k->fills, want, sizeof(want));
		describe(r, names, sizeof(names));
		fail(p, line, "key '%s': only used by action = %s or fill = %s (this one has %s)%s%s",
		     k->name, want, want, names, sep, because);
	} else if (r->given & k->not_with) {
		int other = __builtin_ctz(r->given & k->not_with);
		fail(p, line, "key '%s': not with '%s': %s", k->name, lf_rule_keys[other].name,
		     k->not_because);
	} else {
		size_t at = 0;
		names[0] = '\0';
		for (int i = 0; i < LF_NRULE_KEYS && at < sizeof(names); i++)
			if (k->needs & (1u << i))
				at += (size_t)snprintf(names + at, sizeof(names) - at, "%s'%s'",
						       at ? " or " : "", lf_rule_keys[i].name);
		fail(p, line, "key '%s': only used with %s%s%s", k->name, names, sep, because);
	}
}

/* An enum value that is not for this rule's match. */
static void refuse_value(struct parser *p, const struct lf_key *k, const struct lf_rule *r,
			 int line)
{
	unsigned v = *(const unsigned *)lf_key_field(k, r);
	unsigned only = k->name_matches[v];
	char want[64];
	if (!only || (only & LF_ON(r->match)))
		return;
	lf_names_of(lf_match_names, LF_NMATCH, only, want, sizeof(want));
	fail(p, line, "key '%s': %s = %s is only for match = %s rules (this one matches %s)%s%s",
	     k->name, k->name, k->names[v], want, lf_match_name(r->match),
	     k->name_because ? ": " : "", k->name_because ? k->name_because : "");
}

/* What the key table cannot say: the rules between values of two keys. */
static void check_values(struct parser *p, struct lf_rule *r)
{
	const int *kl = r->key_line;
	unsigned g = r->given;
	/* A handoff gives the rest of a mapping to the kernel, which does not
	 * hold each fault the way a delay does. */
	bool handoff_applies = lf_key_applies(&lf_rule_keys[LF_K_HANDOFF], r);
	if (!(g & LF_KEY_HANDOFF))
		r->handoff = handoff_applies && !r->delay_ns;
	else if (handoff_applies && r->handoff && r->delay_ns)
		fail(p, kl[LF_K_HANDOFF], "key 'handoff': a rule with a 'delay' serves every fault itself");
	if (r->min_size > r->max_size) {
		int k = (g & LF_KEY_MAX_SIZE) ? LF_K_MAX_SIZE : LF_K_MIN_SIZE;
		fail(p, kl[k], "key '%s': max_size (%llu) is below min_size (%llu%s)",
		     lf_rule_keys[k].name, (unsigned long long)r->max_size,
		     (unsigned long long)r->min_size, (g & LF_KEY_MIN_SIZE) ? "" : ", the default");
	}
	/* Bad pages of a file are there in a mapping of any size; and they
	 * are named by number, since the end of a file moves. */
	if (g & LF_KEY_FILE_PAGES) {
		r->min_size = 0;
		for (size_t i = 0; i < r->file_pages.npages; i++)
			if (r->file_pages.pages[i].first == LF_PAGE_LAST)
				fail(p, kl[LF_K_FILE_PAGES], "key 'file_pages': 'last' is not for "
				     "file_pages: the end of a file moves as it grows; name the page "
				     "by its number");
	}
	/* Prefetched pages are never faults: a rule that counts its faults
	 * (the triggers) would poison other pages, and a delay would not hold
	 * them.  A poison rule prefetches only what it decides by the page. */
	if (g & LF_KEY_PREFETCH) {
		if (r->delay_ns)
			fail(p, kl[LF_K_PREFETCH], "key 'prefetch': a rule with a 'delay' serves every "
			     "fault itself");
		else if (r->action == LF_ACTION_POISON && (g & LF_KEY_TRIGGERS))
			fail(p, kl[LF_K_PREFETCH], "key 'prefetch': this poison rule counts its faults "
			     "(probability, after, every, times), and prefetched pages are not faults");
		else if (r->action == LF_ACTION_POISON && !(g & (LF_KEY_PAGES | LF_KEY_FILE_PAGES)))
			fail(p, kl[LF_K_PREFETCH], "key 'prefetch': this poison rule poisons every page: "
			     "there is nothing to prefetch");
	}
	/* A page listed is poisoned whatever the triggers say: with every page
	 * listed, they would never be asked. */
	if (r->pages_all && r->action == LF_ACTION_POISON)
		for (int k = 0; k < LF_NRULE_KEYS; k++)
			if (g & LF_KEY_TRIGGERS & (1u << k))
				fail(p, kl[k], "key '%s': never used: pages = all poisons every page, "
				     "whatever '%s' says", lf_rule_keys[k].name, lf_rule_keys[k].name);
}

/* Rule `a` takes every region that rule `b` would: same kind, a size
 * range that holds b's, no path or the same, no caller or the same one
 * searched at least as deep, no program or the same; and it lets none of
 * them through (no `regions`; a fail rule that fails every allocation). */
static bool takes_all_of(const struct lf_rule *a, const struct lf_rule *b)
{
	if (a->match != b->match || a->min_size > b->min_size || a->max_size < b->max_size)
		return false;
	if (a->path && (!b->path || strcmp(a->path, b->path) != 0))
		return false;
	if (a->program && (!b->program || strcmp(a->program, b->program) != 0))
		return false;
	if ((a->given & LF_KEY_REGIONS) ||
	    (a->action == LF_ACTION_FAIL && (a->given & (LF_KEY_PROBABILITY | LF_KEY_TIMES))))
		return false;
	return !a->caller || (b->caller && strcmp(a->caller, b->caller) == 0 &&
			      a->caller_depth >= b->caller_depth);
}

/* What is allowed but cannot be what was meant: a rule that never fires, a
 * key that changes nothing.  Warnings, not errors: `lazyfault sweep` writes
 * `times = 0` on purpose, for poison rules that must poison nothing. */
static void check_effect(struct parser *p, struct lf_rule *r)
{
	const int *kl = r->key_line;
	unsigned g = r->given;
	for (size_t i = 0; i + 1 < p->out->nrules; i++) {
		const struct lf_rule *a = &p->out->rule[i];
		if (!takes_all_of(a, r))
			continue;
		/* The reads of a file go to the first rule with file_pages
		 * that names it (file_pages.c), whatever rule takes its
		 * mappings: an io_error rule behind another one still fails
		 * them, unless that one has file_pages too. */
		if (r->io_error && !(a->given & LF_KEY_FILE_PAGES))
			warn(p, r->line, "rule '%s': never takes a mapping: rule '%s' (line %d) comes "
			     "first and takes every one this one would; only reads fail at its bad "
			     "pages", r->name, a->name, a->line);
		else
			warn(p, r->line, "rule '%s': never takes a region: rule '%s' (line %d) comes "
			     "first and takes every region this one would", r->name, a->name, a->line);
		break;
	}
	if (r->action != LF_ACTION_POISON && r->action != LF_ACTION_FAIL)
		return;
	/* The triggers decide nothing but "no" with either of these. */
	int never = (g & LF_KEY_PROBABILITY) && r->probability == 0 ? LF_K_PROBABILITY
		    : (g & LF_KEY_TIMES) && r->times == 0 ? LF_K_TIMES : -1;
	if (never >= 0 && !(g & LF_KEY_PAGES))
		warn(p, kl[never], "key '%s': rule '%s' never %s (%s = 0)", lf_rule_keys[never].name,
		     r->name, r->action == LF_ACTION_FAIL ? "fails an allocation" : "poisons a page",
		     lf_rule_keys[never].name);
	else if (never >= 0)
		warn(p, kl[never], "key '%s': no effect: with %s = 0 only the pages listed are "
		     "poisoned, as without it", lf_rule_keys[never].name, lf_rule_keys[never].name);
	else if ((g & LF_KEY_SEED) && r->probability >= 1)
		warn(p, kl[LF_K_SEED], "key 'seed': no effect: probability = 1 draws nothing");
	if ((g & LF_KEY_FILL) && r->pages_all)
		warn(p, kl[LF_K_FILL], "key 'fill': no effect: pages = all poisons every page");
}

static void apply_defines(struct parser *p, const char *section, bool global);

/* The checks of a whole rule, its keys all set. */
static void check_rule(struct parser *p, struct lf_rule *r)
{
	char names[96];
	/* Every check runs: the error on the earliest line is the one kept. */
	for (int i = 0; i < LF_NRULE_KEYS; i++) {
		const struct lf_key *k = &lf_rule_keys[i];
		bool applies = lf_key_applies(k, r);
		if (r->key_line[i] && !applies)
			refuse_key(p, k, r, r->key_line[i]);
		else if (r->key_line[i] && k->name_matches)
			refuse_value(p, k, r, r->key_line[i]);
		else if (!r->key_line[i] && applies && k->required) {
			describe(r, names, sizeof(names));
			fail(p, r->line, "rule '%s': missing required key '%s' (needed by %s)", r->name,
			     k->name, names);
		}
	}
	check_values(p, r);
	if (!p->failed)
		check_effect(p, r);
}

/* The checks that need the whole section, run when it ends (after the
 * defines for it). */
static void end_rule(struct parser *p)
{
	struct lf_rule *r = cur_rule(p);
	apply_defines(p, r->name, false);
	if (p->failed)
		return;
	if (!(r->given & LF_KEY_MATCH)) {
		fail(p, r->line, "rule '%s': missing required key 'match'", r->name);
		return;
	}
	set_defaults(p, lf_rule_keys, LF_NRULE_KEYS, r, r->key_line, r->match);
	check_rule(p, r);
}

/* ------------------------------------------------------------- reading */

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
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->line = p->line;
	p->sec = SEC_RULE;
}

/* The n bytes at s are UTF-8 text without control characters (tabs, and
 * the '\r' of a CRLF line end, allowed): a binary file, or a stray escape
 * sequence, is refused before any of it reaches a message or a terminal. */
static bool is_text(struct parser *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = lf_utf8_char(s + i, n - i, &cp);
		if (!len) {
			fail(p, p->line, "syntax error: byte 0x%02x (column %zu) is not UTF-8 text (is "
			     "this a text file?)", (unsigned char)s[i], i + 1);
			return false;
		}
		if (lf_is_control(cp) && cp != '\t' && cp != '\r') {
			fail(p, p->line, "syntax error: control character U+%04X (column %zu) (is this a "
			     "text file?)", (unsigned)cp, i + 1);
			return false;
		}
		i += len;
	}
	return true;
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
	if (!is_text(p, s, n))
		return NULL;
	/* Leading blanks are dropped before inih sees the line: inih would
	 * otherwise take an indented line for the continuation of the previous
	 * value (its multi-line values), and rule files are commonly indented.
	 * Nothing else of the line is changed. */
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	/* The rest of a value that goes on: given to inih as "=REST", which
	 * it splits as a key "" and the value REST (stripping an inline
	 * comment as on any line); the handler knows it by p->cont.key. */
	size_t cont = p->cont.key ? 1 : 0;
	if (cont && (n == 0 || *s == '#' || *s == ';')) {
		fail(p, p->line, "syntax error: the value of key '%s' (line %d) goes on here, as "
		     "it ends with %s, but this line is %s", p->cont.key->name, p->cont.line,
		     p->cont.key->kind == LF_KIND_PAGES ? "a backslash or a comma" : "a backslash",
		     n ? "a comment" : "empty");
		return NULL;
	}
	/* Keep room for the '\n' and the '\0' (and the '='). */
	if (num < 3 || n > (size_t)num - 2 - cont) {
		fail(p, p->line, "syntax error: line longer than %d characters%s (a value goes on on "
		     "the next line after a backslash, a page list after a comma)",
		     num - 2 - (int)cont, cont ? ", for the line of a value that goes on" : "");
		return NULL;
	}
	buf[0] = '=';
	memcpy(buf + cont, s, n);
	buf[cont + n] = '\n';
	buf[cont + n + 1] = '\0';
	if (cont)
		return buf;

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

/* The value of p->cont.key goes on with the text of this line: a value that
 * ends in a backslash goes on on the next line (the backslash dropped), as
 * does a page list that ends in ','.  When it does not go on, the key is
 * set from the whole text. */
static void add_to_value(struct parser *p, const char *value)
{
	size_t n = strlen(value), had = p->cont.text ? strlen(p->cont.text) : 0;
	bool backslash = n && value[n - 1] == '\\';
	bool more = backslash || (n && value[n - 1] == ',' && p->cont.key->kind == LF_KIND_PAGES);
	size_t keep = backslash ? n - 1 : n;
	char *t = realloc(p->cont.text, had + keep + 1);
	if (!t) {
		fail(p, 0, "out of memory");
		return;
	}
	memcpy(t + had, value, keep);
	t[had + keep] = '\0';
	p->cont.text = t;
	if (more)
		return;
	set_key(p, p->cont.key, p->cont.base, t, p->cont.line);
	free(p->cont.text);
	memset(&p->cont, 0, sizeof(p->cont));
}

/* "log, log_level, ...": the names of the keys of a section. */
static void key_names(const struct lf_key *keys, size_t n, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", keys[i].name);
}

/* A key that is not in the table of its section. */
static void unknown_key(struct parser *p, bool global, const char *key, int line)
{
	if (global) {
		char names[160];
		key_names(lf_global_keys, LF_NGLOBAL_KEYS, names, sizeof(names));
		fail(p, line, "key '%s': not a [global] key (those are %s)%s", key, names,
		     lf_key_find(lf_rule_keys, LF_NRULE_KEYS, key) >= 0 ? "; rule keys go in a rule's own section" : "");
	} else {
		fail(p, line, "key '%s': unknown key in rule '%s'%s", key, cur_rule(p)->name,
		     lf_key_find(lf_global_keys, LF_NGLOBAL_KEYS, key) >= 0 ? " (it belongs in [global])" : "");
	}
}

/* Key k of the current section ([global] or the rule) given `value` on
 * `line`: a line of the file, or a define's (which takes the place of the
 * file's value). */
static void give_key(struct parser *p, bool global, int k, const char *value, int line)
{
	const struct lf_key *keys = global ? lf_global_keys : lf_rule_keys;
	int *key_line = global ? p->global_key_line : cur_rule(p)->key_line;
	const char *key = keys[k].name;
	int first = key_line[k];
	if (first && is_def_line(first)) {
		fail(p, line, "key '%s': given twice (first as %s %s)", key, p->defs->label,
		     p->defs->text[def_index(first)]);
		return;
	}
	if (first && !is_def_line(line)) {
		if (global)
			fail(p, line, "key '%s': given twice in [global] (first on line %d)", key, first);
		else
			fail(p, line, "key '%s': given twice in rule '%s' (first on line %d)", key,
			     cur_rule(p)->name, first);
		return;
	}
	key_line[k] = line;
	/* inih takes ';' as a comment only after a blank, so "stats =;x" sets
	 * stats to ";x": surely a comment gone wrong, and not printable back. */
	if (*value == ';') {
		fail(p, line, "key '%s': value starts with ';' (a comment needs a blank before it: key = value ; comment)",
		     key);
		return;
	}
	if (!*value && !keys[k].empty_ok) {
		fail(p, line, "key '%s': empty value", key);
		return;
	}
	void *base = global ? (void *)p->out : (void *)cur_rule(p);
	if (!global)
		cur_rule(p)->given |= 1u << k;
	if (is_def_line(line)) {
		/* A define is one line of its own: it does not go on. */
		set_key(p, &keys[k], base, value, line);
		return;
	}
	p->cont.key = &keys[k];
	p->cont.base = base;
	p->cont.line = line;
	add_to_value(p, value);
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
	if (p->cont.key) {
		/* The reader's "=REST" of a value that goes on. */
		if (*key)
			fail(p, p->line, "internal error: inih read the key '%s' in a value that goes on", key);
		else
			add_to_value(p, value);
		return !p->failed;
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
	bool global = p->sec == SEC_GLOBAL;
	int k = global ? lf_key_find(lf_global_keys, LF_NGLOBAL_KEYS, key)
		       : lf_key_find(lf_rule_keys, LF_NRULE_KEYS, key);
	if (k < 0)
		unknown_key(p, global, key, p->line);
	else
		give_key(p, global, k, value, p->line);
	return !p->failed;
}

/* ------------------------------------------------------------- defines */

/* The parts of define "NAME.KEY=VALUE": NAME is the text before the last
 * '.' ahead of the first '=' (a rule name may hold dots, a key never
 * does).  False when it has not that shape. */
struct define {
	const char *name;
	size_t name_len;
	char key[64];
	const char *value;
};

static bool split_define(const char *text, struct define *d)
{
	const char *eq = strchr(text, '=');
	if (!eq)
		return false;
	const char *dot = NULL;
	for (const char *c = text; c < eq; c++)
		if (*c == '.')
			dot = c;
	if (!dot || dot == text || dot + 1 == eq || (size_t)(eq - dot - 1) >= sizeof(d->key))
		return false;
	d->name = text;
	d->name_len = (size_t)(dot - text);
	memcpy(d->key, dot + 1, (size_t)(eq - dot - 1));
	d->key[eq - dot - 1] = '\0';
	d->value = eq + 1;
	return true;
}

static bool define_names(const struct define *d, const char *section)
{
	return strlen(section) == d->name_len && memcmp(section, d->name, d->name_len) == 0;
}

/* Every define has the shape NAME.KEY=VALUE and fits on a line. */
static void check_defines(struct parser *p)
{
	for (size_t i = 0; p->defs && i < p->defs->n; i++) {
		struct define d;
		if (strchr(p->defs->text[i], '\n'))
			fail(p, DEF_LINE(i), "a value cannot hold a line break");
		else if (!split_define(p->defs->text[i], &d))
			fail(p, DEF_LINE(i), "expected RULE.KEY=VALUE or global.KEY=VALUE");
	}
}

/* The defines for `section` (a rule's name, or "global"), applied to it
 * as if written there. */
static void apply_defines(struct parser *p, const char *section, bool global)
{
	for (size_t i = 0; p->defs && i < p->defs->n && !p->failed; i++) {
		struct define d;
		if (!split_define(p->defs->text[i], &d) || !define_names(&d, section))
			continue;
		int k = global ? lf_key_find(lf_global_keys, LF_NGLOBAL_KEYS, d.key)
			       : lf_key_find(lf_rule_keys, LF_NRULE_KEYS, d.key);
		if (k < 0)
			unknown_key(p, global, d.key, DEF_LINE(i));
		else
			give_key(p, global, k, d.value, DEF_LINE(i));
	}
}

/* A define that names no rule of the file. */
static void check_define_targets(struct parser *p)
{
	for (size_t i = 0; p->defs && i < p->defs->n && !p->failed; i++) {
		struct define d;
		bool found = !split_define(p->defs->text[i], &d) || define_names(&d, "global");
		for (size_t r = 0; r < p->out->nrules && !found; r++)
			found = define_names(&d, p->out->rule[r].name);
		if (!found)
			fail(p, DEF_LINE(i), "no rule '%.*s' in %s", (int)d.name_len, d.name, p->file);
	}
}

int lf_defines_split(const char *joined, const char *label, struct lf_defines *d, char **store)
{
	size_t n = 1;
	memset(d, 0, sizeof(*d));
	d->label = label;
	*store = strdup(joined ? joined : "");
	if (!*store)
		return -1;
	for (const char *c = *store; *c; c++)
		n += *c == '\n';
	const char **v = calloc(n, sizeof(*v));
	if (!v) {
		free(*store);
		*store = NULL;
		return -1;
	}
	for (char *c = *store, *next; c && *c; c = next) {
		next = strchr(c, '\n');
		if (next)
			*next++ = '\0';
		if (*c)
			v[d->n++] = c;
	}
	d->text = v;
	return 0;
}

void lf_defines_free(struct lf_defines *d, char *store)
{
	free((void *)d->text);
	free(store);
	memset(d, 0, sizeof(*d));
}

int lf_rule_with_define(const struct lf_rules *rs, size_t i, const char *label, const char *text,
			struct lf_rule *out, int *key, char *err, size_t errlen)
{
	struct lf_defines defs = { .label = label, .text = &text, .n = 1 };
	struct lf_rules one = { .file = rs->file, .rule = out, .nrules = 1 };
	struct parser p = { .file = rs->file ? rs->file : "(rules)", .out = &one, .sec = SEC_RULE,
			    .defs = &defs, .err = err, .errlen = errlen, .eof = true };
	struct define d;
	*out = rs->rule[i];
	if (err && errlen)
		err[0] = '\0';
	check_defines(&p);
	if (p.failed)
		return -1;
	split_define(text, &d);
	int k = lf_key_find(lf_rule_keys, LF_NRULE_KEYS, d.key);
	if (k < 0 || !define_names(&d, out->name)) {
		if (k < 0)
			unknown_key(&p, false, d.key, DEF_LINE(0));
		else
			fail(&p, DEF_LINE(0), "not a key of rule '%s'", out->name);
		return -1;
	}
	/* The copy's field is its own from here: the rule's stays as it is.
	 * What the checks find wrong now, the define did: every key given
	 * stands at its line. */
	memset(lf_key_field(&lf_rule_keys[k], out), 0, lf_key_size(&lf_rule_keys[k]));
	for (int j = 0; j < LF_NRULE_KEYS; j++)
		out->key_line[j] = j != k && (out->given & (1u << j)) ? DEF_LINE(0) : 0;
	give_key(&p, false, k, d.value, DEF_LINE(0));
	if (!p.failed)
		check_rule(&p, out);
	/* A warning (a value that makes the rule never fire, say) does not
	 * refuse the define, and the caller takes an error only: dropped. */
	for (size_t j = 0; j < one.nwarnings; j++)
		free(one.warning[j]);
	free(one.warning);
	if (p.failed) {
		lf_key_free(&lf_rule_keys[k], out);
		return -1;
	}
	*key = k;
	return 0;
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
		free(r->rule[i].name);
		for (size_t k = 0; k < LF_NRULE_KEYS; k++)
			lf_key_free(&lf_rule_keys[k], &r->rule[i]);
	}
	for (size_t k = 0; k < LF_NGLOBAL_KEYS; k++)
		lf_key_free(&lf_global_keys[k], r);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warning[i]);
	free(r->warning);
	free(r->rule);
	free(r->file);
	free(r->defines_label);
	memset(r, 0, sizeof(*r));
}

int lf_rules_parse(const char *text, size_t len, const char *name,
		   struct lf_rules *out, char *err, size_t errlen)
{
	return lf_rules_parse_defs(text, len, name, NULL, out, err, errlen);
}

int lf_rules_parse_defs(const char *text, size_t len, const char *name,
			const struct lf_defines *d, struct lf_rules *out, char *err, size_t errlen)
{
	struct parser p = {
		.file = name ? name : "(rules)",
		.text = text ? text : "",
		.len = text ? len : 0,
		.out = out,
		.err = err,
		.errlen = errlen,
		.defs = d,
	};
	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	out->file = strdup(p.file);
	if (d && d->n)
		out->defines_label = strdup(d->label);
	if (!out->file || (d && d->n && !out->defines_label)) {
		fail(&p, 0, "out of memory");
		goto out;
	}

	check_defines(&p);
	int ret = p.failed ? 0 : ini_parse_stream(reader, &p, handler, &p);
	p.eof = true;
	if (!p.failed && p.cont.key)
		fail(&p, p.cont.line, "key '%s': the value goes on (it ends with %s), but the file ends",
		     p.cont.key->name,
		     p.cont.key->kind == LF_KIND_PAGES ? "a backslash or a comma" : "a backslash");
	free(p.cont.text);
	if (!p.failed)
		end_section(&p);
	if (!p.failed)
		apply_defines(&p, "global", true);
	set_defaults(&p, lf_global_keys, LF_NGLOBAL_KEYS, out, p.global_key_line, 0);
	if (!p.failed)
		check_define_targets(&p);
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

/* dir of the rule file at path, absolute (getcwd for a relative one),
 * with '/' at its end; malloc'd, or NULL. */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) + 1 : 0;
	char *cwd = NULL;
	if (path[0] != '/' && !(cwd = getcwd(NULL, 0)))
		return NULL;
	size_t c = cwd ? strlen(cwd) + 1 : 0;
	char *d = malloc(c + n + 1);
	if (d) {
		if (cwd)
			snprintf(d, c + 1, "%s/", cwd);
		memcpy(d + c, path, n);
		d[c + n] = '\0';
	}
	free(cwd);
	return d;
}

/* Each relative `source` and `prefetch` of out names a file beside the rule
 * file at path, wherever the program runs: made absolute.  0, or -1 when out of memory. */
static int sources_beside(const char *path, struct lf_rules *out)
{
	char *dir = NULL;
	for (size_t i = 0; i < out->nrules; i++) {
		for (int k = 0; k < 2; k++) {
			char **name = k ? &out->rule[i].prefetch : &out->rule[i].source;
			if (!*name || (*name)[0] == '/')
				continue;
			if (!dir && !(dir = folder_of(path)))
				return -1;
			size_t n = strlen(dir) + strlen(*name) + 1;
			char *abs = malloc(n);
			if (!abs) {
				free(dir);
				return -1;
			}
			snprintf(abs, n, "%s%s", dir, *name);
			free(*name);
			*name = abs;
		}
	}
	free(dir);
	return 0;
}

int lf_rules_load(const char *path, struct lf_rules *out, char *err, size_t errlen)
{
	return lf_rules_load_defs(path, NULL, out, err, errlen);
}

int lf_rules_load_defs(const char *path, const struct lf_defines *d, struct lf_rules *out,
		       char *err, size_t errlen)
{
	int saved = errno;
	char ebuf[128], why[256];
	if (!err)
		errlen = 0;
	memset(out, 0, sizeof(*out));
	/* Without blocking (a FIFO named as the rule file must not hang the
	 * program in its constructor), a regular file only. */
	int fd = lf_open_input(path, false, why, sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, why);
		if (errlen)
			escape_in_place(err, errlen);
		errno = saved;
		return -1;
	}
	/* Read to the end, at most MAX_FILE bytes. */
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	const char *too_large = NULL;
	int rerr = 0;
	while (buf) {
		if (len == cap) {
			if (cap >= MAX_FILE) {
				too_large = "too large for a rule file (over 1M)";
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
	else if (too_large)
		snprintf(err, errlen, "%s: %s", path, too_large);
	else if ((rc = lf_rules_parse_defs(buf, len, path, d, out, err, errlen)) == 0 &&
		 sources_beside(path, out) != 0) {
		lf_rules_free(out);
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	if (rc != 0 && errlen)
		escape_in_place(err, errlen);
	free(buf);
	errno = saved;
	return rc;
}

int lf_rule_open_source(const struct lf_rules *rs, const struct lf_rule *r, char *err,
			size_t errlen)
{
	char why[256];
	/* A block device is a fine source: its bytes are fixed, and pread
	 * reads them as a file's. */
	int fd = lf_open_input(r->source, true, why, sizeof(why));
	if (fd < 0 && err && errlen) {
		int line = r->key_line[LF_K_SOURCE];
		int n = is_def_line(line)
			? snprintf(err, errlen, "%s %s.source=%s: ", rs->defines_label, r->name, r->source)
			: snprintf(err, errlen, "%s:%d: ", rs->file, line);
		if (n >= 0 && (size_t)n < errlen)
			snprintf(err + n, errlen - (size_t)n, "key 'source': rule '%s': cannot use %s: %s",
				 r->name, r->source, why);
		escape_in_place(err, errlen);
	}
	return fd;
}

int lf_rules_check_sources(const struct lf_rules *rs, char *err, size_t errlen)
{
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct lf_rule *r = &rs->rule[i];
		if (!r->source)
			continue;
		int fd = lf_rule_open_source(rs, r, err, errlen);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}
