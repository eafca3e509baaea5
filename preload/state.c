/* Initialisation: read the environment and the rules, open the
 * userfaultfd, and get ready; done once, lazily, by whichever comes first of
 * the constructor and a wrapper (another library's constructor may call
 * malloc or mmap before ours runs: I2).
 *
 * In a process with AT_SECURE (set-uid, set-gid, file capabilities: the
 * library can be there through /etc/ld.so.preload) nothing at all is done:
 * the environment is another user's, so no variable is read, no file
 * opened, nothing registered, no handler installed, nothing written; the
 * state is LF_OFF and every wrapper is a straight call. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "badpages.h"
#include "invisible.h"
#include "lf.h"
#include "rule_keys.h"
#include "signals.h"
#include "control.h"
#include "record.h"
#include "trace.h"
#include "tree.h"
#include "uffd_compat.h"

struct lf_global lf = {.uffd = -1};

static void exit_now(int status) { syscall(SYS_exit_group, status); }

void lf_setup_failed(const char *why)
{
	/* Never silent, not even with log = off: a program run untouched
	 * would pass for one that survived the rules. */
	if (lf_log_fd() < 0)
		lf_log_moved(2);
	if (lf.abort_on_error) {
		lf_error("%s; on_error = abort: exiting with status %d", why, LF_EXIT_ON_ERROR);
		exit_now(LF_EXIT_ON_ERROR);
	}
	lf_error("%s; running the program untouched (on_error = passthrough)", why);
}

static int parse_level(const char *s, enum lf_level *out)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum lf_level)i;
			return 0;
		}
	return -1;
}

static void setup_log(void)
{
	const char *dest = getenv("LAZYFAULT_LOG");
	const char *lvl = getenv("LAZYFAULT_LOG_LEVEL");
	enum lf_level level = lf.rules.file ? lf.rules.log_level : LF_LEVEL_WARN;
	bool bad_level = lvl && *lvl && parse_level(lvl, &level) < 0;
	lf_log_setup(dest && *dest ? dest : lf.rules.log, level);
	if (bad_level)
		lf_warn("LAZYFAULT_LOG_LEVEL=%s is not error, warn, info or debug: ignored", lvl);
}

/* The rules as the file and LAZYFAULT_DEFINES (the -D of `lazyfault run`)
 * say. */
static int load_rules(const char *path, char *err, size_t errlen)
{
	struct lf_defines defs;
	char *store;
	if (lf_defines_split(getenv("LAZYFAULT_DEFINES"), "-D", &defs, &store) < 0) {
		snprintf(err, errlen, "LAZYFAULT_DEFINES: out of memory");
		return -1;
	}
	int rc = lf_rules_load_defs(path, &defs, &lf.rules, err, errlen);
	lf_defines_free(&defs, store);
	return rc;
}

/* The executable's absolute path: /proc/self/exe, or what exec was given
 * when /proc is not there. */
static void exe_path(char *exe, size_t size)
{
	long n = syscall(SYS_readlink, "/proc/self/exe", exe, size - 1);
	if (n < 0) {
		const char *fn = (const char *)getauxval(AT_EXECFN);
		n = 0;
		while (fn && fn[n] && n < (long)size - 1) {
			exe[n] = fn[n];
			n++;
		}
	}
	exe[n] = '\0';
}

/* `program` (in [global] or a rule) holds for this process. */
static bool program_matches(const char *glob)
{
	return !glob || fnmatch(glob, lf.exe, 0) == 0;
}

