/* Reads a SOURCE_REGION-sized anonymous mapping from start to end (the
 * region a `load` rule fills from its source) and prints a checksum of
 * its bytes and of the bytes the file says it must hold (region byte X =
 * file byte OFFSET+X, zeros past the end of the file); natively the region
 * is zeros, and the program says which of the two it saw.
 *
 *   srcread FILE OFFSET [stride]
 *     stride: read one byte every `stride` pages first (random-ish access),
 *             then everything.
 */
#include "lftest.h"

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: srcread FILE OFFSET [stride]\n");
		return 2;
	}
	struct source src;
	source_open(&src, argv[1], strtoull(argv[2], NULL, 0));
	size_t stride = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
	uint8_t *s = map_anon(SOURCE_REGION);
	size_t pg = (size_t)page_size();
	unsigned long sum = 0;
	if (stride)
		for (size_t i = SOURCE_REGION - pg; i > 0; i -= stride * pg > i ? i : stride * pg)
			sum += s[i];
	uint64_t got = fnv(s, SOURCE_REGION);
	uint8_t *want = malloc(SOURCE_REGION);
	for (size_t i = 0; i < SOURCE_REGION; i++)
		want[i] = source_byte(&src, i);
	uint64_t exp = fnv(want, SOURCE_REGION);
	size_t m = find_source_mismatch(&src, s, 0, SOURCE_REGION);
	check(m == NOMISMATCH, "region holds the %s", src.expect ? "source file's bytes" : "zeros");
	if (m != NOMISMATCH)
		printf("   first mismatch at %zu: %u, want %u\n", m, s[m], source_byte(&src, m));
	printf("region checksum %016llx (expected %016llx)\n", (unsigned long long)got,
	       (unsigned long long)exp);
	(void)sum;
	return finish("srcread");
}
