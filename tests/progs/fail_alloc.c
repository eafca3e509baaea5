/* Asks for memory through every allocation call, one after the other, and
 * checks each result as a careful program does: for `action = fail`
 * (tests/integration/test_triggers.py), which makes the chosen ones fail
 * as the real function fails.
 *
 *   fail_alloc SIZE
 *
 * The calls, in this order, each of SIZE bytes: malloc, calloc, realloc
 * (of a small block holding a pattern), posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc, malloc from helper_alloc() (a function a
 * `caller` rule can name), and an anonymous mmap.  For each, one line:
 * "CALL: ok" (the memory reads as it must and takes a write to every page)
 * or "CALL: failed" (NULL or MAP_FAILED); then a check that a failure came
 * with ENOMEM (posix_memalign: returned it), that a failed realloc left the
 * old block and its bytes as they were, that calloc's memory reads zeros.
 * No addresses, pids or timings. */
#include "lftest.h"

#include <malloc.h>

static size_t size;

static void use(const char *call, uint8_t *p, int err, bool zeros)
{
	if (!p || p == MAP_FAILED) {
		printf("%s: failed\n", call);
		check(err == ENOMEM, "%s failed with ENOMEM (errno %d)", call, err);
		return;
	}
	bool ok = !zeros || find_nonzero(p, size) == NOMISMATCH;
	for (size_t i = 0; i < size; i += (size_t)page_size())
		p[i] = pat_byte(i, 7);
	for (size_t i = 0; i < size; i += (size_t)page_size())
		ok &= p[i] == pat_byte(i, 7);
	printf("%s: ok\n", call);
	check(ok, "%s: the memory reads as it must and takes a write", call);
}

/* Not inlined, and not a tail call (the frame must be on the stack). */
__attribute__((noinline)) static void *helper_alloc(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: fail_alloc SIZE");
	size = strtoul(argv[1], NULL, 0);
	void *p;
	errno = 0;
	p = malloc(size);
	use("malloc", p, errno, false);
	errno = 0;
	p = calloc(1, size);
	use("calloc", p, errno, true);

	uint8_t *old = malloc(100);
	if (!old)
		die("malloc 100");
	fill_pat(old, 100, 0, 5);
	errno = 0;
	uint8_t *grown = realloc(old, size);
	if (!grown) {
		int e = errno;
		printf("realloc: failed\n");
		check(e == ENOMEM, "realloc failed with ENOMEM (errno %d)", e);
		check(find_pat_mismatch(old, 100, 0, 5) == NOMISMATCH && malloc_usable_size(old) >= 100,
		      "a failed realloc leaves the old block as it was");
		free(old);
	} else {
		check(find_pat_mismatch(grown, 100, 0, 5) == NOMISMATCH, "realloc kept the bytes");
		use("realloc", grown, 0, false);
	}

	void *q = NULL;
	int rc = posix_memalign(&q, 64, size);
	if (rc)
		q = NULL;
	use("posix_memalign", q, rc, false);
	errno = 0;
	p = aligned_alloc(4096, size);
	use("aligned_alloc", p, errno, false);
	errno = 0;
	p = memalign(4096, size);
	use("memalign", p, errno, false);
	errno = 0;
	p = valloc(size);
	use("valloc", p, errno, false);
	errno = 0;
	p = pvalloc(size);
	use("pvalloc", p, errno, false);
	errno = 0;
	p = helper_alloc(size);
	use("helper_alloc", p, errno, false);
	errno = 0;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	use("mmap", p, errno, true);
	return finish("fail_alloc");
}
