/* Makes several regions of one size, one after the other, then touches
 * every page of each and says which raised SIGBUS: for the `regions` key
 * (tests/integration/test_triggers.py), whose rules pick regions by their
 * number, all of the same size.
 *
 *   nth_alloc KIND COUNT NPAGES
 *
 *   KIND   malloc (malloc(NPAGES pages) each) or anon (mmap)
 *
 * Output: one line per region, "region I: sigbus none" or "region I: sigbus
 * pages A,B,..." (I from 1, in the order made), then a check per region
 * that the pages that did not raise SIGBUS read zeros and take a write, and
 * the closing line.  No addresses, pids or timings. */
#include "file_util.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s malloc|anon COUNT NPAGES\n", argv[0]);
		return 2;
	}
	bool use_malloc = !strcmp(argv[1], "malloc");
	size_t count = strtoul(argv[2], NULL, 0), npages = strtoul(argv[3], NULL, 0);
	size_t pg = (size_t)page_size(), len = npages * pg;
	if (!count || !npages || count > 64 || (!use_malloc && strcmp(argv[1], "anon")))
		die("bad arguments");
	uint8_t *region[64];
	for (size_t r = 0; r < count; r++) {
		region[r] = use_malloc ? malloc(len) : map_anon(len);
		if (!region[r])
			die("malloc %zu", len);
	}
	for (size_t r = 0; r < count; r++) {
		bool clean = true;
		size_t nbus = 0;
		printf("region %zu: sigbus", r + 1);
		for (size_t i = 0; i < npages; i++) {
			volatile uint8_t *p = region[r] + i * pg + (i * 67) % pg;
			struct probe_result got = probe(p, false, 0);
			if (got.sig == SIGBUS) {
				printf("%s%zu", nbus++ ? "," : " pages ", i);
				continue;
			}
			clean &= got.sig == 0 && got.val == 0 &&
				 find_nonzero(region[r] + i * pg, pg) == NOMISMATCH;
			region[r][i * pg] = pat_byte(i, 3);
			clean &= region[r][i * pg] == pat_byte(i, 3);
		}
		printf("%s\n", nbus ? "" : " none");
		check(clean, "region %zu: the pages without SIGBUS read zeros and take a write", r + 1);
	}
	return finish("nth_alloc");
}
