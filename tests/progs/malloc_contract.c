/* glibc's contract of the malloc family, on blocks on both sides of every
 * threshold a `malloc` rule may have (the tests run it with min_size = 1M,
 * 64K and 1): blocks the rule serves and blocks it hands on to glibc must
 * behave exactly alike, and exactly as glibc 2.36's do natively.
 *
 *  - malloc: usable size >= requested, writable to its end, bytes kept;
 *  - calloc zeroed, also right after a dirty block of the same size was
 *    freed (the memory reused), also with count*size split differently;
 *  - realloc keeps the bytes both ways across the thresholds
 *    (small -> large -> larger -> small -> ...), realloc(p, 0) frees and
 *    returns NULL, realloc(NULL, n) is malloc(n), reallocarray;
 *  - posix_memalign / aligned_alloc / memalign with every power-of-two
 *    alignment from 16 to 2 MiB; non-powers of two: EINVAL (posix_memalign)
 *    or whatever glibc does (memalign rounds up; the outcome is printed so
 *    that the native run decides); valloc/pvalloc page aligned;
 *  - free keeps errno, free(NULL) is a no-op;
 *  - overflow: calloc/reallocarray -> NULL + ENOMEM; malloc(SIZE_MAX/2),
 *    realloc(p, SIZE_MAX/2), aligned allocations of SIZE_MAX/2 -> NULL +
 *    ENOMEM, the old block intact; posix_memalign leaves *memptr alone;
 *  - glibc's own blocks (through __libc_malloc / __libc_memalign, as if
 *    allocated before the library initialised, and page-aligned memalign'd
 *    blocks below the threshold) freed, realloc'd and measured correctly;
 *  - many blocks alive at once across the threshold, freed in a shuffled
 *    order, every one keeping its own bytes.
 *
 *   malloc_contract [SECTION...]   (malloc calloc realloc aligned odd errors
 *                                   foreign many; default: all)
 *
 * Output lines never hold addresses or usable sizes (those differ between
 * glibc and a served block): only what the contract fixes.
 */
#include <malloc.h>

#include "lftest.h"

