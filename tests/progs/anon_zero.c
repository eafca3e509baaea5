/* Anonymous zero-fill: a fresh private anonymous mapping reads as zeros
 * everywhere (first access a read, a write, or a read then a write), what is
 * written stays, and nothing leaks between pages or between mappings.
 *
 *   anon_zero [MiB]      (default 64)
 */
#include "lftest.h"

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	size_t len = mib * MiB, pg = (size_t)page_size();
	uint8_t *p = map_anon(len);

	/* First quarter: read first (zeros), then write a pattern. */
	size_t q = len / 4;
	check(find_nonzero(p, q) == NOMISMATCH, "first quarter (%zu MiB) reads as zeros", q / MiB);
	fill_pat(p, q, 0, 1);
	check(find_pat_mismatch(p, q, 0, 1) == NOMISMATCH, "pattern written over read zeros sticks");

	/* Second quarter: first access is a write of one byte per page; the
	 * rest of each page must still be zeros. */
	uint8_t *b = p + q;
	for (size_t i = 0; i < q; i += pg)
		b[i + 17] = 0xA5;
	size_t bad = NOMISMATCH;
	for (size_t i = 0; i < q && bad == NOMISMATCH; i++)
		if (b[i] != ((i % pg) == 17 ? 0xA5 : 0))
			bad = i;
	check(bad == NOMISMATCH, "write-first pages: one byte each, the rest zeros");

	/* Third quarter: every other page written, then all read. */
	uint8_t *c = p + 2 * q;
	for (size_t i = 0; i < q; i += 2 * pg)
		fill_pat(c + i, pg, i, 3);
	bad = NOMISMATCH;
	for (size_t i = 0; i < q && bad == NOMISMATCH; i += pg) {
		size_t m = (i / pg) % 2 == 0 ? find_pat_mismatch(c + i, pg, i, 3) : find_nonzero(c + i, pg);
		if (m != NOMISMATCH)
			bad = i + m;
	}
	check(bad == NOMISMATCH, "alternate pages: written ones keep the pattern, others zeros");

	/* Last quarter: touched backwards (no sequential stream), reads zeros. */
	uint8_t *d = p + 3 * q;
	unsigned long sum = 0;
	for (size_t i = q; i >= pg; i -= pg)
		sum += d[i - 1] + d[i - pg];
	check(sum == 0, "last quarter touched backwards reads zeros");
	fill_pat(d, q, 0, 4);

	/* Everything again, as one pass. */
	check(find_pat_mismatch(p, q, 0, 1) == NOMISMATCH &&
		      find_pat_mismatch(d, q, 0, 4) == NOMISMATCH,
	      "all %zu MiB keep their bytes after every quarter was touched", mib);

	/* A second mapping is independent of the first. */
	uint8_t *e = map_anon(4 * MiB);
	check(find_nonzero(e, 4 * MiB) == NOMISMATCH, "a second mapping reads as zeros");
	fill_pat(e, 4 * MiB, 0, 5);
	check(find_pat_mismatch(p, q, 0, 1) == NOMISMATCH &&
		      find_pat_mismatch(e, 4 * MiB, 0, 5) == NOMISMATCH,
	      "both mappings keep their own bytes");

	/* MAP_POPULATE: zeros as well (the library may drop the populate). */
	uint8_t *f = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (f == MAP_FAILED)
		die("mmap populate");
	check(find_nonzero(f, 2 * MiB) == NOMISMATCH, "MAP_POPULATE mapping reads as zeros");

	/* A read-only anonymous mapping: zeros. */
	uint8_t *r = mmap(NULL, 2 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		die("mmap read-only");
	check(find_nonzero(r, 2 * MiB) == NOMISMATCH, "PROT_READ mapping reads as zeros");

	/* A length that is not a multiple of the page size. */
	size_t odd = 3 * MiB + 1234;
	uint8_t *g = map_anon(odd);
	check(find_nonzero(g, lf_round_up(odd)) == NOMISMATCH, "odd-length mapping reads as zeros up to its last page");
	fill_pat(g, odd, 0, 6);
	check(find_pat_mismatch(g, odd, 0, 6) == NOMISMATCH, "odd-length mapping keeps its bytes");

	munmap(p, len);
	munmap(e, 4 * MiB);
	munmap(f, 2 * MiB);
	munmap(r, 2 * MiB);
	munmap(g, odd);
	return finish("anon_zero");
}
