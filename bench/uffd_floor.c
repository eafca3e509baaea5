/* uffd_floor: the smallest userfaultfd handlers there are, for the floor
 * rows of `make bench`: what any handler that does a case's work costs on
 * this machine (no library, no rules, no statistics).
 *
 *   uffd_floor MIB PERCENT [SEED] [same-cpu]  helper thread, COPY one page
 *   uffd_floor signal MIB PERCENT [SEED]      in-thread: the faulting thread's
 *                                             SIGBUS handler COPYs its page
 *   uffd_floor signal-zeropage MIB PERCENT [SEED]  the same with ZEROPAGE
 *   uffd_floor load PATH PERCENT [SEED]       helper: pread one page, COPY it
 *   uffd_floor signal-load PATH PERCENT [SEED]  the same in the faulting
 *                                             thread's SIGBUS handler
 *   uffd_floor move MIB                       sequential writes; helper COPYs
 *                                             the faulting 2 MiB, MOVEs in 3
 *                                             huge pages it zeroed ahead
 *
 * Zero cases: MIB MiB of anonymous memory registered for missing faults,
 * one byte written in PERCENT% of the pages, in the same random order as
 * `zero_touch mmap rand` (move: every page in order, as `zero_touch mmap
 * seq`).  load: the file mapped as anonymous memory that the handler fills
 * from the file, the first word of PERCENT% of the pages read, as
 * `file_touch mmap rand` (timed from open to the last touch).  With
 * `same-cpu`, program and handler are pinned to one CPU.  Prints one line:
 * work_ns=N pages=N bad=N. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef UFFDIO_MOVE
struct uffdio_move {
	__u64 dst, src, len, mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, 0x05, struct uffdio_move)
#endif
#define HUGE (2UL << 20)
#define PSZ 4096UL

static int uffd, file_fd;
static char *region;
static char zeros[PSZ] __attribute__((aligned(4096)));
static char *scratch; /* move: a 2 MiB aligned huge page of the handler's */

static void copy_zero(unsigned long addr)
{
	struct uffdio_copy c = {.dst = addr & ~(PSZ - 1), .src = (unsigned long)zeros, .len = PSZ};
	ioctl(uffd, UFFDIO_COPY, &c); /* EEXIST: already there, woken anyway */
}

static void serve_load(unsigned long addr)
{
	static char buf[PSZ] __attribute__((aligned(4096)));
	unsigned long pg = addr & ~(PSZ - 1); /* one thread at a time: buf is shared */
	if (pread(file_fd, buf, PSZ, (off_t)(pg - (unsigned long)region)) < 0)
		return;
	struct uffdio_copy c = {.dst = pg, .src = (unsigned long)buf, .len = PSZ};
	ioctl(uffd, UFFDIO_COPY, &c);
}

/* The faulting chunk already has a page table (the kernel makes one before
 * it asks the handler): a MOVE of a huge page into it would split the page
 * and leave a page table in the scratch, which then populates 4 KiB pages
 * for good.  So, as the library's stream does, the faulting chunk is COPYed
 * in one ioctl and the next MOVE_AHEAD chunks, still without page tables,
 * get the huge pages. */
#define MOVE_AHEAD 3
static size_t region_len;
static char huge_zeros[HUGE] __attribute__((aligned(4096)));

static void serve_move(unsigned long addr)
{
	unsigned long chunk = addr & ~(HUGE - 1), end = (unsigned long)region + region_len;
	/* The moves first: the COPY wakes the thread, which would reach the
	 * next chunk (and make its page table) before a move into it. */
	for (unsigned long at = chunk + HUGE; at < chunk + (MOVE_AHEAD + 1) * HUGE && at < end;
	     at += HUGE) {
		madvise(scratch, HUGE, MADV_POPULATE_WRITE);
		struct uffdio_move m = {.dst = at, .src = (unsigned long)scratch, .len = HUGE};
		if (ioctl(uffd, UFFDIO_MOVE, &m) < 0)
			break; /* not empty: faults serve what is left */
	}
	struct uffdio_copy c = {.dst = chunk, .src = (unsigned long)huge_zeros, .len = HUGE};
	if (ioctl(uffd, UFFDIO_COPY, &c) < 0 && errno != EEXIST)
		copy_zero(addr);
}

static void (*serve)(unsigned long addr) = copy_zero;

static void *handler(void *arg)
{
	(void)arg;
	struct uffd_msg msg;
	for (;;) {
		if (read(uffd, &msg, sizeof msg) != sizeof msg)
			continue;
		if (msg.event == UFFD_EVENT_PAGEFAULT)
			serve(msg.arg.pagefault.address);
	}
	return NULL;
}

static int zeropage_mode;

/* UFFD_FEATURE_SIGBUS: the faulting thread itself, no message. */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	unsigned long pg = (unsigned long)si->si_addr & ~(PSZ - 1);
	if (zeropage_mode) {
		struct uffdio_zeropage z = {.range = {.start = pg, .len = PSZ}};
		ioctl(uffd, UFFDIO_ZEROPAGE, &z);
	} else {
		struct uffdio_copy c = {.dst = pg, .src = (unsigned long)zeros, .len = PSZ};
		ioctl(uffd, UFFDIO_COPY, &c);
	}
}

