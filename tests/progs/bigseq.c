/* A big-data sequential toucher, for the statistics checks: maps MiB of
 * anonymous memory and goes through it in order, page by page, then checks
 * it all and prints a checksum (the same natively and under the library).
 *
 *   bigseq MiB [write|read|both]
 *     write: write every byte of each page in order, then check it all;
 *     read:  read every page in order (zeros), sum;
 *     both:  read the first half, write the second half;
 *     scattered: write one byte in 15 pages spread over the region first,
 *            then as `write` (a stream that runs into present pages).
 */
#include "lftest.h"

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	const char *mode = argc > 2 ? argv[2] : "write";
	size_t len = mib * MiB, pg = (size_t)page_size();
	uint8_t *p = map_anon(len);
	size_t rd = !strcmp(mode, "read") ? len : !strcmp(mode, "both") ? len / 2 : 0;

	if (!strcmp(mode, "scattered"))
		for (size_t k = 1; k < 16; k++)
			p[k * (len / 16) + 3 * pg] = 1;
	uint64_t sum = 0;
	for (size_t i = 0; i < rd; i += pg)
		for (size_t j = 0; j < pg; j += 64)
			sum += p[i + j];
	check(sum == 0, "sequential read of %zu MiB: all zeros", rd / MiB);
	for (size_t i = rd; i < len; i += pg)
		fill_pat(p + i, pg, i, 9);
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 1099511628211ULL;
	}
	check(find_nonzero(p, rd) == NOMISMATCH && find_pat_mismatch(p + rd, len - rd, rd, 9) == NOMISMATCH,
	      "all %zu MiB as written", mib);
	printf("checksum %016llx\n", (unsigned long long)h);
	return finish("bigseq");
}
