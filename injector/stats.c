/* The -v summary of a statistics file (read by statsfile.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazyfault.h"
#include "report.h"
#include "statsfile.h"

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

/* The cells of the table: "-" for a counter the file did not have. */
static void cell_count(const struct lf_stats_rule *r, enum lf_stat_counter c,
		       char *out, size_t len)
{
	uint64_t v;
	if (lf_stats_get(r, c, &v))
		snprintf(out, len, "%" PRIu64, v);
	else
		snprintf(out, len, "-");
}

static void cell_bytes(const struct lf_stats_rule *r, enum lf_stat_counter c,
		       char *out, size_t len)
{
	uint64_t b;
	if (!lf_stats_get(r, c, &b)) {
		snprintf(out, len, "-");
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
		snprintf(out, len, "%" PRIu64 "B", b);
	else
		snprintf(out, len, "%.1f%c", d, units[u]);
}

static void cell_ns(const struct lf_stats_rule *r, enum lf_stat_counter c,
		    char *out, size_t len)
{
	uint64_t ns;
	if (!lf_stats_get(r, c, &ns))
		snprintf(out, len, "-");
	else if (ns < 10000)
		snprintf(out, len, "%" PRIu64 "ns", ns);
	else if (ns < 10000000)
		snprintf(out, len, "%" PRIu64 "us", ns / 1000);
	else if (ns < 10000000000ULL)
		snprintf(out, len, "%" PRIu64 "ms", ns / 1000000);
	else
		snprintf(out, len, "%" PRIu64 "s", ns / 1000000000);
}

/* The run's wall time, the time its threads were blocked in faults, and
 * what its fault trace holds, when the file has them. */
static void print_process(const struct lf_stats *s, FILE *out)
{
	const uint64_t *v = s->process;
	unsigned have = s->process_present;
	if ((have & (1u << LF_STAT_WALL_NS)) && (have & (1u << LF_STAT_BLOCKED_NS))) {
		char wall[32], blocked[32];
		lf_fmt_ns(v[LF_STAT_WALL_NS], wall, sizeof wall);
		lf_fmt_ns(v[LF_STAT_BLOCKED_NS], blocked, sizeof blocked);
		fprintf(out, "  wall time %s; threads blocked in faults %s (%.1f%% of it; the sum of "
			"the faults' service times)\n", wall, blocked,
			v[LF_STAT_WALL_NS] ? 100.0 * v[LF_STAT_BLOCKED_NS] / v[LF_STAT_WALL_NS] : 0.0);
	}
	if ((have & (1u << LF_STAT_TRACE_RECORDS)) &&
	    (v[LF_STAT_TRACE_RECORDS] || v[LF_STAT_TRACE_DROPPED]))
		fprintf(out, "  fault trace: %" PRIu64 " records, %" PRIu64 " dropped%s\n",
			v[LF_STAT_TRACE_RECORDS], v[LF_STAT_TRACE_DROPPED],
			v[LF_STAT_TRACE_DROPPED] ? " (it was full)" : "");
}

int lf_stats_summary(const char *tmpl, pid_t pid, FILE *out)
{
	char path[PATH_MAX + 32], err[PATH_MAX + 256];
	lf_subst_pid(tmpl, pid, path, sizeof path);
	struct lf_stats s;
	enum lf_stats_status st = lf_stats_read(path, &s, err, sizeof err);
	if (st == LF_STATS_MISSING || st == LF_STATS_INCOMPLETE) {
		fprintf(out, "lazyfault: no statistics were written (the program may have been "
			"killed by SIGKILL or run without the library): %s %s\n", path,
			st == LF_STATS_MISSING ? "does not exist" : "is incomplete");
		return -1;
	}
	if (st != LF_STATS_OK) {
		fprintf(out, "lazyfault: cannot read the statistics: %s\n", err);
		return -1;
	}
	fprintf(out, "lazyfault: statistics of pid %lld, mode %s (%s):\n", s.pid,
		*s.mode ? s.mode : "?", path);
	if (s.nrules == 0) {
		fprintf(out, "  no rules\n");
		lf_stats_free(&s);
		return 0;
	}
	int w = 4;
	for (size_t i = 0; i < s.nrules; i++)
		if ((int)strlen(s.rule[i].name) > w)
			w = (int)strlen(s.rule[i].name);
	if (w > 24)
		w = 24;
	fprintf(out, "  %-*s %-6s %7s %10s %8s %8s %8s %8s %8s %8s %7s %7s %s\n", w, "rule",
		"action", "regions", "registered", "faults", "zeroed", "loaded", "read",
		"handed", "poisoned", "p50", "p99", "seed");
	for (size_t i = 0; i < s.nrules; i++) {
		const struct lf_stats_rule *r = &s.rule[i];
		char regions[24], registered[24], faults[24], zeroed[24], loaded[24], rd[24],
			handed[24], poisoned[24], p50[24], p99[24], seed[24] = "-";
		cell_count(r, LF_STAT_REGIONS, regions, sizeof regions);
		cell_bytes(r, LF_STAT_BYTES_REGISTERED, registered, sizeof registered);
		cell_count(r, LF_STAT_FAULTS, faults, sizeof faults);
		cell_count(r, LF_STAT_PAGES_ZEROED, zeroed, sizeof zeroed);
		cell_count(r, LF_STAT_PAGES_LOADED, loaded, sizeof loaded);
		cell_bytes(r, LF_STAT_BYTES_READ, rd, sizeof rd);
		cell_bytes(r, LF_STAT_BYTES_HANDED_OFF, handed, sizeof handed);
		cell_count(r, LF_STAT_PAGES_POISONED, poisoned, sizeof poisoned);
		cell_ns(r, LF_STAT_FAULT_NS_P50, p50, sizeof p50);
		cell_ns(r, LF_STAT_FAULT_NS_P99, p99, sizeof p99);
		/* The seed matters only for poison rules: it replays a run. */
		if (!strcmp(r->action, "poison"))
			cell_count(r, LF_STAT_SEED, seed, sizeof seed);
		fprintf(out, "  %-*.*s %-6s %7s %10s %8s %8s %8s %8s %8s %8s %7s %7s %s\n", w, w,
			r->name, *r->action ? r->action : "-", regions, registered, faults, zeroed,
			loaded, rd, handed, poisoned, p50, p99, seed);
	}
	print_process(&s, out);
	lf_stats_free(&s);
	return 0;
}
