/* munmap, then a new mapping at the same address: fresh zeros, never the
 * old bytes, whether the unmap went through munmap() or a raw system call
 * (which the library cannot see), and whether the new mapping is MAP_FIXED,
 * a plain hint, smaller than any rule takes, a different rule's, or over
 * part of a live mapping.
 *
 *   munmap [--source FILE OFFSET]
 */
#include <sys/syscall.h>

#include "lftest.h"

static struct source src;

static uint8_t *map_at(void *addr, size_t len, int extra)
{
	uint8_t *p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
	if (p == MAP_FAILED)
		die("mmap at");
	return p;
}

int main(int argc, char **argv)
{
	bool have_src = argc > 3 && !strcmp(argv[1], "--source");
	if (have_src)
		source_open(&src, argv[2], strtoull(argv[3], NULL, 0));

	/* 1. munmap(), then mmap(MAP_FIXED) at the same address. */
	uint8_t *a = map_anon(4 * MiB);
	fill_pat(a, 4 * MiB, 0, 1);
	check(munmap(a, 4 * MiB) == 0, "munmap of a written mapping");
	uint8_t *b = map_at(a, 4 * MiB, MAP_FIXED);
	check(b == a, "MAP_FIXED at the old address");
	check(find_nonzero(b, 4 * MiB) == NOMISMATCH, "new mapping reads zeros, not the old bytes");
	fill_pat(b, 4 * MiB, 0, 2);
	check(find_pat_mismatch(b, 4 * MiB, 0, 2) == NOMISMATCH, "new mapping takes writes");

	/* 2. munmap(), then a plain mmap with the old address as a hint. */
	check(munmap(b, 4 * MiB) == 0, "munmap again");
	uint8_t *c = map_at(b, 4 * MiB, 0);
	check(find_nonzero(c, 4 * MiB) == NOMISMATCH, "hinted mapping reads zeros");
	fill_pat(c, 2 * MiB, 0, 3);

	/* 3. raw SYS_munmap (the library does not see it), then MAP_FIXED. */
	check(syscall(SYS_munmap, c, 4 * MiB) == 0, "raw SYS_munmap");
	uint8_t *d = map_at(c, 4 * MiB, MAP_FIXED);
	check(d == c && find_nonzero(d, 4 * MiB) == NOMISMATCH, "after raw munmap: MAP_FIXED mapping reads zeros");
	fill_pat(d, 4 * MiB, 0, 4);
	check(find_pat_mismatch(d, 4 * MiB, 0, 4) == NOMISMATCH, "after raw munmap: writes stick");

	/* 4. raw munmap, then a hinted mapping of another size over the spot. */
	check(syscall(SYS_munmap, d, 4 * MiB) == 0, "raw SYS_munmap again");
	uint8_t *e = map_at(d, 6 * MiB, 0);
	check(find_nonzero(e, 6 * MiB) == NOMISMATCH, "after raw munmap: larger hinted mapping reads zeros");
	fill_pat(e, 6 * MiB, 0, 5);
	check(find_pat_mismatch(e, 6 * MiB, 0, 5) == NOMISMATCH, "and takes writes");

	/* 5. raw munmap, then a small mapping that no rule takes, at the spot. */
	check(syscall(SYS_munmap, e, 6 * MiB) == 0, "raw SYS_munmap of the larger one");
	uint8_t *f = map_at(e, 16 * KiB, MAP_FIXED);
	check(find_nonzero(f, 16 * KiB) == NOMISMATCH, "small mapping at the spot reads zeros");
	fill_pat(f, 16 * KiB, 0, 6);
	check(find_pat_mismatch(f, 16 * KiB, 0, 6) == NOMISMATCH, "small mapping takes writes");
	/* and a big one right after it, over the rest of the old range */
	uint8_t *f2 = map_at(e + 16 * KiB, 6 * MiB - 16 * KiB, MAP_FIXED);
	check(find_nonzero(f2, 6 * MiB - 16 * KiB) == NOMISMATCH, "big mapping over the rest reads zeros");
	munmap(f, 6 * MiB);

	/* 6. raw munmap of the middle of a mapping, a small mapping there. */
	uint8_t *g = map_anon(8 * MiB);
	fill_pat(g, 2 * MiB, 0, 7);
	fill_pat(g + 6 * MiB, MiB, 6 * MiB, 7);
	check(syscall(SYS_munmap, g + 3 * MiB, 2 * MiB) == 0, "raw SYS_munmap of the middle");
	uint8_t *h = map_at(g + 3 * MiB, 512 * KiB, MAP_FIXED);
	check(find_nonzero(h, 512 * KiB) == NOMISMATCH, "middle: new small mapping reads zeros");
	check(find_pat_mismatch(g, 2 * MiB, 0, 7) == NOMISMATCH &&
		      find_pat_mismatch(g + 6 * MiB, MiB, 6 * MiB, 7) == NOMISMATCH,
	      "the sides keep their bytes");
	check(find_nonzero(g + 2 * MiB, MiB) == NOMISMATCH && find_nonzero(g + 7 * MiB, MiB) == NOMISMATCH,
	      "the sides' untouched pages read zeros");
	uint8_t *h2 = map_at(g + 3 * MiB + 512 * KiB, 1536 * KiB, MAP_FIXED);
	check(find_nonzero(h2, 1536 * KiB) == NOMISMATCH, "middle: a second mapping next to it reads zeros");
	fill_pat(h2, 1536 * KiB, 0, 8);
	check(find_pat_mismatch(h2, 1536 * KiB, 0, 8) == NOMISMATCH, "and takes writes");

	/* 7. MAP_FIXED over part of a live mapping (no munmap at all). */
	uint8_t *k = map_anon(8 * MiB);
	fill_pat(k, 8 * MiB, 0, 9);
	uint8_t *kk = map_at(k + 2 * MiB, 2 * MiB, MAP_FIXED);
	check(kk == k + 2 * MiB && find_nonzero(kk, 2 * MiB) == NOMISMATCH,
	      "MAP_FIXED over a written range: zeros there");
	check(find_pat_mismatch(k, 2 * MiB, 0, 9) == NOMISMATCH &&
		      find_pat_mismatch(k + 4 * MiB, 4 * MiB, 4 * MiB, 9) == NOMISMATCH,
	      "the rest of the old mapping keeps its bytes");
	uint8_t *ks = map_at(k + 6 * MiB, 64 * KiB, MAP_FIXED);
	check(find_nonzero(ks, 64 * KiB) == NOMISMATCH, "small MAP_FIXED over a written range: zeros there");

	/* 8. Many cycles of map, write, raw unmap at one address. */
	uint8_t *base = map_anon(2 * MiB);
	bool good = true;
	for (int i = 0; i < 50 && good; i++) {
		uint8_t *x = map_at(base, 2 * MiB, MAP_FIXED);
		good = find_nonzero(x, 2 * MiB) == NOMISMATCH;
		fill_pat(x, 64 * KiB, 0, (unsigned)i);
		x[2 * MiB - 1] = 1;
		if (i % 2)
			syscall(SYS_munmap, x, 2 * MiB);
		else
			munmap(x, 2 * MiB);
	}
	check(good, "50 cycles of map/write/unmap (half raw) at one address: always zeros");

	/* 9. raw munmap, then a region of the `load` rule at the spot. */
	if (have_src) {
		uint8_t *z = map_anon(4 * MiB);
		fill_pat(z, 4 * MiB, 0, 10);
		syscall(SYS_munmap, z, 4 * MiB);
		uint8_t *s = map_at(z, SOURCE_REGION, MAP_FIXED);
		check(find_source_mismatch(&src, s, 0, SOURCE_REGION) == NOMISMATCH,
		      "after raw munmap: a source region at the spot reads as expected");
		munmap(s, SOURCE_REGION);
		uint8_t *s2 = map_at(s, 4 * MiB, MAP_FIXED);
		check(find_nonzero(s2, 4 * MiB) == NOMISMATCH, "after the source region: a plain mapping reads zeros");
	}
	return finish("munmap");
}
