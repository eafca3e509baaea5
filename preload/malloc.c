/* The malloc family.  glibc's malloc maps its large chunks with internal
 * calls that our mmap wrapper never sees, so the library replaces the whole
 * family: a block that a `malloc` rule takes gets a mapping of its own,
 * registered and served like any region; everything else goes to glibc
 * (__libc_malloc and friends), untouched.
 *
 * Invariants:
 *  - Block metadata lives in a table apart from the data (blocks.c), never
 *    in a header before the block, so that untouched pages stay untouched.
 *  - Served blocks are page aligned, glibc's blocks never are (their user
 *    pointer is 16 bytes into a chunk) except from memalign: so free() looks
 *    up only page-aligned pointers, and the common case costs one test.
 *  - The helpers never allocate (I1).
 *  - Before initialisation and inside the library (lf_busy) every call goes
 *    to glibc (I2).
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "blocks.h"
#include "lf.h"
#include "fail.h"

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

/* ---- served blocks -------------------------------------------------- */

/* Requests below this go straight to glibc: 0 until the library knows
 * (the slow path then initialises it), then the smallest min_size of the
 * malloc rules, or SIZE_MAX when the library is off or has none. */
static size_t threshold = 0;

static void set_threshold(void)
{
	size_t m = SIZE_MAX;
	if (lf_active())
		for (size_t i = 0; i < lf.rules.nrules; i++)
			if (lf.rules.rule[i].match == LF_MATCH_MALLOC && lf.rules.rule[i].min_size < m)
				m = lf.rules.rule[i].min_size;
	__atomic_store_n(&threshold, m ? m : 1, __ATOMIC_RELAXED);
}

/* Map, register and record a served block (mm lock held). */
static void *map_block(int rule, uint64_t number, size_t len, size_t slack, size_t align,
		       bool zeroed, bool *failed)
{
	void *result = NULL;
	/* Accounted as glibc's own mapping would be (no MAP_NORESERVE): a
	 * request the kernel's overcommit policy refuses fails here with
	 * ENOMEM, as it does natively, instead of succeeding and ending in
	 * the OOM killer once touched. */
	char *map = lf_real_mmap(NULL, len + slack, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		*failed = true;
		goto out;
	}
	uintptr_t p = (uintptr_t)map;
	if (slack) { /* keep the aligned part, give the rest back */
		p = (p + align - 1) & ~(uintptr_t)(align - 1);
		if (p > (uintptr_t)map)
			lf_real_munmap(map, p - (uintptr_t)map);
		if ((uintptr_t)map + len + slack > p + len)
			lf_real_munmap((void *)(p + len), (uintptr_t)map + len + slack - (p + len));
	}
	const struct lf_rule_rt *rt = &lf.rt[rule];
	bool load = rt->source_fd >= 0 && !zeroed; /* calloc's zeros win */
	if (!lf_take_region(p, len, rule, number, LF_MATCH_MALLOC, load ? LF_SRC_FILE : LF_SRC_ZERO,
			    rt->source_fd, rt->rule->source_offset, NULL,
			    PROT_READ | PROT_WRITE) && load) {
		/* Unserved, it would read zeros where the source was wanted. */
		lf_real_munmap((void *)p, len);
		goto out;
	}
	if (lf_blocks_put(p, p, len) < 0) {
		lf_regions_remove(p, p + len);
		lf_real_munmap((void *)p, len);
		goto out;
	}
	result = (void *)p;
out:
	return result;
}

/* A served block of `size` bytes aligned to `align`, or NULL when no rule
 * takes it (the caller then asks glibc).  *failed: a rule took it but the
 * memory could not be had, or a fail rule fails it (errno ENOMEM); `call`
 * names the function for the log. */
static void *serve_block(size_t size, size_t align, bool zeroed, bool *failed, const char *call)
{
	*failed = false;
	if (size < __atomic_load_n(&threshold, __ATOMIC_RELAXED) || lf_busy)
		return NULL;
	if (!__atomic_load_n(&threshold, __ATOMIC_RELAXED)) {
		set_threshold();
		if (size < threshold)
			return NULL;
	}
	if (!lf_active())
		return NULL;
	lf_busy++;
	void *result = NULL;
	uint64_t number;
	int rule = lf_match_region(LF_MATCH_MALLOC, size, NULL, false, &number);
	if (rule < 0)
		goto out;
	if (lf.rules.rule[rule].action == LF_ACTION_FAIL) {
		lf_fail_report(rule, number, call, size);
		*failed = true;
		goto out;
	}
	size_t len = lf_page_up(size ? size : 1);
	if (len < size || align > (SIZE_MAX - len) / 2) {
		*failed = true;
		goto out;
	}
	size_t slack = align > LF_PAGE ? align : 0;
	lf_mm_lock();
	result = map_block(rule, number, len, slack, align, zeroed, failed);
	lf_mm_unlock();
out:
	lf_busy--;
	return result;
}

/* Give a served block back: out of the table first, then unmapped (see
 * munmap in wrap_mmap.c). */
static void release_block(const struct lf_block *b)
{
	lf_mm_lock();
	lf_regions_remove(b->map, b->map + b->maplen);
	lf_real_munmap((void *)b->map, b->maplen);
	lf_mm_unlock();
}

