/* Many threads (8) allocate, fill, check, realloc and free large and small
 * blocks at once: blocks a `malloc` rule serves and blocks it hands on to
 * glibc, with every thread's operations interleaved with every other's.
 * Each block carries a pattern of its own (thread, slot, generation); a
 * block must keep it across reallocs (grown and shrunk across the
 * threshold) until it is freed; calloc'd blocks read zeros.
 *
 *   malloc_threads [--source FILE OFFSET MIN MAX]
 *
 * With --source, the tests' rule is a `load` rule for blocks of MIN..MAX
 * bytes: every fresh malloc'd block of that size must read the source's
 * bytes (checked at its first, middle and last pages before it is
 * written; natively nothing is checked there: glibc's reused blocks hold
 * anything).
 *
 * Then a churn phase: 4 threads each malloc a 2 MiB block, read one page
 * they did not write (the source's bytes under a load rule), write its
 * first byte, realloc it to 3 MiB (must succeed and keep that byte), free
 * it; 600 times.  A block freed (or moved by realloc) by one thread while
 * another gets a fresh one at the same address must not lose its service:
 * its pages must still be served (the source's bytes), and the realloc of
 * it must not fail.
 */
#include <pthread.h>

#include "lftest.h"

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define THREADS 8
#define SLOTS 6
#define ITERS 20
#define CHURN_THREADS 4
#define CHURN_ITERS 600

static struct source src;
static bool have_src;
static size_t src_min, src_max;
static pthread_barrier_t bar;

struct slot {
	uint64_t *p;
	size_t n;      /* bytes */
	uint64_t seed; /* pattern of its first n bytes */
};

struct result {
	unsigned bad_pattern, bad_calloc, bad_source, bad_alloc;
	unsigned big, small, reallocs;
};
static struct result res[THREADS];

static inline uint64_t word(uint64_t i, uint64_t seed)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ULL ^ seed;
	return x ^ (x >> 31);
}

/* Byte i of the pattern: byte i % 8 of word i / 8 (little endian, as the
 * words are stored). */
static inline uint8_t pbyte(size_t i, uint64_t seed) { return (uint8_t)(word(i / 8, seed) >> (8 * (i % 8))); }

/* Fill bytes [from, n) with the pattern (from a multiple of 8). */
static void fill(struct slot *s, size_t from)
{
	size_t words = s->n / 8;
	for (size_t i = from / 8; i < words; i++)
		s->p[i] = word(i, s->seed);
	uint8_t *b = (uint8_t *)s->p;
	for (size_t i = words * 8 > from ? words * 8 : from; i < s->n; i++)
		b[i] = pbyte(i, s->seed);
}