/* In-thread loading: the faulting thread preads and COPYs its own page. */
static void on_sigbus_load(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	serve_load((unsigned long)si->si_addr);
}

static void pin_here(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof set, &set);
}

static char *registered(size_t len, uint64_t features)
{
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = {.api = UFFD_API, .features = features};
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0) {
		perror("userfaultfd");
		exit(1);
	}
	/* 2 MiB aligned, so that a move case can move whole huge pages */
	char *p = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = (char *)(((uintptr_t)p + HUGE - 1) & ~(HUGE - 1));
	madvise(p, len, MADV_NOHUGEPAGE); /* no THP trap (as the library does) */
	struct uffdio_register reg = {
		.range = {.start = (unsigned long)p, .len = len},
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		perror("register");
		exit(1);
	}
	return p;
}

static void start_handler(bool same_cpu)
{
	if (same_cpu)
		pin_here(); /* the handler inherits the mask */
	pthread_t t;
	pthread_create(&t, NULL, handler, NULL);
}

static int zero_case(int argc, char **argv, bool in_thread)
{
	size_t len = (size_t)strtoull(argv[0], NULL, 0) << 20;
	double pct = atof(argv[1]);
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5eed1234abcdULL;
	bool same_cpu = argc > 3 && !strcmp(argv[3], "same-cpu");
	size_t npages = len / PSZ;
	if (npages > MAX_PAGES)
		return 2;
	size_t n = choose_pages(npages, pct, seed);
	char *p = registered(len, in_thread ? UFFD_FEATURE_SIGBUS : 0);
	if (in_thread) {
		struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
		sigaction(SIGBUS, &sa, NULL);
	} else {
		start_handler(same_cpu);
	}
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		((volatile char *)p)[(size_t)order[i] * PSZ + 64] = 1;
	uint64_t t1 = now_ns();
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		const char *q = p + (size_t)order[i] * PSZ;
		if (q[0] || q[64] != 1 || q[PSZ - 1])
			bad++;
	}
	printf("work_ns=%llu pages=%zu bad=%zu\n", (unsigned long long)(t1 - t0), n, bad);
	return bad ? 1 : 0;
}

static int move_case(char **argv)
{
	size_t len = (size_t)strtoull(argv[0], NULL, 0) << 20, npages = len / PSZ;
	char *p = registered(len, UFFD_FEATURE_MOVE);
	region = p;
	region_len = len;
	char *s = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	scratch = (char *)(((uintptr_t)s + HUGE - 1) & ~(HUGE - 1));
	madvise(scratch, HUGE, MADV_HUGEPAGE);
	serve = serve_move;
	start_handler(false);
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < npages; i++)
		((volatile char *)p)[i * PSZ + 64] = 1;
	uint64_t t1 = now_ns();
	size_t bad = 0;
	for (size_t i = 0; i < npages; i++) {
		const char *q = p + i * PSZ;
		if (q[0] || q[63] || q[64] != 1 || q[PSZ - 1])
			bad++;
	}
	printf("work_ns=%llu pages=%zu bad=%zu\n", (unsigned long long)(t1 - t0), npages, bad);
	return bad ? 1 : 0;
}

static int load_case(int argc, char **argv, bool in_thread)
{
	struct stat st;
	if (stat(argv[0], &st) < 0) {
		perror(argv[0]);
		return 1;
	}
	size_t len = (size_t)st.st_size, npages = len / PSZ;
	double pct = atof(argv[1]);
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5eed1234abcdULL;
	if (npages > MAX_PAGES || !npages)
		return 2;
	size_t n = choose_pages(npages, pct, seed);
	uint64_t t0 = now_ns();
	file_fd = open(argv[0], O_RDONLY);
	if (file_fd < 0) {
		perror(argv[0]);
		return 1;
	}
	region = registered(len, in_thread ? UFFD_FEATURE_SIGBUS : 0);
	if (in_thread) {
		struct sigaction sa = {.sa_sigaction = on_sigbus_load, .sa_flags = SA_SIGINFO};
		sigaction(SIGBUS, &sa, NULL);
	} else {
		serve = serve_load;
		start_handler(false);
	}
	return touch_file_pages(region, n, PSZ, t0) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *usage = "usage: %s [signal|signal-zeropage] MIB PERCENT [SEED] [same-cpu] | "
			    "[signal-]load PATH PERCENT [SEED] | move MIB\n";
	if (argc < 2) {
		fprintf(stderr, usage, argv[0]);
		return 2;
	}
	int rc;
	if (!strcmp(argv[1], "signal") || !strcmp(argv[1], "signal-zeropage")) {
		zeropage_mode = !strcmp(argv[1], "signal-zeropage");
		rc = argc < 4 ? 2 : zero_case(argc - 2, argv + 2, true);
	} else if (!strcmp(argv[1], "load") || !strcmp(argv[1], "signal-load")) {
		rc = argc < 4 ? 2 : load_case(argc - 2, argv + 2, argv[1][0] == 's');
	} else if (!strcmp(argv[1], "move")) {
		rc = move_case(argv + 2);
	} else {
		rc = argc < 3 ? 2 : zero_case(argc - 1, argv + 1, false);
	}
	if (rc == 2)
		fprintf(stderr, usage, argv[0]);
	fflush(stdout);
	return rc;
}
