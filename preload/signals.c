/* Signal dispositions: what the program set, as it set it, and what the
 * kernel holds (signals.h says why they differ).  The program's view of
 * each signal is kept in `view`; the kernel holds the library's handler,
 * on_signal(), for
 *  - SIGBUS in signal mode, for good: the program's handler is called from
 *    ours (forward_bus), its SIG_DFL and SIG_IGN emulated;
 *  - a fatal signal lf_signals_own_fatal() asked for, while the program's
 *    view of it is SIG_DFL: a handler the program installs goes into the
 *    kernel as it is, and SIG_DFL brings ours back.
 * In signal mode no handler of the program is installed with SIGBUS in
 * its mask (a served page touched in it would kill the process): the view
 * keeps the mask as given.
 *
 * on_signal runs in any thread, mid-code, maybe on an alternate stack:
 * async-signal-safe only, and no lock a thread may hold when interrupted
 * (the view is read under a sequence count, never a lock). */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "invisible.h"
#include "lf.h"
#include "record.h"
#include "signals.h"
#include "trace.h"

bool lf_serve_by_signal;
enum lf_serve lf_serve_asked;

static const int fatal_signals[] = {SIGBUS,  SIGSEGV, SIGILL,  SIGFPE,  SIGABRT,   SIGTRAP, SIGSYS,
				    SIGTERM, SIGINT,  SIGHUP,  SIGQUIT, SIGPIPE,   SIGALRM, SIGUSR1,
				    SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF};

static struct sigaction view[NSIG]; /* the program's, where known[] */
static bool known[NSIG];
static _Atomic bool held[NSIG];     /* the kernel holds on_signal */
static bool wanted[NSIG];           /* lf_signals_own_fatal() asked for it */
static _Atomic unsigned seq;        /* odd while `view` changes */
static _Atomic int writer;          /* one changer at a time */

__attribute__((weak)) void lf_crash_record(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)info;
	(void)uctx;
}

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static void *_Atomic next_sigaction;

int lf_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return ((sigaction_fn)lf_next(&next_sigaction, "sigaction"))(sig, act, old);
}

/* The kernel's SIGBUS in signal mode: SIGBUS is our own (the program
 * cannot change that), with the program's SA_ONSTACK and SA_RESTART, so
 * that its frame lands where the program's own handler's would and an
 * interrupted system call behaves as it would. */
static bool bus_ours(int sig) { return sig == SIGBUS && lf_serve_by_signal; }

static void on_signal(int sig, siginfo_t *si, void *uc);

static int install_ours(int sig, int prog_flags)
{
	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_sigaction = on_signal;
	act.sa_flags = SA_SIGINFO | (prog_flags & (SA_ONSTACK | SA_RESTART));
	sigfillset(&act.sa_mask); /* our own work is never interrupted */
	return lf_real_sigaction(sig, &act, NULL);
}

static void view_read(int sig, struct sigaction *out)
{
	unsigned s;
	do {
		while ((s = atomic_load(&seq)) & 1)
			;
		*out = view[sig];
	} while (atomic_load(&seq) != s);
}

/* A change of the view: every signal blocked (SIGBUS too: our handler
 * reads the view, and would wait for an odd count forever), short, and
 * only library memory touched. */
static void change_begin(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	lf_real_sigmask(SIG_BLOCK, &all, old);
	lf_spin_lock(&writer);
	atomic_fetch_add(&seq, 1);
}

static void change_end(const sigset_t *old)
{
	atomic_fetch_add(&seq, 1);
	lf_spin_unlock(&writer);
	lf_real_sigmask(SIG_SETMASK, old, NULL);
}

/* ---- dying of a signal as the default action would ---------------- */

/* The end is recorded, the default put back, and the very signal queued
 * again (its siginfo whole): delivered as soon as this handler returns,
 * with the default action, so that the status, the core and what a
 * debugger sees are the kernel's.  A faulting access would fault again
 * anyway. */
static void die(int sig, siginfo_t *si, ucontext_t *uc)
{
	lf_crash_record(sig, si, uc);
	lf_written_end(); /* no thread holds the table lock in a handler: it blocks signals */
	lf_trace_end(sig, (uintptr_t)si->si_addr, si->si_code);
	lf_stats_write();
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	lf_real_sigaction(sig, &dfl, NULL);
	atomic_store(&held[sig], false);
	sigdelset(&uc->uc_sigmask, sig);
	pid_t pid = (pid_t)syscall(SYS_getpid), tid = (pid_t)syscall(SYS_gettid);
	siginfo_t again = *si;
	if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, &again) < 0)
		syscall(SYS_tgkill, pid, tid, sig);
}

