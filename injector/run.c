/* `lazyfault run`: check the rules and the program, run the program with the
 * library preloaded, forward signals to it, and exit with its status. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lazyfault.h"
#include "rules.h"

/* The signals a user sends to "the program" (kill, timeout(1), systemd) reach
 * us, the parent: pass them on. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t child_pid;

static void forward(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	pid_t pid = child_pid;
	/* SI_KERNEL: the terminal sent it (^C, ^\, hang-up) to the whole
	 * foreground process group, so the child has its own copy already.
	 * A signal from the child itself is not bounced back. */
	if (pid > 0 && si->si_code != SI_KERNEL && si->si_pid != pid)
		kill(pid, sig);
	errno = saved;
}

/* p made absolute against the current directory, so that the child (which
 * may chdir) and we (reading the statistics) agree on it. */
static int absolute(const char *p, char *out, size_t outlen)
{
	if (p[0] == '/')
		return (size_t)snprintf(out, outlen, "%s", p) < outlen ? 0 : -1;
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	return (size_t)snprintf(out, outlen, "%s/%s", cwd, p) < outlen ? 0 : -1;
}

/* Remove the private statistics directory and what the processes left in it
 * (the program's children write stats.PID.json files of their own). */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char p[PATH_MAX + 256];
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	if (!old || !*old)
		return setenv("LD_PRELOAD", lib, 1);
	size_t n = strlen(lib) + 1 + strlen(old) + 1;
	char *v = malloc(n);
	if (!v)
		return -1;
	snprintf(v, n, "%s:%s", lib, old);
	int rc = setenv("LD_PRELOAD", v, 1);
	free(v);
	return rc;
}

void lf_exec_under_library(const char *prog, char **argv, const char *rules,
			   const char *stats, const char *defines, const char *lib)
{
	/* The defines are exactly the command's; the program starts a tree
	 * of its own (its seeds do not depend on where lazyfault ran). */
	if (setenv("LAZYFAULT_RULES", rules, 1) != 0 ||
	    (stats && setenv("LAZYFAULT_STATS", stats, 1) != 0) || set_preload(lib) != 0 ||
	    (defines && *defines ? setenv("LAZYFAULT_DEFINES", defines, 1)
				 : unsetenv("LAZYFAULT_DEFINES")) != 0 ||
	    unsetenv("LAZYFAULT_TREE") != 0) {
		lf_error("cannot set the environment: %s", strerror(errno));
		_exit(LF_EXIT_USAGE);
	}
	execv(prog, argv);
	int e = errno;
	lf_error("cannot run %s: %s", prog, strerror(e));
	_exit(e == ENOENT ? LF_EXIT_NOTFOUND : LF_EXIT_NOEXEC);
}

