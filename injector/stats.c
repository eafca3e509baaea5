/* The -v summary of a run: every process's statistics file (read by
 * statsfile.c), one line per process and a total, then each rule over all
 * of them; and the files kept where the user asked. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "crash_report.h"
#include "lazyfault.h"
#include "report.h"
#include "rules.h"
#include "statsfile.h"
#include "text.h"

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

/* One process's statistics, as read from the run's directory. */
struct proc {
	struct lf_stats s;
	char path[PATH_MAX];
};

static int by_start(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;
	if (x->s.start_time != y->s.start_time)
		return x->s.start_time < y->s.start_time ? -1 : 1;
	return x->s.pid < y->s.pid ? -1 : x->s.pid > y->s.pid;
}

/* "stats.PID.json": the pid, else -1. */
static long pid_of(const char *name)
{
	char *end;
	if (strncmp(name, "stats.", 6) != 0 || name[6] < '0' || name[6] > '9')
		return -1;
	long pid = strtol(name + 6, &end, 10);
	return strcmp(end, ".json") == 0 ? pid : -1;
}

/* The program's command line, escaped (any bytes may be in it), cut to
 * fit a line. */
static void program_of(const struct lf_stats *s, char *out, size_t len)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < s->argc && at + 1 < len; i++) {
		char word[256];
		lf_escape_text(s->argv[i], word, sizeof word);
		at += (size_t)snprintf(out + at, len - at, "%s%s", i ? " " : "", word);
	}
	if (!s->argc)
		lf_escape_text(*s->exe ? s->exe : "?", out, len);
	if (strlen(out) > 60)
		memcpy(out + 57, "...", 4);
}

static void add(struct lf_stats_rule *sum, const struct lf_stats_rule *r, enum lf_stat_counter c)
{
	uint64_t v;
	if (!lf_stats_get(r, c, &v))
		return;
	if (c == LF_STAT_FAULT_NS_P50 || c == LF_STAT_FAULT_NS_P99)
		sum->value[c] = v > sum->value[c] ? v : sum->value[c];
	else
		sum->value[c] += v;
	sum->present |= 1u << c;
}

/* The counters of a process's line, or of the total line. */
static void print_counts(const struct lf_stats_rule *c, FILE *out)
{
	char regions[24], registered[24], faults[24], zeroed[24], loaded[24], poisoned[24];
	cell_count(c, LF_STAT_REGIONS, regions, sizeof regions);
	cell_bytes(c, LF_STAT_BYTES_REGISTERED, registered, sizeof registered);
	cell_count(c, LF_STAT_FAULTS, faults, sizeof faults);
	cell_count(c, LF_STAT_PAGES_ZEROED, zeroed, sizeof zeroed);
	cell_count(c, LF_STAT_PAGES_LOADED, loaded, sizeof loaded);
	cell_count(c, LF_STAT_PAGES_POISONED, poisoned, sizeof poisoned);
	fprintf(out, " %7s %10s %8s %8s %8s %8s", regions, registered, faults, zeroed, loaded,
		poisoned);
}

static void print_processes(const struct proc *p, size_t n, FILE *out)
{
	fprintf(out, "  %-8s %-8s %-14s %7s %10s %8s %8s %8s %8s  %s\n", "pid", "ppid", "mode",
		"regions", "registered", "faults", "zeroed", "loaded", "poisoned", "program");
	struct lf_stats_rule total = { 0 };
	for (size_t i = 0; i < n; i++) {
		struct lf_stats_rule one = { 0 };
		for (size_t j = 0; j < p[i].s.nrules; j++)
			for (int c = 0; c < LF_STAT_NCOUNTERS; c++)
				if (c != LF_STAT_SEED && c < LF_STAT_FAULT_NS_P50) {
					add(&one, &p[i].s.rule[j], c);
					add(&total, &p[i].s.rule[j], c);
				}
		char ppid[24] = "-", prog[80];
		if (p[i].s.ppid >= 0)
			snprintf(ppid, sizeof ppid, "%lld", p[i].s.ppid);
		program_of(&p[i].s, prog, sizeof prog);
		fprintf(out, "  %-8lld %-8s %-14s", p[i].s.pid, ppid, *p[i].s.mode ? p[i].s.mode : "?");
		print_counts(&one, out);
		fprintf(out, "  %s\n", prog);
	}
	char procs[32];
	snprintf(procs, sizeof procs, "%zu process%s", n, n == 1 ? "" : "es");
	fprintf(out, "  %-8s %-23s", "total", procs);
	print_counts(&total, out);
	fputc('\n', out);
}