/* A SIGBUS that is not ours, as the kernel would deliver it to the
 * program's disposition.  Synchronous (raised by an access: si_code > 0)
 * and blocked or ignored, the kernel would kill the process. */
static void forward_bus(siginfo_t *si, ucontext_t *uc)
{
	struct sigaction a;
	view_read(SIGBUS, &a);
	bool sync = si->si_code > 0;
	if (a.sa_handler == SIG_IGN) {
		if (sync)
			die(SIGBUS, si, uc);
		return;
	}
	if (lf_sigmask_bus_blocked_at(uc)) {
		if (sync)
			die(SIGBUS, si, uc);
		else
			lf_sigmask_park(si, uc);
		return;
	}
	if (a.sa_handler == SIG_DFL) {
		die(SIGBUS, si, uc);
		return;
	}
	if (a.sa_flags & SA_RESETHAND) {
		sigset_t old;
		change_begin(&old);
		memset(&view[SIGBUS], 0, sizeof view[SIGBUS]);
		view[SIGBUS].sa_handler = SIG_DFL;
		change_end(&old);
	}
	lf_sigmask_handler_enter(&a.sa_mask, !(a.sa_flags & SA_NODEFER), uc);
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(SIGBUS, si, uc);
	else
		a.sa_handler(SIGBUS);
	lf_sigmask_handler_leave(uc);
}

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	int saved = errno;
	if (bus_ours(sig)) {
		if (!lf_sigbus_serve(si, uc))
			forward_bus(si, uc);
	} else {
		die(sig, si, uc); /* the program's view is SIG_DFL */
	}
	errno = saved;
}

/* ---- the program's calls ------------------------------------------ */

/* What the kernel gets for a program's action: its mask without SIGBUS
 * in signal mode. */
static struct sigaction for_kernel(const struct sigaction *a)
{
	struct sigaction k = *a;
	if (lf_serve_by_signal)
		sigdelset(&k.sa_mask, SIGBUS);
	return k;
}

static void learn(int sig)
{
	if (!known[sig] && lf_real_sigaction(sig, NULL, &view[sig]) == 0)
		known[sig] = true;
}

LF_API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig <= 0 || sig >= NSIG || lf_busy)
		return lf_real_sigaction(sig, act, old);
	struct sigaction a, was, k;
	if (act) {
		a = *act; /* touched here, outside the section */
		k = for_kernel(&a);
	}
	/* A vfork child's handlers are its own, but the view is its parent's
	 * (vfork.c; the memory is one): its changes go to the kernel alone. */
	if (lf_in_vfork_child())
		return lf_real_sigaction(sig, act ? &k : NULL, old);
	int rc = 0;
	sigset_t mask;
	change_begin(&mask);
	learn(sig);
	if (bus_ours(sig) || atomic_load(&held[sig])) {
		was = view[sig];
		if (act && !bus_ours(sig) && a.sa_handler != SIG_DFL) {
			rc = lf_real_sigaction(sig, &k, NULL);
			if (rc == 0)
				atomic_store(&held[sig], false);
		} else if (act && bus_ours(sig) &&
			   ((a.sa_flags ^ view[sig].sa_flags) & (SA_ONSTACK | SA_RESTART))) {
			rc = install_ours(sig, a.sa_flags);
		}
	} else {
		rc = lf_real_sigaction(sig, act ? &k : NULL, &was);
		/* The kernel's old action, with the mask the program gave it. */
		if (rc == 0 && known[sig] && was.sa_handler == view[sig].sa_handler)
			was.sa_mask = view[sig].sa_mask;
		if (rc == 0 && act && a.sa_handler == SIG_DFL && wanted[sig] && install_ours(sig, 0) == 0)
			atomic_store(&held[sig], true);
	}
	if (rc == 0 && act)
		view[sig] = a;
	change_end(&mask);
	if (rc == 0 && old)
		*old = was;
	return rc;
}
LF_API int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return sigaction(sig, act, old);
}

static sighandler_t set_handler(int sig, sighandler_t h, int flags, bool mask_self)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	act.sa_flags = flags;
	sigemptyset(&act.sa_mask);
	if (mask_self && sig > 0 && sig < NSIG)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* glibc's signal(): BSD semantics. */
LF_API sighandler_t signal(int sig, sighandler_t h) { return set_handler(sig, h, SA_RESTART, true); }
LF_API sighandler_t bsd_signal(int sig, sighandler_t h) { return signal(sig, h); }
LF_API sighandler_t ssignal(int sig, sighandler_t h) { return signal(sig, h); }

