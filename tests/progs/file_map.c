/* Private file mappings show exactly the file's bytes, as the kernel shows
 * them: at offset 0 and at a page-aligned offset, read-only and read-write
 * (writes stay private: the file is unchanged afterwards), a length that is
 * not a multiple of the page size (zeros after the end of the file to the
 * end of its last page), SIGBUS with si_addr in the page for the pages past
 * that one when the mapping is longer than the file (also when that is the
 * first touch, and for a mapping that starts past the end), and system
 * calls that read from or write into the mapping before it was touched.
 *
 *   file_map DIR      (creates its files in DIR)
 */
#include "file_util.h"

static size_t pg;

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_map DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(40, "file_map");
	pg = (size_t)page_size();
	char pa[4096], pb[4096], pc[4096], po[4096];
	const size_t SA = 40 * pg + 1234; /* 41 pages, the last one partly */
	const size_t SA_UP = lf_round_up(SA);
	int fa = make_file(argv[1], "a.dat", SA, 1, pa, sizeof pa);
	int fb = make_file(argv[1], "b.dat", 8 * pg, 7, pb, sizeof pb);
	int fc = make_file(argv[1], "c.dat", 16 * pg, 3, pc, sizeof pc);
	uint8_t *p;

	/* 1. Read-only at offset 0, length = file size: the tail page touched
	 * first, then everything. */
	p = map_file(NULL, SA, PROT_READ, MAP_PRIVATE, fa, 0);
	{
		volatile uint8_t *v = p;
		uint8_t t = v[SA_UP - 1];
		check(t == 0, "read-only, offset 0: the last byte of the tail page (first touch) is 0");
		check(v[SA - 1] == pat_byte(SA - 1, 1), "the last byte of the file is the file's");
	}
	check_file_range(p, SA_UP, 0, SA, 1,
			 "read-only, offset 0: every byte is the file's, zeros after EOF to the end of the page");
	check_signal(p + 3 * pg + 17, true, SIGSEGV, "read-only mapping: a write raises");
	check_file_range(p + 3 * pg, pg, 3 * pg, SA, 1, "the page written to is unchanged");
	munmap(p, SA);

	/* 2. Read-only at offset 8 pages, touched backwards page by page. */
	size_t len2 = SA - 8 * pg;
	p = map_file(NULL, len2, PROT_READ, MAP_PRIVATE, fa, (off_t)(8 * pg));
	{
		volatile uint8_t *v = p;
		bool ok = true;
		for (size_t i = lf_round_up(len2); i >= pg; i -= pg) {
			size_t at = i - pg + 123;
			uint64_t o = 8 * pg + at;
			if (v[at] != (o < SA ? pat_byte(o, 1) : 0))
				ok = false;
		}
		check(ok, "read-only, offset 8 pages, touched backwards: one byte per page right");
	}
	check_file_range(p, lf_round_up(len2), 8 * pg, SA, 1,
			 "read-only, offset 8 pages: mapping byte X is file byte 8 pages + X, then zeros");
	munmap(p, len2);

	/* 3. Read-write at offset 0: the first access is a write of one byte;
	 * whole pages written; the tail after EOF written. */
	p = map_file(NULL, SA, PROT_READ | PROT_WRITE, MAP_PRIVATE, fa, 0);
	p[20 * pg + 100] = 0;
	for (size_t i = 20 * pg; i < 21 * pg; i++)
		if (i != 20 * pg + 100 && p[i] != pat_byte(i, 1)) {
			check(false, "write as first touch: the rest of the page holds the file's bytes");
			printf("   byte %zu: %u, want %u\n", i - 20 * pg, p[i], pat_byte(i, 1));
			goto next3;
		}
	check(p[20 * pg + 100] == 0, "write as first touch: the rest of the page holds the file's bytes");
