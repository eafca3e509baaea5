/* Ways a process ends that the library must not change: the last thread
 * leaving by pthread_exit (the main thread; a thread that forked, in the
 * child), exec from a thread that is not the main one, exit while other
 * threads fault, a child killed while it faults, a vfork child.  Every
 * process touches 1 MiB of anonymous memory (an anon rule serves it) first.
 *
 *   endings main-exit     main calls pthread_exit; the last thread returns
 *   endings fork-thread   a thread forks; in the child it pthread_exits
 *   endings exec-thread   a thread execs "endings exec-done"
 *   endings exit-race     exit(3) while four threads fault
 *   endings kill-fault    a child killed (SIGKILL) while it faults
 *   endings vfork         a vfork child faults, then execs
 *   endings vfork-first   a vfork child maps and faults before its parent
 *                         has any region: it must start no helper of the
 *                         parent's (exec or _exit would end that helper)
 *   endings vfork-signal  the parent ignores SIGPIPE; two vfork children
 *                         each reset it to the default and exec: each new
 *                         program must find the default (CPython's
 *                         subprocess restore_signals)
 *
 * Each prints its checks; a process the library keeps alive makes the
 * test's timeout, or the watchdog here, fire. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lftest.h"

#define AREA (1 << 20)

static char *self;

/* 1 MiB of fresh anonymous memory, every page written and read back. */
static bool touch(void) { return lft_touch_anon(AREA, false); }

/* Waits for pid at most `secs`: its status, or -1 when it did not end. */
static int wait_for(pid_t pid, int secs)
{
	for (int i = 0; i < secs * 100; i++) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return st;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void said(void) { printf("ok: exit handlers ran\n"); fflush(stdout); }

static void *last_thread(void *arg)
{
	usleep(50000); /* main is gone by now */
	check(touch(), "the last thread's memory reads zeros, then its bytes");
	return arg; /* the process ends here, status 0 */
}

static int main_exit(void)
{
	atexit(said);
	check(touch(), "main's memory reads zeros, then its bytes");
	pthread_t t;
	pthread_create(&t, NULL, last_thread, NULL);
	pthread_exit(NULL);
}

static void *forker(void *arg)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* The child's only thread is this one, not its main thread. */
		touch();
		pthread_exit(NULL); /* must end the child, status 0 */
	}
	int st = wait_for(pid, 10);
	check(st == 0, "the child whose forking thread calls pthread_exit ends, status 0");
	return arg;
}

static int fork_thread(void)
{
	check(touch(), "the parent's memory reads zeros, then its bytes");
	pthread_t t;
	pthread_create(&t, NULL, forker, NULL);
	pthread_join(t, NULL);
	return finish("endings");
}

static void *execer(void *arg)
{
	touch();
	execl(self, self, "exec-done", (char *)NULL);
	return arg;
}

static int exec_thread(void)
{
	check(touch(), "memory before exec reads zeros, then its bytes");
	pthread_t t;
	pthread_create(&t, NULL, execer, NULL);
	pause(); /* the exec ends this thread */
	return 1;
}

static void *faulter(void *arg)
{
	for (;;)
		touch();
	return arg;
}

static int exit_race(void)
{
	atexit(said);
	check(touch(), "main's memory reads zeros, then its bytes");
	pthread_t t;
	for (int i = 0; i < 4; i++)
		pthread_create(&t, NULL, faulter, NULL);
	usleep(20000);
	printf("endings: exit 3 while four threads fault\n");
	fflush(stdout);
	exit(3);
}

static int kill_fault(void)
{
	check(touch(), "the parent's memory reads zeros, then its bytes");
	for (int round = 0; round < 3; round++) {
		pid_t pid = fork();
		if (pid == 0) {
			pthread_t t;
			pthread_create(&t, NULL, faulter, NULL);
			faulter(NULL);
		}
		usleep(20000 + round * 10000);
		kill(pid, SIGKILL);
		int st = wait_for(pid, 10);
		check(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		      "a child killed while it faults ends of SIGKILL (round %d)", round);
	}
	return finish("endings");
}

static int do_vfork(void)
{
	check(touch(), "the parent's memory reads zeros, then its bytes");
	pid_t pid = vfork();
	if (pid == 0)
		execl(self, self, "vfork-exec", (char *)NULL), _exit(127);
	int st = wait_for(pid, 10);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the vfork child's exec ends, status 0");
	pid = vfork();
	if (pid == 0)
		_exit(touch() ? 5 : 6); /* faults in the parent's memory */
	st = wait_for(pid, 10);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	      "a vfork child that faults and _exits ends, status 5");
	check(touch(), "the parent's memory after the vfork children reads zeros, then its bytes");
	return finish("endings");
}

static int vfork_first(void)
{
	pid_t pid = vfork();
	if (pid == 0)
		_exit(touch() ? 5 : 6);
	int st = wait_for(pid, 10);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	      "a vfork child that maps, faults and _exits ends, status 5");
	pid = vfork();
	if (pid == 0)
		execl(self, self, "vfork-exec", (char *)NULL), _exit(127);
	st = wait_for(pid, 10);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the vfork child's exec ends, status 0");
	check(touch(), "the parent's memory after the vfork children reads zeros, then its bytes");
	pthread_t t;
	pthread_create(&t, NULL, last_thread, NULL);
	pthread_join(t, NULL);
	return finish("endings");
}

static int vfork_signal(void)
{
	check(touch(), "the parent's memory reads zeros, then its bytes");
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 2; i++) {
		pid_t pid = vfork();
		if (pid == 0) {
			signal(SIGPIPE, SIG_DFL);
			execl(self, self, "sigpipe-default", (char *)NULL);
			_exit(127);
		}
		int st = wait_for(pid, 10);
		check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "vfork child %d: SIGPIPE reset to the default before exec is the default after", i + 1);
	}
	struct sigaction sa;
	sigaction(SIGPIPE, NULL, &sa);
	check(sa.sa_handler == SIG_IGN, "the parent still ignores SIGPIPE");
	return finish("endings");
}

int main(int argc, char **argv)
{
	self = argv[0];
	alarm(60); /* a hang is a death by SIGALRM, never a process left behind */
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "main-exit"))
		return main_exit();
	if (!strcmp(m, "fork-thread"))
		return fork_thread();
	if (!strcmp(m, "exec-thread"))
		return exec_thread();
	if (!strcmp(m, "exec-done")) {
		check(touch(), "memory after exec reads zeros, then its bytes");
		return finish("endings");
	}
	if (!strcmp(m, "vfork-exec"))
		return touch() ? 0 : 1;
	if (!strcmp(m, "exit-race"))
		return exit_race();
	if (!strcmp(m, "kill-fault"))
		return kill_fault();
	if (!strcmp(m, "vfork"))
		return do_vfork();
	if (!strcmp(m, "vfork-signal"))
		return vfork_signal();
	if (!strcmp(m, "sigpipe-default")) {
		struct sigaction sa;
		sigaction(SIGPIPE, NULL, &sa);
		return sa.sa_handler == SIG_DFL ? 0 : 1;
	}
	if (!strcmp(m, "vfork-first"))
		return vfork_first();
	fprintf(stderr, "usage: endings main-exit|fork-thread|exec-thread|exit-race|kill-fault|vfork|vfork-first|vfork-signal\n");
	return 2;
}
