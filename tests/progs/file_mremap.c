/* mremap, munmap and mprotect on private file mappings keep exactly what the
 * kernel shows:
 *  - a move (MREMAP_FIXED) keeps the pages read and written, untouched pages
 *    read the file at the same offsets, the old range is gone (SIGSEGV);
 *  - a grow in place goes on with the file (new page X = file page off+X);
 *    a grow that moves too; a shrink and a regrow (the file again);
 *  - a grow past the end of the file: the tail page, then SIGBUS;
 *  - MREMAP_DONTUNMAP: the old range reads the file's bytes again;
 *  - munmap of the middle: SIGSEGV there, both sides right (the part after
 *    the hole at its own file offsets), a new mapping in the hole is its own;
 *  - mprotect on parts: PROT_READ part readable (the file's bytes), not
 *    writable; PROT_NONE part SIGSEGV; back to read-write: the file's bytes.
 *
 *   file_mremap DIR      (creates its files in DIR)
 */
#include "file_util.h"

#define SEED 13
static size_t pg, FSZ;

/* Check mapping pages [from, to) against file pages off+from... */
static bool pages_ok(const uint8_t *p, size_t from, size_t to, size_t off_pages, const char *what)
{
	return check_file_range(p + from * pg, (to - from) * pg, (off_pages + from) * pg, FSZ, SEED, what);
}

