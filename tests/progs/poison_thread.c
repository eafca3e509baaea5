/* A poisoned page touched by a second thread: the SIGBUS must be delivered
 * to that thread, with si_addr inside the page (test_poison.py).
 *
 *   poison_thread NPAGES PAGE
 *
 * The main thread maps NPAGES anonymous pages and reads page 0 (under a
 * `pages = PAGE` poison rule: filled, no signal).  A second thread reads
 * page PAGE under sigsetjmp; the handler records gettid() and si_addr.
 * Prints "info: toucher tid N" (for the test to match the library's log
 * line), then the checks:
 *   - the touch raised SIGBUS (only when `expect` is given as 3rd argument);
 *   - the handler ran in the touching thread, not in the main thread;
 *   - si_addr lies in the touched page;
 *   - the main thread got no signal.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>

#include "lftest.h"

static __thread sigjmp_buf jb;
static __thread volatile sig_atomic_t in_touch;
static void *volatile fault_addr;
static volatile pid_t handler_tid;
static volatile int nsignals;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	nsignals++;
	fault_addr = si->si_addr;
	handler_tid = gettid_();
	if (!in_touch) {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
		return;
	}
	siglongjmp(jb, 1);
}

struct job {
	volatile uint8_t *p;
	pid_t tid;
	bool bus;
	uint8_t v;
};

static void *toucher(void *arg)
{
	struct job *j = arg;
	j->tid = gettid_();
	if (sigsetjmp(jb, 1)) {
		in_touch = 0;
		j->bus = true;
		return NULL;
	}
	in_touch = 1;
	j->v = *j->p;
	in_touch = 0;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s NPAGES PAGE [expect]\n", argv[0]);
		return 2;
	}
	size_t pg = (size_t)page_size(), npages = strtoul(argv[1], NULL, 0),
	       page = strtoul(argv[2], NULL, 0);
	bool expect = argc > 3 && !strcmp(argv[3], "expect");
	if (page >= npages || page == 0)
		die("PAGE must be within 1..NPAGES-1");
	lft_on_signal(SIGBUS, on_bus);

	uint8_t *base = map_anon(npages * pg);
	volatile uint8_t v0 = base[100];
	check(v0 == 0 && nsignals == 0, "page 0, read by the main thread, reads zero and raises nothing");

	struct job j = {.p = base + page * pg + 1234};
	pthread_t t;
	if (pthread_create(&t, NULL, toucher, &j))
		die("pthread_create");
	pthread_join(t, NULL);
	printf("info: toucher tid %d\n", (int)j.tid);
	printf("toucher: %s\n", j.bus ? "SIGBUS" : "no signal");
	if (expect) {
		check(j.bus, "the second thread's touch of page %zu raised SIGBUS", page);
		check(nsignals == 1, "exactly one SIGBUS");
		check(handler_tid == j.tid, "the handler ran in the touching thread");
		check(handler_tid != gettid_(), "the handler did not run in the main thread");
		uintptr_t a = (uintptr_t)fault_addr, lo = (uintptr_t)(base + page * pg);
		check(a >= lo && a < lo + pg, "si_addr lies inside page %zu", page);
	} else {
		check(!j.bus && j.v == 0, "the second thread's touch of page %zu read zero", page);
	}
	return finish("poison_thread");
}