/* The first n bytes hold the pattern. */
static bool intact(const struct slot *s, size_t n)
{
	size_t words = n / 8;
	for (size_t i = 0; i < words; i++)
		if (s->p[i] != word(i, s->seed))
			return false;
	const uint8_t *b = (const uint8_t *)s->p;
	for (size_t i = words * 8; i < n; i++)
		if (b[i] != pbyte(i, s->seed))
			return false;
	return true;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static size_t pick_size(uint64_t *x)
{
	switch (rnd(x) % 4) {
	case 0: return rnd(x) % 4096 + 1;                  /* small */
	case 1: return rnd(x) % (200 * KiB) + 4096;        /* glibc's mmap range */
	case 2: return rnd(x) % (64 * KiB) + 1 * MiB - 32 * KiB; /* around 1M */
	default: return rnd(x) % (3 * MiB) + 1 * MiB;      /* large */
	}
}

/* A fresh malloc'd block a source rule takes: its first, middle and last
 * pages read the source's bytes. */
static bool source_ok(const uint8_t *p, size_t n)
{
	if (!have_src || !src.expect || n < src_min || n > src_max)
		return true;
	size_t pg = (size_t)page_size();
	size_t offs[3] = {0, n / 2 / pg * pg, (n - 1) / pg * pg};
	for (int k = 0; k < 3; k++) {
		size_t len = n - offs[k] < pg ? n - offs[k] : pg;
		if (find_source_mismatch(&src, p, offs[k], len) != NOMISMATCH)
			return false;
	}
	return true;
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	struct result *r = &res[t];
	struct slot s[SLOTS] = {0};
	uint64_t x = 0x2545F4914F6CDD1DULL * (uint64_t)(t + 1);
	uint64_t gen = 0;
	pthread_barrier_wait(&bar);
	for (int it = 0; it < ITERS; it++) {
		for (int k = 0; k < SLOTS; k++) {
			struct slot *sl = &s[k];
			unsigned op = (unsigned)(rnd(&x) % 5);
			if (!sl->p)
				op = op % 2; /* nothing to realloc or free: allocate */
			switch (op) {
			case 0: /* malloc */
			case 1: /* calloc */
				if (sl->p) {
					if (!intact(sl, sl->n))
						r->bad_pattern++;
					free(sl->p);
				}
				sl->n = pick_size(&x);
				sl->seed = ((uint64_t)t << 56) ^ ((uint64_t)k << 48) ^ ++gen;
				sl->p = op == 0 ? malloc(sl->n) : calloc(1, sl->n);
				if (!sl->p) {
					r->bad_alloc++;
					printf("   %s(%zu) failed: %s\n", op ? "calloc" : "malloc", sl->n, strerror(errno));
					sl->n = 0;
					break;
				}
				if (op == 1 && find_nonzero(sl->p, sl->n) != NOMISMATCH)
					r->bad_calloc++;
				if (op == 0 && !source_ok((uint8_t *)sl->p, sl->n))
					r->bad_source++;
				if (sl->n >= 1 * MiB)
					r->big++;
				else
					r->small++;
				fill(sl, 0);
				break;
			case 2: /* realloc, maybe across the threshold */
			case 3: {
				size_t m = pick_size(&x);
				uint64_t *q = realloc(sl->p, m);
				if (!q) {
					r->bad_alloc++;
					printf("   realloc(%zu bytes -> %zu) failed: %s\n", sl->n, m, strerror(errno));
					break;
				}
				sl->p = q;
				size_t keep = m < sl->n ? m : sl->n;
				if (!intact(sl, keep))
					r->bad_pattern++;
				r->reallocs++;
				/* extend the pattern over the new bytes */
				size_t old = keep / 8 * 8;
				sl->n = m;
				fill(sl, old);
				break;
			}
			default: /* free */
				if (!intact(sl, sl->n))
					r->bad_pattern++;
				free(sl->p);
				sl->p = NULL;
				sl->n = 0;
			}
		}
	}
	for (int k = 0; k < SLOTS; k++) {
		if (s[k].p && !intact(&s[k], s[k].n))
			r->bad_pattern++;
		free(s[k].p);
	}
	return NULL;
}

static _Atomic unsigned churn_bad_source, churn_bad_realloc, churn_bad_byte;

static void *churn(void *arg)
{
	size_t pg = (size_t)page_size();
	pthread_barrier_wait(&bar);
	for (int i = 0; i < CHURN_ITERS; i++) {
		uint8_t *p = malloc(2 * MiB);
		if (!p) {
			churn_bad_realloc++;
			continue;
		}
		if (have_src && src.expect && 2 * MiB >= src_min && 2 * MiB <= src_max &&
		    find_source_mismatch(&src, p, pg, pg) != NOMISMATCH)
			churn_bad_source++;
		p[0] = (uint8_t)(i | 1);
		uint8_t *q = realloc(p, 3 * MiB);
		if (!q) {
			churn_bad_realloc++;
			q = p;
		} else if (q[0] != (uint8_t)(i | 1)) {
			churn_bad_byte++;
		}
		free(q);
	}
	return arg;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 5 && !strcmp(argv[1], "--source")) {
		source_open(&src, argv[2], strtoull(argv[3], NULL, 0));
		src_min = strtoull(argv[4], NULL, 0);
		src_max = strtoull(argv[5], NULL, 0);
		have_src = true;
	}
	pthread_barrier_init(&bar, NULL, THREADS);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t))
			die("pthread_create");
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	struct result sum = {0};
	for (int t = 0; t < THREADS; t++) {
		sum.bad_pattern += res[t].bad_pattern;
		sum.bad_calloc += res[t].bad_calloc;
		sum.bad_source += res[t].bad_source;
		sum.bad_alloc += res[t].bad_alloc;
		sum.big += res[t].big;
		sum.small += res[t].small;
		sum.reallocs += res[t].reallocs;
	}
	check(sum.bad_alloc == 0, "every allocation succeeded (%u failed)", sum.bad_alloc);
	check(sum.bad_pattern == 0, "every block kept its bytes until freed, across reallocs (%u bad)",
	      sum.bad_pattern);
	check(sum.bad_calloc == 0, "every calloc'd block read zeros (%u bad)", sum.bad_calloc);
	check(sum.bad_source == 0, "every fresh malloc'd block of the source rule read the expected bytes (%u bad)",
	      sum.bad_source);
	printf("   %u large and %u small allocations, %u reallocs\n", sum.big, sum.small, sum.reallocs);

	pthread_barrier_destroy(&bar);
	pthread_barrier_init(&bar, NULL, CHURN_THREADS);
	for (int t = 0; t < CHURN_THREADS; t++)
		if (pthread_create(&th[t], NULL, churn, NULL))
			die("pthread_create");
	for (int t = 0; t < CHURN_THREADS; t++)
		pthread_join(th[t], NULL);
	check(churn_bad_realloc == 0, "churn: every malloc(2M) and realloc(2M -> 3M) succeeded (%u failed)",
	      churn_bad_realloc);
	check(churn_bad_byte == 0, "churn: realloc kept the byte written (%u bad)", churn_bad_byte);
	check(churn_bad_source == 0, "churn: every fresh block of the source rule read the expected bytes at a page not written (%u bad)",
	      churn_bad_source);
	return finish("malloc_threads");
}
