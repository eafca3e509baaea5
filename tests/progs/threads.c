/* Many threads (8 by default) fault the same and different pages at once:
 *  1. all read the same 8 MiB, each starting at a different page: zeros;
 *  2. all write into the same pages (each its own 8 bytes of every page of
 *     8 MiB), so that the first touch of a page races between threads;
 *  3. each writes and checks its own 6 MiB slice with its own pattern;
 * then the main thread checks every byte, and that the 2 MiB nobody
 * touched read zeros.
 *
 *   threads [NTHREADS]     (at most 8)
 */
#include <pthread.h>

#include "lftest.h"

#define MAXT 8
#define SHARED (8 * MiB)
#define SLICE (6 * MiB)
#define LEN (2 * SHARED + MAXT * SLICE + 2 * MiB)

static uint8_t *p;
static int nthreads;
static pthread_barrier_t bar;
static _Atomic int bad_read, bad_slice;

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	size_t pg = (size_t)page_size(), pages = SHARED / pg;

	pthread_barrier_wait(&bar);
	/* 1. read the same pages, from different starting points */
	for (size_t k = 0; k < pages; k++) {
		size_t i = ((k + (size_t)t * pages / (size_t)nthreads) % pages) * pg;
		if (p[i] || p[i + pg - 1] || find_nonzero(p + i, pg) != NOMISMATCH)
			bad_read++;
	}
	pthread_barrier_wait(&bar);
	/* 2. write to the same pages: thread t owns bytes [8t, 8t+8) of each */
	uint8_t *w = p + SHARED;
	for (size_t k = 0; k < pages; k++) {
		size_t i = ((k + (size_t)t * 7) % pages) * pg;
		for (int j = 0; j < 8; j++)
			w[i + (size_t)t * 8 + (size_t)j] = (uint8_t)(t * 16 + j + 1);
	}
	pthread_barrier_wait(&bar);
	/* 3. own slice */
	uint8_t *s = p + 2 * SHARED + (size_t)t * SLICE;
	fill_pat(s, SLICE, 0, 100 + (unsigned)t);
	if (find_pat_mismatch(s, SLICE, 0, 100 + (unsigned)t) != NOMISMATCH)
		bad_slice++;
	return NULL;
}

int main(int argc, char **argv)
{
	nthreads = argc > 1 ? atoi(argv[1]) : MAXT;
	if (nthreads < 1 || nthreads > MAXT)
		nthreads = MAXT;
	p = map_anon(LEN);
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	pthread_t th[MAXT];
	for (int t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t))
			die("pthread_create");
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);

	check(bad_read == 0, "%d threads reading the same 8 MiB at once saw only zeros", nthreads);
	size_t pg = (size_t)page_size(), bad = NOMISMATCH;
	uint8_t *w = p + SHARED;
	for (size_t i = 0; i < SHARED && bad == NOMISMATCH; i++) {
		size_t o = i % pg;
		uint8_t want = 0;
		if (o < (size_t)nthreads * 8)
			want = (uint8_t)((o / 8) * 16 + o % 8 + 1);
		if (w[i] != want)
			bad = i;
	}
	check(bad == NOMISMATCH, "%d threads writing into the same pages at once: every byte right", nthreads);
	check(bad_slice == 0, "each thread's own slice kept its pattern (seen by the thread)");
	bool slices = true;
	for (int t = 0; t < nthreads; t++)
		if (find_pat_mismatch(p + 2 * SHARED + (size_t)t * SLICE, SLICE, 0, 100 + (unsigned)t) != NOMISMATCH)
			slices = false;
	check(slices, "each slice kept its pattern (seen by the main thread)");
	size_t rest = LEN - 2 * SHARED - (size_t)nthreads * SLICE;
	check(find_nonzero(p + 2 * SHARED + (size_t)nthreads * SLICE, rest) == NOMISMATCH,
	      "memory no thread touched reads zeros");
	return finish("threads");
}
