/* `load` with `source` on a `malloc` rule: a block the rule takes reads the
 * source file's bytes (block byte X = file byte OFFSET+X, zeros past the end
 * of the file), whichever allocator made it (malloc, realloc(NULL, n), the
 * aligned ones); a calloc'd block under the same rule reads zeros; blocks
 * the rule does not take (below min_size, above max_size) are glibc's.
 *
 *   malloc_source FILE OFFSET
 *
 * The tests' rule: min_size = 1M, max_size = 8M, source = FILE,
 * source_offset = OFFSET.  Natively every fresh block reads zeros
 * (lf_expect_source() tells which to expect).
 */
#include <malloc.h>

#include "lftest.h"

/* Reading what malloc returned, before writing it, is the point here. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

static struct source src;

static void check_block(const char *what, const uint8_t *p, size_t n)
{
	size_t m = find_source_mismatch(&src, p, 0, n);
	check(m == NOMISMATCH, "%s: reads the expected bytes (the source's; natively zeros)", what);
	if (m != NOMISMATCH)
		printf("   first mismatch at offset %zu: got %u, want %u\n", m, p[m], source_byte(&src, m));
}

static void check_zeros(const char *what, const uint8_t *p, size_t n)
{
	size_t m = find_nonzero(p, n);
	check(m == NOMISMATCH, "%s: reads zeros", what);
	if (m != NOMISMATCH)
		printf("   first non-zero byte at offset %zu: %u\n", m, p[m]);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		die("usage: malloc_source FILE OFFSET");
	/* Blocks the rule does not take, first: glibc maps them fresh
	 * (nothing was freed yet), so they read zeros both ways. */
	uint8_t *below = malloc(1 * MiB - 1);
	uint8_t *above = malloc(8 * MiB + 4096);
	if (!below || !above)
		die("malloc");
	check_zeros("malloc(1M - 1), below min_size", below, 1 * MiB - 1);
	check_zeros("malloc(8M + 4K), above max_size", above, 8 * MiB + 4096);

	source_open(&src, argv[1], strtoull(argv[2], NULL, 0));
	if (src.len < 2 * MiB)
		die("source too small");

	uint8_t *m1 = malloc(1 * MiB);
	check_block("malloc(1M)", m1, 1 * MiB);
	uint8_t *m4 = malloc(4 * MiB); /* past the end of the file: zeros */
	check_block("malloc(4M), longer than the source", m4, 4 * MiB);
	/* read it backwards: another fault order */
	uint8_t *m3 = malloc(3 * MiB + 5);
	bool ok = true;
	for (size_t pg = (3 * MiB + 5) / 4096 + 1; pg-- > 0;) {
		size_t off = pg * 4096, len = 3 * MiB + 5 - off < 4096 ? 3 * MiB + 5 - off : 4096;
		if (find_source_mismatch(&src, m3, off, len) != NOMISMATCH)
			ok = false;
	}
	check(ok, "malloc(3M + 5) read from its end: the expected bytes");
	uint8_t *r = realloc(NULL, 2 * MiB);
	check_block("realloc(NULL, 2M)", r, 2 * MiB);
	void *pm = NULL;
	if (posix_memalign(&pm, 2 * MiB, 3 * MiB))
		die("posix_memalign");
	check(((uintptr_t)pm & (2 * MiB - 1)) == 0, "posix_memalign(2M, 3M) is aligned");
	check_block("posix_memalign(2M, 3M)", pm, 3 * MiB);
	uint8_t *aa = aligned_alloc(4096, 2 * MiB);
	check_block("aligned_alloc(4096, 2M)", aa, 2 * MiB);
	uint8_t *ma = memalign(64 * KiB, 1 * MiB + 1);
	check_block("memalign(64K, 1M + 1)", ma, 1 * MiB + 1);
	uint8_t *va = valloc(2 * MiB);
	check_block("valloc(2M)", va, 2 * MiB);

	/* calloc under the same rule: zeros, however big */
	uint8_t *c1 = calloc(1, 2 * MiB);
	check_zeros("calloc(1, 2M) under the load rule", c1, 2 * MiB);
	uint8_t *c2 = calloc(4096, 1024);
	check_zeros("calloc(4096, 1024) under the load rule", c2, 4 * MiB);

	/* a served block written and freed, then the same size again:
	 * malloc -> the source again (a fresh block), calloc -> zeros */
	memset(m4, 0xee, 4 * MiB);
	free(m4);
	uint8_t *c3 = calloc(4 * MiB, 1);
	check_zeros("calloc(4M, 1) right after free of a dirty 4M block", c3, 4 * MiB);
	memset(m1, 0xdd, 1 * MiB);
	free(m1);
	m1 = malloc(1 * MiB);
	if (src.expect)
		check_block("malloc(1M) right after free of a dirty 1M block", m1, 1 * MiB);
	else /* natively the bytes of a reused block are not promised */
		check(true, "malloc(1M) right after free of a dirty 1M block: reads the expected bytes (the source's; natively zeros)");

	/* MADV_DONTNEED on whole pages inside a loaded block: those pages read
	 * zeros again (anonymous memory), the others keep the source's bytes */
	uint8_t *dn = malloc(4 * MiB);
	check_block("malloc(4M) before MADV_DONTNEED", dn, 4 * MiB);
	uint8_t *from = (uint8_t *)(((uintptr_t)dn + 256 * KiB + 4095) & ~(uintptr_t)4095);
	if (madvise(from, 512 * KiB, MADV_DONTNEED) < 0)
		die("madvise");
	check_zeros("pages of a loaded block after MADV_DONTNEED", from, 512 * KiB);
	size_t before = (size_t)(from - dn), after = before + 512 * KiB;
	check(find_source_mismatch(&src, dn, 0, before) == NOMISMATCH &&
		      find_source_mismatch(&src, dn, after, 4 * MiB - after) == NOMISMATCH,
	      "the pages around them keep the expected bytes");
	free(dn);

	/* the source's bytes are the block's own: writes stick */
	fill_pat(m3, 3 * MiB + 5, 0, 7);
	check(find_pat_mismatch(m3, 3 * MiB + 5, 0, 7) == NOMISMATCH, "writes into a loaded block stick");

	free(below);
	free(above);
	free(m1);
	free(m3);
	free(r);
	free(pm);
	free(aa);
	free(ma);
	free(va);
	free(c1);
	free(c2);
	free(c3);
	return finish("malloc_source");
}