next3:
	fill_pat(p + 5 * pg, 5 * pg, 5 * pg, 2);
	memset(p + SA, 0x77, 100);
	{
		bool ok = find_file_mismatch(p, 5 * pg, 0, SA, 1) == NOMISMATCH &&
			  find_pat_mismatch(p + 5 * pg, 5 * pg, 5 * pg, 2) == NOMISMATCH &&
			  find_file_mismatch(p + 10 * pg, 10 * pg + 100, 10 * pg, SA, 1) == NOMISMATCH &&
			  p[20 * pg + 100] == 0 &&
			  find_file_mismatch(p + 20 * pg + 101, SA - 20 * pg - 101, 20 * pg + 101, SA, 1) ==
				  NOMISMATCH;
		for (size_t i = SA; i < SA + 100; i++)
			ok = ok && p[i] == 0x77;
		ok = ok && find_nonzero(p + SA + 100, SA_UP - SA - 100) == NOMISMATCH;
		check(ok, "read-write, offset 0: written bytes read back, every other byte is the file's");
	}
	munmap(p, SA);
	check(file_unchanged(fa, SA, 1), "the writes were private: the file is unchanged (bytes and size)");

	/* 4. Read-write at offset 4 pages, 16 pages: read half, then write all. */
	p = map_file(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fa, (off_t)(4 * pg));
	check_file_range(p, 8 * pg, 4 * pg, SA, 1, "read-write, offset 4 pages: first half is the file's");
	fill_pat(p, 16 * pg, 0, 9);
	check(find_pat_mismatch(p, 16 * pg, 0, 9) == NOMISMATCH, "read-write, offset 4 pages: writes read back");
	munmap(p, 16 * pg);
	check(file_unchanged(fa, SA, 1), "the file is still unchanged");

	/* 5. Longer than the file: 3 pages past the tail page. */
	size_t len5 = SA_UP + 3 * pg;
	p = map_file(NULL, len5, PROT_READ, MAP_PRIVATE, fa, 0);
	check_signal(p + SA_UP + pg + 5, false, SIGBUS,
		     "mapping longer than the file, first touch 2 pages past the tail page");
	check(p[40 * pg + 2000] == 0 && p[40 * pg + 1000] == pat_byte(40 * pg + 1000, 1),
	      "the tail page: file bytes, then zeros");
	check_signal(p + SA_UP, false, SIGBUS, "the first page past the tail page");
	check_signal(p + SA_UP + 2 * pg + pg - 1, false, SIGBUS, "the last page of the mapping");
	check_signal(p + SA_UP + pg + 5, false, SIGBUS, "the first page touched again");
	check_file_range(p, SA_UP, 0, SA, 1, "the pages up to the tail page are right");
	munmap(p, len5);

	p = map_file(NULL, len5, PROT_READ | PROT_WRITE, MAP_PRIVATE, fa, 0);
	check_signal(p + SA_UP + 9, true, SIGBUS, "read-write mapping: a write past the tail page");
	p[SA_UP - 1] = 1;
	check(p[SA_UP - 1] == 1 && p[SA - 1] == pat_byte(SA - 1, 1),
	      "a write in the tail page after EOF sticks, the file's last byte is right");
	munmap(p, len5);
	check(file_unchanged(fa, SA, 1), "the file is still unchanged");

	/* 6. A file of exactly 16 pages mapped over 18: no tail page. */
	p = map_file(NULL, 18 * pg, PROT_READ, MAP_PRIVATE, fc, 0);
	check_signal(p + 16 * pg, false, SIGBUS, "16-page file, 18-page mapping: page 16 (first touch)");
	check_file_range(p, 16 * pg, 0, 16 * pg, 3, "16-page file: pages 0-15 are the file's");
	check_signal(p + 17 * pg + 4000, false, SIGBUS, "16-page file: page 17");
	munmap(p, 18 * pg);

	/* 7. A mapping that starts past the end of the file. */
	p = map_file(NULL, 2 * pg, PROT_READ, MAP_PRIVATE, fa, (off_t)(64 * pg));
	check_signal(p + 10, false, SIGBUS, "mapping at offset 64 pages of a 41-page file: page 0");
	check_signal(p + pg + 10, false, SIGBUS, "and page 1");
	munmap(p, 2 * pg);

	/* 8. System calls on untouched pages: write() from the mapping to a
	 * file, read() from a file into the mapping. */
	int fo = open((snprintf(po, sizeof po, "%s/out.dat", argv[1]), po), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fo < 0)
		die("create %s", po);
	p = map_file(NULL, SA_UP + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fa, 0);
	ssize_t w = write(fo, p + 10 * pg, 16 * pg);
	check(w == (ssize_t)(16 * pg), "write() of 16 untouched pages of the mapping: all written");
	{
		uint8_t *buf = malloc(16 * pg);
		bool ok = pread(fo, buf, 16 * pg, 0) == (ssize_t)(16 * pg) &&
			  find_pat_mismatch(buf, 16 * pg, 10 * pg, 1) == NOMISMATCH;
		check(ok, "what write() wrote is the file's bytes");
		free(buf);
	}
	ssize_t r = read(fb, p + 30 * pg + 100, 2 * pg);
	check(r == (ssize_t)(2 * pg), "read() of 2 pages into untouched pages of the mapping: all read");
	check(find_pat_mismatch(p + 30 * pg + 100, 2 * pg, 0, 7) == NOMISMATCH,
	      "the mapping holds what read() read");
	check(find_file_mismatch(p + 30 * pg, 100, 30 * pg, SA, 1) == NOMISMATCH &&
		      find_file_mismatch(p + 32 * pg + 100, pg - 100, 32 * pg + 100, SA, 1) == NOMISMATCH,
	      "the bytes around it are the file's");
	errno = 0;
	hung_begin();
	w = write(fo, p + SA_UP + 8, 16);
	bool hung = hung_end();
	check(w == -1 && errno == EFAULT && !hung,
	      "write() from the page past the tail page fails with EFAULT at once");
	if (!(w == -1 && errno == EFAULT) || hung)
		printf("   write returned %zd, errno %d%s\n", w, errno,
		       hung ? ", after hanging until interrupted" : "");
	munmap(p, SA_UP + pg);
	check(file_unchanged(fa, SA, 1), "the mapped file is unchanged");
	close(fo);
	close(fa);
	close(fb);
	close(fc);
	watchdog(0, "");
	return finish("file_map");
}