/* glibc's own entry points: blocks the library never saw allocated. */
extern void *__libc_malloc(size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void __libc_free(void *);

/* Sizes, opaque to the compiler (no -Walloc-size-larger-than, no folding). */
static volatile size_t vhuge = SIZE_MAX / 2;
static volatile size_t vmax = SIZE_MAX;
/* Called through pointers where the old block is used after a failure
 * (gcc's -Wuse-after-free cannot know the call failed). */
static void *(*volatile realloc_f)(void *, size_t) = realloc;
static void *(*volatile reallocarray_f)(void *, size_t, size_t) = reallocarray;

static const size_t sizes[] = {
	1, 24, 100, 4096, 4097, 60 * KiB, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 200 * KiB,
	1 * MiB - 1, 1 * MiB, 1 * MiB + 1, 3 * MiB + 5, 16 * MiB,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* Write every byte of [p, p+n) with the pattern and check it (n bytes). */
static bool fill_check(void *p, size_t n, unsigned seed)
{
	fill_pat(p, n, 0, seed);
	return find_pat_mismatch(p, n, 0, seed) == NOMISMATCH;
}

/* A block of n bytes: usable >= n, writable to the end of its usable size,
 * then the first n bytes still hold their pattern. */
static bool usable_ok(void *p, size_t n, unsigned seed)
{
	size_t u = malloc_usable_size(p);
	if (u < n)
		return false;
	fill_pat(p, n, 0, seed);
	memset((char *)p + n, 0x5a, u - n);
	const uint8_t *b = p;
	for (size_t i = n; i < u; i++)
		if (b[i] != 0x5a)
			return false;
	return find_pat_mismatch(p, n, 0, seed) == NOMISMATCH;
}

static void test_malloc(void)
{
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		uint8_t *p = malloc(n);
		check(p != NULL, "malloc(%zu) succeeds", n);
		if (!p)
			continue;
		check(((uintptr_t)p & 15) == 0, "malloc(%zu) is 16-byte aligned", n);
		check(usable_ok(p, n, 1 + (unsigned)i),
		      "malloc(%zu): usable size >= requested, writable to its end, bytes kept", n);
		free(p);
	}
	errno = 0;
	void *z = malloc(0);
	check(z != NULL && errno == 0, "malloc(0) gives a unique pointer (glibc)");
	free(z);
}

static void test_calloc(void)
{
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		uint8_t *p = calloc(n, 1);
		check(p && find_nonzero(p, n) == NOMISMATCH, "calloc(%zu, 1) reads zeros", n);
		/* usable part beyond n: calloc zeroes what it hands out only;
		 * just check it is writable */
		if (p)
			check(usable_ok(p, n, 2), "calloc(%zu, 1): writable to the end of its usable size", n);
		free(p);
		if (n >= 8) {
			p = calloc(n / 8, 8);
			check(p && find_nonzero(p, n / 8 * 8) == NOMISMATCH, "calloc(%zu, 8) reads zeros",
			      n / 8);
			free(p);
		}
		/* A dirty block of the same size, freed, then calloc: whatever
		 * memory comes back must read zeros (three rounds, so that both
		 * glibc's reuse and a fresh mapping are seen). */
		bool ok = true;
		for (int round = 0; round < 2; round++) {
			uint8_t *d = malloc(n);
			if (!d) {
				ok = false;
				break;
			}
			memset(d, 0xa5, n);
			free(d);
			uint8_t *c = calloc(1, n);
			if (!c || find_nonzero(c, n) != NOMISMATCH)
				ok = false;
			/* dirty it too: the next round's calloc may get it */
			if (c)
				memset(c, 0x3c, n);
			free(c);
		}
		check(ok, "calloc(1, %zu) right after free of a dirty block of that size reads zeros", n);
	}
	/* Dirty blocks of the same size alive together, then all freed, then
	 * as many callocs: each must read zeros. */
	bool ok = true;
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		uint8_t *d[4];
		for (int k = 0; k < 4; k++) {
			d[k] = malloc(n);
			if (d[k])
				memset(d[k], 0xff, n);
		}
		for (int k = 0; k < 4; k++)
			free(d[k]);
		for (int k = 0; k < 4; k++) {
			d[k] = calloc(n, 1);
			if (!d[k] || find_nonzero(d[k], n) != NOMISMATCH)
				ok = false;
		}
		for (int k = 0; k < 4; k++)
			free(d[k]);
	}
	check(ok, "calloc after frees of four dirty blocks of each size reads zeros");
	errno = 0;
	void *z = calloc(0, 16);
	check(z != NULL, "calloc(0, 16) gives a unique pointer (glibc)");
	free(z);
}

/* realloc p (holding `have` bytes of pattern seed) to n; checks that the
 * first min(have, n) bytes survived, then fills the whole block. */
static uint8_t *realloc_step(uint8_t *p, size_t have, size_t n, unsigned seed, const char *what)
{
	uint8_t *q = realloc(p, n);
	if (!check(q != NULL, "%s: realloc %zu -> %zu succeeds", what, have, n))
		return p;
	size_t keep = have < n ? have : n;
	size_t m = find_pat_mismatch(q, keep, 0, seed);
	check(m == NOMISMATCH, "%s: realloc %zu -> %zu keeps the first %zu bytes", what, have, n, keep);
	if (m != NOMISMATCH)
		printf("   first mismatch at %zu\n", m);
	check(malloc_usable_size(q) >= n, "%s: usable size after realloc to %zu >= %zu", what, n, n);
	fill_pat(q, n, 0, seed);
	return q;
}

static void realloc_chain(const char *what, const size_t *chain, size_t len, unsigned seed)
{
	uint8_t *p = malloc(chain[0]);
	if (!p)
		die("malloc");
	fill_pat(p, chain[0], 0, seed);
	for (size_t i = 1; i < len; i++)
		p = realloc_step(p, chain[i - 1], chain[i], seed, what);
	free(p);
}

