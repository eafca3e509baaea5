/* What the program sees of its own signals while the library serves its
 * faults from a SIGBUS handler (serve = signal), for
 * tests/integration/test_signals.py.
 *
 *   sigplay CASE
 *
 * Two regions: Z, ZPAGES pages that a zero rule takes, and P, PPAGES pages
 * that a poison rule takes (the test poisons the first page of it touched,
 * once; each case touches page PBAD first).  Under the
 * library (lf_expect_source()) P's page PBAD raises SIGBUS; natively it
 * reads zeros, so a case that needs the poison says "no poison here" and
 * checks the rest.
 *
 *   handler    a SA_SIGINFO handler with a full sa_mask gets the poisoned
 *              page's SIGBUS (twice), with the mask the kernel would give
 *              it, and may touch served memory itself
 *   nodefer    SA_NODEFER, SIGUSR1 in sa_mask: SIGBUS is not blocked in the
 *              handler, SIGUSR1 is
 *   resethand  SA_RESETHAND: the second touch kills the process (SIGBUS)
 *   ignore     SIG_IGN: a kill(SIGBUS) is ignored, served pages are served,
 *              the poisoned page kills the process (SIGBUS), as the kernel
 *              does for a synchronous SIGBUS it may not deliver
 *   blocked    SIGBUS blocked: served pages are served (in a new thread
 *              too, which inherits the mask), a kill(SIGBUS) stays pending
 *              for sigtimedwait, the poisoned page kills the process
 *   signalfd   SIGBUS and SIGUSR1 blocked and read from a signalfd; served
 *              pages are served before and after
 *   altstack   the handler, SA_ONSTACK, runs on the alternate stack
 *   fork       the child is served and its handler gets the poisoned page
 *   exec       SIG_IGN for SIGBUS and a blocked SIGBUS and SIGUSR2 go on
 *              through execve, a handler becomes SIG_DFL (exec_child)
 *   threads    8 threads, half of them blocking SIGBUS, fault at once
 *   ppoll      a handler that runs while ppoll waits with SIGBUS in its mask
 *              touches a served page (and sees SIGBUS blocked)
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "lftest.h"

#define ZPAGES 1024
#define PPAGES 8
#define PBAD 3

static char *Z, *P;
static long pg;
static bool poison; /* under the library: P's page PBAD is poisoned */

static sigjmp_buf jb;
static volatile int hits;
static void *volatile hit_addr;
static volatile int hit_code;
static volatile bool in_handler_bus_blocked, in_handler_usr1_blocked, in_handler_touch_ok;
static volatile bool on_alt;
static char *alt_lo, *alt_hi;

