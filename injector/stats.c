/* The -v summary of a statistics file.
 *
 * The file is our own, fixed format, written by liblazyfault.so: a header
 * line {"pid": N, "mode": "...", "rules": [ then one flat JSON object per
 * rule on its own line, then ]}.  So a small line-oriented reader that scans
 * the "key": value pairs of one line is enough; this is not a JSON parser. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazyfault.h"

void lf_subst_pid(const char *tmpl, pid_t pid, char *out, size_t outlen)
{
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 1 < outlen; p++) {
		if (p[0] == '%' && p[1] == 'p') {
			int n = snprintf(out + o, outlen - o, "%ld", (long)pid);
			if (n < 0 || (size_t)n >= outlen - o)
				break;
			o += (size_t)n;
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

/* A JSON string at p (just after the opening quote) into buf; returns the
 * position after the closing quote, or NULL. */
static const char *scan_string(const char *p, char *buf, size_t len)
{
	size_t o = 0;
	while (*p && *p != '"') {
		char c = *p++;
		if (c == '\\') {
			c = *p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				/* Enough for a summary: ASCII as is, the rest as '?'. */
				unsigned u = 0;
				for (int i = 0; i < 4; i++, p++) {
					if (!isxdigit((unsigned char)*p))
						return NULL;
					u = u * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0'
							: (tolower((unsigned char)*p) - 'a' + 10));
				}
				c = u && u < 0x80 ? (char)u : '?';
				break;
			}
			case '\0': return NULL;
			default: break; /* \" \\ \/ */
			}
		}
		if (o + 1 < len)
			buf[o++] = c;
	}
	if (*p != '"')
		return NULL;
	if (len)
		buf[o] = '\0';
	return p + 1;
}

/* The value of "key" in the flat object that starts on this line: a string
 * (unquoted) or a number, into buf.  Stops at a nested value ("rules": [). */
static bool get(const char *line, const char *key, char *buf, size_t len)
{
	const char *p = strchr(line, '{');
	if (!p)
		return false;
	p++;
	for (;;) {
		char k[64], v[512];
		p += strspn(p, " \t,");
		if (*p != '"' || !(p = scan_string(p + 1, k, sizeof k)))
			return false;
		p += strspn(p, " \t");
		if (*p++ != ':')
			return false;
		p += strspn(p, " \t");
		if (*p == '"') {
			if (!(p = scan_string(p + 1, v, sizeof v)))
				return false;
		} else {
			size_t n = strspn(p, "-+.eE0123456789");
			if (n == 0 || n >= sizeof v)
				return false;
			memcpy(v, p, n);
			v[n] = '\0';
			p += n;
		}
		if (!strcmp(k, key)) {
			size_t l = strlen(v); /* truncating is fine for a summary */
			if (l >= len)
				l = len - 1;
			memcpy(buf, v, l);
			buf[l] = '\0';
			return true;
		}
	}
}

struct row {
	char name[128], action[16];
	char regions[24], registered[24], faults[24], zeroed[24], loaded[24],
		read[24], handed[24], poisoned[24], seed[24], p50[24], p99[24];
};

static void human_bytes(const char *v, char *out, size_t len)
{
	char *end;
	unsigned long long b = strtoull(v, &end, 10);
	if (!*v || *end) {
		snprintf(out, len, "%s", *v ? v : "-");
		return;
	}
	static const char units[] = "BKMGTP";
	double d = (double)b;
	int u = 0;
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%lluB", b);
	else
		snprintf(out, len, "%.1f%c", d, units[u]);
}

static void human_ns(const char *v, char *out, size_t len)
{
	char *end;
	unsigned long long ns = strtoull(v, &end, 10);
	if (!*v || *end)
		snprintf(out, len, "%s", *v ? v : "-");
	else if (ns < 10000)
		snprintf(out, len, "%lluns", ns);
	else if (ns < 10000000)
		snprintf(out, len, "%lluus", ns / 1000);
	else if (ns < 10000000000ULL)
		snprintf(out, len, "%llums", ns / 1000000);
	else
		snprintf(out, len, "%llus", ns / 1000000000);
}

