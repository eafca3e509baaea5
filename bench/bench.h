/* What the benchmark programs share: a clock, a small generator, the
 * choice of pages a sparse run touches, and the touches of a file's pages. */
#ifndef LF_BENCH_H
#define LF_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The timed work of a file load from t0: the first word of pages order[0, n)
 * of p, psz bytes each, read in that order.  Then, untimed, each is checked
 * against what `file_touch create` wrote there (its number in word 0, the
 * byte (page * 131 + 7) after it and in the page's last byte), and the line
 * bench/run.py reads is printed.  Returns the pages that read wrong. */
static inline size_t touch_file_pages(const char *p, size_t n, size_t psz, uint64_t t0)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += *(volatile const uint64_t *)(p + (size_t)order[i] * psz);
	uint64_t t1 = now_ns();
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t pg = order[i], head;
		const unsigned char *q = (const unsigned char *)p + pg * psz;
		memcpy(&head, q, sizeof head);
		unsigned char fill = (unsigned char)((pg * 131 + 7) & 0xff);
		if (head != pg || q[8] != fill || q[psz - 1] != fill)
			bad++;
	}
	printf("work_ns=%llu pages=%zu bad=%zu sum=%llu\n", (unsigned long long)(t1 - t0), n, bad,
	       (unsigned long long)sum);
	fflush(stdout);
	return bad;
}

#endif
