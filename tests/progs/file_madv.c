/* madvise on private file mappings: MADV_DONTNEED drops the private copies,
 * and the pages read the file's bytes again (written pages, untouched pages,
 * the tail page after EOF: zeros there again), the pages around keep what
 * was written, writes after it stick; a page emptied after the file changed
 * reads the file's new bytes.  MADV_FREE is refused with EINVAL (the kernel
 * allows it on anonymous memory only) and changes nothing.  Advice that
 * changes nothing (WILLNEED, SEQUENTIAL, RANDOM, NORMAL) changes no byte.
 *
 *   file_madv DIR      (creates its files in DIR)
 */
#include "file_util.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_madv DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(40, "file_madv");
	size_t pg = (size_t)page_size();
	char pm[4096];
	const size_t SZ = 64 * pg + 500, UP = lf_round_up(SZ);
	int fm = make_file(argv[1], "m.dat", SZ, 8, pm, sizeof pm);
	uint8_t *p = map_file(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, fm, 0);

	/* Pages 0-31 written (first touch: a write), the tail after EOF too. */
	fill_pat(p, 32 * pg, 0, 2);
	memset(p + SZ, 0x66, UP - SZ);
	check(madvise(p + 8 * pg, 8 * pg, MADV_DONTNEED) == 0, "MADV_DONTNEED of written pages 8-15");
	check_file_range(p + 8 * pg, 8 * pg, 8 * pg, SZ, 8, "pages 8-15 read the file's bytes again");
	check(find_pat_mismatch(p, 8 * pg, 0, 2) == NOMISMATCH &&
		      find_pat_mismatch(p + 16 * pg, 16 * pg, 16 * pg, 2) == NOMISMATCH,
	      "pages 0-7 and 16-31 keep what was written");

	check(madvise(p + 20 * pg, pg, MADV_DONTNEED) == 0, "MADV_DONTNEED of one written page (20)");
	check_file_range(p + 20 * pg, pg, 20 * pg, SZ, 8, "page 20 reads the file's bytes");
	check(find_pat_mismatch(p + 19 * pg, pg, 19 * pg, 2) == NOMISMATCH &&
		      find_pat_mismatch(p + 21 * pg, pg, 21 * pg, 2) == NOMISMATCH,
	      "pages 19 and 21 keep what was written");

	check(madvise(p + 40 * pg, 8 * pg, MADV_DONTNEED) == 0, "MADV_DONTNEED of untouched pages 40-47");
	check_file_range(p + 40 * pg, 8 * pg, 40 * pg, SZ, 8, "pages 40-47 read the file's bytes");

	/* MADV_FREE: refused, nothing changes. */
	errno = 0;
	int rc = madvise(p, UP, MADV_FREE);
	check(rc == -1 && errno == EINVAL, "MADV_FREE on the whole mapping fails with EINVAL");
	if (!(rc == -1 && errno == EINVAL))
		printf("   madvise returned %d, errno %d\n", rc, errno);
	errno = 0;
	rc = madvise(p + 2 * pg, pg, MADV_FREE);
	check(rc == -1 && errno == EINVAL, "MADV_FREE on one written page fails with EINVAL");
	if (!(rc == -1 && errno == EINVAL))
		printf("   madvise returned %d, errno %d\n", rc, errno);
	check(find_pat_mismatch(p, 8 * pg, 0, 2) == NOMISMATCH &&
		      find_pat_mismatch(p + 21 * pg, 11 * pg, 21 * pg, 2) == NOMISMATCH,
	      "after MADV_FREE the written pages still hold what was written");
	bool tail = true;
	for (size_t i = SZ; i < UP; i++)
		tail = tail && p[i] == 0x66;
	check(tail, "and the written tail after EOF too");

	/* Harmless advice. */
	int advs[] = {MADV_WILLNEED, MADV_SEQUENTIAL, MADV_RANDOM, MADV_NORMAL};
	bool ok = true;
	for (size_t i = 0; i < 4; i++)
		ok = ok && madvise(p, UP, advs[i]) == 0;
	check(ok, "WILLNEED/SEQUENTIAL/RANDOM/NORMAL succeed");
	check(find_pat_mismatch(p, 8 * pg, 0, 2) == NOMISMATCH &&
		      find_file_mismatch(p + 8 * pg, 8 * pg, 8 * pg, SZ, 8) == NOMISMATCH &&
		      find_pat_mismatch(p + 16 * pg, 4 * pg, 16 * pg, 2) == NOMISMATCH &&
		      find_file_mismatch(p + 20 * pg, pg, 20 * pg, SZ, 8) == NOMISMATCH &&
		      find_pat_mismatch(p + 21 * pg, 11 * pg, 21 * pg, 2) == NOMISMATCH &&
		      find_file_mismatch(p + 32 * pg, SZ - 32 * pg, 32 * pg, SZ, 8) == NOMISMATCH,
	      "and change no byte");

	/* The whole mapping, the written tail included. */
	check(madvise(p, UP, MADV_DONTNEED) == 0, "MADV_DONTNEED of the whole mapping");
	check_file_range(p, UP, 0, SZ, 8, "every page reads the file's bytes, zeros after EOF again");
	fill_pat(p + 10 * pg, 2 * pg, 0, 4);
	check(find_pat_mismatch(p + 10 * pg, 2 * pg, 0, 4) == NOMISMATCH, "writes after DONTNEED stick");
	check(madvise(p + 10 * pg, 2 * pg, MADV_DONTNEED) == 0 &&
		      find_file_mismatch(p + 10 * pg, 2 * pg, 10 * pg, SZ, 8) == NOMISMATCH,
	      "and a second DONTNEED gives the file's bytes again");
	check(file_unchanged(fm, SZ, 8), "the file is unchanged");

	/* The file changes under a written page: DONTNEED shows the change. */
	p[50 * pg] = 1;
	uint8_t *nb = malloc(pg);
	fill_pat(nb, pg, 50 * pg, 11);
	if (pwrite(fm, nb, pg, (off_t)(50 * pg)) != (ssize_t)pg)
		die("pwrite");
	check(p[50 * pg] == 1 && find_file_mismatch(p + 50 * pg + 1, pg - 1, 50 * pg + 1, SZ, 8) == NOMISMATCH,
	      "page 50, written before the file changed, keeps its private copy");
	check(madvise(p + 50 * pg, pg, MADV_DONTNEED) == 0 &&
		      find_pat_mismatch(p + 50 * pg, pg, 50 * pg, 11) == NOMISMATCH,
	      "after DONTNEED page 50 reads the file's new bytes");
	free(nb);

	/* A read-only mapping. */
	uint8_t *r = map_file(NULL, 16 * pg, PROT_READ, MAP_PRIVATE, fm, (off_t)(16 * pg));
	check_file_range(r, 4 * pg, 16 * pg, SZ, 8, "read-only mapping at offset 16 pages: the file's bytes");
	check(madvise(r, 16 * pg, MADV_DONTNEED) == 0, "MADV_DONTNEED of the read-only mapping");
	check_file_range(r, 16 * pg, 16 * pg, SZ, 8, "it reads the file's bytes");
	errno = 0;
	rc = madvise(r, 16 * pg, MADV_FREE);
	check(rc == -1 && errno == EINVAL, "MADV_FREE on it fails with EINVAL");
	munmap(r, 16 * pg);
	munmap(p, SZ);
	close(fm);
	watchdog(0, "");
	return finish("file_madv");
}
