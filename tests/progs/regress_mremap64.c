/* Regression: mremap of a `load` (source) region that MADV_DONTNEED on
 * alternate pages split into more than 64 pieces: every page must be right
 * after the move (zeros where DONTNEED was, the source's bytes elsewhere;
 * zeros everywhere natively).  Some pages are written before, some after.
 *
 *     regress_mremap64 SOURCE OFFSET     (a SOURCE_REGION-sized region)
 */
#include "lftest.h"

#define NDROP 40 /* 81 pieces */

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: regress_mremap64 SOURCE OFFSET");
	struct source s;
	source_open(&s, argv[1], strtoull(argv[2], NULL, 0));
	size_t len = SOURCE_REGION, pg = (size_t)page_size(), npages = len / pg;
	for (int round = 0; round < 2; round++) {
		uint8_t *p = map_anon(len);
		/* round 1: some pages touched before (read or written) */
		if (round == 1)
			for (size_t i = 0; i < npages; i += 3) {
				if (i % 6 == 0)
					p[i * pg + 1] = 0xee;
				else
					(void)*(volatile uint8_t *)(p + i * pg);
			}
		for (int i = 0; i < NDROP; i++)
			if (madvise(p + pg * (2 * i + 1), pg, MADV_DONTNEED))
				die("madvise");
		uint8_t *dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (dst == MAP_FAILED)
			die("mmap dst");
		uint8_t *q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		if (!check(q == dst, "round %d: mremap of a region in %d pieces", round, 2 * NDROP + 1))
			return finish("regress_mremap64");
		size_t bad = 0, first = (size_t)-1;
		for (size_t i = 0; i < npages; i++) {
			bool dropped = i < 2 * NDROP && i % 2;
			for (size_t b = 0; b < pg; b++) {
				uint8_t w = dropped ? 0 : source_byte(&s, i * pg + b);
				if (round == 1 && !dropped && i % 6 == 0 && b == 1)
					w = 0xee;
				if (q[i * pg + b] != w) {
					if (first == (size_t)-1)
						first = i;
					bad++;
					break;
				}
			}
		}
		check(bad == 0, "round %d: every page right after the move (%zu wrong, first %zd)", round,
		      bad, (ssize_t)first);
		munmap(q, len);
	}
	return finish("regress_mremap64");
}
