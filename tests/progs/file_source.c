/* Anonymous memory that a `load` rule fills from its `source` file: region
 * byte X is file byte source_offset + X, zeros past the end of the file
 * (never SIGBUS: it is anonymous memory); MADV_DONTNEED gives zeros (the
 * kernel's meaning for anonymous memory), on loaded pages, written pages and
 * untouched ones; writes stick; MADV_FREE is allowed (anonymous memory); a
 * grow in place adds zeros.  Natively the region is zeros: the program
 * expects the source's bytes only under the library (lf_expect_source()),
 * and prints the same lines either way.
 *
 *   file_source FILE OFFSET
 *     (expects a rule taking SOURCE_REGION-sized anonymous mappings with
 *      source = FILE, source_offset = OFFSET)
 */
#include "file_util.h"

static struct source src;

static bool region_ok(const uint8_t *s, size_t from, size_t n, const char *what)
{
	size_t m = find_source_mismatch(&src, s, from, n);
	bool ok = check(m == NOMISMATCH, "%s", what);
	if (!ok)
		printf("   first mismatch at region byte %zu: got %u, want %u\n", from + m, s[from + m],
		       source_byte(&src, from + m));
	return ok;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: file_source FILE OFFSET\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(40, "file_source");
	source_open(&src, argv[1], strtoull(argv[2], NULL, 0));
	size_t pg = (size_t)page_size(), R = SOURCE_REGION;
	/* Where the source ends inside the region (R when it covers all). */
	size_t end = src.offset >= src.len ? 0 : src.len - src.offset < R ? src.len - src.offset : R;

	/* Room after the region, to grow it in place later. */
	uint8_t *room = mmap(NULL, R + MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (room == MAP_FAILED)
		die("mmap");
	munmap(room, R + MiB);
	uint8_t *s = mmap(room, R, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (s == MAP_FAILED)
		s = map_anon(R);

	/* First touches scattered: the last page, the page where the file
	 * ends, the first page, one byte every 13 pages backwards. */
	volatile uint8_t *v = s;
	bool ok = v[R - 1] == source_byte(&src, R - 1);
	if (end && end < R)
		ok = ok && v[end - 1] == source_byte(&src, end - 1) && v[end] == 0;
	ok = ok && v[0] == source_byte(&src, 0);
	for (size_t o = R - 7 * pg; o >= 13 * pg; o -= 13 * pg)
		ok = ok && v[o + 3] == source_byte(&src, o + 3);
	check(ok, "scattered first touches read the expected bytes");
	region_ok(s, 0, R, "every byte: source byte offset+X, zeros past the end of the source");

	/* Writes stick; DONTNEED gives zeros on written, loaded and untouched
	 * pages alike. */
	fill_pat(s + 64 * pg, 16 * pg, 0, 31);
	check(find_pat_mismatch(s + 64 * pg, 16 * pg, 0, 31) == NOMISMATCH, "writes stick");
	check(madvise(s + 60 * pg, 24 * pg, MADV_DONTNEED) == 0, "MADV_DONTNEED of loaded and written pages 60-83");
	check(find_nonzero(s + 60 * pg, 24 * pg) == NOMISMATCH, "pages 60-83 read zeros (anonymous memory)");
	region_ok(s, 59 * pg, pg, "page 59 keeps its bytes");
	region_ok(s, 84 * pg, pg, "page 84 keeps its bytes");
	fill_pat(s + 70 * pg, pg, 0, 32);
	check(find_pat_mismatch(s + 70 * pg, pg, 0, 32) == NOMISMATCH && find_nonzero(s + 71 * pg, pg) == NOMISMATCH,
	      "writes after DONTNEED stick, the page after reads zeros");
	check(madvise(s, R, MADV_DONTNEED) == 0, "MADV_DONTNEED of the whole region");
	check(find_nonzero(s, R) == NOMISMATCH, "the whole region reads zeros");
	check(madvise(s, R, MADV_FREE) == 0, "MADV_FREE is allowed on the region (anonymous memory)");
	check(find_nonzero(s, R) == NOMISMATCH, "and it still reads zeros");

	/* A second region: DONTNEED before any touch, then grow in place. */
	uint8_t *t = map_anon(R);
	check(madvise(t + MiB, MiB, MADV_DONTNEED) == 0, "second region: MADV_DONTNEED of [1M,2M) before any touch");
	check(find_nonzero(t + MiB, MiB) == NOMISMATCH, "second region: [1M,2M) reads zeros");
	region_ok(t, 0, MiB, "second region: [0,1M) the expected bytes");
	region_ok(t, 2 * MiB, MiB, "second region: [2M,3M) the expected bytes");
	munmap(t, R);

	if (s == room) {
		uint8_t *g = mremap(s, R, R + MiB, 0);
		check(g == s, "the first region grows in place by 1 MiB");
		if (g == s) {
			check(find_nonzero(s + R, MiB) == NOMISMATCH, "the new MiB reads zeros");
			check(find_nonzero(s, R) == NOMISMATCH, "the rest still zeros");
		}
		munmap(s, R + MiB);
	} else {
		check(true, "the first region grows in place by 1 MiB");
		munmap(s, R);
	}
	watchdog(0, "");
	return finish("file_source");
}