static size_t usable(const struct lf_block *b) { return b->map + b->maplen - b->ptr; }

/* ---- the family ----------------------------------------------------- */

/* The fast path of every call: a size no rule can take goes straight to
 * glibc, with one comparison (threshold is SIZE_MAX when no rule can). */
static inline bool small(size_t n)
{
	return __builtin_expect(n < __atomic_load_n(&threshold, __ATOMIC_RELAXED), 1);
}

LF_API void *malloc(size_t n)
{
	if (small(n))
		return __libc_malloc(n);
	bool failed;
	void *p = serve_block(n, 0, false, &failed, "malloc");
	if (p)
		return p;
	if (failed) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

static __attribute__((noinline)) void free_slow(void *p);

LF_API void free(void *p)
{
	if (!lf_blocks_maybe(p)) {
		__libc_free(p);
		return;
	}
	free_slow(p);
}

/* A page-aligned pointer while served blocks exist: ours, or glibc's. */
static void free_slow(void *p)
{
	int saved = errno; /* free keeps errno (POSIX 2024, glibc) */
	struct lf_block b;
	if (lf_blocks_get((uintptr_t)p, &b, true))
		release_block(&b);
	else
		__libc_free(p);
	errno = saved;
}

LF_API void *calloc(size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (small(total))
		return __libc_calloc(n, size);
	bool failed;
	void *p = serve_block(total, 0, true, &failed, "calloc"); /* fresh mapping: zeros */
	if (p)
		return p;
	if (failed) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}

static size_t usable_of(void *p);

LF_API void *realloc(void *p, size_t n)
{
	if (!lf_blocks_maybe(p) && small(n))
		return __libc_realloc(p, n); /* also realloc(NULL, n) and (p, 0) */
	if (!p)
		return malloc(n);
	if (n == 0) { /* glibc: realloc(p, 0) frees and returns NULL */
		free(p);
		return NULL;
	}
	struct lf_block b;
	if (lf_blocks_maybe(p) && lf_blocks_get((uintptr_t)p, &b, false)) {
		size_t have = usable(&b);
		size_t want = lf_page_up(n);
		if (want < n) {
			errno = ENOMEM;
			return NULL;
		}
		if (want == b.maplen)
			return p;
		/* Grow or shrink the mapping; pages never touched stay so
		 * (mremap moves page tables, it does not copy). */
		lf_blocks_get((uintptr_t)p, &b, true);
		void *q = mremap((void *)b.map, b.maplen, want, MREMAP_MAYMOVE);
		if (q == MAP_FAILED) {
			lf_blocks_put(b.ptr, b.map, b.maplen);
			if (n <= have)
				return p;
			errno = ENOMEM;
			return NULL;
		}
		lf_blocks_put((uintptr_t)q, (uintptr_t)q, want);
		return q;
	}
	bool failed;
	void *q = serve_block(n, 0, false, &failed, "realloc");
	if (!q) {
		if (failed) {
			errno = ENOMEM;
			return NULL;
		}
		return __libc_realloc(p, n);
	}
	size_t old = usable_of(p);
	LF_ASSERT_NO_LOCKS(); /* q is served memory: the copy faults */
	memcpy(q, p, old < n ? old : n);
	__libc_free(p);
	return q;
}

LF_API void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

static void *aligned(size_t align, size_t n, const char *call)
{
	bool failed;
	void *p = serve_block(n, align, false, &failed, call);
	if (p)
		return p;
	if (failed) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_memalign(align, n);
}

LF_API int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	int saved = errno;
	void *p = aligned(align, n, "posix_memalign");
	if (!p && n) {
		int e = errno;
		errno = saved;
		return e ? e : ENOMEM;
	}
	*out = p;
	errno = saved;
	return 0;
}

/* glibc rounds a non-power-of-two alignment up. */
static void *memalign_as(size_t align, size_t n, const char *call)
{
	size_t a = align < 16 ? 16 : align;
	if (a & (a - 1)) {
		if (a > SIZE_MAX / 2 + 1) {
			errno = EINVAL;
			return NULL;
		}
		size_t p2 = 1;
		while (p2 < a)
			p2 <<= 1;
		a = p2;
	}
	return aligned(a, n, call);
}

/* glibc 2.36 takes any alignment here, as memalign does (2.38 refuses
 * those that are not powers of two): do what the glibc underneath does. */
LF_API void *aligned_alloc(size_t align, size_t n) { return memalign_as(align, n, "aligned_alloc"); }

LF_API void *memalign(size_t align, size_t n) { return memalign_as(align, n, "memalign"); }

LF_API void *valloc(size_t n) { return aligned(LF_PAGE, n, "valloc"); }

LF_API void *pvalloc(size_t n)
{
	size_t up = lf_page_up(n ? n : 1);
	if (up < n) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned(LF_PAGE, up, "pvalloc");
}

static size_t usable_of(void *p)
{
	static size_t (*real)(void *);
	struct lf_block b;
	if (lf_blocks_maybe(p) && lf_blocks_get((uintptr_t)p, &b, false))
		return usable(&b);
	if (!p)
		return 0;
	if (!real)
		real = (size_t (*)(void *))lf_real_sym("malloc_usable_size");
	return real(p);
}

LF_API size_t malloc_usable_size(void *p) { return usable_of(p); }