/* Rule `name` over every process into *sum: counters summed, the service
 * times the highest of the processes', the seed when they all had the
 * same.  True when their seeds differ. */
static bool sum_rule(const struct proc *p, size_t n, const char *name, struct lf_stats_rule *sum)
{
	bool seeds_differ = false;
	uint64_t seed = 0;
	memset(sum, 0, sizeof *sum);
	for (size_t j = 0; j < n; j++) {
		const struct lf_stats_rule *r = lf_stats_rule(&p[j].s, name);
		uint64_t v;
		if (!r)
			continue;
		for (int c = 0; c < LF_STAT_NCOUNTERS; c++)
			if (c != LF_STAT_SEED)
				add(sum, r, c);
		if (lf_stats_get(r, LF_STAT_SEED, &v)) {
			seeds_differ |= (sum->present & (1u << LF_STAT_SEED)) && v != seed;
			seed = v;
			sum->present |= 1u << LF_STAT_SEED;
		}
	}
	sum->value[LF_STAT_SEED] = seed;
	return seeds_differ;
}

/* Each rule over every process, one line each. */
static void print_rules(const struct proc *p, size_t n, FILE *out)
{
	const struct lf_stats *first = &p[0].s;
	int w = 4;
	for (size_t i = 0; i < first->nrules; i++)
		if ((int)strlen(first->rule[i].name) > w)
			w = (int)strlen(first->rule[i].name);
	if (w > 24)
		w = 24;
	fprintf(out, "  %-*s %-6s %7s %10s %8s %8s %8s %8s %8s %8s %7s %7s %s\n", w, "rule",
		"action", "regions", "registered", "faults", "zeroed", "loaded", "read",
		"handed", "poisoned", "p50", "p99", "seed");
	for (size_t i = 0; i < first->nrules; i++) {
		const char *name = first->rule[i].name;
		struct lf_stats_rule sum;
		bool seeds_differ = sum_rule(p, n, name, &sum);
		char regions[24], registered[24], faults[24], zeroed[24], loaded[24], rd[24],
			handed[24], poisoned[24], p50[24], p99[24], seedc[24], shown[64];
		cell_count(&sum, LF_STAT_REGIONS, regions, sizeof regions);
		cell_bytes(&sum, LF_STAT_BYTES_REGISTERED, registered, sizeof registered);
		cell_count(&sum, LF_STAT_FAULTS, faults, sizeof faults);
		cell_count(&sum, LF_STAT_PAGES_ZEROED, zeroed, sizeof zeroed);
		cell_count(&sum, LF_STAT_PAGES_LOADED, loaded, sizeof loaded);
		cell_bytes(&sum, LF_STAT_BYTES_READ, rd, sizeof rd);
		cell_bytes(&sum, LF_STAT_BYTES_HANDED_OFF, handed, sizeof handed);
		cell_count(&sum, LF_STAT_PAGES_POISONED, poisoned, sizeof poisoned);
		cell_ns(&sum, LF_STAT_FAULT_NS_P50, p50, sizeof p50);
		cell_ns(&sum, LF_STAT_FAULT_NS_P99, p99, sizeof p99);
		/* A rule that draws has a seed: it replays the run. */
		cell_count(&sum, LF_STAT_SEED, seedc, sizeof seedc);
		lf_escape_text(name, shown, sizeof shown);
		fprintf(out, "  %-*.*s %-6s %7s %10s %8s %8s %8s %8s %8s %8s %7s %7s %s\n", w, w,
			shown, *first->rule[i].action ? first->rule[i].action : "-", regions,
			registered, faults, zeroed, loaded, rd, handed, poisoned, p50, p99,
			seeds_differ ? "per-process" : seedc);
	}
}

/* For each rule with a count of `failed` or `cut` over the processes, one
 * line (and the heading first): a table would be a column of zeros for
 * every other run.  True when there was one. */
