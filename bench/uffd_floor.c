/* uffd_floor: the cheapest userfaultfd handler there is, on the sparse
 * zero-fill case, to show what any handler that serves one page per fault
 * costs on this machine (no library, no rules, no statistics).
 *
 *   uffd_floor MIB PERCENT [SEED] [same-cpu]
 *
 * Maps MIB MiB of anonymous memory, registers it for missing faults, starts
 * one handler thread (read one message, UFFDIO_COPY one page of zeros with
 * its wake-up, nothing else), then writes one byte in PERCENT% of the pages,
 * in the same random order as `zero_touch mmap rand`.  With `same-cpu`, the
 * program and the handler are both pinned to the CPU the program starts on.
 * Prints one line: work_ns=N pages=N bad=N. */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

static int uffd;
static char zeros[4096] __attribute__((aligned(4096)));

static void *handler(void *arg)
{
	(void)arg;
	struct uffd_msg msg;
	for (;;) {
		if (read(uffd, &msg, sizeof msg) != sizeof msg)
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		struct uffdio_copy c = {
			.dst = msg.arg.pagefault.address & ~4095ULL,
			.src = (unsigned long)zeros,
			.len = 4096,
		};
		ioctl(uffd, UFFDIO_COPY, &c); /* EEXIST: already there, woken anyway */
	}
	return NULL;
}

static void pin_here(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof set, &set);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MIB PERCENT [SEED] [same-cpu]\n", argv[0]);
		return 2;
	}
	size_t len = (size_t)strtoull(argv[1], NULL, 0) << 20;
	double pct = atof(argv[2]);
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x5eed1234abcdULL;
	bool same_cpu = argc > 4 && !strcmp(argv[4], "same-cpu");
	size_t psz = 4096, npages = len / psz;
	if (npages > MAX_PAGES)
		return 2;
	size_t n = choose_pages(npages, pct, seed);

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = {.api = UFFD_API};
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0) {
		perror("userfaultfd");
		return 1;
	}
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = {
		.range = {.start = (unsigned long)p, .len = len},
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (p == MAP_FAILED || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		perror("register");
		return 1;
	}
	if (same_cpu)
		pin_here(); /* the handler inherits the mask */
	pthread_t t;
	pthread_create(&t, NULL, handler, NULL);

	uint64_t t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		((volatile char *)p)[(size_t)order[i] * psz + 64] = 1;
	uint64_t t1 = now_ns();

	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		const char *q = p + (size_t)order[i] * psz;
		if (q[0] || q[64] != 1 || q[psz - 1])
			bad++;
	}
	printf("work_ns=%llu pages=%zu bad=%zu\n", (unsigned long long)(t1 - t0), n, bad);
	fflush(stdout);
	return bad ? 1 : 0;
}
