/* The statistics file must be complete however the program ends (the
 * figures of a run that crashed are the ones a tester needs most):
 *  - exit() and return from main: our destructor, which runs late (the
 *    preloaded library is finalised after the program);
 *  - _exit() and _Exit(): wrapped;
 *  - a fatal signal whose disposition is the default (the SIGBUS of a
 *    poisoned page above all): a handler of ours writes the file, restores
 *    the default and raises the signal again, so the process still dies of
 *    it.  The program never sees that handler: sigaction() and signal()
 *    report SIG_DFL for it, and a handler the program installs replaces it
 *    (the program's handler then decides; if it ends in _exit we write).
 * SIGKILL cannot be caught: README says so.  Signals ignored at start
 * (nohup, background jobs) are left ignored. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "invisible.h"
#include "lf.h"
#include "record.h"
#include "trace.h"
#include "stats_out.h"

static const int fatal_signals[] = {SIGBUS,  SIGSEGV, SIGILL,  SIGFPE,  SIGABRT,   SIGTERM,
				    SIGINT,  SIGHUP,  SIGQUIT, SIGPIPE, SIGALRM,   SIGUSR1,
				    SIGUSR2, SIGXCPU, SIGXFSZ, SIGSYS,  SIGVTALRM, SIGPROF};
static _Atomic bool ours[NSIG]; /* our handler is installed for it */
static bool watched[NSIG];      /* one of fatal_signals, stats wanted */

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction_ptr;

static int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!real_sigaction_ptr)
		real_sigaction_ptr = (sigaction_fn)lf_real_sym("sigaction");
	return real_sigaction_ptr(sig, act, old);
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	lf_crash_record(sig, si, uc); /* the crash report (crash.c) */
	lf_written_end(); /* no thread holds the table lock in a handler: it blocks signals */
	lf_trace_end(sig, (uintptr_t)si->si_addr, si->si_code);
	lf_stats_write();
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	real_sigaction(sig, &dfl, NULL);
	atomic_store(&ours[sig], false);
	/* Pending until this handler returns; a faulting access would fault
	 * again anyway. */
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
	errno = saved;
}

static void install(int sig)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_sigaction = on_fatal;
	act.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&act.sa_mask);
	if (real_sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
	    real_sigaction(sig, &act, NULL) == 0)
		atomic_store(&ours[sig], true);
}

void lf_exitpath_init(void)
{
	if (!lf.stats_path[0] && !lf_trace_on())
		return;
	lf_crash_init();
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
		watched[fatal_signals[i]] = true;
		install(fatal_signals[i]);
	}
}

LF_API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	/* A vfork child's handlers are its own but `ours` is its parent's
	 * (vfork.c): CPython's subprocess resets SIGPIPE there, which made
	 * the parent believe our handler was in place for it. */
	if (sig <= 0 || sig >= NSIG || !watched[sig] || lf_in_vfork_child())
		return real_sigaction(sig, act, old);
	/* SIG_DFL is the default, with or without SA_SIGINFO. */
	bool act_is_default = act && act->sa_handler == SIG_DFL;
	if (atomic_load(&ours[sig])) {
		/* The program believes the default is in place. */
		if (old) {
			memset(old, 0, sizeof *old);
			old->sa_handler = SIG_DFL;
		}
		if (!act || act_is_default)
			return 0;
		atomic_store(&ours[sig], false);
		return real_sigaction(sig, act, NULL);
	}
	int rc = real_sigaction(sig, act, old);
	if (rc == 0 && act_is_default)
		install(sig);
	return rc;
}

LF_API sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = handler;
	act.sa_flags = SA_RESTART; /* glibc's BSD semantics */
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

LF_API void _exit(int status)
{
	lf_stats_write();
	for (;;)
		syscall(SYS_exit_group, status);
}

LF_API void _Exit(int status) { _exit(status); }

__attribute__((destructor)) static void lf_destructor(void) { lf_stats_write(); }