static bool print_pair(const struct proc *p, size_t n, enum lf_stat_counter failed_c,
		       enum lf_stat_counter cut_c, const char *heading, const char *noun,
		       const char *failed_how, const char *cut_how, FILE *out)
{
	bool said = false;
	for (size_t i = 0; i < p[0].s.nrules; i++) {
		struct lf_stats_rule sum;
		sum_rule(p, n, p[0].s.rule[i].name, &sum);
		uint64_t failed = sum.value[failed_c], cut = sum.value[cut_c];
		if (!failed && !cut)
			continue;
		if (!said)
			fprintf(out, "lazyfault: %s:\n", heading);
		said = true;
		char shown[64];
		lf_escape_text(p[0].s.rule[i].name, shown, sizeof shown);
		fprintf(out, "  rule '%s': %" PRIu64 " %s%s %s, %" PRIu64 " %s\n", shown, failed, noun,
			failed == 1 ? "" : "s", failed_how, cut, cut_how);
	}
	return said;
}

/* The reads that met a bad page of a file (io_error). */
static void print_reads(const struct proc *p, size_t n, FILE *out)
{
	print_pair(p, n, LF_STAT_READ_ERRORS, LF_STAT_READS_CUT,
		   "reads of files with bad pages (io_error)", "read", "failed with EIO",
		   "cut short before a bad page", out);
}

/* The system calls that met a page a rule poisoned (EFAULT, or cut
 * short), and the first such call of each process, as its warn line said
 * it. */
static void print_calls(const struct proc *p, size_t n, FILE *out)
{
	bool said = print_pair(p, n, LF_STAT_CALLS_EFAULT, LF_STAT_CALLS_SHORT,
			       "system calls whose buffer held a poisoned page", "call",
			       "failed with EFAULT", "came back short", out);
	for (size_t i = 0; said && i < n; i++) {
		char shown[1024];
		if (!*p[i].s.poisoned_call)
			continue;
		lf_escape_text(p[i].s.poisoned_call, shown, sizeof shown);
		fprintf(out, "  pid %lld, first: %s\n", p[i].s.pid, shown);
	}
}

/* Where the regions that had a page poisoned were allocated. */
static void print_sites(const struct proc *p, size_t n, FILE *out)
{
	bool any = false;
	for (size_t i = 0; i < n; i++)
		any |= p[i].s.nsites > 0;
	if (!any)
		return;
	fprintf(out, "lazyfault: where the regions with a poisoned page were allocated:\n");
	for (size_t i = 0; i < n; i++)
		lf_crash_print_sites(&p[i].s, NULL, 6, out);
}

/* A process's wall time, the time its threads were blocked in faults, and
 * what its fault trace holds, when the file has them. */
static void print_times(const struct lf_stats *s, bool name_it, FILE *out)
{
	const uint64_t *v = s->process;
	unsigned have = s->process_present;
	char who[32] = "";
	if (name_it)
		snprintf(who, sizeof who, "pid %lld: ", s->pid);
	if ((have & (1u << LF_STAT_WALL_NS)) && (have & (1u << LF_STAT_BLOCKED_NS))) {
		char wall[32], blocked[32];
		lf_fmt_ns(v[LF_STAT_WALL_NS], wall, sizeof wall);
		lf_fmt_ns(v[LF_STAT_BLOCKED_NS], blocked, sizeof blocked);
		fprintf(out, "  %swall time %s; threads blocked in faults %s (%.1f%% of it; the sum "
			"of the faults' service times)\n", who, wall, blocked,
			v[LF_STAT_WALL_NS] ? 100.0 * v[LF_STAT_BLOCKED_NS] / v[LF_STAT_WALL_NS] : 0.0);
	}
	if ((have & (1u << LF_STAT_TRACE_RECORDS)) &&
	    (v[LF_STAT_TRACE_RECORDS] || v[LF_STAT_TRACE_DROPPED]))
		fprintf(out, "  %sfault trace: %" PRIu64 " records, %" PRIu64 " dropped%s\n", who,
			v[LF_STAT_TRACE_RECORDS], v[LF_STAT_TRACE_DROPPED],
			v[LF_STAT_TRACE_DROPPED] ? " (it was full)" : "");
}

/* Why the started program left no statistics, from how it ended. */
static void explain_missing(pid_t pid, int status, const char *what, FILE *out)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		fprintf(out, "lazyfault: no statistics were written for pid %ld: it was killed by "
			"SIGKILL, which nothing can catch\n", (long)pid);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == LF_EXIT_ON_ERROR)
		fprintf(out, "lazyfault: no statistics were written for pid %ld: it exited with "
			"status %d, the status of on_error = abort: the library could not set itself "
			"up (its log line says why)\n", (long)pid, LF_EXIT_ON_ERROR);
	else
		fprintf(out, "lazyfault: no statistics were written for pid %ld (%s): it ran without "
			"the library (a set-uid or static program, or one that cleared LD_PRELOAD), "
			"or the library could not write them (its log says why)\n", (long)pid, what);
}

