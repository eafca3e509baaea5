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
 * leading blanks (see reader()) and refuses NUL bytes and lines longer than
 * inih's buffer, which inih would otherwise cut silently.
 *
 * Errors: the first one found stops the parse; the message is
 * "FILE:LINE: key 'KEY': ...", "FILE:LINE: rule 'NAME': ...",
 * "FILE:LINE: section 'global': ...", "FILE:LINE: syntax error: ..." or,
 * with no line, "FILE: ...". */
#include "rule_keys.h"

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
	int key_line[LF_NRULE_KEYS]; /* line of each key of the current rule, 0 = not given */
	int global_key_line[LF_NGLOBAL_KEYS]; /* the same for [global] */
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
	const int *kl = p->key_line;
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
	/* A page listed is poisoned whatever the triggers say: with every page
	 * listed, they would never be asked. */
	if (r->pages_all && r->action == LF_ACTION_POISON)
		for (int k = 0; k < LF_NRULE_KEYS; k++)
			if (g & LF_KEY_TRIGGERS & (1u << k))
				fail(p, kl[k], "key '%s': never used: pages = all poisons every page, "
				     "whatever '%s' says", lf_rule_keys[k].name, lf_rule_keys[k].name);
}

/* The checks that need the whole section, run when it ends. */
static void end_rule(struct parser *p)
{
	struct lf_rule *r = cur_rule(p);
	char names[96];
	if (!(r->given & LF_KEY_MATCH)) {
		fail(p, r->line, "rule '%s': missing required key 'match'", r->name);
		return;
	}
	set_defaults(p, lf_rule_keys, LF_NRULE_KEYS, r, p->key_line, r->match);
	/* Every check runs: the error on the earliest line is the one kept. */
	for (int i = 0; i < LF_NRULE_KEYS; i++) {
		const struct lf_key *k = &lf_rule_keys[i];
		bool applies = lf_key_applies(k, r);
		if (p->key_line[i] && !applies)
			refuse_key(p, k, r, p->key_line[i]);
		else if (p->key_line[i] && k->name_matches)
			refuse_value(p, k, r, p->key_line[i]);
		else if (!p->key_line[i] && applies && k->required) {
			describe(r, names, sizeof(names));
			fail(p, r->line, "rule '%s': missing required key '%s' (needed by %s)", r->name,
			     k->name, names);
		}
	}
	check_values(p, r);
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
	memset(r, 0, sizeof(*r));
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

/* "log, log_level, ...": the names of the keys of a section. */
static void key_names(const struct lf_key *keys, size_t n, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", keys[i].name);
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
	bool global = p->sec == SEC_GLOBAL;
	const struct lf_key *keys = global ? lf_global_keys : lf_rule_keys;
	size_t nkeys = global ? LF_NGLOBAL_KEYS : LF_NRULE_KEYS;
	int *key_line = global ? p->global_key_line : p->key_line;
	int k = lf_key_find(keys, nkeys, key);
	if (k < 0 && global) {
		char names[128];
		key_names(lf_global_keys, LF_NGLOBAL_KEYS, names, sizeof(names));
		fail(p, p->line, "key '%s': not a [global] key (those are %s)%s", key, names,
		     lf_key_find(lf_rule_keys, LF_NRULE_KEYS, key) >= 0 ? "; rule keys go in a rule's own section" : "");
		return 0;
	}
	if (k < 0) {
		fail(p, p->line, "key '%s': unknown key in rule '%s'%s", key, cur_rule(p)->name,
		     lf_key_find(lf_global_keys, LF_NGLOBAL_KEYS, key) >= 0 ? " (it belongs in [global])" : "");
		return 0;
	}
	if (key_line[k]) {
		if (global)
			fail(p, p->line, "key '%s': given twice in [global] (first on line %d)", key, key_line[k]);
		else
			fail(p, p->line, "key '%s': given twice in rule '%s' (first on line %d)", key,
			     cur_rule(p)->name, key_line[k]);
		return 0;
	}
	key_line[k] = p->line;
	/* inih takes ';' as a comment only after a blank, so "stats =;x" sets
	 * stats to ";x": surely a comment gone wrong, and not printable back. */
	if (*value == ';') {
		fail(p, p->line, "key '%s': value starts with ';' (a comment needs a blank before it: key = value ; comment)",
		     key);
		return 0;
	}
	if (!*value && !keys[k].empty_ok) {
		fail(p, p->line, "key '%s': empty value", key);
		return 0;
	}
	if (global) {
		set_key(p, &keys[k], p->out, value, p->line);
	} else {
		set_key(p, &keys[k], cur_rule(p), value, p->line);
		cur_rule(p)->given |= 1u << k;
	}
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
		free(r->rule[i].name);
		for (size_t k = 0; k < LF_NRULE_KEYS; k++)
			lf_key_free(&lf_rule_keys[k], &r->rule[i]);
	}
	for (size_t k = 0; k < LF_NGLOBAL_KEYS; k++)
		lf_key_free(&lf_global_keys[k], r);
	free(r->rule);
	free(r->file);
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
	if (!out->file) {
		fail(&p, 0, "out of memory");
		goto out;
	}

	int ret = ini_parse_stream(reader, &p, handler, &p);
	p.eof = true;
	if (!p.failed)
		end_section(&p);
	set_defaults(&p, lf_global_keys, LF_NGLOBAL_KEYS, out, p.global_key_line, 0);
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