static void map_regions(void)
{
	pg = page_size();
	Z = mmap(NULL, ZPAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	P = mmap(NULL, PPAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (Z == MAP_FAILED || P == MAP_FAILED)
		die("mmap");
	poison = lf_expect_source();
}

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char here;
	sigset_t m;
	hits++;
	hit_addr = si->si_addr;
	hit_code = si->si_code;
	pthread_sigmask(SIG_BLOCK, NULL, &m);
	in_handler_bus_blocked = sigismember(&m, SIGBUS);
	in_handler_usr1_blocked = sigismember(&m, SIGUSR1);
	/* A served page touched in the handler, SIGBUS blocked or not. */
	volatile char *z = Z + (ZPAGES - 1 - hits) * pg;
	in_handler_touch_ok = *z == 0;
	on_alt = &here >= alt_lo && &here < alt_hi;
	siglongjmp(jb, 1);
}

/* full_mask: every signal in sa_mask; else SIGUSR1 alone. */
static void install(int flags, bool full_mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (full_mask)
		sigfillset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	if (sigaction(SIGBUS, &sa, NULL) != 0)
		die("sigaction");
}

/* Touch one byte (read, or write); true when it raised SIGBUS (and the
 * handler jumped). */
static bool touch_as(char *a, bool write)
{
	int before = hits;
	if (sigsetjmp(jb, 1) == 0) {
		if (write)
			*(volatile char *)a = 1;
		else
			*(volatile char *)a;
	}
	return hits != before;
}

static bool touch(char *a) { return touch_as(a, false); }

static bool zeros(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void touch_z(size_t from, size_t to, const char *what)
{
	bool ok = true;
	for (size_t i = from; i < to; i++) {
		ok &= zeros(Z + i * pg, pg);
		Z[i * pg + i % pg] = (char)(i | 1);
		ok &= Z[i * pg + i % pg] == (char)(i | 1);
	}
	check(ok, "%s: pages %zu-%zu read zeros and keep a write", what, from, to - 1);
}

static bool blocked_now(int sig)
{
	sigset_t m;
	pthread_sigmask(SIG_BLOCK, NULL, &m);
	return sigismember(&m, sig);
}

static void poisoned_page(const char *what)
{
	char *bad = P + PBAD * pg;
	bool raised = touch(bad);
	if (!poison) {
		check(!raised && zeros(bad, pg), "%s: no poison here: the page reads zeros", what);
		return;
	}
	check(raised, "%s: the poisoned page raised SIGBUS in the program's handler", what);
	check((char *)hit_addr >= bad && (char *)hit_addr < bad + pg, "%s: si_addr is in the page", what);
	check(hit_code == BUS_ADRERR || hit_code == BUS_MCEERR_AR, "%s: si_code is the kernel's", what);
}

static void case_handler(bool nodefer)
{
	install(nodefer ? SA_NODEFER : 0, !nodefer);
	struct sigaction old;
	sigaction(SIGBUS, NULL, &old);
	check(old.sa_sigaction == on_bus && (old.sa_flags & SA_SIGINFO), "sigaction reports the handler");
	if (!nodefer)
		check(sigismember(&old.sa_mask, SIGBUS) && sigismember(&old.sa_mask, SIGUSR1),
		      "sigaction reports the full sa_mask, SIGBUS included");
	else
		check(!sigismember(&old.sa_mask, SIGBUS) && sigismember(&old.sa_mask, SIGUSR1) &&
		      (old.sa_flags & SA_NODEFER), "sigaction reports SA_NODEFER and the sa_mask");
	touch_z(0, ZPAGES / 2, "before");
	poisoned_page("first touch");
	if (poison) {
		check(in_handler_bus_blocked == !nodefer, "in the handler SIGBUS is %sblocked",
		      nodefer ? "not " : "");
		check(in_handler_usr1_blocked, "in the handler its sa_mask is blocked");
		check(in_handler_touch_ok, "a served page touched in the handler reads zeros");
		check(!blocked_now(SIGBUS) && !blocked_now(SIGUSR1),
		      "after siglongjmp the mask is the program's again");
		/* A write: a fill that reached the page (COPY) would replace
		 * the marker with zeros. */
		check(touch_as(P + PBAD * pg, true) && hits == 2, "a second touch, a write, raises SIGBUS again");
	}
	check(!touch(P) && zeros(P, pg), "another page of the poison rule's region reads zeros");
	touch_z(ZPAGES / 2, ZPAGES - 8, "after");
}

/* The cases that end by a signal print their last line first. */
static void case_resethand(void)
{
	install(SA_RESETHAND, false);
	touch_z(0, 16, "served");
	poisoned_page("first touch");
	struct sigaction now;
	sigaction(SIGBUS, NULL, &now);
	check(now.sa_handler == SIG_DFL, "SA_RESETHAND: the disposition is SIG_DFL after");
	puts("touching the poisoned page again: SIGBUS ends the process");
	fflush(stdout);
	touch(P + PBAD * pg);
}

static void case_ignore(void)
{
	check(signal(SIGBUS, SIG_IGN) == SIG_DFL, "signal() returns the old SIG_DFL");
	struct sigaction now;
	sigaction(SIGBUS, NULL, &now);
	check(now.sa_handler == SIG_IGN, "sigaction reports SIG_IGN");
	touch_z(0, 64, "served");
	kill(getpid(), SIGBUS);
	check(true, "a kill(SIGBUS) is ignored");
	touch_z(64, 128, "served after");
	puts("touching the poisoned page: SIGBUS ends the process");
	fflush(stdout);
	*(volatile char *)(P + PBAD * pg);
}

static void *blocked_thread(void *arg)
{
	(void)arg;
	check(blocked_now(SIGBUS), "a new thread inherits the blocked SIGBUS");
	touch_z(64, 128, "new thread");
	return NULL;
}

static void case_blocked(void)
{
	sigset_t bus;
	sigemptyset(&bus);
	sigaddset(&bus, SIGBUS);
	sigprocmask(SIG_BLOCK, &bus, NULL);
	check(blocked_now(SIGBUS), "the mask reads SIGBUS blocked");
	touch_z(0, 64, "served while blocked");
	pthread_t t;
	pthread_create(&t, NULL, blocked_thread, NULL);
	pthread_join(t, NULL);
	kill(getpid(), SIGBUS);
	sigset_t pend;
	sigpending(&pend);
	check(sigismember(&pend, SIGBUS), "a kill(SIGBUS) is pending");
	siginfo_t si;
	struct timespec ts = {1, 0};
	check(sigtimedwait(&bus, &si, &ts) == SIGBUS && si.si_code == SI_USER && si.si_pid == getpid(),
	      "sigtimedwait takes it, sent by this process");
	touch_z(128, 192, "served after");
	check(blocked_now(SIGBUS), "SIGBUS still reads blocked");
	puts("touching the poisoned page: SIGBUS ends the process");
	fflush(stdout);
	*(volatile char *)(P + PBAD * pg);
}

static void case_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGBUS);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, SFD_CLOEXEC);
	check(fd >= 0, "signalfd");
	touch_z(0, 64, "served before");
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGBUS);
	struct signalfd_siginfo ssi[2];
	ssize_t n = read(fd, ssi, sizeof ssi);
	bool bus = false, usr1 = false;
	for (ssize_t i = 0; i < n / (ssize_t)sizeof ssi[0]; i++) {
		bus |= ssi[i].ssi_signo == SIGBUS && ssi[i].ssi_pid == (uint32_t)getpid();
		usr1 |= ssi[i].ssi_signo == SIGUSR1;
	}
	if (!(bus && usr1) && n == (ssize_t)sizeof ssi[0]) { /* one at a time */
		n = read(fd, ssi, sizeof ssi[0]);
		bus |= n > 0 && ssi[0].ssi_signo == SIGBUS;
		usr1 |= n > 0 && ssi[0].ssi_signo == SIGUSR1;
	}
	check(bus && usr1, "the signalfd reads SIGBUS and SIGUSR1");
	touch_z(64, 128, "served after");
	sigset_t pend;
	sigpending(&pend);
	check(!sigismember(&pend, SIGBUS) && !sigismember(&pend, SIGUSR1), "nothing left pending");
	check(blocked_now(SIGBUS) && blocked_now(SIGUSR1), "both still read blocked");
}