void lf_stats_crash_report(const char *tmpl, pid_t pid, FILE *out)
{
	char path[PATH_MAX + 32], err[PATH_MAX + 256];
	struct lf_stats s;
	if (!tmpl || !*tmpl)
		return;
	lf_subst_pid(tmpl, pid, path, sizeof path);
	if (lf_stats_read(path, &s, err, sizeof err) != LF_STATS_OK)
		return;
	lf_crash_print(&s, NULL, out);
	lf_stats_free(&s);
}

int lf_stats_summary(const char *dir, pid_t pid, int status, const char *keep, bool verbose,
		     FILE *out)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(out, "lazyfault: cannot read the statistics in %s: %s\n", dir, strerror(errno));
		return -1;
	}
	struct proc *p = NULL;
	size_t n = 0, cap = 0;
	bool main_ok = false, main_told = false; /* the started program's file read, or why not said */
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		long fpid = pid_of(de->d_name);
		if (fpid < 0)
			continue; /* ".", "..", a writer's unfinished new file */
		if (n == cap) {
			struct proc *np = realloc(p, (cap = cap ? 2 * cap : 8) * sizeof *np);
			if (!np)
				break;
			p = np;
		}
		char err[PATH_MAX + 256];
		snprintf(p[n].path, sizeof p[n].path, "%s/%s", dir, de->d_name);
		enum lf_stats_status st = lf_stats_read(p[n].path, &p[n].s, err, sizeof err);
		if (st == LF_STATS_OK) {
			main_ok |= fpid == pid;
			n++;
		} else if (fpid == pid && st == LF_STATS_INCOMPLETE) {
			if (verbose)
				explain_missing(pid, status, "its file is incomplete", out);
			main_told = true;
		} else {
			fprintf(out, "lazyfault: cannot read the statistics: %s\n", err);
			main_told |= fpid == pid;
		}
	}
	closedir(d);
	if (!main_ok && !main_told && verbose)
		explain_missing(pid, status, "no file", out);
	if (n)
		qsort(p, n, sizeof *p, by_start);
	/* Each process that died of a signal, always: the crash report. */
	for (size_t i = 0; i < n; i++)
		lf_crash_print(&p[i].s, NULL, out);
	if (n && verbose) {
		char shown[PATH_MAX + 64];
		lf_escape_text(keep && *keep ? keep : "", shown, sizeof shown);
		fprintf(out, "lazyfault: statistics of %zu process%s under the library%s%s%s:\n", n,
			n == 1 ? "" : "es", *shown ? " (kept as " : "", shown, *shown ? ")" : "");
		print_processes(p, n, out);
		for (size_t i = 0; i < n; i++)
			print_times(&p[i].s, n > 1, out);
		if (n == 1)
			fprintf(out, "lazyfault: each rule:\n");
		else
			fprintf(out, "lazyfault: each rule, over the %zu processes:\n", n);
		print_rules(p, n, out);
		print_reads(p, n, out);
		print_calls(p, n, out);
		print_sites(p, n, out);
	}
	/* Keep the files where the user asked: one per process with %p, else
	 * the started program's alone. */
	size_t dropped = 0;
	for (size_t i = 0; keep && *keep && i < n; i++) {
		char to[PATH_MAX + 32], err[2 * PATH_MAX + 256];
		if (!strstr(keep, "%p") && p[i].s.pid != pid) {
			dropped++;
			continue;
		}
		lf_subst_pid(keep, (pid_t)p[i].s.pid, to, sizeof to);
		if (lf_stats_copy(p[i].path, to, err, sizeof err) != 0)
			fprintf(out, "lazyfault: %s\n", err);
	}
	if (dropped && verbose)
		fprintf(out, "lazyfault: warning: the statistics of %zu other process%s are not kept: "
			"%s has no %%p to tell them apart\n", dropped, dropped == 1 ? "" : "es", keep);
	for (size_t i = 0; i < n; i++)
		lf_stats_free(&p[i].s);
	free(p);
	return main_ok ? 0 : -1;
}
