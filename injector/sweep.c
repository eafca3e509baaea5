/* `lazyfault sweep`: a reference run without poison counts the candidate
 * faults of each poison rule; then one run per chosen candidate, in
 * parallel, each under a timeout and in its own process group, with a rule
 * file in which exactly that fault is poisoned; each run is classified
 * against the reference (sweep_classify.c) and reported (sweep_report.c).
 *
 * The numbering holds because a poison rule serves one page per fault,
 * whether it poisons or fills: up to the poisoned fault, a run of a
 * deterministic program takes the same faults in the same order as the
 * reference. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lazyfault.h"
#include "rules.h"
#include "statsfile.h"
#include "sweep.h"

/* Without --timeout, a run may take this many times the reference's time,
 * and never less than MIN_TIMEOUT seconds. */
#define TIMEOUT_FACTOR 10
#define MIN_TIMEOUT 10.0
/* The reference runs themselves, without --timeout. */
#define REFERENCE_TIMEOUT 600.0

/* ---- rule files ----------------------------------------------------------- */

/* How a generated rule file treats the swept rule. */
enum gen { GEN_NONE, GEN_FAULT, GEN_SEED };

/* A poison rule that poisons nothing but still fills each page on its own
 * fault, as it would in a poisoned run. */
static void neutralise(struct lf_rule *x)
{
	free(x->pages);
	x->pages = NULL;
	x->npages = 0;
	x->pages_all = false;
	x->times = 0;
	x->given = (x->given & ~LF_KEY_PAGES) | LF_KEY_TIMES;
}

/* Exactly fault n of the rule is poisoned: after = n-1, every = 1, times = 1,
 * no probability, no pages. */
static void poison_fault(struct lf_rule *x, uint64_t n)
{
	neutralise(x);
	x->after = n - 1;
	x->every = 1;
	x->times = 1;
	x->probability = 1;
	x->given = (x->given & ~LF_KEY_PROBABILITY) | LF_KEY_AFTER | LF_KEY_EVERY | LF_KEY_TIMES;
}

static char *dupe_path(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s", a, b);
	return p;
}

/* Write base.ini: the user's rules, parsed again and changed as `gen` says,
 * printed by the rules' own printer, then parsed back as a check.  Every
 * other poison rule is neutralised, so that a run poisons one thing. */