static void case_altstack(void)
{
	size_t size = 64 * KiB;
	stack_t ss = {.ss_sp = malloc(size), .ss_size = size, .ss_flags = 0};
	alt_lo = ss.ss_sp;
	alt_hi = alt_lo + size;
	if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0)
		die("sigaltstack");
	install(SA_ONSTACK, false);
	touch_z(0, 32, "served");
	poisoned_page("first touch");
	if (poison)
		check(on_alt, "the handler ran on the alternate stack");
}

static void case_fork(void)
{
	install(0, false);
	touch_z(0, 64, "parent before fork");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		touch_z(64, 128, "child");
		poisoned_page("child");
		exit(finish("sigplay child"));
	}
	int st;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child passed");
	touch_z(64, 128, "parent after fork");
	poisoned_page("parent");
}

static void on_usr1(int sig) { (void)sig; }

static void case_exec(char *self)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, h = {.sa_handler = on_usr1};
	sigaction(SIGBUS, &ign, NULL);
	sigaction(SIGUSR1, &h, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGBUS);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	touch_z(0, 32, "before exec");
	fflush(stdout);
	extern char **environ;
	char *argv[] = {self, "exec_child", NULL};
	execve(self, argv, environ);
	die("execve");
}

static void exec_child(void)
{
	struct sigaction a;
	sigaction(SIGBUS, NULL, &a);
	check(a.sa_handler == SIG_IGN, "after exec: SIGBUS still ignored");
	sigaction(SIGUSR1, NULL, &a);
	check(a.sa_handler == SIG_DFL, "after exec: the SIGUSR1 handler is SIG_DFL");
	check(blocked_now(SIGBUS) && blocked_now(SIGUSR2), "after exec: SIGBUS and SIGUSR2 still blocked");
	touch_z(0, 32, "after exec, SIGBUS ignored and blocked");
}

