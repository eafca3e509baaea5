/* mmap_churn: a program that makes many memory-management calls, for the
 * passthrough rows (rules that match nothing must cost nothing here).
 *
 *   mmap_churn CALLS
 *
 * Repeats, until CALLS calls were made: mmap 64 KiB anonymous, write one
 * byte, mprotect it read-only, madvise(MADV_DONTNEED) it, munmap it (four
 * calls of the wrappers and one mmap per round).  Timed: the whole loop.
 * Prints work_ns=N pages=N bad=N. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 300000;
	size_t len = 64 << 10, bad = 0, rounds = (size_t)calls / 4;
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < rounds; i++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			bad++;
			break;
		}
		p[i % len] = 1;
		if (mprotect(p, len, PROT_READ) || madvise(p, len, MADV_DONTNEED) || p[i % len] ||
		    munmap(p, len))
			bad++;
	}
	uint64_t t1 = now_ns();
	printf("work_ns=%llu pages=%zu bad=%zu\n", (unsigned long long)(t1 - t0), rounds, bad);
	return bad ? 1 : 0;
}