/* System V semantics: reset on delivery, not masked while it runs. */
LF_API sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER, false);
}
LF_API sighandler_t __sysv_signal(int sig, sighandler_t h) { return sysv_signal(sig, h); }

LF_API int sigignore(int sig) { return set_handler(sig, SIG_IGN, 0, false) == SIG_ERR ? -1 : 0; }

LF_API int siginterrupt(int sig, int flag)
{
	struct sigaction act;
	if (sigaction(sig, NULL, &act) < 0)
		return -1;
	if (flag)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	return sigaction(sig, &act, NULL);
}

/* sigset(): SIG_HOLD blocks the signal, any other disposition is set and
 * unblocks it; the old one is SIG_HOLD when the signal was blocked. */
LF_API sighandler_t sigset(int sig, sighandler_t h)
{
	sigset_t one, was;
	sigemptyset(&one);
	if (sig <= 0 || sig >= NSIG || sigaddset(&one, sig) < 0) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction old;
	if (sigaction(sig, NULL, &old) < 0 ||
	    pthread_sigmask(h == SIG_HOLD ? SIG_BLOCK : SIG_UNBLOCK, &one, &was) != 0)
		return SIG_ERR;
	if (h != SIG_HOLD && set_handler(sig, h, 0, false) == SIG_ERR)
		return SIG_ERR;
	return sigismember(&was, sig) ? SIG_HOLD : old.sa_handler;
}

/* ---- the library's holdings --------------------------------------- */

int lf_signals_own_fatal(void)
{
	int n = 0;
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
		int sig = fatal_signals[i];
		sigset_t mask;
		change_begin(&mask);
		learn(sig);
		wanted[sig] = true;
		if (!bus_ours(sig) && !atomic_load(&held[sig]) && known[sig] &&
		    view[sig].sa_handler == SIG_DFL && install_ours(sig, 0) == 0)
			atomic_store(&held[sig], true);
		n += bus_ours(sig) || atomic_load(&held[sig]);
		change_end(&mask);
	}
	return n;
}

void lf_signals_init(void)
{
	if (!lf_serve_by_signal)
		return;
	sigset_t mask;
	change_begin(&mask);
	learn(SIGBUS);
	if (install_ours(SIGBUS, view[SIGBUS].sa_flags) == 0)
		atomic_store(&held[SIGBUS], true);
	change_end(&mask);
	lf_sigmask_adopt();
	lf_sigbus_init();
}

void lf_signals_exec_prepare(struct lf_sig_exec *s)
{
	s->done = lf_serve_by_signal && !lf_busy;
	if (!s->done)
		return;
	struct sigaction a;
	view_read(SIGBUS, &a);
	s->bus_ignored = a.sa_handler == SIG_IGN;
	if (s->bus_ignored)
		lf_real_sigaction(SIGBUS, &a, NULL);
	lf_real_sigmask(SIG_BLOCK, NULL, &s->mask);
	if (lf_sigmask_exec_blocks_bus((uintptr_t)__builtin_dwarf_cfa())) {
		sigset_t bus;
		sigemptyset(&bus);
		sigaddset(&bus, SIGBUS);
		lf_real_sigmask(SIG_BLOCK, &bus, NULL);
	}
}

const posix_spawnattr_t *lf_signals_spawn_attr(const posix_spawnattr_t *attr, posix_spawnattr_t *room)
{
	short flags = 0;
	if (!lf_serve_by_signal || lf_busy || !lf_sigmask_bus_blocked((uintptr_t)__builtin_dwarf_cfa()) ||
	    (attr && (posix_spawnattr_getflags(attr, &flags) != 0 || (flags & POSIX_SPAWN_SETSIGMASK))))
		return attr;
	sigset_t mask;
	if (attr)
		*room = *attr;
	else if (posix_spawnattr_init(room) != 0)
		return attr;
	lf_real_sigmask(SIG_BLOCK, NULL, &mask);
	sigaddset(&mask, SIGBUS);
	posix_spawnattr_setsigmask(room, &mask);
	posix_spawnattr_setflags(room, (short)(flags | POSIX_SPAWN_SETSIGMASK));
	return room;
}

void lf_signals_exec_failed(struct lf_sig_exec *s)
{
	if (!s->done)
		return;
	int e = errno;
	if (s->bus_ignored)
		install_ours(SIGBUS, 0);
	lf_real_sigmask(SIG_SETMASK, &s->mask, NULL);
	errno = e;
}