#define THREADS 8
static void *toucher(void *arg)
{
	long t = (long)arg;
	if (t % 2) {
		sigset_t bus;
		sigemptyset(&bus);
		sigaddset(&bus, SIGBUS);
		pthread_sigmask(SIG_BLOCK, &bus, NULL);
	}
	/* Pages t, t+THREADS, ...: every thread faults all the time. */
	bool ok = true;
	for (long i = t; i < ZPAGES; i += THREADS) {
		ok &= zeros(Z + i * pg, pg);
		memset(Z + i * pg, (int)(t + 1), (size_t)pg);
	}
	return ok ? arg : (void *)-1;
}

static void case_threads(void)
{
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, toucher, (void *)i);
	bool ok = true;
	for (long i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok &= r == (void *)i;
	}
	check(ok, "every thread read zeros in each page it touched first");
	ok = true;
	for (long i = 0; i < ZPAGES; i++)
		for (long b = 0; b < pg; b += 512)
			ok &= Z[i * pg + b] == (char)(i % THREADS + 1);
	check(ok, "every page holds what its thread wrote");
}

static volatile bool alarm_touch_ok, alarm_bus_blocked, alarm_ran;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_ran = true;
	alarm_bus_blocked = blocked_now(SIGBUS);
	volatile char *z = Z + (ZPAGES - 2) * pg; /* untouched: served here */
	alarm_touch_ok = *z == 0;
}

static void case_ppoll(void)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	sigset_t wait_mask;
	sigemptyset(&wait_mask);
	sigaddset(&wait_mask, SIGBUS);
	struct itimerval it = {.it_value = {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec ts = {5, 0};
	int rc = ppoll(NULL, 0, &ts, &wait_mask);
	check(rc == -1 && errno == EINTR && alarm_ran, "ppoll is interrupted by the handler");
	check(alarm_bus_blocked, "in the handler, SIGBUS is blocked as ppoll's mask says");
	check(alarm_touch_ok, "a served page touched in the handler reads zeros");
	check(!blocked_now(SIGBUS), "after ppoll SIGBUS is not blocked");
	touch_z(0, 32, "after ppoll");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		die("usage: sigplay CASE");
	map_regions();
	const char *c = argv[1];
	if (!strcmp(c, "handler"))
		case_handler(false);
	else if (!strcmp(c, "nodefer"))
		case_handler(true);
	else if (!strcmp(c, "resethand"))
		case_resethand();
	else if (!strcmp(c, "ignore"))
		case_ignore();
	else if (!strcmp(c, "blocked"))
		case_blocked();
	else if (!strcmp(c, "signalfd"))
		case_signalfd();
	else if (!strcmp(c, "altstack"))
		case_altstack();
	else if (!strcmp(c, "fork"))
		case_fork();
	else if (!strcmp(c, "exec"))
		case_exec(argv[0]);
	else if (!strcmp(c, "exec_child"))
		exec_child();
	else if (!strcmp(c, "threads"))
		case_threads();
	else if (!strcmp(c, "ppoll"))
		case_ppoll();
	else
		die("unknown case");
	return finish("sigplay");
}
