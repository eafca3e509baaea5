/* Threads faulting private file mappings at once: N threads (8 unless told)
 * start together (barrier) and
 *  - all read the same pages of a read-only mapping (in different orders),
 *  - each reads a slice of its own of that mapping,
 *  - all read the same pages of a read-write mapping,
 *  - each writes (first touch) one page in two of its own slice of the
 *    read-write mapping and reads the others;
 * then every byte is checked: the file's bytes, and the writes.  Threads
 * never print (the order would vary); main reports each thread in turn.
 *
 *   file_threads DIR [N]      (creates its file in DIR)
 */
#include <pthread.h>

#include "file_util.h"

#define SEED 15
#define FSZ (32 * MiB)
#define SHARED (2 * MiB)          /* [0, 2M) of both mappings: read by all */
#define OWN_RO (1 * MiB)          /* ro: [2M + t*1M, ...) per thread */
#define OWN_RW (2 * MiB)          /* rw: [4M + t*2M, ...) per thread */

static uint8_t *ro, *rw;
static size_t pg;
static int nthreads;
static pthread_barrier_t bar;

struct result {
	int t;
	size_t bad_shared_ro, bad_own_ro, bad_shared_rw, bad_own_rw;
};

static size_t bad_pages(const uint8_t *p, size_t off, size_t len)
{
	size_t bad = 0;
	for (size_t o = 0; o < len; o += pg)
		if (find_file_mismatch(p + off + o, pg, off + o, FSZ, SEED) != NOMISMATCH)
			bad++;
	return bad;
}

static void *worker(void *arg)
{
	struct result *r = arg;
	int t = r->t;
	size_t npages = SHARED / pg;
	volatile uint8_t *v = ro;
	unsigned long sum = 0;
	pthread_barrier_wait(&bar);
	/* Same pages, each thread in its own order: a byte per page first. */
	for (size_t i = 0; i < npages; i++) {
		size_t k = t & 1 ? npages - 1 - i : (i * (2 * (size_t)t + 1) + (size_t)t * 7) % npages;
		sum += v[k * pg + (size_t)t];
	}
	/* Own slice of the read-only mapping, from its middle outwards. */
	size_t own = SHARED + (size_t)t * OWN_RO, half = OWN_RO / 2;
	for (size_t o = 0; o < half; o += pg)
		sum += v[own + half + o] + v[own + half - pg - o];
	/* Same pages of the read-write mapping, read. */
	volatile uint8_t *w = rw;
	for (size_t o = 0; o < SHARED; o += pg)
		sum += w[(t & 1 ? SHARED - pg - o : o) + 5];
	/* Own slice of the read-write mapping: odd pages written first. */
	size_t mine = 2 * SHARED + (size_t)t * OWN_RW;
	for (size_t o = pg; o < OWN_RW; o += 2 * pg)
		fill_pat(rw + mine + o, pg, mine + o, 100 + (unsigned)t);
	for (size_t o = 0; o < OWN_RW; o += 2 * pg)
		sum += w[mine + o];
	(void)sum;
	pthread_barrier_wait(&bar);
	/* Check everything this thread looked at, whole pages. */
	r->bad_shared_ro = bad_pages(ro, 0, SHARED);
	r->bad_own_ro = bad_pages(ro, own, OWN_RO);
	r->bad_shared_rw = bad_pages(rw, 0, SHARED);
	for (size_t o = 0; o < OWN_RW; o += pg) {
		bool ok = o / pg % 2 ? find_pat_mismatch(rw + mine + o, pg, mine + o, 100 + (unsigned)t) == NOMISMATCH
				     : find_file_mismatch(rw + mine + o, pg, mine + o, FSZ, SEED) == NOMISMATCH;
		if (!ok)
			r->bad_own_rw++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_threads DIR [N]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(50, "file_threads");
	pg = (size_t)page_size();
	nthreads = argc > 2 ? atoi(argv[2]) : 8;
	if (nthreads < 1 || nthreads > 12)
		nthreads = 8;
	char path[4096];
	int fd = make_file(argv[1], "threads.dat", FSZ, SEED, path, sizeof path);
	ro = map_file(NULL, FSZ, PROT_READ, MAP_PRIVATE, fd, 0);
	rw = map_file(NULL, FSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	pthread_t th[16];
	struct result res[16];
	memset(res, 0, sizeof res);
	for (int t = 0; t < nthreads; t++) {
		res[t].t = t;
		if (pthread_create(&th[t], NULL, worker, &res[t]))
			die("pthread_create");
	}
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < nthreads; t++) {
		struct result *r = &res[t];
		check(!r->bad_shared_ro && !r->bad_own_ro && !r->bad_shared_rw && !r->bad_own_rw,
		      "thread %d: shared and own pages of both mappings hold the right bytes", t);
		if (r->bad_shared_ro || r->bad_own_ro || r->bad_shared_rw || r->bad_own_rw)
			printf("   bad pages: shared ro %zu, own ro %zu, shared rw %zu, own rw %zu\n",
			       r->bad_shared_ro, r->bad_own_ro, r->bad_shared_rw, r->bad_own_rw);
	}
	check_file_range(ro, FSZ, 0, FSZ, SEED, "main: the whole read-only mapping is the file's bytes");
	check(file_unchanged(fd, FSZ, SEED), "the file is unchanged");
	close(fd);
	watchdog(0, "");
	return finish("file_threads");
}
