/* `delay`: a delayed rule's faults wait, the other rules' faults do not
 * (test_poison.py).
 *
 *   poison_delay SLOW_MIB FAST_MIB DELAY_MS NSLOW
 *
 * Maps a SLOW_MIB MiB region (first) and a FAST_MIB MiB region (second),
 * both anonymous; the test's rules give the first a `delay = DELAY_MS ms`
 * rule and the second a plain `zero` rule.  A thread reads NSLOW pages of
 * the slow region, 256 KiB apart (each its own fault), timing each read.
 * Meanwhile the main thread reads pages of the fast region, 256 KiB apart,
 * timing each and noting whether a slow read was pending all through it.
 *
 * Checks (timings are printed as "info:" lines, for the log only):
 *   - every slow read took at least DELAY_MS;
 *   - at least 8 fast reads ran entirely while a slow read was pending;
 *   - every fast read took less than DELAY_MS / 2 (not held by the delay);
 *   - every byte read was zero.
 * With DELAY_MS = 0 (a native run) only the last holds meaning.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "lftest.h"

#define STRIDE (256 * KiB)

static volatile uint8_t *slow, *fast;
static size_t nslow;
static _Atomic int slow_pending, slow_done, slow_started;
static double slow_ms[4096];
static _Atomic int nonzero;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *slow_reader(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < nslow; i++) {
		atomic_store(&slow_pending, 1);
		atomic_store(&slow_started, 1);
		double t0 = now_ms();
		uint8_t v = slow[i * STRIDE + 7];
		slow_ms[i] = now_ms() - t0;
		atomic_store(&slow_pending, 0);
		if (v)
			atomic_store(&nonzero, 1);
		/* Leave the fast reader a moment without a pending slow read,
		 * then block again. */
		struct timespec gap = {0, 200 * 1000};
		nanosleep(&gap, NULL);
	}
	atomic_store(&slow_done, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s SLOW_MIB FAST_MIB DELAY_MS NSLOW\n", argv[0]);
		return 2;
	}
	size_t slow_len = strtoul(argv[1], NULL, 0) * MiB, fast_len = strtoul(argv[2], NULL, 0) * MiB;
	double delay = strtod(argv[3], NULL);
	nslow = strtoul(argv[4], NULL, 0);
	if (nslow > slow_len / STRIDE || nslow > 4096)
		die("NSLOW too big for the slow region");
	slow = map_anon(slow_len);
	fast = map_anon(fast_len);
	size_t nfast = fast_len / STRIDE;

	pthread_t t;
	if (pthread_create(&t, NULL, slow_reader, NULL))
		die("pthread_create");
	while (!atomic_load(&slow_started)) {
		struct timespec nap = {0, 50 * 1000};
		nanosleep(&nap, NULL);
	}
	double fast_max = 0;
	size_t overlapped = 0, done = 0;
	for (size_t i = 0; i < nfast && !atomic_load(&slow_done); i++) {
		int before = atomic_load(&slow_pending);
		double t0 = now_ms();
		uint8_t v = fast[i * STRIDE + 11];
		double ms = now_ms() - t0;
		int after = atomic_load(&slow_pending);
		if (v)
			atomic_store(&nonzero, 1);
		if (ms > fast_max)
			fast_max = ms;
		if (ms >= delay / 2 && delay > 0)
			printf("info: fast read %zu took %.3f ms (slow read pending before: %d, "
			       "after: %d)\n", i, ms, before, after);
		if (before && after)
			overlapped++;
		done++;
		/* Spread the fast reads over the slow ones. */
		struct timespec gap = {0, 300 * 1000};
		nanosleep(&gap, NULL);
	}
	pthread_join(t, NULL);

	double slow_min = 1e9;
	for (size_t i = 0; i < nslow; i++)
		if (slow_ms[i] < slow_min)
			slow_min = slow_ms[i];
	printf("info: slow reads %zu, shortest %.3f ms; fast reads %zu, %zu while a slow read "
	       "was pending, longest %.3f ms\n", nslow, slow_min, done, overlapped, fast_max);
	check(!atomic_load(&nonzero), "every byte read was zero");
	if (delay > 0) {
		check(slow_min >= delay, "every read of the delayed region took at least %g ms", delay);
		check(overlapped >= 8, "at least 8 fast reads ran while a delayed fault was pending");
		check(fast_max < delay / 2, "every read of the other region took less than %g ms",
		      delay / 2);
	}
	return finish("poison_delay");
}