static void test_realloc(void)
{
	static const size_t up_down[] = {100, 200 * KiB, 2 * MiB, 40 * MiB, 3 * MiB, 100, 64 * KiB + 3,
					 1 * MiB, 1 * MiB - 1, 5 * MiB + 7, 24};
	realloc_chain("small->large->larger->small", up_down, sizeof up_down / sizeof up_down[0], 11);
	static const size_t from_big[] = {4 * MiB, 8 * MiB, 8 * MiB + 1, 8 * MiB - 4095, 200 * KiB,
					  64, 5 * MiB, 5 * MiB, 1 * MiB, 1 * MiB + 4096, 16};
	realloc_chain("large->larger->small->large", from_big, sizeof from_big / sizeof from_big[0], 12);
	static const size_t around[] = {1 * MiB - 1, 1 * MiB, 1 * MiB + 1, 1 * MiB - 1,
					64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 64 * KiB - 1, 1, 4096, 4097, 1};
	realloc_chain("around the thresholds", around, sizeof around / sizeof around[0], 13);

	/* realloc(p, 0): glibc frees p and returns NULL (errno untouched). */
	for (size_t i = 0; i < NSIZES; i++) {
		void *p = malloc(sizes[i]);
		memset(p, 1, sizes[i]);
		errno = 0;
		void *q = realloc(p, 0);
		check(q == NULL && errno == 0, "realloc(malloc(%zu), 0) frees and returns NULL", sizes[i]);
		free(q);
	}
	/* realloc(NULL, n) is malloc(n). */
	for (size_t i = 0; i < NSIZES; i++) {
		uint8_t *p = realloc(NULL, sizes[i]);
		check(p && usable_ok(p, sizes[i], 21), "realloc(NULL, %zu) is malloc(%zu)", sizes[i],
		      sizes[i]);
		free(p);
	}
	errno = 0;
	void *z = realloc(NULL, 0);
	check(z != NULL && errno == 0, "realloc(NULL, 0) is malloc(0)");
	free(z);
	/* reallocarray */
	uint8_t *a = reallocarray(NULL, 1000, 1000);
	check(a && usable_ok(a, 1000000, 22), "reallocarray(NULL, 1000, 1000) allocates");
	a = reallocarray(a, 3000, 1000);
	check(a && find_pat_mismatch(a, 1000000, 0, 22) == NOMISMATCH,
	      "reallocarray(p, 3000, 1000) keeps the bytes");
	a = reallocarray(a, 10, 10);
	check(a && find_pat_mismatch(a, 100, 0, 22) == NOMISMATCH, "reallocarray(p, 10, 10) keeps the bytes");
	free(a);
}

static bool aligned_to(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

static size_t next_pow2(size_t a)
{
	size_t p = 1;
	while (p < a)
		p <<= 1;
	return p;
}

static void test_aligned(void)
{
	static const size_t asizes[] = {1, 100, 4096, 200 * KiB, 1 * MiB - 1, 1 * MiB, 2 * MiB + 1};
	for (size_t a = 16; a <= 2 * MiB; a <<= 1) {
		bool pm = true, aa = true, ma = true;
		for (size_t k = 0; k < sizeof asizes / sizeof asizes[0]; k++) {
			size_t n = asizes[k];
			void *p = (void *)1;
			int rc = posix_memalign(&p, a, n);
			if (rc || !aligned_to(p, a) || !usable_ok(p, n, 31))
				pm = false;
			if (!rc)
				free(p);
			p = aligned_alloc(a, n);
			if (!p || !aligned_to(p, a) || !usable_ok(p, n, 32))
				aa = false;
			free(p);
			p = memalign(a, n);
			if (!p || !aligned_to(p, a) || !usable_ok(p, n, 33))
				ma = false;
			free(p);
		}
		check(pm, "posix_memalign(%zu, n): aligned, usable, freed (n from 1 to 2M+1)", a);
		check(aa, "aligned_alloc(%zu, n): aligned, usable, freed (n from 1 to 2M+1)", a);
		check(ma, "memalign(%zu, n): aligned, usable, freed (n from 1 to 2M+1)", a);
	}
	errno = 0;
	void *p = memalign(SIZE_MAX / 2 + 2, 100);
	check(!p && errno == EINVAL, "memalign(SIZE_MAX/2+2, 100) -> NULL with EINVAL");
	/* valloc / pvalloc: page aligned; pvalloc rounds the size up. */
	size_t pg = (size_t)page_size();
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		p = valloc(n);
		check(p && aligned_to(p, pg) && usable_ok(p, n, 36), "valloc(%zu): page aligned, usable", n);
		free(p);
		p = pvalloc(n);
		check(p && aligned_to(p, pg) && usable_ok(p, lf_round_up(n), 37),
		      "pvalloc(%zu): page aligned, usable to the end of its last page", n);
		free(p);
	}
	p = pvalloc(0);
	check(p && aligned_to(p, pg), "pvalloc(0): page aligned");
	free(p);
}