static int write_rules(const struct lf_sweep *s, const char *base, const char *rule,
		       enum gen gen, uint64_t value)
{
	struct lf_rules rules;
	char err[2 * PATH_MAX + 512], path[PATH_MAX + 64];
	if (lf_rules_load(s->rules, &rules, err, sizeof err) != 0) {
		lf_error("%s", err);
		return -1;
	}
	int rc = -1;
	/* The run's statistics go next to its other files, also on replay. */
	free(rules.stats);
	rules.stats = dupe_path(base, ".stats.%p.json");
	for (size_t i = 0; i < rules.nrules; i++) {
		struct lf_rule *x = &rules.rule[i];
		/* (A source is absolute already, made so against the rule
		 * file's folder: the same file from the sweep's directory.) */
		if (x->action != LF_ACTION_POISON)
			continue;
		bool target = rule && !strcmp(x->name, rule);
		if (target && gen == GEN_FAULT) {
			poison_fault(x, value);
		} else if (target && gen == GEN_SEED) {
			x->seed = value;
			x->given |= LF_KEY_SEED;
		} else {
			neutralise(x);
		}
	}
	snprintf(path, sizeof path, "%s.ini", base);
	FILE *f = fopen(path, "w");
	if (!f) {
		lf_error("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (gen == GEN_FAULT)
		fprintf(f, "# lazyfault sweep: fault %" PRIu64 " of rule '%s' poisoned, "
			"nothing else\n", value, rule);
	else if (gen == GEN_SEED)
		fprintf(f, "# lazyfault sweep: rule '%s' as written, with seed %" PRIu64
			"; no other rule poisons\n", rule, value);
	else
		fprintf(f, "# lazyfault sweep: the reference: no rule poisons\n");
	lf_rules_print(&rules, f);
	if (fclose(f) != 0) {
		lf_error("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	struct lf_rules back;
	if (lf_rules_load(path, &back, err, sizeof err) != 0) {
		lf_error("the rule file written for the sweep does not parse back: %s", err);
		goto out;
	}
	lf_rules_free(&back);
	rc = 0;
out:
	lf_rules_free(&rules);
	return rc;
}

/* ---- running ---------------------------------------------------------------- */

struct job {
	struct lf_sweep_run *r;
	char base[PATH_MAX + 64];  /* DIR/run-NNNN, DIR/reference */
	pid_t pid;
	int pidfd;
	double start, deadline;
	bool timed_out;
	int ws;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	interrupted = sig;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void child(const struct lf_sweep *s, const struct job *j)
{
	/* Its own process group: a timeout kills the program and whatever it
	 * started; a ^C on the terminal reaches only us, and we end them. */
	setpgid(0, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	char path[PATH_MAX + 96];
	const char *in = *s->stdin_path ? s->stdin_path : "/dev/null";
	int fd = open(in, O_RDONLY);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0) {
		lf_error("%s: %s", in, strerror(errno));
		_exit(LF_EXIT_USAGE);
	}
	static const char *const outs[] = { ".out", ".err" };
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s%s", j->base, outs[i]);
		int o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (o < 0 || dup2(o, STDOUT_FILENO + i) < 0) {
			lf_error("%s: %s", path, strerror(errno));
			_exit(LF_EXIT_USAGE);
		}
		close(o);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	char rules[PATH_MAX + 96], stats[PATH_MAX + 96];
	snprintf(rules, sizeof rules, "%s.ini", j->base);
	snprintf(stats, sizeof stats, "%s.stats.%%p.json", j->base);
	lf_exec_under_library(s->prog, s->argv, rules, stats, s->lib);
}

static int start(const struct lf_sweep *s, struct job *j, double timeout)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		lf_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		child(s, j);
	setpgid(pid, pid); /* also here: no window in which a kill misses it */
	j->pid = pid;
	j->pidfd = (int)pidfd_open(pid, 0);
	j->start = now();
	j->deadline = j->start + timeout;
	j->timed_out = false;
	if (j->pidfd < 0) {
		lf_error("pidfd_open: %s", strerror(errno));
		kill(-pid, SIGKILL);
		waitpid(pid, &j->ws, 0);
		return -1;
	}
	return 0;
}

/* The process has ended (or is to end now): end what is left of its group
 * while the leader is a zombie (its pid, the group's id, cannot be reused
 * yet), then reap it. */
static void reap(struct job *j, bool kill_it)
{
	if (kill_it)
		kill(-j->pid, SIGKILL);
	siginfo_t si;
	while (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	kill(-j->pid, SIGKILL);
	while (waitpid(j->pid, &j->ws, 0) < 0 && errno == EINTR)
		;
	close(j->pidfd);
	j->pidfd = -1;
	j->r->duration = now() - j->start;
}

/* What a run left: its end, its output's checksum, the library's figures. */
static void record_end(struct job *j)
{
	struct lf_sweep_run *r = j->r;
	r->status = WIFEXITED(j->ws) && !j->timed_out ? WEXITSTATUS(j->ws) : -1;
	r->sig = WIFSIGNALED(j->ws) && !j->timed_out ? WTERMSIG(j->ws) : 0;
	char path[PATH_MAX + 128], err[PATH_MAX + 256];
	snprintf(path, sizeof path, "%s.out", j->base);
	if (lf_file_crc(path, &r->out_crc, &r->out_len) != 0)
		r->out_crc = 0, r->out_len = 0;
	snprintf(path, sizeof path, "%s.stats.%ld.json", j->base, (long)j->pid);
	struct lf_stats st;
	r->have_stats = false;
	if (lf_stats_read(path, &st, err, sizeof err) == LF_STATS_OK) {
		const struct lf_stats_rule *sr = r->rule ? lf_stats_rule(&st, r->rule) : NULL;
		r->have_stats = sr && lf_stats_get(sr, LF_STAT_FAULTS, &r->faults) &&
				lf_stats_get(sr, LF_STAT_PAGES_POISONED, &r->poisoned);
		lf_stats_free(&st);
	}
}

struct progress {
	bool on;                /* stderr is a terminal */
	size_t total, done;
	size_t count[LF_NOUTCOMES];
	const char *what;
};

static void show_progress(const struct progress *p, size_t running)
{
	if (!p->on)
		return;
	enum { WIDTH = 30 };
	size_t fill = p->total ? p->done * WIDTH / p->total : WIDTH;
	char bar[WIDTH + 1];
	for (size_t i = 0; i < WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[WIDTH] = '\0';
	fprintf(stderr, "\r\033[K%s [%s] %zu/%zu, %zu running", p->what, bar, p->done, p->total,
		running);
	for (int o = 0; o < LF_NOUTCOMES; o++)
		if (p->count[o])
			fprintf(stderr, ", %s %zu", lf_outcome_name((enum lf_outcome)o), p->count[o]);
	fflush(stderr);
}

typedef void (*done_fn)(const struct lf_sweep *s, struct job *j, struct progress *p);

/* Run the jobs, at most par at once, each killed at its deadline.  Returns
 * 0, or -1 when interrupted (everything started is then killed) or when a
 * run could not be started. */
static int run_jobs(const struct lf_sweep *s, struct job *jobs, size_t n, unsigned par,
		    double timeout, done_fn done, struct progress *p)
{
	struct job **live = calloc(par, sizeof *live);
	struct pollfd *pfd = calloc(par, sizeof *pfd);
	if (!live || !pfd) {
		free(live);
		free(pfd);
		lf_error("out of memory");
		return -1;
	}
	size_t next = 0, nlive = 0;
	int rc = 0;
	p->total = n;
	while ((next < n || nlive) && !interrupted) {
		while (next < n && nlive < par && rc == 0) {
			if (start(s, &jobs[next], timeout) != 0) {
				rc = -1;
				break;
			}
			live[nlive++] = &jobs[next++];
		}
		if (rc != 0 && nlive == 0)
			break;
		show_progress(p, nlive);
		double t = now(), first = INFINITY;
		for (size_t i = 0; i < nlive; i++) {
			pfd[i] = (struct pollfd){ .fd = live[i]->pidfd, .events = POLLIN };
			if (live[i]->deadline < first)
				first = live[i]->deadline;
		}
		double wait = first - t;
		int ms = wait <= 0 ? 0 : wait > 0.5 ? 500 : (int)(wait * 1000) + 1;
		if (poll(pfd, nlive, ms) < 0 && errno != EINTR) {
			lf_error("poll: %s", strerror(errno));
			interrupted = SIGTERM;
			break;
		}
		t = now();
		for (size_t i = 0; i < nlive;) {
			struct job *j = live[i];
			bool ended = pfd[i].revents & (POLLIN | POLLHUP);
			if (!ended && t < j->deadline) {
				i++;
				continue;
			}
			j->timed_out = !ended;
			reap(j, j->timed_out);
			record_end(j);
			done(s, j, p);
			p->done++;
			live[i] = live[--nlive];
			pfd[i] = pfd[nlive];
		}
	}
	if (interrupted) {
		for (size_t i = 0; i < nlive; i++)
			reap(live[i], true);
		rc = -1;
	}
	if (p->on)
		fputs("\r\033[K", stderr);
	free(live);
	free(pfd);
	return rc;
}

static void remove_run_files(const struct lf_sweep *s, const struct job *j)
{
	static const char *const suffix[] = { ".ini", ".out", ".err" };
	char path[PATH_MAX + 128];
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(path, sizeof path, "%s%s", j->base, suffix[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s.stats.%ld.json", j->base, (long)j->pid);
	unlink(path);
}

/* A candidate run has ended: classify, record, and keep its files only when
 * it did not survive. */
static void candidate_done(const struct lf_sweep *s, struct job *j, struct progress *p)
{
	struct lf_sweep_run *r = j->r;
	bool same = true;
	if (s->compare != LF_COMPARE_STATUS) {
		char ref[PATH_MAX + 64], out[PATH_MAX + 128];
		lf_sweep_path(s, "reference.out", ref);
		snprintf(out, sizeof out, "%s.out", j->base);
		same = lf_files_equal(ref, out) == 1;
	}
	r->outcome = lf_classify(s->compare, s->ref_status, j->timed_out, j->ws, same);
	r->done = true;
	p->count[r->outcome]++;
	lf_sweep_save_result(s, r);
	if (r->outcome == LF_SURVIVED)
		remove_run_files(s, j);
}

static void reference_done(const struct lf_sweep *s, struct job *j, struct progress *p)
{
	j->r->done = true;
}

/* ---- the reference ------------------------------------------------------------ */

/* Two reference runs, side by side: the first gives the output, status and
 * fault counts; the second shows whether they hold from one run to the next
 * (a program that prints the time or its pid makes every run "wrong"). */
static int reference(struct lf_sweep *s, const char *only_rule, unsigned jobs, bool timeout_given)
{
	struct lf_sweep_run ref[2];
	struct job j[2];
	memset(ref, 0, sizeof ref);
	memset(j, 0, sizeof j);
	for (int i = 0; i < 2; i++) {
		j[i].r = &ref[i];
		lf_sweep_path(s, i ? "reference-2" : "reference", j[i].base);
	}
	if (write_rules(s, j[0].base, NULL, GEN_NONE, 0) != 0 ||
	    write_rules(s, j[1].base, NULL, GEN_NONE, 0) != 0)
		return -1;
	struct progress p = { .on = isatty(STDERR_FILENO), .what = "reference" };
	if (run_jobs(s, j, 2, jobs > 1 ? 2 : 1, timeout_given ? s->timeout : REFERENCE_TIMEOUT,
		     reference_done, &p) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (j[i].timed_out || !WIFEXITED(j[i].ws)) {
			char why[64];
			if (j[i].timed_out)
				snprintf(why, sizeof why, "did not end in %.0f s",
					 timeout_given ? s->timeout : REFERENCE_TIMEOUT);
			else
				lf_signal_name(WTERMSIG(j[i].ws), why, sizeof why);
			lf_error("the reference run (no poison) %s%s: a sweep needs a program "
				 "that runs to its end without poison (its output: %s.out, %s.err)",
				 j[i].timed_out ? "" : "was killed by ", why, j[i].base, j[i].base);
			return -1;
		}
	}
	s->ref_status = WEXITSTATUS(j[0].ws);
	s->ref_duration = ref[0].duration > ref[1].duration ? ref[0].duration : ref[1].duration;
	s->ref_len = ref[0].out_len;
	s->ref_crc = ref[0].out_crc;
	if (WEXITSTATUS(j[1].ws) != s->ref_status)
		lf_warn("the two reference runs exited %d and %d: the status is not the same "
			"from run to run (consider --compare stdout)", s->ref_status,
			WEXITSTATUS(j[1].ws));
	char a[PATH_MAX + 128], b[PATH_MAX + 128];
	snprintf(a, sizeof a, "%s.out", j[0].base);
	snprintf(b, sizeof b, "%s.out", j[1].base);
	if (s->compare != LF_COMPARE_STATUS && lf_files_equal(a, b) != 1)
		lf_warn("the two reference runs printed different output (%s, %s): every run "
			"may look like wrong-output (consider --compare status)", a, b);

	/* The candidates of each poison rule, from the first run's statistics. */
	struct lf_stats st[2];
	char err[PATH_MAX + 256];
	for (int i = 0; i < 2; i++) {
		snprintf(a, sizeof a, "%s.stats.%ld.json", j[i].base, (long)j[i].pid);
		if (lf_stats_read(a, &st[i], err, sizeof err) != LF_STATS_OK) {
			lf_error("the reference run left no statistics (%s): the library did not "
				 "run in it, so there is nothing to count", err);
			if (i)
				lf_stats_free(&st[0]);
			return -1;
		}
	}
	int rc = -1;
	if (!strcmp(st[0].mode, "passthrough")) {
		lf_error("the library ran in passthrough mode in the reference run: it serves no "
			 "memory, so no rule can poison (see %s.err)", j[0].base);
		goto out;
	}
	struct lf_rules rules;
	if (lf_rules_load(s->rules, &rules, err, sizeof err) != 0) {
		lf_error("%s", err);
		goto out;
	}
	s->rule = calloc(rules.nrules ? rules.nrules : 1, sizeof *s->rule);
	if (!s->rule) {
		lf_error("out of memory");
		lf_rules_free(&rules);
		goto out;
	}
	for (size_t i = 0; i < rules.nrules; i++) {
		const struct lf_rule *x = &rules.rule[i];
		if (x->action != LF_ACTION_POISON || (only_rule && strcmp(x->name, only_rule)))
			continue;
		struct lf_sweep_rule *sr = &s->rule[s->nrules++];
		sr->name = strdup(x->name);
		sr->after = x->after;
		sr->every = x->every ? x->every : 1;
		const struct lf_stats_rule *r0 = lf_stats_rule(&st[0], x->name);
		const struct lf_stats_rule *r1 = lf_stats_rule(&st[1], x->name);
		uint64_t f1 = 0;
		if (r0)
			lf_stats_get(r0, LF_STAT_FAULTS, &sr->faults);
		if (r1)
			lf_stats_get(r1, LF_STAT_FAULTS, &f1);
		if (f1 != sr->faults)
			lf_warn("rule '%s' served %" PRIu64 " faults in one reference run and %"
				PRIu64 " in the other: fault numbers do not name the same page "
				"from run to run (threads, address-space randomisation, the clock)",
				x->name, sr->faults, f1);
		sr->candidates = sr->faults > sr->after ? (sr->faults - sr->after) / sr->every : 0;
	}
	lf_rules_free(&rules);
	rc = 0;
out:
	lf_stats_free(&st[0]);
	lf_stats_free(&st[1]);
	return rc;
}

/* ---- the candidates ------------------------------------------------------------- */

struct choice {
	uint64_t every, max, seeds;   /* at most one is nonzero */
};

static int add_run(struct lf_sweep *s, size_t *cap, const char *rule, bool by_seed,
		   uint64_t value)
{
	if (s->nruns == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		struct lf_sweep_run *nr = realloc(s->run, ncap * sizeof *nr);
		if (!nr)
			return -1;
		s->run = nr;
		*cap = ncap;
	}
	struct lf_sweep_run *r = &s->run[s->nruns];
	memset(r, 0, sizeof *r);
	r->index = (unsigned)s->nruns + 1;
	r->rule = strdup(rule);
	r->by_seed = by_seed;
	if (by_seed)
		r->seed = value;
	else
		r->fault = value;
	s->nruns++;
	return r->rule ? 0 : -1;
}

/* The k-th chosen candidate among c (0-based): every one, every Kth, or N
 * spread evenly from the first to the last. */
static uint64_t chosen(const struct choice *ch, uint64_t c, uint64_t k, uint64_t nchosen)
{
	if (ch->every)
		return k * ch->every;
	if (ch->max && nchosen < c)
		return nchosen == 1 ? c / 2 : k * (c - 1) / (nchosen - 1);
	return k;
}

static int plan_runs(struct lf_sweep *s, const struct choice *ch)
{
	size_t cap = 0;
	struct lf_rules rules;
	char err[2 * PATH_MAX + 512];
	if (lf_rules_load(s->rules, &rules, err, sizeof err) != 0) {
		lf_error("%s", err);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < s->nrules && rc == 0; i++) {
		const struct lf_sweep_rule *x = &s->rule[i];
		if (ch->seeds) {
			const struct lf_rule *ur = NULL;
			for (size_t k = 0; k < rules.nrules; k++)
				if (!strcmp(rules.rule[k].name, x->name))
					ur = &rules.rule[k];
			if (!ur || !(ur->given & LF_KEY_PROBABILITY)) {
				lf_warn("rule '%s' has no probability: --seeds does not sweep it",
					x->name);
				continue;
			}
			for (uint64_t k = 1; k <= ch->seeds && rc == 0; k++)
				rc = add_run(s, &cap, x->name, true, k);
			continue;
		}
		if (x->candidates == 0) {
			lf_warn("rule '%s' served %" PRIu64 " faults in the reference run, none past "
				"after = %" PRIu64 ": nothing to sweep", x->name, x->faults, x->after);
			continue;
		}
		uint64_t c = x->candidates, n = c;
		if (ch->every)
			n = (c + ch->every - 1) / ch->every;
		else if (ch->max && ch->max < c)
			n = ch->max;
		for (uint64_t k = 0; k < n && rc == 0; k++)
			rc = add_run(s, &cap, x->name, false,
				     x->after + (chosen(ch, c, k, n) + 1) * x->every);
	}
	lf_rules_free(&rules);
	if (rc != 0)
		lf_error("out of memory");
	return rc;
}

static int write_run_rules(const struct lf_sweep *s)
{
	for (size_t i = 0; i < s->nruns; i++) {
		const struct lf_sweep_run *r = &s->run[i];
		char base[PATH_MAX + 64];
		lf_sweep_run_path(s, r, "", base);
		if (write_rules(s, base, r->rule, r->by_seed ? GEN_SEED : GEN_FAULT,
				r->by_seed ? r->seed : r->fault) != 0)
			return -1;
	}
	return 0;
}

static int run_candidates(struct lf_sweep *s, struct lf_sweep_run *runs, size_t n,
			  unsigned jobs, bool progress)
{
	struct job *j = calloc(n ? n : 1, sizeof *j);
	if (!j) {
		lf_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		j[i].r = &runs[i];
		lf_sweep_run_path(s, &runs[i], "", j[i].base);
	}
	struct progress p = { .on = progress, .what = "sweep" };
	int rc = run_jobs(s, j, n, jobs, s->timeout, candidate_done, &p);
	free(j);
	return rc;
}

/* ---- the command ------------------------------------------------------------------ */

static int write_plan(const struct lf_sweep *s, const char *file)
{
	FILE *f = fopen(file, "w");
	if (!f) {
		lf_error("cannot write %s: %s", file, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < s->nruns; i++) {
		char *line = lf_sweep_plan_line(s, &s->run[i]);
		if (line)
			fprintf(f, "%s\n", line);
		free(line);
	}
	if (fclose(f) != 0) {
		lf_error("cannot write %s: %s", file, strerror(errno));
		return -1;
	}
	printf("lazyfault sweep: %zu runs planned in %s (one command line each); run them, "
	       "e.g.\n  parallel < %s\nthen merge their results with\n  %s sweep --collect %s\n",
	       s->nruns, file, file, s->self, s->dir);
	return 0;
}

static int exit_status(const struct lf_sweep *s)
{
	for (size_t i = 0; i < s->nruns; i++)
		if (!s->run[i].done)
			return LF_EXIT_USAGE;
	for (size_t i = 0; i < s->nruns; i++)
		if (s->run[i].outcome != LF_SURVIVED)
			return LF_EXIT_PROBLEM;
	return LF_EXIT_OK;
}

static int parse_count(const char *opt, const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || errno || n == 0 || v[0] == '-')
		return lf_usage_error("sweep: %s needs a positive whole number, not '%s'", opt, v);
	*out = n;
	return 0;
}

static void handle_interrupts(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* --one N: run N of the plan in DIR, as a line of --plan does. */
static int cmd_one(const char *dir, const char *which)
{
	uint64_t n;
	if (parse_count("--one", which, &n) != 0)
		return LF_EXIT_USAGE;
	struct lf_sweep s;
	if (lf_sweep_load(dir, &s) != 0)
		return LF_EXIT_USAGE;
	int rc = LF_EXIT_USAGE;
	struct lf_sweep_run *r = NULL;
	for (size_t i = 0; i < s.nruns; i++)
		if (s.run[i].index == n)
			r = &s.run[i];
	if (!r)
		lf_error("%s: the plan has no run %" PRIu64 " (it has %zu)", dir, n, s.nruns);
	else if (chdir(s.cwd) != 0)
		lf_error("%s: %s", s.cwd, strerror(errno));
	else if (run_candidates(&s, r, 1, 1, false) == 0)
		rc = LF_EXIT_OK;
	lf_sweep_free(&s);
	return rc;
}

static int cmd_collect(const char *dir)
{
	struct lf_sweep s;
	if (lf_sweep_load(dir, &s) != 0)
		return LF_EXIT_USAGE;
	int rc = LF_EXIT_USAGE;
	for (size_t i = 0; i < s.nruns; i++)
		if (lf_sweep_load_result(&s, &s.run[i]) < 0)
			goto out;
	if (lf_sweep_summary(&s, stdout) == 0)
		rc = exit_status(&s);
out:
	lf_sweep_free(&s);
	return rc;
}

static int make_dir(const char *arg, char *out)
{
	if (arg) {
		if (mkdir(arg, 0755) != 0 && errno != EEXIST) {
			lf_error("cannot create %s: %s", arg, strerror(errno));
			return -1;
		}
	} else {
		char tmpl[] = "lazyfault-sweep.XXXXXX";
		if (!mkdtemp(tmpl)) {
			lf_error("cannot create a directory for the sweep: %s", strerror(errno));
			return -1;
		}
		arg = tmpl;
		if (!realpath(arg, out))
			return -1;
		return 0;
	}
	if (!realpath(arg, out)) {
		lf_error("%s: %s", arg, strerror(errno));
		return -1;
	}
	char plan[PATH_MAX + 16];
	snprintf(plan, sizeof plan, "%s/sweep.json", out);
	if (access(plan, F_OK) == 0) {
		lf_error("%s holds a sweep already (sweep.json): remove it or give another -o", out);
		return -1;
	}
	return 0;
}

int lf_cmd_sweep(int argc, char **argv)
{
	enum { OPT_SEEDS = 256, OPT_COMPARE, OPT_STDIN, OPT_PLAN, OPT_COLLECT, OPT_ONE, OPT_RULE,
	       OPT_EVERY, OPT_MAX, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "max", required_argument, NULL, OPT_MAX },
		{ "seeds", required_argument, NULL, OPT_SEEDS },
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "compare", required_argument, NULL, OPT_COMPARE },
		{ "stdin", required_argument, NULL, OPT_STDIN },
		{ "output", required_argument, NULL, 'o' },
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ "collect", required_argument, NULL, OPT_COLLECT },
		{ "one", required_argument, NULL, OPT_ONE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules_arg = NULL, *dir_arg = NULL, *plan = NULL, *collect = NULL,
		   *one = NULL, *only_rule = NULL, *stdin_arg = NULL;
	uint64_t jobs = 0;
	struct choice ch = { 0 };
	int nchoice = 0;
	double timeout = 0;
	enum lf_compare cmp = LF_COMPARE_BOTH;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:r:j:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': rules_arg = optarg; break;
		case 'o': dir_arg = optarg; break;
		case 'j':
			if (parse_count("--jobs", optarg, &jobs) != 0)
				return LF_EXIT_USAGE;
			break;
		case OPT_EVERY: case OPT_MAX: case OPT_SEEDS: {
			uint64_t *v = c == OPT_EVERY ? &ch.every : c == OPT_MAX ? &ch.max : &ch.seeds;
			if (parse_count(argv[optind - 1], optarg, v) != 0)
				return LF_EXIT_USAGE;
			nchoice++;
			break;
		}
		case OPT_TIMEOUT: {
			char *end;
			timeout = strtod(optarg, &end);
			if (!*optarg || *end || !(timeout > 0) || !isfinite(timeout))
				return lf_usage_error("sweep: --timeout needs a number of seconds, "
						      "not '%s'", optarg);
			break;
		}
		case OPT_COMPARE:
			if (lf_compare_parse(optarg, &cmp) != 0)
				return lf_usage_error("sweep: --compare takes stdout, status or both, "
						      "not '%s'", optarg);
			break;
		case OPT_STDIN: stdin_arg = optarg; break;
		case OPT_RULE: only_rule = optarg; break;
		case OPT_PLAN: plan = optarg; break;
		case OPT_COLLECT: collect = optarg; break;
		case OPT_ONE: one = optarg; break;
		case 'h': lf_usage(stdout); return LF_EXIT_OK;
		case ':':
			return lf_usage_error("sweep: option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return lf_usage_error("sweep: unknown option '-%c'", optopt);
			return lf_usage_error("sweep: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (nchoice > 1)
		return lf_usage_error("sweep: give at most one of --every, --max and --seeds");
	if (collect) {
		if (optind < argc || rules_arg || plan || one)
			return lf_usage_error("sweep: --collect DIR takes no other arguments");
		return cmd_collect(collect);
	}
	if (one) {
		if (!dir_arg || optind < argc || rules_arg || plan)
			return lf_usage_error("sweep: --one N takes only -o DIR");
		handle_interrupts();
		return cmd_one(dir_arg, one);
	}
	if (!rules_arg)
		return lf_usage_error("sweep: no rule file: give -r RULES");
	if (optind >= argc)
		return lf_usage_error("sweep: no PROGRAM given");

	struct lf_sweep s;
	memset(&s, 0, sizeof s);
	int status = LF_EXIT_USAGE;
	struct lf_rules rules;
	if (lf_load_rules(rules_arg, &rules) != 0)
		return LF_EXIT_USAGE;
	bool any = false, found_rule = !only_rule;
	for (size_t i = 0; i < rules.nrules; i++) {
		any |= rules.rule[i].action == LF_ACTION_POISON;
		if (only_rule && !strcmp(rules.rule[i].name, only_rule)) {
			found_rule = true;
			if (rules.rule[i].action != LF_ACTION_POISON) {
				lf_error("%s: rule '%s' is not a poison rule: nothing to sweep",
					 rules_arg, only_rule);
				found_rule = false;
				any = false;
				break;
			}
		}
	}
	lf_rules_free(&rules);
	if (!found_rule && any)
		lf_error("%s: no rule '%s'", rules_arg, only_rule);
	if (!any && found_rule)
		lf_error("%s: no poison rule: nothing to sweep", rules_arg);
	if (!any || !found_rule)
		return LF_EXIT_USAGE;

	s.compare = cmp;
	s.timeout = timeout;
	s.argc = argc - optind;
	s.argv = calloc((size_t)s.argc + 1, sizeof *s.argv);
	if (!s.argv)
		goto out;
	for (int i = 0; i < s.argc; i++)
		if (!(s.argv[i] = strdup(argv[optind + i])))
			goto out;
	ssize_t n = readlink("/proc/self/exe", s.self, sizeof s.self - 1);
	if (n <= 0 || !getcwd(s.cwd, sizeof s.cwd)) {
		lf_error("cannot find this command or the current directory: %s", strerror(errno));
		goto out;
	}
	s.self[n] = '\0';
	if (!realpath(rules_arg, s.rules)) {
		lf_error("%s: %s", rules_arg, strerror(errno));
		goto out;
	}
	if (stdin_arg && !realpath(stdin_arg, s.stdin_path)) {
		lf_error("--stdin %s: %s", stdin_arg, strerror(errno));
		goto out;
	}
	struct stat sb;
	if (stdin_arg && (stat(s.stdin_path, &sb) != 0 || !S_ISREG(sb.st_mode))) {
		lf_error("--stdin %s: not a regular file (each run reads it again from the start)",
			 stdin_arg);
		goto out;
	}
	int rc = lf_prepare_program(s.argv[0], s.prog, s.lib);
	if (rc != 0) {
		status = rc;
		goto out;
	}
	if (make_dir(dir_arg, s.dir) != 0)
		goto out;
	if (!jobs) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = cpus > 0 ? (uint64_t)cpus : 1;
	}
	if (jobs > 1024)
		jobs = 1024;

	handle_interrupts();
	if (reference(&s, only_rule, (unsigned)jobs, timeout > 0) != 0)
		goto out;
	if (!(timeout > 0)) {
		s.timeout = TIMEOUT_FACTOR * s.ref_duration;
		if (s.timeout < MIN_TIMEOUT)
			s.timeout = MIN_TIMEOUT;
	}
	if (plan_runs(&s, &ch) != 0)
		goto out;
	if (s.nruns == 0) {
		lf_error("no candidate fault to poison: nothing to sweep");
		goto out;
	}
	if (write_run_rules(&s) != 0 || lf_sweep_save(&s) != 0)
		goto out;
	if (plan) {
		status = write_plan(&s, plan) == 0 ? LF_EXIT_OK : LF_EXIT_USAGE;
		goto out;
	}
	int ran = run_candidates(&s, s.run, s.nruns, (unsigned)jobs, isatty(STDERR_FILENO));
	if (lf_sweep_summary(&s, stdout) != 0)
		goto out;
	if (interrupted) {
		lf_error("interrupted: the runs above are those that had ended");
		status = 128 + interrupted;
	} else {
		status = ran == 0 ? exit_status(&s) : LF_EXIT_USAGE;
	}
out:
	if (interrupted && status == LF_EXIT_USAGE)
		status = 128 + interrupted;
	lf_sweep_free(&s);
	return status;
}
