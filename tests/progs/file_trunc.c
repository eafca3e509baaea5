/* A file truncated while it is mapped privately: a page that the file no
 * longer holds raises SIGBUS (si_addr in the page), whether it was touched
 * before the truncation (read, or written: the kernel drops private copies
 * too) or not, at once and every time: never the old bytes, never a hang.
 * Pages of the half that is kept are right, those touched before and those
 * touched for the first time after.  A truncation to a length that is not
 * a multiple of the page size: the new last page reads the file's bytes and
 * then zeros.
 *
 * With `grow`: the file is truncated to half, page 33 raises SIGBUS, then the
 * file grows back to its size: the pages it holds again read as the file now
 * holds them (zeros), as the kernel shows them; the README lists this as a
 * limit of the library (a page past the end stays SIGBUS).
 *
 *   file_trunc DIR [grow]      (creates its files in DIR)
 */
#include "file_util.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_trunc DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(40, "file_trunc");
	size_t pg = (size_t)page_size();
	char pt[4096], pu[4096];
	const size_t SZ = 64 * pg, HALF = 32 * pg;
	int ft = make_file(argv[1], "t.dat", SZ, 4, pt, sizeof pt);
	uint8_t *p = map_file(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, ft, 0);
	volatile uint8_t *v = p;

	if (argc > 2 && !strcmp(argv[2], "grow")) {
		check(v[0] == pat_byte(0, 4), "before: page 0 reads the file's byte");
		check(ftruncate(ft, (off_t)HALF) == 0, "ftruncate to half (32 pages)");
		check_signal(p + 33 * pg + 1, false, SIGBUS, "lost page 33, never touched");
		/* The file grows again: what it holds now is zeros. */
		check(ftruncate(ft, (off_t)SZ) == 0, "ftruncate back to 64 pages");
		bool r34 = check_signal(p + 34 * pg, false, 0, "page 34 after the file grew (never touched)");
		bool r33 = check_signal(p + 33 * pg, false, 0, "page 33 after the file grew (SIGBUS before)");
		/* Only what can be read is read: a SIGBUS here would end the program. */
		check(r33 && r34 && find_nonzero(p + 33 * pg, pg) == NOMISMATCH &&
			      find_nonzero(p + 34 * pg, pg) == NOMISMATCH,
		      "pages 33 and 34 read zeros, as the file now holds");
		check_file_range(p + 10 * pg, 20 * pg, 10 * pg, HALF, 4, "pages 10-29 still the file's bytes");
		munmap(p, SZ);
		watchdog(0, "");
		return finish("file_trunc");
	}

	/* Before: page 0 read, pages 40 and 41 read, page 60 written; pages
	 * 16-31 (kept) and 33 (lost) never touched (the default readahead is
	 * 16 pages: page 0 brings at most pages 0-15, page 40 pages 40-55). */
	check(v[0] == pat_byte(0, 4), "before: page 0 reads the file's byte");
	check(v[40 * pg + 7] == pat_byte(40 * pg + 7, 4) && v[41 * pg] == pat_byte(41 * pg, 4),
	      "before: pages 40, 41 read the file's bytes");
	p[60 * pg + 9] = 0x11;
	check(v[60 * pg + 9] == 0x11, "before: a write to page 60 sticks");

	check(ftruncate(ft, (off_t)HALF) == 0, "ftruncate to half (32 pages)");

	check_signal(p + 33 * pg + 1, false, SIGBUS, "lost page 33, never touched");
	check_signal(p + 40 * pg + 7, false, SIGBUS, "lost page 40, read before the truncation");
	check_signal(p + 60 * pg + 9, false, SIGBUS, "lost page 60, written before the truncation");
	check_signal(p + 63 * pg + pg - 1, false, SIGBUS, "lost page 63 (the last), never touched");
	check_signal(p + 33 * pg + 100, false, SIGBUS, "lost page 33 again");
	check_signal(p + 41 * pg + 1, true, SIGBUS, "lost page 41 (read before): a write");
	check_file_range(p + 20 * pg, pg, 20 * pg, HALF, 4, "kept page 20, first touched now: the file's bytes");
	check_file_range(p, HALF, 0, HALF, 4, "kept half: every byte is the file's");
	fill_pat(p + 30 * pg, pg, 0, 5);
	check(find_pat_mismatch(p + 30 * pg, pg, 0, 5) == NOMISMATCH, "kept half: writes stick");

	munmap(p, SZ);

	/* Truncation to 20 pages + 100 bytes, nothing touched past page 3. */
	const size_t USZ = 40 * pg, UCUT = 20 * pg + 100;
	int fu = make_file(argv[1], "u.dat", USZ, 6, pu, sizeof pu);
	p = map_file(NULL, USZ, PROT_READ, MAP_PRIVATE, fu, 0);
	v = p;
	check(v[3 * pg] == pat_byte(3 * pg, 6), "second file: page 3 read before the truncation");
	check(ftruncate(fu, (off_t)UCUT) == 0, "ftruncate to 20 pages + 100 bytes");
	check_file_range(p + 20 * pg, pg, 20 * pg, UCUT, 6,
			 "the new last page: 100 bytes of the file, then zeros");
	check_signal(p + 21 * pg + 50, false, SIGBUS, "page 21 (past the new end)");
	check_signal(p + 39 * pg, false, SIGBUS, "page 39 (past the new end)");
	check_file_range(p, 20 * pg, 0, UCUT, 6, "pages 0-19: the file's bytes");
	munmap(p, USZ);
	close(ft);
	close(fu);
	watchdog(0, "");
	return finish("file_trunc");
}
