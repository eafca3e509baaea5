/* fork while other threads are faulting: 4 threads keep writing fresh
 * pages (each page gets its own byte value, written whole) while the main
 * thread forks 6 times.  Each child checks that every page of the mapping
 * is either all zeros or carries exactly the value of its page (a page
 * the fork caught half-written by a thread is allowed only as a prefix of
 * that value followed by zeros), then reads and writes pages nobody
 * touched, and exits.  No deadlock, no wrong byte, in parent or child.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "lftest.h"

#define THREADS 4
#define PER_THREAD (16 * MiB)
#define SPARE (8 * MiB) /* never touched by the threads: for the children */
#define LEN (THREADS * PER_THREAD + SPARE)
#define FORKS 6

static uint8_t *p;
static _Atomic int stop, bad;

static uint8_t page_value(size_t off) { return (uint8_t)((off / (size_t)page_size()) * 131 % 255 + 1); }

/* Each thread fills fresh pages of its part, one whole page at a time,
 * until told to stop (or its part is full): faults all along the forks. */
static void *writer(void *arg)
{
	int t = (int)(intptr_t)arg;
	size_t pg = (size_t)page_size();
	size_t base = (size_t)t * PER_THREAD, i;
	for (i = 0; i < PER_THREAD && !stop; i += pg) {
		memset(p + base + i, page_value(base + i), pg);
		if ((i / pg) % 64 == 0)
			usleep(4000);
	}
	for (size_t j = 0; j < i; j += pg) {
		uint8_t v = page_value(base + j);
		for (size_t k = 0; k < pg; k++)
			if (p[base + j + k] != v) {
				bad++;
				break;
			}
	}
	return NULL;
}

/* A page is zeros, its whole value, or a prefix of its value then zeros. */
static bool page_ok(size_t off)
{
	size_t pg = (size_t)page_size(), k = 0;
	uint8_t v = page_value(off);
	uint64_t w = v * 0x0101010101010101ULL;
	while (k < pg && *(uint64_t *)(p + off + k) == w)
		k += 8;
	while (k < pg && p[off + k] == v)
		k++;
	return find_nonzero(p + off + k, pg - k) == NOMISMATCH;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	size_t pg = (size_t)page_size();
	p = map_anon(LEN);
	/* Natively, huge pages make every fork here copy 2 MiB at a time: slow. */
	madvise(p, LEN, MADV_NOHUGEPAGE);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
	int child_fail = 0;
	for (int k = 0; k < FORKS; k++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int badp = 0;
			for (size_t off = 0; off < THREADS * PER_THREAD; off += pg)
				if (!page_ok(off))
					badp++;
			uint8_t *sp = p + THREADS * PER_THREAD + (size_t)k * (SPARE / FORKS / pg) * pg;
			if (find_nonzero(sp, SPARE / FORKS / pg * pg) != NOMISMATCH)
				badp++;
			fill_pat(sp, pg, 0, 9);
			if (find_pat_mismatch(sp, pg, 0, 9) != NOMISMATCH)
				badp++;
			_exit(badp ? 1 : 0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			child_fail++;
	}
	stop = 1;
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	check(child_fail == 0, "%d children forked while %d threads wrote: each saw whole pages or zeros", FORKS,
	      THREADS);
	check(bad == 0, "the writing threads' pages are intact in the parent");
	check(find_nonzero(p + THREADS * PER_THREAD, SPARE) == NOMISMATCH, "the parent's spare pages read zeros");
	return finish("forkthreads");
}