static void child(const char *prog, char **argv, const char *rules, const char *stats,
		  const char *defines, const char *lib, const sigset_t *mask)
{
	for (size_t i = 0; i < NFORWARDED; i++)
		signal(forwarded[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	lf_exec_under_library(prog, argv, rules, stats, defines, lib);
}

int lf_prepare_program(const char *arg, char *prog, char *lib)
{
	char err[2 * PATH_MAX + 512];
	int rc = lf_resolve_program(arg, prog, PATH_MAX, err, sizeof err);
	if (rc != 0) {
		lf_error("%s", err);
		return rc;
	}
	struct lf_progcheck pc;
	if (lf_check_program(prog, &pc, err, sizeof err) != 0 ||
	    lf_locate_library(lib, PATH_MAX, err, sizeof err) != 0) {
		lf_error("%s", err);
		return LF_EXIT_USAGE;
	}
	if (strpbrk(lib, ": ")) {
		lf_error("%s: LD_PRELOAD cannot carry a path with a colon or a space", lib);
		return LF_EXIT_USAGE;
	}
	return 0;
}

int lf_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "stats", required_argument, NULL, 's' },
		{ "trace", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "define", required_argument, NULL, 'D' },
		{ "serve", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules_arg = NULL, *stats_arg = NULL, *trace_arg = NULL;
	struct lf_defines defs = { .label = "-D" };
	bool verbose = false;
	int c;
	opterr = 0;
	optind = 1;
	/* '+': stop at PROGRAM, whose own options are not ours; ':': report a
	 * missing argument as ':'. */
	while ((c = getopt_long(argc, argv, "+:r:s:t:vD:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': rules_arg = optarg; break;
		case 's': stats_arg = optarg; break;
		case 't': trace_arg = optarg; break;
		case 'v': verbose = true; break;
		case 'S':
			/* Who serves the faults (the rule file's `serve`), through
			 * the environment, which the library reads over the key. */
			if (strcmp(optarg, "auto") && strcmp(optarg, "helper") && strcmp(optarg, "signal"))
				return lf_usage_error("run: --serve=%s: give auto, helper or signal", optarg);
			if (setenv("LAZYFAULT_SERVE", optarg, 1) != 0) {
				lf_error("out of memory");
				return LF_EXIT_USAGE;
			}
			break;
		case 'D':
			if (lf_defines_add(&defs, optarg) != 0) {
				lf_error("out of memory");
				return LF_EXIT_USAGE;
			}
			break;
		case 'h': lf_usage(stdout); return LF_EXIT_OK;
		case ':':
			return lf_usage_error("run: option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return lf_usage_error("run: unknown option '-%c'", optopt);
			return lf_usage_error("run: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return lf_usage_error("run: no PROGRAM given");
	char **pargv = argv + optind;
	if (!rules_arg) {
		rules_arg = getenv("LAZYFAULT_RULES");
		if (!rules_arg || !*rules_arg)
			return lf_usage_error("run: no rule file: give -r RULES or set LAZYFAULT_RULES");
	}

	/* Rules first: with a bad rule file, a bad -D, or a source that
	 * cannot be read, nothing runs. */
	struct lf_rules rules;
	char *defines = lf_defines_join(&defs);
	if (!defines || lf_load_rules(rules_arg, &defs, &rules) != 0) {
		if (!defines)
			lf_error("out of memory");
		free(defines);
		lf_defines_release(&defs);
		return LF_EXIT_USAGE;
	}
	int status = LF_EXIT_USAGE;
	char rules_abs[PATH_MAX], prog[PATH_MAX], lib[PATH_MAX];
	char stats[PATH_MAX + 32] = "", tmpdir[PATH_MAX] = "", private[PATH_MAX + 32];
	const char *stats_env = NULL; /* what the child gets in LAZYFAULT_STATS */
	if (!realpath(rules_arg, rules_abs)) {
		lf_error("%s: %s", rules_arg, strerror(errno));
		goto out;
	}
	int rc = lf_prepare_program(pargv[0], prog, lib);
	if (rc != 0) {
		status = rc;
		goto out;
	}

	/* The statistics file, in the library's order of precedence: -s, then
	 * $LAZYFAULT_STATS, then the rule file's `stats`.  With -v the
	 * processes write into a private directory, one file each whatever
	 * the path says, so that every process of the run is summarised; the
	 * files are then kept where the path says, and the directory removed.
	 * A process killed by a signal is reported from its file (crash.c in
	 * the library, crash_report.c here). */
	if (stats_arg) {
		if (*stats_arg && absolute(stats_arg, stats, sizeof stats) != 0) {
			lf_error("%s: path too long", stats_arg);
			goto out;
		}
		stats_env = stats;
	} else if (getenv("LAZYFAULT_STATS")) {
		snprintf(stats, sizeof stats, "%s", getenv("LAZYFAULT_STATS"));
	} else if (rules.stats) {
		snprintf(stats, sizeof stats, "%s", rules.stats);
	}
	/* Without -v and without a statistics file asked for, the library
	 * writes one into the private directory all the same, under a
	 * variable of its own, for the crash report alone. */
	bool for_crash = !verbose && !*stats;
	unsetenv("LAZYFAULT_CRASH_STATS");
	if (verbose || for_crash) {
		const char *t = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/lazyfault.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpdir)) {
			lf_error("cannot create a directory for the statistics (%s): %s",
				 tmpdir, strerror(errno));
			tmpdir[0] = '\0';
			goto out;
		}
		snprintf(private, sizeof private, "%s/stats.%%p.json", tmpdir);
		if (for_crash && setenv("LAZYFAULT_CRASH_STATS", private, 1) != 0) {
			lf_error("out of memory");
			goto out;
		}
		if (verbose)
			stats_env = private;
	}
	char trace[PATH_MAX + 32];
	if (trace_arg && (absolute(trace_arg, trace, sizeof trace) != 0 ||
			  setenv("LAZYFAULT_TRACE", trace, 1) != 0)) {
		lf_error("%s: path too long", trace_arg);
		goto out;
	}

	/* Block the forwarded signals until child_pid is set, so that none
	 * arriving during fork is lost; the child restores the old mask. */
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, NULL);

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		lf_error("fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	if (pid == 0)
		child(prog, pargv, rules_abs, stats_env, defines, lib, &old);
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);

	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			lf_error("waitpid: %s", strerror(errno));
			goto out;
		}
	}
	if (WIFEXITED(ws))
		status = WEXITSTATUS(ws);
	else if (WIFSIGNALED(ws))
		status = 128 + WTERMSIG(ws);
	if (*tmpdir)
		lf_stats_summary(tmpdir, pid, ws, stats, verbose, stderr);
	else if (WIFSIGNALED(ws))
		lf_stats_crash_report(stats, pid, stderr); /* the file the user asked for */
out:
	if (*tmpdir)
		remove_dir(tmpdir);
	lf_rules_free(&rules);
	free(defines);
	lf_defines_release(&defs);
	return status;
}
