/* The target of the sweep tests: its outcome for each poisoned fault is known
 * in advance.
 *
 * It maps one 2 MiB anonymous region (the only one of that size: the rule
 * takes exactly it) and writes its first pages one by one, page i at fault
 * i+1 of the rule, each in a phase that meets a bad page its own way:
 *
 *   faults 1-2  scratch pages, never read back: SIGBUS is caught and the
 *               page skipped; same output, status 0          -> survived
 *   faults 3-4  SIGBUS is caught and the program exits 3     -> error-exit
 *   faults 5-6  pages summed into the printed result: SIGBUS is caught and
 *               the page counted as zero; status 0           -> wrong-output
 *   faults 7-8  SIGBUS left to its default action           -> crash (SIGBUS)
 *   fault  9    SIGBUS is caught and the handler sleeps      -> hang
 *
 * Without poison it prints "sum = 22" and exits 0.  Its page faults are
 * those nine: it reads nothing back that it did not write before. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum phase { SCRATCH, EXIT_3, SUMMED, DEFAULT, SLEEP };

static const enum phase phase_of_page[] = {
	SCRATCH, SCRATCH, EXIT_3, EXIT_3, SUMMED, SUMMED, DEFAULT, DEFAULT, SLEEP,
};
#define NPAGES (sizeof phase_of_page / sizeof phase_of_page[0])
#define REGION (2u << 20)

static volatile sig_atomic_t phase;
static sigjmp_buf skip;

static void on_sigbus(int sig)
{
	(void)sig;
	switch (phase) {
	case SCRATCH:
	case SUMMED:
		siglongjmp(skip, 1);
	case EXIT_3:
		_exit(3);
	case SLEEP:
		for (;;)
			pause();
	default:
		_exit(99); /* the default action was asked for: never here */
	}
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *region = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);

	int summed[NPAGES] = { 0 };
	for (volatile size_t i = 0; i < NPAGES; i++) {
		phase = phase_of_page[i];
		if (phase == DEFAULT)
			signal(SIGBUS, SIG_DFL);
		else
			sigaction(SIGBUS, &sa, NULL);
		volatile unsigned char *p = region + i * (size_t)pg;
		if (sigsetjmp(skip, 1) == 0) {
			p[0] = (unsigned char)(i + 1);  /* the page's one fault */
			summed[i] = p[0];
		}
	}
	int sum = 0;
	for (size_t i = 0; i < NPAGES; i++)
		if (phase_of_page[i] == SUMMED)
			sum += summed[i] * 2;
	printf("sum = %d\n", sum);
	return 0;
}
