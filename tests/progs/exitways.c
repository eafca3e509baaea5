/* Ends in the way its argument says, after touching 8 MiB of anonymous
 * memory (so that a rule served faults), for the statistics checks: the
 * statistics file must be complete however the program ends.
 *
 *   exitways exit|return|_exit|_Exit|sigterm|sigsegv|abort|sigbus|thread-exit
 *            |sigint-handler|segv-handler-reset|sigterm-survive|poisoned
 *
 * segv-handler-reset: the program's SIGSEGV handler puts the default back
 * and returns, so that the access faults again and the process dies of it.
 * sigterm-survive: SIGTERM to itself, then "survived" and exit 0 (run it
 * with SIGTERM ignored, as nohup does: it must stay ignored).
 *
 * poisoned: reads page 5 of a fresh 2 MiB mapping (a `poison` rule with
 * `pages = 5` on 2 MiB mappings makes that a SIGBUS; natively it reads 0).
 *
 * Prints "touched" before it ends; the status is what the way gives.
 */
#include <pthread.h>
#include <signal.h>

#include "lftest.h"

static void *exit_from_thread(void *arg)
{
	(void)arg;
	exit(3);
}

static volatile sig_atomic_t got_int;

static void reset_segv(int sig)
{
	signal(sig, SIG_DFL);
}
static void on_int(int sig) { got_int = sig; }

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "exit";
	/* What the program sees of the fatal signals' dispositions. */
	struct sigaction old;
	int sigs[] = {SIGTERM, SIGSEGV, SIGBUS, SIGABRT, SIGINT};
	printf("dispositions:");
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sigaction(sigs[i], NULL, &old);
		printf(" %s", (old.sa_flags & SA_SIGINFO) ? "handler" : old.sa_handler == SIG_DFL ? "default"
					     : old.sa_handler == SIG_IGN ? "ignored" : "handler");
	}
	printf("\n");
	uint8_t *p = map_anon(8 * MiB);
	fill_pat(p, 8 * MiB, 0, 1);
	bool ok = find_pat_mismatch(p, 8 * MiB, 0, 1) == NOMISMATCH;
	printf("touched %s\n", ok ? "ok" : "WRONG");
	fflush(stdout);
	if (!ok)
		return 1;
	if (!strcmp(how, "exit"))
		exit(0);
	if (!strcmp(how, "return"))
		return 0;
	if (!strcmp(how, "_exit"))
		_exit(0);
	if (!strcmp(how, "_Exit"))
		_Exit(0);
	if (!strcmp(how, "sigterm")) {
		kill(getpid(), SIGTERM);
		pause();
	}
	if (!strcmp(how, "sigsegv")) {
		*(volatile int *)8 = 1;
	}
	if (!strcmp(how, "abort"))
		abort();
	if (!strcmp(how, "sigbus"))
		raise(SIGBUS);
	if (!strcmp(how, "thread-exit")) {
		pthread_t t;
		pthread_create(&t, NULL, exit_from_thread, NULL);
		pthread_join(t, NULL);
	}
	if (!strcmp(how, "sigint-handler")) {
		/* The program's own handler, then it exits normally. */
		signal(SIGINT, on_int);
		raise(SIGINT);
		printf("handler ran: %d\n", got_int == SIGINT);
		return 0;
	}
	if (!strcmp(how, "segv-handler-reset")) {
		signal(SIGSEGV, reset_segv);
		*(volatile int *)8 = 1;
	}
	if (!strcmp(how, "sigterm-survive")) {
		kill(getpid(), SIGTERM);
		printf("survived\n");
		return 0;
	}
	if (!strcmp(how, "poisoned")) {
		uint8_t *q = map_anon(2 * MiB);
		volatile uint8_t v = q[5 * page_size() + 100];
		printf("read page 5: %d\n", v);
		return 0;
	}
	printf("unknown way %s\n", how);
	return 2;
}