/* Alignments below the pointer size or not a power of two. */
static void test_odd(void)
{
	void *p;
	/* Below the pointer size / not a power of two. */
	static const size_t bad[] = {0, 1, 4, 24, 48, 3 * MiB, 4096 + 8};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		size_t a = bad[k];
		p = (void *)0x1234;
		int rc = posix_memalign(&p, a, 2 * MiB);
		check(rc == EINVAL && p == (void *)0x1234,
		      "posix_memalign(%zu, 2M) fails with EINVAL, *memptr untouched", a);
		for (int big = 0; big < 2; big++) {
			size_t n = big ? 2 * MiB : 100;
			/* memalign: glibc rounds a non-power-of-two up (and
			 * anything below 16 to malloc's own alignment) */
			errno = 0;
			p = memalign(a, n);
			size_t want = next_pow2(a < 16 ? 16 : a);
			check(p && aligned_to(p, want) && usable_ok(p, n, 34),
			      "memalign(%zu, %zu): aligned to %zu, usable", a, n, want);
			free(p);
			/* aligned_alloc: the outcome is printed; the native run
			 * says what glibc does. */
			errno = 0;
			p = aligned_alloc(a, n);
			int e = errno;
			if (p) {
				check(aligned_to(p, want) && usable_ok(p, n, 35), "aligned_alloc(%zu, %zu): usable", a, n);
				printf("   aligned_alloc(%zu, %zu) -> a block aligned to %zu\n", a, n, want);
			} else {
				check(e == EINVAL, "aligned_alloc(%zu, %zu) -> NULL with EINVAL", a, n);
				printf("   aligned_alloc(%zu, %zu) -> NULL, errno %d\n", a, n, e);
			}
			free(p);
		}
	}
}

static void test_errors(void)
{
	/* free keeps errno */
	bool ok = true;
	for (size_t i = 0; i < NSIZES; i++) {
		void *p[4] = {malloc(sizes[i]), calloc(sizes[i], 1), memalign(4096, sizes[i]),
			      memalign(2 * MiB, sizes[i])};
		for (int k = 0; k < 4; k++) {
			errno = 1234;
			free(p[k]);
			if (errno != 1234)
				ok = false;
		}
	}
	check(ok, "free keeps errno (malloc, calloc, memalign 4K and 2M blocks of every size)");
	errno = 1234;
	free(NULL);
	check(errno == 1234, "free(NULL) is a no-op and keeps errno");
	errno = 1234;
	void *r = realloc(malloc(2 * MiB), 0);
	check(r == NULL && errno == 1234, "realloc(big, 0) keeps errno");

	/* overflow */
	size_t h = vhuge;
	errno = 0;
	void *p = calloc(h, 4);
	check(!p && errno == ENOMEM, "calloc(SIZE_MAX/2, 4) -> NULL, ENOMEM");
	errno = 0;
	p = calloc(4, h);
	check(!p && errno == ENOMEM, "calloc(4, SIZE_MAX/2) -> NULL, ENOMEM");
	errno = 0;
	p = calloc(h / 4, 2);
	check(!p && errno == ENOMEM, "calloc(SIZE_MAX/8, 2) (no overflow, too big) -> NULL, ENOMEM");
	errno = 0;
	p = reallocarray(NULL, h, 4);
	check(!p && errno == ENOMEM, "reallocarray(NULL, SIZE_MAX/2, 4) -> NULL, ENOMEM");
	for (int big = 0; big < 2; big++) {
		size_t n = big ? 2 * MiB : 100;
		uint8_t *b = malloc(n);
		fill_pat(b, n, 0, 41);
		errno = 0;
		p = reallocarray_f(b, h, 4);
		check(!p && errno == ENOMEM && find_pat_mismatch(b, n, 0, 41) == NOMISMATCH,
		      "reallocarray(malloc(%zu), SIZE_MAX/2, 4) -> NULL, ENOMEM, block intact", n);
		errno = 0;
		p = realloc_f(b, h);
		check(!p && errno == ENOMEM && find_pat_mismatch(b, n, 0, 41) == NOMISMATCH,
		      "realloc(malloc(%zu), SIZE_MAX/2) -> NULL, ENOMEM, block intact", n);
		errno = 0;
		p = realloc_f(b, vmax - 100);
		check(!p && errno == ENOMEM && find_pat_mismatch(b, n, 0, 41) == NOMISMATCH,
		      "realloc(malloc(%zu), SIZE_MAX-100) -> NULL, ENOMEM, block intact", n);
		free(b);
	}
	errno = 0;
	p = malloc(h);
	check(!p && errno == ENOMEM, "malloc(SIZE_MAX/2) -> NULL, ENOMEM");
	errno = 0;
	p = malloc(vmax);
	check(!p && errno == ENOMEM, "malloc(SIZE_MAX) -> NULL, ENOMEM");
	errno = 0;
	p = malloc(vmax - 4095);
	check(!p && errno == ENOMEM, "malloc(SIZE_MAX-4095) -> NULL, ENOMEM");
	errno = 0;
	p = aligned_alloc(4096, h);
	check(!p && errno == ENOMEM, "aligned_alloc(4096, SIZE_MAX/2) -> NULL, ENOMEM");
	errno = 0;
	p = memalign(2 * MiB, vmax - 4096);
	check(!p && errno == ENOMEM, "memalign(2M, SIZE_MAX-4096) -> NULL, ENOMEM");
	errno = 0;
	p = valloc(vmax);
	check(!p && errno == ENOMEM, "valloc(SIZE_MAX) -> NULL, ENOMEM");
	errno = 0;
	p = pvalloc(vmax);
	check(!p && errno == ENOMEM, "pvalloc(SIZE_MAX) -> NULL, ENOMEM");
	void *q = (void *)0x1234;
	int rc = posix_memalign(&q, 4096, h);
	check(rc == ENOMEM && q == (void *)0x1234, "posix_memalign(4096, SIZE_MAX/2) -> ENOMEM, *memptr untouched");
	q = (void *)0x1234;
	errno = 77;
	rc = posix_memalign(&q, 64, 3 * MiB);
	check(rc == 0 && q != (void *)0x1234 && aligned_to(q, 64), "posix_memalign(64, 3M) -> 0");
	free(q);
	/* malloc_usable_size(NULL) */
	check(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) == 0");
}

