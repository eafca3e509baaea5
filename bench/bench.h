/* What the benchmark programs share: a clock, a small generator, and the
 * choice of pages a sparse run touches. */
#ifndef LF_BENCH_H
#define LF_BENCH_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define MAX_PAGES (1u << 21) /* 8 GiB of 4 KiB pages */

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* PCT% of npages distinct pages in a random order from `seed` (at least
 * one), into order[]; returns how many.  The page list lives in .bss so
 * that a program makes no allocation but the one it measures. */
static uint32_t order[MAX_PAGES];
static uint64_t chosen[MAX_PAGES / 64];

static inline size_t choose_pages(size_t npages, double pct, uint64_t seed)
{
	size_t n = (size_t)((double)npages * pct / 100.0);
	if (n < 1)
		n = 1;
	for (size_t i = 0; i < n;) {
		uint32_t pg = (uint32_t)(xorshift(&seed) % npages);
		if (chosen[pg / 64] & (1ULL << (pg % 64)))
			continue;
		chosen[pg / 64] |= 1ULL << (pg % 64);
		order[i++] = pg;
	}
	return n;
}

#endif