static void field(const char *line, const char *key, char *buf, size_t len)
{
	if (!get(line, key, buf, len))
		snprintf(buf, len, "-");
}

int lf_stats_summary(const char *tmpl, pid_t pid, FILE *out)
{
	char path[PATH_MAX + 32];
	lf_subst_pid(tmpl, pid, path, sizeof path);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	struct row *rows = NULL;
	size_t nrows = 0;
	char fpid[24] = "", mode[32] = "";
	bool closed = false;
	int rc = -1;
	while (f && getline(&line, &cap, f) > 0) {
		const char *t = line + strspn(line, " \t");
		if (t[0] == ']') {
			closed = true;
			break;
		}
		if (!*fpid && get(line, "pid", fpid, sizeof fpid)) {
			get(line, "mode", mode, sizeof mode);
			continue;
		}
		char name[128];
		if (!*fpid || !get(line, "name", name, sizeof name))
			continue;
		struct row *nr = realloc(rows, (nrows + 1) * sizeof *rows);
		if (!nr)
			break;
		rows = nr;
		struct row *r = &rows[nrows++];
		snprintf(r->name, sizeof r->name, "%s", name);
		field(line, "action", r->action, sizeof r->action);
		field(line, "regions", r->regions, sizeof r->regions);
		char v[24];
		field(line, "bytes_registered", v, sizeof v);
		human_bytes(v, r->registered, sizeof r->registered);
		field(line, "faults", r->faults, sizeof r->faults);
		field(line, "pages_zeroed", r->zeroed, sizeof r->zeroed);
		field(line, "pages_loaded", r->loaded, sizeof r->loaded);
		field(line, "bytes_read", v, sizeof v);
		human_bytes(v, r->read, sizeof r->read);
		field(line, "bytes_handed_off", v, sizeof v);
		human_bytes(v, r->handed, sizeof r->handed);
		field(line, "pages_poisoned", r->poisoned, sizeof r->poisoned);
		field(line, "fault_ns_p50", v, sizeof v);
		human_ns(v, r->p50, sizeof r->p50);
		field(line, "fault_ns_p99", v, sizeof v);
		human_ns(v, r->p99, sizeof r->p99);
		/* The seed matters only for poison rules: it replays a run. */
		if (!strcmp(r->action, "poison"))
			field(line, "seed", r->seed, sizeof r->seed);
		else
			snprintf(r->seed, sizeof r->seed, "-");
	}
	if (f)
		fclose(f);
	free(line);
	if (!*fpid || !closed) {
		fprintf(out, "lazyfault: no statistics were written (the program may have been "
			"killed by SIGKILL or run without the library): %s %s\n", path,
			f ? "is incomplete" : "does not exist");
		goto done;
	}
	fprintf(out, "lazyfault: statistics of pid %s, mode %s (%s):\n", fpid,
		*mode ? mode : "?", path);
	if (nrows == 0) {
		fprintf(out, "  no rules\n");
		rc = 0;
		goto done;
	}
	int w = 4;
	for (size_t i = 0; i < nrows; i++)
		if ((int)strlen(rows[i].name) > w)
			w = (int)strlen(rows[i].name);
	if (w > 24)
		w = 24;
	fprintf(out, "  %-*s %-6s %7s %10s %8s %8s %8s %8s %8s %8s %7s %7s %s\n", w, "rule",
		"action", "regions", "registered", "faults", "zeroed", "loaded", "read",
		"handed", "poisoned", "p50", "p99", "seed");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		fprintf(out, "  %-*.*s %-6s %7s %10s %8s %8s %8s %8s %8s %8s %7s %7s %s\n", w, w,
			r->name, r->action, r->regions, r->registered, r->faults, r->zeroed,
			r->loaded, r->read, r->handed, r->poisoned, r->p50, r->p99, r->seed);
	}
	rc = 0;
done:
	free(rows);
	return rc;
}