/* glibc's own blocks, allocated behind the library's back (as before it
 * initialised), and page-aligned glibc blocks below the threshold. */
static void test_foreign(void)
{
	enum { N = 64 };
	void *b[N];
	size_t n[N];
	for (int i = 0; i < N; i++) {
		switch (i % 4) {
		case 0: n[i] = 100 + (size_t)i; b[i] = __libc_malloc(n[i]); break;
		case 1: n[i] = 4096; b[i] = __libc_memalign(4096, n[i]); break;
		case 2: n[i] = 2 * MiB + (size_t)i; b[i] = __libc_memalign(4096, n[i]); break;
		default: n[i] = 3 * MiB; b[i] = __libc_valloc(n[i]); break;
		}
		if (!b[i])
			die("__libc allocation");
		fill_pat(b[i], n[i], 0, 50 + (unsigned)i);
	}
	bool us = true;
	for (int i = 0; i < N; i++)
		if (malloc_usable_size(b[i]) < n[i])
			us = false;
	check(us, "malloc_usable_size of glibc's own blocks >= requested");
	/* realloc half of them (some across the threshold), free the rest */
	bool ok = true;
	for (int i = 0; i < N; i++) {
		if (i % 8 < 4) {
			size_t m = i % 2 ? n[i] / 2 + 1 : n[i] * 3 + 5 * MiB;
			uint8_t *r = realloc(b[i], m);
			size_t keep = m < n[i] ? m : n[i];
			if (!r || find_pat_mismatch(r, keep, 0, 50 + (unsigned)i) != NOMISMATCH)
				ok = false;
			b[i] = r;
		}
	}
	check(ok, "realloc of glibc's own blocks (grown past the threshold, shrunk) keeps the bytes");
	ok = true;
	for (int i = 0; i < N; i++) {
		errno = 1234;
		free(b[i]);
		if (errno != 1234)
			ok = false;
	}
	check(ok, "free of glibc's own blocks (incl. page-aligned ones) works and keeps errno");

	/* memalign(4096, 4096) blocks through the library, below the
	 * threshold: page aligned glibc blocks that free must hand on. */
	void *m[200];
	for (int i = 0; i < 200; i++) {
		m[i] = i % 3 == 0 ? memalign(4096, 4096) : i % 3 == 1 ? valloc(8192) : aligned_alloc(4096, 12288);
		if (!m[i] || !aligned_to(m[i], 4096))
			die("memalign 4096");
		fill_pat(m[i], 4096, 0, 60 + (unsigned)i);
	}
	ok = true;
	for (int i = 0; i < 200; i += 2) {
		if (find_pat_mismatch(m[i], 4096, 0, 60 + (unsigned)i) != NOMISMATCH)
			ok = false;
		free(m[i]);
	}
	/* interleave with served blocks and glibc blocks */
	void *big = malloc(8 * MiB), *small = malloc(333);
	fill_pat(big, 8 * MiB, 0, 70);
	for (int i = 1; i < 200; i += 2) {
		if (find_pat_mismatch(m[i], 4096, 0, 60 + (unsigned)i) != NOMISMATCH)
			ok = false;
		free(m[i]);
	}
	if (find_pat_mismatch(big, 8 * MiB, 0, 70) != NOMISMATCH)
		ok = false;
	free(big);
	free(small);
	check(ok, "page-aligned glibc blocks (memalign(4096, 4096), valloc, aligned_alloc) freed correctly");
	/* glibc's heap is still sound: allocate and check again */
	void *again[50];
	ok = true;
	for (int i = 0; i < 50; i++) {
		again[i] = memalign(4096, 4096);
		if (!again[i] || !fill_check(again[i], 4096, 80 + (unsigned)i))
			ok = false;
	}
	for (int i = 0; i < 50; i++)
		free(again[i]);
	check(ok, "glibc's heap sound after those frees");
}

