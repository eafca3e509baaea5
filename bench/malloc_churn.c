/* malloc_churn: a malloc-heavy program.
 *
 *   malloc_churn OPS_PER_THREAD [THREADS [SEED]]
 *
 * Each thread keeps a table of 4096 live blocks and, OPS times, picks a slot
 * at random: an empty slot gets a new block (malloc, or calloc one time in
 * 8), a full one is freed, or one time in 8 realloc'd to a new size.  Sizes
 * from 16 B to 256 KiB, mostly small (80% up to 1 KiB, 17% up to 32 KiB, 3%
 * up to 256 KiB).  Each new or resized block is written (its first and last
 * 64 bytes).
 * Timed: from the creation of the threads to their end.  Prints
 * work_ns=N ops=N sum=N. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define SLOTS 4096


static size_t pick_size(uint64_t *s)
{
	uint64_t r = xorshift(s);
	unsigned cls = (unsigned)(r % 100);
	uint64_t v = r >> 8;
	if (cls < 80)
		return 16 + v % (1024 - 16 + 1);
	if (cls < 97)
		return 1024 + v % (32768 - 1024 + 1);
	return 32768 + v % (262144 - 32768 + 1);
}

static void touch(unsigned char *p, size_t n, unsigned char v)
{
	size_t k = n < 64 ? n : 64;
	memset(p, v, k);
	memset(p + n - k, v, k);
}

struct job {
	long ops;
	uint64_t seed;
	uint64_t sum;
};

static void *run(void *arg)
{
	struct job *j = arg;
	unsigned char **slot = calloc(SLOTS, sizeof *slot);
	size_t *size = calloc(SLOTS, sizeof *size);
	uint64_t s = j->seed, sum = 0;
	for (long i = 0; i < j->ops; i++) {
		uint64_t r = xorshift(&s);
		size_t k = (size_t)(r % SLOTS);
		unsigned op = (unsigned)((r >> 32) % 8);
		if (!slot[k]) {
			size_t n = pick_size(&s);
			slot[k] = op == 0 ? calloc(1, n) : malloc(n);
			if (!slot[k])
				abort();
			size[k] = n;
			touch(slot[k], n, (unsigned char)i);
		} else if (op == 0) {
			size_t n = pick_size(&s);
			unsigned char *q = realloc(slot[k], n);
			if (!q)
				abort();
			sum += q[0];
			touch(q, n, (unsigned char)i);
			slot[k] = q;
			size[k] = n;
		} else {
			sum += slot[k][size[k] - 1];
			free(slot[k]);
			slot[k] = NULL;
		}
	}
	for (size_t k = 0; k < SLOTS; k++)
		free(slot[k]);
	free(slot);
	free(size);
	j->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OPS_PER_THREAD [THREADS [SEED]]\n", argv[0]);
		return 2;
	}
	long ops = atol(argv[1]);
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x9e3779b97f4a7c15ULL;
	if (threads < 1 || threads > 64)
		return 2;
	pthread_t t[64];
	struct job job[64];
	uint64_t t0 = now_ns();
	for (int i = 0; i < threads; i++) {
		job[i] = (struct job){ .ops = ops, .seed = seed + 0x1234567ULL * (uint64_t)(i + 1) };
		if (pthread_create(&t[i], NULL, run, &job[i]))
			return 1;
	}
	uint64_t sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		sum += job[i].sum;
	}
	uint64_t t1 = now_ns();
	printf("work_ns=%llu ops=%ld sum=%llu\n", (unsigned long long)(t1 - t0), ops * threads,
	       (unsigned long long)sum);
	return 0;
}