/* An address range of `pages` pages that nothing uses. */
static uint8_t *reserve(size_t pages)
{
	uint8_t *r = mmap(NULL, pages * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		die("reserve");
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_mremap DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(50, "file_mremap");
	pg = (size_t)page_size();
	FSZ = 256 * pg + 300; /* 257 pages, the last one partly */
	char pg_[4096], pb[4096];
	int fd = make_file(argv[1], "g.dat", FSZ, SEED, pg_, sizeof pg_);
	int fb = make_file(argv[1], "h.dat", 64 * pg, 14, pb, sizeof pb);
	uint8_t *p, *q, *r;

	/* A. Move, same size: 64 pages at file page 16. */
	p = map_file(NULL, 64 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)(16 * pg));
	pages_ok(p, 0, 4, 16, "A: pages 0-3 read before the move");
	fill_pat(p + 5 * pg, pg, 0, 21);
	r = reserve(64);
	q = mremap(p, 64 * pg, 64 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, r);
	if (q == MAP_FAILED)
		die("mremap A");
	check(q == r, "A: mremap MREMAP_FIXED moved the mapping where asked");
	pages_ok(q, 0, 4, 16, "A: after the move, pages 0-3 are the file's bytes");
	check(find_pat_mismatch(q + 5 * pg, pg, 0, 21) == NOMISMATCH, "A: page 5 holds what was written");
	pages_ok(q, 40, 41, 16, "A: page 40 (never touched, first touch after the move): the file's bytes");
	pages_ok(q, 6, 40, 16, "A: pages 6-39: the file's bytes");
	pages_ok(q, 41, 64, 16, "A: pages 41-63: the file's bytes");
	check_signal(p + 8 * pg, false, SIGSEGV, "A: the old range is gone");
	munmap(q, 64 * pg);

	/* B. Grow in place: 32 pages at file page 0, room after it. */
	r = reserve(64);
	p = map_file(r, 32 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
	munmap(r + 32 * pg, 32 * pg);
	pages_ok(p, 10, 11, 0, "B: page 10 read before the grow");
	q = mremap(p, 32 * pg, 48 * pg, 0);
	check(q == p, "B: mremap grew the mapping in place (32 to 48 pages)");
	if (q == p) {
		pages_ok(p, 32, 48, 0, "B: the new pages 32-47 are file pages 32-47");
		pages_ok(p, 0, 32, 0, "B: pages 0-31 are the file's bytes");
		/* D. Shrink, then grow in place again. */
		fill_pat(p + 12 * pg, pg, 0, 22);
		q = mremap(p, 48 * pg, 8 * pg, 0);
		check(q == p, "D: shrink to 8 pages");
		check_signal(p + 20 * pg, false, SIGSEGV, "D: page 20 is gone");
		q = mremap(p, 8 * pg, 40 * pg, 0);
		check(q == p, "D: grow in place again to 40 pages");
		if (q == p)
			pages_ok(p, 0, 40, 0, "D: pages 0-39 are the file's bytes (page 12's write was dropped)");
		munmap(p, 40 * pg);
	} else {
		munmap(q == MAP_FAILED ? p : q, q == MAP_FAILED ? 32 * pg : 48 * pg);
	}

	/* C. Grow with a move: 16 pages at file page 100 to 64 pages. */
	p = map_file(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)(100 * pg));
	pages_ok(p, 0, 2, 100, "C: pages 0-1 read before");
	fill_pat(p + 2 * pg, pg, 0, 23);
	r = reserve(64);
	q = mremap(p, 16 * pg, 64 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, r);
	check(q == r, "C: mremap grew and moved the mapping (16 to 64 pages)");
	if (q == r) {
		pages_ok(q, 0, 2, 100, "C: pages 0-1 are the file's bytes");
		check(find_pat_mismatch(q + 2 * pg, pg, 0, 23) == NOMISMATCH, "C: page 2 holds what was written");
		pages_ok(q, 50, 51, 100, "C: page 50 (new, first touch): file page 150");
		pages_ok(q, 3, 64, 100, "C: pages 3-63: file pages 103-163");
		munmap(q, 64 * pg);
	}

	/* C2. Grow past the end of the file: 16 pages at file page 200 to 64
	 * (file pages 200-263: page 256 is the tail page, 257 and on SIGBUS). */
	p = map_file(NULL, 16 * pg, PROT_READ, MAP_PRIVATE, fd, (off_t)(200 * pg));
	pages_ok(p, 0, 1, 200, "C2: page 0 read before");
	q = mremap(p, 16 * pg, 64 * pg, MREMAP_MAYMOVE);
	check(q != MAP_FAILED, "C2: mremap grew the mapping to 64 pages");
	if (q != MAP_FAILED) {
		check_signal(q + 60 * pg, false, SIGBUS, "C2: page 60 (file page 260, past the end)");
		check_signal(q + 57 * pg + 5, false, SIGBUS, "C2: page 57 (file page 257, past the end)");
		pages_ok(q, 0, 57, 200, "C2: pages 0-56: the file's bytes, then zeros in the tail page");
		munmap(q, 64 * pg);
	}

	/* G. MREMAP_DONTUNMAP: the old range stays, with the file's bytes. */
	p = map_file(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)(32 * pg));
	pages_ok(p, 0, 2, 32, "G: pages 0-1 read before");
	fill_pat(p + 3 * pg, pg, 0, 24);
	q = mremap(p, 16 * pg, 16 * pg, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL); /* the hint: 0 */
	check(q != MAP_FAILED, "G: mremap MREMAP_DONTUNMAP");
	if (q == MAP_FAILED)
		printf("   errno %d\n", errno);
	if (q != MAP_FAILED) {
		check(find_pat_mismatch(q + 3 * pg, pg, 0, 24) == NOMISMATCH, "G: the new range holds the write");
		pages_ok(q, 0, 3, 32, "G: the new range: pages 0-2 the file's bytes");
		pages_ok(q, 4, 16, 32, "G: the new range: pages 4-15 the file's bytes");
		pages_ok(p, 0, 16, 32, "G: the old range reads the file's bytes (page 3 too)");
		munmap(q, 16 * pg);
	}
	munmap(p, 16 * pg);

	/* E. munmap of the middle. */
	p = map_file(NULL, 64 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)(64 * pg));
	pages_ok(p, 0, 1, 64, "E: page 0 read before");
	fill_pat(p + 63 * pg, pg, 0, 25);
	check(munmap(p + 20 * pg, 20 * pg) == 0, "E: munmap of pages 20-39");
	check_signal(p + 20 * pg, false, SIGSEGV, "E: page 20 is gone");
	check_signal(p + 39 * pg + 100, false, SIGSEGV, "E: page 39 is gone");
	pages_ok(p, 45, 46, 64, "E: page 45 (first touch after the munmap): file page 109");
	pages_ok(p, 10, 20, 64, "E: pages 10-19: the file's bytes");
	pages_ok(p, 40, 63, 64, "E: pages 40-62: the file's bytes");
	check(find_pat_mismatch(p + 63 * pg, pg, 0, 25) == NOMISMATCH, "E: page 63 holds what was written");
	q = mmap(p + 20 * pg, 20 * pg, PROT_READ, MAP_PRIVATE | MAP_FIXED, fb, 0);
	check(q == p + 20 * pg, "E: another file mapped in the hole");
	check(find_pat_mismatch(q, 20 * pg, 0, 14) == NOMISMATCH, "E: the hole shows the other file's bytes");
	pages_ok(p, 0, 20, 64, "E: pages 0-19 still the first file's");
	munmap(p, 64 * pg);

	/* F. mprotect on parts: 64 pages at file page 8. */
	p = map_file(NULL, 64 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)(8 * pg));
	pages_ok(p, 0, 1, 8, "F: page 0 read before");
	check(mprotect(p + 16 * pg, 16 * pg, PROT_READ) == 0, "F: mprotect pages 16-31 PROT_READ");
	check(mprotect(p + 32 * pg, 16 * pg, PROT_NONE) == 0, "F: mprotect pages 32-47 PROT_NONE");
	pages_ok(p, 10, 20, 8, "F: pages 10-19 (across the boundary): the file's bytes");
	check_signal(p + 18 * pg, true, SIGSEGV, "F: a write to read-only page 18");
	check_signal(p + 31 * pg + pg - 1, false, 0, "F: a read of read-only page 31");
	check_signal(p + 32 * pg, false, SIGSEGV, "F: a read of PROT_NONE page 32");
	check_signal(p + 47 * pg + 9, true, SIGSEGV, "F: a write to PROT_NONE page 47");
	pages_ok(p, 48, 64, 8, "F: pages 48-63: the file's bytes");
	fill_pat(p + 50 * pg, pg, 0, 26);
	check(find_pat_mismatch(p + 50 * pg, pg, 0, 26) == NOMISMATCH, "F: page 50 is still writable");
	pages_ok(p, 16, 32, 8, "F: read-only pages 16-31: the file's bytes");
	check(mprotect(p, 64 * pg, PROT_READ | PROT_WRITE) == 0, "F: mprotect everything back to read-write");
	pages_ok(p, 32, 48, 8, "F: pages 32-47: the file's bytes");
	fill_pat(p + 40 * pg, pg, 0, 27);
	check(find_pat_mismatch(p + 40 * pg, pg, 0, 27) == NOMISMATCH, "F: page 40 is writable now");
	pages_ok(p, 0, 40, 8, "F: pages 0-39: the file's bytes");
	munmap(p, 64 * pg);

	check(file_unchanged(fd, FSZ, SEED), "the file is unchanged");
	close(fd);
	close(fb);
	watchdog(0, "");
	return finish("file_mremap");
}