static int setup_rules(void)
{
	size_t n = lf.rules.nrules;
	void *p = lf_real_mmap(NULL, lf_page_up(n * sizeof *lf.rt + 1), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	lf.rt = p;
	for (size_t i = 0; i < n; i++) {
		const struct lf_rule *r = &lf.rules.rule[i];
		struct lf_rule_rt *rt = &lf.rt[i];
		rt->rule = r;
		rt->source_fd = -1;
		if (r->source) {
			/* What `lazyfault check` refuses, refused the same way
			 * (the library may be loaded without the command). */
			char why[1024]; /* a log line holds no more */
			rt->source_fd = lf_fd_place(lf_rule_open_source(&lf.rules, r, why, sizeof why));
			if (rt->source_fd < 0) {
				lf_setup_failed(why);
				return -1;
			}
		}
		rt->applies = program_matches(r->program);
		rt->has_regions = r->given & LF_KEY_REGIONS;
		atomic_store(&rt->enabled, true);
		if (!rt->applies)
			lf_info("rule '%s': program '%s' does not match %s: the rule is off here",
				r->name, r->program, lf.exe);
		/* Every rule gets its rule seed, below 2^53 (lf_rule_seed_chosen,
		 * as a given seed must be), even one that does not draw: `lazyfault
		 * ctl set RULE.probability=...` may make it draw. */
		rt->rule_seed = (r->given & LF_KEY_SEED) ? r->seed
			      : lf_rule_seed_chosen(lf_tree_random(), i);
		if (lf_rule_draws(r) && !(r->given & LF_KEY_SEED))
			lf_info("rule '%s': seed = %llu (chosen; put it in the rule to replay this run)",
				r->name, (unsigned long long)rt->rule_seed);
	}
	lf_tree_seed_rules(false);
	return 0;
}

static void do_init(void)
{
	if (getauxval(AT_SECURE)) {
		atomic_store(&lf.state, LF_OFF);
		return;
	}
	const char *path = getenv("LAZYFAULT_RULES");
	if (!path || !*path) {
		atomic_store(&lf.state, LF_OFF);
		return;
	}
	lf_stats_start();
	lf_vfork_owner_here();
	char err[1024]; /* a log line holds no more */
	if (load_rules(path, err, sizeof err) < 0) {
		/* on_error cannot be known from a file that does not parse:
		 * passthrough, with one line. */
		memset(&lf.rules, 0, sizeof lf.rules);
		setup_log();
		lf_setup_failed(err);
		atomic_store(&lf.state, LF_OFF);
		return;
	}
	lf.abort_on_error = lf.rules.on_error == LF_ON_ERROR_ABORT;
	lf.workers = lf.rules.workers ? lf.rules.workers : 1;
	if (lf.workers > LF_MAX_WORKERS)
		lf.workers = LF_MAX_WORKERS;
	setup_log();
	/* What `lazyfault check` warns about: the library says it at info,
	 * the command (check, run) at warn. */
	for (size_t i = 0; i < lf.rules.nwarnings; i++)
		lf_info("%s", lf.rules.warning[i]);
	const char *stats = getenv("LAZYFAULT_STATS");
	if (!stats)
		stats = lf.rules.stats;
	/* lazyfault run's, for its crash report, when nothing else asks. */
	if (!stats || !*stats)
		stats = getenv("LAZYFAULT_CRASH_STATS");
	if (stats && *stats)
		snprintf(lf.stats_path, sizeof lf.stats_path, "%s", stats);
	/* The tree's places are kept below a program left alone too. */
	lf_tree_init();
	exe_path(lf.exe, sizeof lf.exe);
	if (!program_matches(lf.rules.program)) {
		lf_info("program '%s' does not match %s: the library stays off", lf.rules.program,
			lf.exe);
		atomic_store(&lf.state, LF_OFF);
		return;
	}

	if (setup_rules() < 0) {
		atomic_store(&lf.state, LF_OFF);
		return;
	}
	const char *uffd_env = getenv("LAZYFAULT_UFFD");
	lf.mode = uffd_env && !strcmp(uffd_env, "user") ? LF_MODE_USER : LF_MODE_FULL;
	if (uffd_env && *uffd_env && strcmp(uffd_env, "user") && strcmp(uffd_env, "auto"))
		lf_warn("LAZYFAULT_UFFD=%s is not auto or user: using auto", uffd_env);
	lf_serve_asked = lf.rules.serve;
	const char *serve_env = getenv("LAZYFAULT_SERVE");
	if (serve_env && *serve_env) {
		size_t k = 0;
		while (k < 3 && strcmp(serve_env, lf_serve_names[k]))
			k++;
		if (k < 3)
			lf_serve_asked = (enum lf_serve)k;
		else
			lf_warn("LAZYFAULT_SERVE=%s is not auto, helper or signal: ignored", serve_env);
	}
	char why[1024];
	lf.uffd = lf_uffd_open(&lf.mode, &lf.features, why, sizeof why);
	lf_prefetch_load(); /* first: the trace about to open may be the file it reads */
	lf_trace_open();
	lf_exitpath_init();
	if (lf.uffd < 0) {
		char msg[1400];
		snprintf(msg, sizeof msg,
			 "no userfaultfd can be opened (%s); a container or seccomp filter may forbid "
			 "it: run on the host, or allow the userfaultfd system call",
			 why);
		lf_setup_failed(msg);
		atomic_store(&lf.state, LF_OFF);
		return;
	}
	if (lf.mode == LF_MODE_USER)
		lf_warn("running in user-mode-only mode: the kernel cannot fill pages for system "
			"calls, so the library fills them before each read/write-family call; for the "
			"full mode run `sysctl vm.unprivileged_userfaultfd=1` or give access to "
			"/dev/userfaultfd");
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		const struct lf_rule *r = &lf.rules.rule[i];
		if (r->action == LF_ACTION_POISON && !(lf.features & UFFD_FEATURE_POISON)) {
			char msg[600];
			snprintf(msg, sizeof msg,
				 "%s:%d: rule '%s': this kernel has no UFFDIO_POISON (Linux 6.6 or "
				 "later needed): poison rules cannot work",
				 lf.rules.file, r->line, r->name);
			lf_setup_failed(msg);
			syscall(SYS_close, lf.uffd);
			lf.uffd = -1;
			lf_serve_by_signal = false;
			atomic_store(&lf.state, LF_OFF);
			return;
		}
	}
	lf_fill_init();
	lf_badfd_init();
	/* Allocating stacks are taken for `caller` and for the regions of
	 * poison rules (sites.c): backtrace() is primed now. */
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (lf.rules.rule[i].caller || lf.rules.rule[i].action == LF_ACTION_POISON) {
			lf_caller_init();
			break;
		}
	lf_fork_init();
	lf_signals_init(); /* serve = signal: the SIGBUS handler, before any region */
	lf_info("%zu rule(s) from %s, %s mode, faults served by %s, %u worker(s), at %s in the tree",
		lf.rules.nrules, lf.rules.file, lf.mode == LF_MODE_FULL ? "full" : "user-mode-only",
		lf_serve_by_signal ? "the faulting thread (SIGBUS)" : "helper threads", lf.workers,
		lf_tree_position());
	if (lf.rules.control)
		lf_control_start();
	atomic_store(&lf.state, LF_ON);
}

static void lf_init(void)
{
	int expect = LF_UNINIT;
	if (atomic_compare_exchange_strong(&lf.state, &expect, LF_INITIALISING)) {
		lf_busy++;
		do_init();
		lf_busy--;
	}
}

bool lf_active(void)
{
	int s = atomic_load_explicit(&lf.state, memory_order_acquire);
	if (s == LF_ON)
		return true;
	if (s == LF_OFF || lf_busy)
		return false;
	if (s == LF_UNINIT)
		lf_init();
	while ((s = atomic_load(&lf.state)) == LF_INITIALISING)
		sched_yield();
	return s == LF_ON;
}

/* glibc calls the constructors of a shared object with main's arguments:
 * kept for the statistics file. */
__attribute__((constructor)) static void lf_constructor(int argc, char **argv, char **envp)
{
	if (lf_active() || lf.rt)
		lf_stats_argv(argc, argv);
}
