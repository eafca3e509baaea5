/* realloc of a served block that grows must not fault in the pages nobody
 * touched (the library moves the mapping, it does not copy it):
 *
 *   64 MiB block, first page written; realloc to 256 MiB; the first page
 *   still holds its bytes, one page at the very end is written; realloc to
 *   1 GiB, one page in the middle of the new part written; then shrunk to
 *   8 MiB (the first page kept) and grown again to 128 MiB (the part past
 *   8 MiB reads zeros at the few pages sampled).
 *
 * The test reads the rule's pages_zeroed from the statistics: a copy of
 * the block would show tens of thousands of pages; a move a handful.
 * Only a few pages are ever read or written here, so the count stays
 * small under any readahead.
 *
 *   malloc_grow
 */
#include <malloc.h>

#include "lftest.h"

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	size_t pg = (size_t)page_size();
	uint8_t *p = malloc(64 * MiB);
	if (!p)
		die("malloc 64M");
	fill_pat(p, pg, 0, 1);
	check(malloc_usable_size(p) >= 64 * MiB, "64 MiB block: usable size >= 64 MiB");

	uint8_t *q = realloc(p, 256 * MiB);
	if (!q)
		die("realloc 256M");
	check(find_pat_mismatch(q, pg, 0, 1) == NOMISMATCH, "realloc 64M -> 256M keeps the first page");
	check(malloc_usable_size(q) >= 256 * MiB, "256 MiB block: usable size >= 256 MiB");
	uint8_t *end = q + 256 * MiB - pg;
	check(find_nonzero(end, pg) == NOMISMATCH, "the last page of the grown block reads zeros");
	fill_pat(end, pg, 0, 2);
	check(find_pat_mismatch(end, pg, 0, 2) == NOMISMATCH, "the last page keeps what was written");

	uint8_t *r = realloc(q, 1024 * MiB);
	if (!r)
		die("realloc 1G");
	check(find_pat_mismatch(r, pg, 0, 1) == NOMISMATCH &&
		      find_pat_mismatch(r + 256 * MiB - pg, pg, 0, 2) == NOMISMATCH,
	      "realloc 256M -> 1G keeps the first and the last written page");
	check(find_nonzero(r + 640 * MiB, pg) == NOMISMATCH, "a page in the middle of the new part reads zeros");
	fill_pat(r + 640 * MiB, pg, 0, 3);
	check(find_pat_mismatch(r + 640 * MiB, pg, 0, 3) == NOMISMATCH, "and keeps what was written");

	uint8_t *s = realloc(r, 8 * MiB);
	if (!s)
		die("realloc 8M");
	check(find_pat_mismatch(s, pg, 0, 1) == NOMISMATCH, "realloc 1G -> 8M keeps the first page");
	uint8_t *t = realloc(s, 128 * MiB);
	if (!t)
		die("realloc 128M");
	check(find_pat_mismatch(t, pg, 0, 1) == NOMISMATCH, "realloc 8M -> 128M keeps the first page");
	bool zeros = true;
	for (size_t off = 8 * MiB; off < 128 * MiB; off += 24 * MiB)
		if (find_nonzero(t + off, pg) != NOMISMATCH)
			zeros = false;
	check(zeros, "pages past 8M of the regrown block read zeros (5 pages sampled)");
	free(t);
	return finish("malloc_grow");
}