/* Many blocks alive at once on both sides of the threshold; each touched
 * at its first and last pages with its own pattern; freed in a shuffled
 * order, with allocations in between. */
static void test_many(void)
{
	enum { N = 800 };
	static uint8_t *b[N];
	static size_t n[N];
	uint64_t x = 88172645463325252ULL;
	size_t pg = (size_t)page_size();
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
	for (int i = 0; i < N; i++) {
		n[i] = i % 3 ? (size_t)(RND() % (3 * MiB)) + 1 : (size_t)(RND() % (64 * KiB)) + 1;
		b[i] = malloc(n[i]);
		if (!b[i])
			die("malloc many");
		size_t head = n[i] < pg ? n[i] : pg;
		fill_pat(b[i], head, 0, (unsigned)i);
		fill_pat(b[i] + n[i] - head, head, n[i] - head, (unsigned)i);
	}
	bool ok = true;
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < N / 2; k++) {
			int i = (int)(RND() % N);
			size_t head = n[i] < pg ? n[i] : pg;
			if (find_pat_mismatch(b[i], head, 0, (unsigned)i) != NOMISMATCH ||
			    find_pat_mismatch(b[i] + n[i] - head, head, n[i] - head, (unsigned)i) != NOMISMATCH)
				ok = false;
			free(b[i]);
			n[i] = (size_t)(RND() % (3 * MiB)) + 1;
			b[i] = RND() % 4 ? malloc(n[i]) : calloc(1, n[i]);
			if (!b[i])
				die("malloc many");
			head = n[i] < pg ? n[i] : pg;
			fill_pat(b[i], head, 0, (unsigned)i);
			fill_pat(b[i] + n[i] - head, head, n[i] - head, (unsigned)i);
		}
	}
	for (int i = 0; i < N; i++) {
		size_t head = n[i] < pg ? n[i] : pg;
		if (find_pat_mismatch(b[i], head, 0, (unsigned)i) != NOMISMATCH ||
		    find_pat_mismatch(b[i] + n[i] - head, head, n[i] - head, (unsigned)i) != NOMISMATCH)
			ok = false;
		free(b[i]);
	}
	check(ok, "%d blocks alive at once across the thresholds, freed in shuffled order, keep their bytes", N);
#undef RND
}

static const struct {
	const char *name;
	void (*fn)(void);
} sections[] = {
	{"malloc", test_malloc}, {"calloc", test_calloc}, {"realloc", test_realloc},
	{"aligned", test_aligned}, {"odd", test_odd}, {"errors", test_errors},
	{"foreign", test_foreign}, {"many", test_many},
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
		bool run = argc < 2;
		for (int a = 1; a < argc; a++)
			run |= !strcmp(argv[a], sections[i].name);
		if (run)
			sections[i].fn();
	}
	return finish("malloc_contract");
}
