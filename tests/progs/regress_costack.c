/* Regression: a coroutine (ucontext) whose stack lies in a served anonymous
 * region calls mremap, munmap or malloc/free (mmap) of a served region.  The
 * library's code then runs on that stack, with a fault on it possible at any
 * depth: it must never deadlock.  The stack top is moved by 16 bytes at a
 * time over a whole page; each try runs in a child killed after 2 s.
 *
 *     regress_costack mremap|munmap|mmap
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>

#include "lftest.h"

static ucontext_t main_uc, co_uc;
static char *reg;
static int mode;

static void co(void)
{
	if (mode == 0) {
		void *q = mremap(reg, MiB, 4 * MiB, MREMAP_MAYMOVE);
		if (q == MAP_FAILED)
			_exit(3);
		if (((char *)q)[0] != 0 || ((char *)q)[4 * MiB - 1] != 0)
			_exit(4);
	} else if (mode == 1) {
		if (munmap(reg + 4096 * 11, 4096 * 30))
			_exit(3);
		if (reg[4096 * 41] != 0)
			_exit(4);
	} else {
		volatile char *q = malloc(2 * MiB);
		if (!q)
			_exit(3);
		q[0] = 1;
		q[2 * MiB - 1] = 2;
		if (q[0] != 1 || q[2 * MiB - 1] != 2 || q[MiB] != 0)
			_exit(4);
		free((void *)q);
		void *m = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(3);
		((char *)m)[100] = 1;
		munmap(m, MiB);
	}
}

static void child(int d)
{
	char *stk = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stk == MAP_FAILED || reg == MAP_FAILED)
		_exit(5);
	for (int i = 0; i < 30; i++) /* 61 pieces */
		madvise(reg + 4096 * (2 * i + 1), 4096, MADV_DONTNEED);
	char *P = stk + MiB - 4 * 4096;
	char *top = P + d; /* in page P */
	P[-4096] = 1;      /* page P-1 present, alone */
	P[2 * 4096] = 1;   /* a page further away: no sequential stream */
	getcontext(&co_uc);
	co_uc.uc_stack.ss_sp = stk;
	co_uc.uc_stack.ss_size = (size_t)(top - stk);
	co_uc.uc_link = &main_uc;
	makecontext(&co_uc, co, 0);
	swapcontext(&main_uc, &co_uc);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: regress_costack mremap|munmap|mmap");
	const char *names[] = {"mremap", "munmap", "mmap"};
	mode = -1;
	for (int i = 0; i < 3; i++)
		if (!strcmp(argv[1], names[i]))
			mode = i;
	if (mode < 0)
		die("unknown mode %s", argv[1]);
	int hung = 0, died = 0, failed = 0, tries = 0;
	for (int d = 16; d < 4096; d += 16, tries++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			child(d);
		int st = 0;
		pid_t w = 0;
		for (int k = 0; k < 400 && !(w = waitpid(pid, &st, WNOHANG)); k++)
			nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
		if (!w) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			printf("stack top at +%d: hung (killed after 2 s)\n", d);
			hung++;
		} else if (WIFSIGNALED(st)) {
			printf("stack top at +%d: killed by signal %d\n", d, WTERMSIG(st));
			died++;
		} else if (WEXITSTATUS(st)) {
			printf("stack top at +%d: exit %d\n", d, WEXITSTATUS(st));
			failed++;
		}
	}
	check(hung == 0, "%s on a served coroutine stack: no hang in %d tries (%d hung)", argv[1],
	      tries, hung);
	check(died == 0, "%s on a served coroutine stack: no child killed (%d)", argv[1], died);
	check(failed == 0, "%s on a served coroutine stack: every call gave the right result (%d failed)",
	      argv[1], failed);
	return finish("regress_costack");
}
