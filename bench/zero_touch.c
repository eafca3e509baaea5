/* zero_touch: first touch of anonymous memory, one write per page.
 *
 *   zero_touch mmap|malloc seq|rand MIB [PERCENT [SEED]]
 *
 * Allocates MIB MiB (an anonymous private mmap, or one malloc block), then
 * writes one byte in each page in order (seq), or in PERCENT% of the pages
 * (distinct pages, in random order from a fixed seed: rand).  Only the
 * touching is timed; the allocation and the choice of pages are not.  Prints
 * one line: work_ns=N pages=N bad=N (bad: a page that did not read as zeros
 * before the write).  The page list lives in .bss, so the program makes no
 * allocation but the one measured.  (On some kernels, this one among them,
 * a read fault on untouched anonymous memory allocates a page instead of
 * mapping the zero page: the checks read only pages already written.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"


int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s mmap|malloc seq|rand MIB [PERCENT [SEED]]\n", argv[0]);
		return 2;
	}
	int use_malloc = !strcmp(argv[1], "malloc");
	int rand_mode = !strcmp(argv[2], "rand");
	size_t len = (size_t)strtoull(argv[3], NULL, 0) << 20;
	double pct = argc > 4 ? atof(argv[4]) : 1.0;
	uint64_t seed = argc > 5 ? strtoull(argv[5], NULL, 0) : 0x5eed1234abcdULL;
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	/* malloc: the block is not page-aligned (its header precedes it), so
	 * the pages used are the whole pages inside it: one fewer. */
	size_t npages = len / psz - (use_malloc ? 1 : 0);
	if (npages > MAX_PAGES) {
		fprintf(stderr, "too large\n");
		return 2;
	}

	size_t n = npages;
	if (rand_mode) {
		n = choose_pages(npages, pct, seed);
	}

	char *p;
	if (use_malloc) {
		p = malloc(len);
		if (!p) {
			perror("malloc");
			return 1;
		}
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	}
	/* Page i is the i-th whole page of the block, so that each touch and
	 * each check stays inside its own page. */
	p = (char *)(((uintptr_t)p + psz - 1) & ~(uintptr_t)(psz - 1));

	uint64_t t0 = now_ns();
	if (rand_mode) {
		for (size_t i = 0; i < n; i++)
			((volatile char *)p)[(size_t)order[i] * psz + 64] = 1;
	} else {
		for (size_t i = 0; i < npages; i++)
			((volatile char *)p)[i * psz + 64] = 1;
	}
	uint64_t t1 = now_ns();

	/* Check outside the timed part: every other byte of the touched pages
	 * is still zero (sample a few bytes per page). */
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		size_t pg = rand_mode ? order[i] : i;
		const char *q = p + pg * psz;
		if (q[0] || q[63] || q[64] != 1 || q[psz - 1])
			bad++;
	}
	printf("work_ns=%llu pages=%zu bad=%zu\n", (unsigned long long)(t1 - t0), n, bad);
	fflush(stdout);
	/* Exit without unmapping: the process wall time includes the kernel's
	 * teardown, the same way for every case. */
	return bad ? 1 : 0;
}
