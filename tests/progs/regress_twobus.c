/* Regression: several threads touch poisoned pages at the same moment, so
 * that several SIGBUS kill the process at once: the library's statistics
 * file must still be written whole.  Natively (no poison) every page reads
 * zeros and the program passes; under a poison rule it dies of SIGBUS.
 *
 *     regress_twobus
 */
#include <pthread.h>

#include "lftest.h"

#define NTHREADS 8

static volatile uint8_t *p;
static pthread_barrier_t bar;

static void *touch(void *a)
{
	pthread_barrier_wait(&bar);
	return (void *)(uintptr_t)p[(uintptr_t)a * 4096];
}

int main(void)
{
	p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	pthread_barrier_init(&bar, NULL, NTHREADS);
	pthread_t th[NTHREADS];
	for (uintptr_t i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, touch, (void *)(i + 1)))
			die("pthread_create");
	int nonzero = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		if (r)
			nonzero++;
	}
	check(nonzero == 0, "%d threads read their page at once: zeros (%d not)", NTHREADS, nonzero);
	return finish("regress_twobus");
}
