/* madvise(MADV_DONTNEED) empties pages: on private anonymous memory they
 * read as zeros again (also on memory that a `load` rule filled from a
 * source: zeros, as the kernel gives, not the source's bytes), the pages
 * around keep their bytes, and new writes stick.  Advice that changes nothing
 * (MADV_WILLNEED, MADV_SEQUENTIAL, MADV_RANDOM, MADV_NORMAL) changes no byte.
 *
 *   madvise [--source FILE OFFSET]
 */
#include "lftest.h"

static struct source src;

int main(int argc, char **argv)
{
	bool have_src = argc > 3 && !strcmp(argv[1], "--source");
	if (have_src)
		source_open(&src, argv[2], strtoull(argv[3], NULL, 0));
	size_t pg = (size_t)page_size();

	uint8_t *p = map_anon(8 * MiB);
	fill_pat(p, 6 * MiB, 0, 1); /* [6M,8M) untouched */
	check(madvise(p + MiB, 2 * MiB, MADV_DONTNEED) == 0, "MADV_DONTNEED [1M,3M) succeeded");
	check(find_nonzero(p + MiB, 2 * MiB) == NOMISMATCH, "emptied pages read zeros");
	check(find_pat_mismatch(p, MiB, 0, 1) == NOMISMATCH &&
		      find_pat_mismatch(p + 3 * MiB, 3 * MiB, 3 * MiB, 1) == NOMISMATCH,
	      "pages around the emptied range keep their bytes");
	fill_pat(p + 2 * MiB, MiB, 2 * MiB, 2);
	check(find_pat_mismatch(p + 2 * MiB, MiB, 2 * MiB, 2) == NOMISMATCH, "writes after DONTNEED stick");
	check(find_nonzero(p + MiB, MiB) == NOMISMATCH, "the other emptied MiB still reads zeros");

	/* Single pages, one in the middle of written memory. */
	check(madvise(p + 4 * MiB + 5 * pg, pg, MADV_DONTNEED) == 0, "MADV_DONTNEED of one page");
	check(find_nonzero(p + 4 * MiB + 5 * pg, pg) == NOMISMATCH &&
		      find_pat_mismatch(p + 4 * MiB, 5 * pg, 4 * MiB, 1) == NOMISMATCH &&
		      find_pat_mismatch(p + 4 * MiB + 6 * pg, pg, 4 * MiB + 6 * pg, 1) == NOMISMATCH,
	      "that page reads zeros, its neighbours keep their bytes");

	/* DONTNEED over untouched and touched memory at once. */
	check(madvise(p + 5 * MiB, 3 * MiB, MADV_DONTNEED) == 0, "MADV_DONTNEED over touched and untouched pages");
	check(find_nonzero(p + 5 * MiB, 3 * MiB) == NOMISMATCH, "all of it reads zeros");
	fill_pat(p + 7 * MiB, MiB, 0, 3);
	check(find_pat_mismatch(p + 7 * MiB, MiB, 0, 3) == NOMISMATCH, "and takes writes again");

	/* Harmless advice changes no byte. */
	int advs[] = {MADV_WILLNEED, MADV_SEQUENTIAL, MADV_RANDOM, MADV_NORMAL};
	bool same = true;
	for (size_t i = 0; i < 4; i++) {
		if (madvise(p, 8 * MiB, advs[i]) != 0)
			same = false;
	}
	same = same && find_pat_mismatch(p, MiB, 0, 1) == NOMISMATCH &&
	       find_nonzero(p + MiB, MiB) == NOMISMATCH &&
	       find_pat_mismatch(p + 2 * MiB, MiB, 2 * MiB, 2) == NOMISMATCH &&
	       find_nonzero(p + 5 * MiB, 2 * MiB) == NOMISMATCH &&
	       find_pat_mismatch(p + 7 * MiB, MiB, 0, 3) == NOMISMATCH;
	check(same, "WILLNEED/SEQUENTIAL/RANDOM/NORMAL change no byte");

	/* A new mapping, DONTNEED before anything touched it. */
	uint8_t *n = map_anon(2 * MiB);
	check(madvise(n, 2 * MiB, MADV_DONTNEED) == 0 && find_nonzero(n, 2 * MiB) == NOMISMATCH,
	      "DONTNEED of an untouched mapping: zeros");

	if (have_src) {
		uint8_t *s = map_anon(SOURCE_REGION);
		check(find_source_mismatch(&src, s, 0, 1536 * KiB) == NOMISMATCH,
		      "source region: first 1.5 MiB as expected");
		check(madvise(s, MiB, MADV_DONTNEED) == 0, "source region: MADV_DONTNEED of [0,1M)");
		check(find_nonzero(s, MiB) == NOMISMATCH, "source region: emptied pages read zeros (not the file)");
		check(find_source_mismatch(&src, s, MiB, 512 * KiB) == NOMISMATCH,
		      "source region: touched pages after the range keep the file's bytes");
		/* DONTNEED on pages never touched: zeros too. */
		check(madvise(s + 2 * MiB, 512 * KiB, MADV_DONTNEED) == 0,
		      "source region: MADV_DONTNEED of untouched [2M,2.5M)");
		check(find_nonzero(s + 2 * MiB, 512 * KiB) == NOMISMATCH,
		      "source region: untouched emptied pages read zeros");
		check(find_source_mismatch(&src, s, 1536 * KiB, 512 * KiB) == NOMISMATCH &&
			      find_source_mismatch(&src, s, 2560 * KiB, 512 * KiB) == NOMISMATCH,
		      "source region: untouched pages outside the ranges still read as expected");
		fill_pat(s, MiB, 0, 4);
		check(find_pat_mismatch(s, MiB, 0, 4) == NOMISMATCH, "source region: writes after DONTNEED stick");
	}
	return finish("madvise");
}
