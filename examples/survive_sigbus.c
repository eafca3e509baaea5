/* A program that survives a memory error: it maps 16 pages, touches each,
 * and when a page raises SIGBUS it notes the address, skips the page and
 * goes on.  Run it under examples/poison.ini. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>

static sigjmp_buf recover;
static void *bad_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	bad_addr = si->si_addr;
	siglongjmp(recover, 1);
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
	sigaction(SIGBUS, &sa, NULL);
	enum { PAGES = 16 };
	volatile char *p = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int lost = 0;
	for (int i = 0; i < PAGES; i++) {
		if (sigsetjmp(recover, 1)) {
			printf("survive_sigbus: page %ld is bad (SIGBUS at %p), skipped\n",
			       (long)(((char *)bad_addr - (char *)p) / 4096), bad_addr);
			lost++;
			continue;
		}
		p[i * 4096] = 1;
	}
	printf("survive_sigbus: %d of %d pages usable\n", PAGES - lost, PAGES);
	return 0;
}
