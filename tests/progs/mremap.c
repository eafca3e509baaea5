/* mremap keeps bytes and zeros: grow in place, move (MREMAP_MAYMOVE),
 * move to a chosen place (MREMAP_FIXED), shrink, and grow back in place
 * after a shrink (the regrown part reads as zeros, as the kernel gives).
 *
 *   mremap [--source FILE OFFSET]
 *
 * With --source, a SOURCE_REGION-sized mapping (taken by a `load` rule) is
 * moved and grown too: untouched pages still read as the source's bytes,
 * the grown part as zeros.
 */
#include "lftest.h"

static struct source src;

/* Print the lines of /proc/self/maps that overlap [a, b). */
static void print_maps_in(const void *a, const void *b)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < (uintptr_t)b && hi > (uintptr_t)a)
			printf("   %s", line);
	}
	if (f)
		fclose(f);
}

/* A free range of `len` bytes: map it, unmap it. */
static uint8_t *free_range(size_t len)
{
	uint8_t *r = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		die("mmap reserve");
	munmap(r, len);
	return r;
}

int main(int argc, char **argv)
{
	size_t pg = (size_t)page_size();
	bool have_src = argc > 3 && !strcmp(argv[1], "--source");
	if (have_src)
		source_open(&src, argv[2], strtoull(argv[3], NULL, 0));

	/* ---- grow in place ------------------------------------------- */
	/* 16 MiB mapped, the upper 8 unmapped again: room to grow into.  This
	 * is the program's first mapping (under the library, the first one
	 * registered), and the program waits a little before it grows: the
	 * hole it made is its own, nothing else of a single-threaded program
	 * may appear in it in the meantime. */
	uint8_t *p = map_anon(16 * MiB);
	if (munmap(p + 8 * MiB, 8 * MiB) < 0)
		die("munmap tail");
	usleep(50000);
	fill_pat(p, 2 * MiB, 0, 1);                 /* [0,2M) written */
	check(find_nonzero(p + 2 * MiB, MiB) == NOMISMATCH, "[2M,3M) read before growing: zeros");
	uint8_t *q = mremap(p, 8 * MiB, 16 * MiB, 0);
	if (!check(q == p, "grow in place without MREMAP_MAYMOVE succeeded at the same address")) {
		printf("   mremap: %s; mapped in the hole [%p, %p):\n", strerror(errno), (void *)(p + 8 * MiB),
		       (void *)(p + 16 * MiB));
		print_maps_in(p + 8 * MiB, p + 16 * MiB);
		q = mremap(p, 8 * MiB, 16 * MiB, MREMAP_MAYMOVE); /* go on with the rest */
	}
	if (q == MAP_FAILED)
		die("mremap grow");
	check(find_pat_mismatch(q, 2 * MiB, 0, 1) == NOMISMATCH, "grown: written bytes kept");
	check(find_nonzero(q + 2 * MiB, 14 * MiB) == NOMISMATCH,
	      "grown: untouched old pages and the new part read zeros");
	fill_pat(q + 12 * MiB, 4 * MiB, 12 * MiB, 2);
	check(find_pat_mismatch(q + 12 * MiB, 4 * MiB, 12 * MiB, 2) == NOMISMATCH,
	      "grown: writes to the new part stick");

	/* ---- move with MREMAP_MAYMOVE -------------------------------- */
	/* A page mapped right after the end forces the move. */
	uint8_t *blk = mmap(q + 16 * MiB, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			    -1, 0);
	bool blocked = blk == q + 16 * MiB;
	uint8_t *m = mremap(q, 16 * MiB, 24 * MiB, MREMAP_MAYMOVE);
	if (m == MAP_FAILED)
		die("mremap maymove");
	check(!blocked || m != q, "MREMAP_MAYMOVE grow moved the mapping");
	check(find_pat_mismatch(m, 2 * MiB, 0, 1) == NOMISMATCH &&
		      find_pat_mismatch(m + 12 * MiB, 4 * MiB, 12 * MiB, 2) == NOMISMATCH,
	      "moved: written bytes kept");
	check(find_nonzero(m + 2 * MiB, 10 * MiB) == NOMISMATCH,
	      "moved: pages never touched before the move read zeros");
	check(find_nonzero(m + 16 * MiB, 8 * MiB) == NOMISMATCH, "moved: the grown part reads zeros");
	fill_pat(m + 4 * MiB, 2 * MiB, 4 * MiB, 3);
	fill_pat(m + 20 * MiB, 2 * MiB, 20 * MiB, 3);
	check(find_pat_mismatch(m + 4 * MiB, 2 * MiB, 4 * MiB, 3) == NOMISMATCH &&
		      find_pat_mismatch(m + 20 * MiB, 2 * MiB, 20 * MiB, 3) == NOMISMATCH,
	      "moved: new writes stick");
	if (blocked)
		munmap(blk, pg);

	/* ---- move to a chosen place (MREMAP_FIXED) --------------------- */
	/* The target is a mapping of its own (replaced by the move). */
	uint8_t *t = map_anon(32 * MiB);
	t[4 * MiB + 5] = 1; /* something there that must vanish */
	uint8_t *f = mremap(m, 24 * MiB, 24 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, t + 4 * MiB);
	check(f == t + 4 * MiB, "MREMAP_FIXED moved to the requested address");
	if (f == MAP_FAILED)
		die("mremap fixed");
	check(find_pat_mismatch(f, 2 * MiB, 0, 1) == NOMISMATCH &&
		      find_pat_mismatch(f + 4 * MiB, 2 * MiB, 4 * MiB, 3) == NOMISMATCH &&
		      find_pat_mismatch(f + 12 * MiB, 4 * MiB, 12 * MiB, 2) == NOMISMATCH &&
		      find_pat_mismatch(f + 20 * MiB, 2 * MiB, 20 * MiB, 3) == NOMISMATCH,
	      "fixed move: written bytes kept");
	check(find_nonzero(f + 2 * MiB, 2 * MiB) == NOMISMATCH &&
		      find_nonzero(f + 6 * MiB, 6 * MiB) == NOMISMATCH &&
		      find_nonzero(f + 16 * MiB, 4 * MiB) == NOMISMATCH &&
		      find_nonzero(f + 22 * MiB, 2 * MiB) == NOMISMATCH,
	      "fixed move: untouched pages read zeros");
	check(find_nonzero(t, 4 * MiB) == NOMISMATCH && find_nonzero(t + 28 * MiB, 4 * MiB) == NOMISMATCH,
	      "fixed move: the rest of the target mapping reads zeros");
	fill_pat(t + 29 * MiB, MiB, 0, 4);
	check(find_pat_mismatch(t + 29 * MiB, MiB, 0, 4) == NOMISMATCH,
	      "fixed move: the target's remainder still takes writes");

	/* ---- shrink, then grow back in place ---------------------------- */
	uint8_t *sh = mremap(f, 24 * MiB, 3 * MiB, 0);
	check(sh == f, "shrink stays in place");
	check(find_pat_mismatch(sh, 2 * MiB, 0, 1) == NOMISMATCH && find_nonzero(sh + 2 * MiB, MiB) == NOMISMATCH,
	      "shrunk: the kept part has its bytes and zeros");
	uint8_t *g = mremap(sh, 3 * MiB, 8 * MiB, 0);
	check(g == sh, "grow back in place after the shrink");
	if (g != MAP_FAILED) {
		check(find_nonzero(g + 3 * MiB, 5 * MiB) == NOMISMATCH,
		      "regrown: the part cut off and given back reads zeros (not the old bytes)");
		check(find_pat_mismatch(g, 2 * MiB, 0, 1) == NOMISMATCH, "regrown: the kept part still has its bytes");
	}

	/* ---- a move of a range never touched at all --------------------- */
	uint8_t *u = map_anon(4 * MiB);
	uint8_t *dst = free_range(8 * MiB);
	uint8_t *um = mremap(u, 4 * MiB, 6 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (um == MAP_FAILED)
		die("mremap untouched");
	check(find_nonzero(um, 6 * MiB) == NOMISMATCH, "untouched mapping moved: reads zeros");
	fill_pat(um, 6 * MiB, 0, 5);
	check(find_pat_mismatch(um, 6 * MiB, 0, 5) == NOMISMATCH, "untouched mapping moved: writes stick");

	/* ---- MREMAP_DONTUNMAP: the old range stays, empty ---------------- */
	uint8_t *du = map_anon(4 * MiB);
	fill_pat(du, 2 * MiB, 0, 11); /* [2M,4M) untouched */
	uint8_t *dd = mremap(du, 4 * MiB, 4 * MiB, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	if (dd == MAP_FAILED) {
		check(errno == EINVAL, "MREMAP_DONTUNMAP not supported here (EINVAL)");
	} else {
		check(dd != du, "MREMAP_DONTUNMAP moved the pages");
		check(find_pat_mismatch(dd, 2 * MiB, 0, 11) == NOMISMATCH && find_nonzero(dd + 2 * MiB, 2 * MiB) == NOMISMATCH,
		      "DONTUNMAP: the new range has the bytes and the zeros");
		check(find_nonzero(du, 4 * MiB) == NOMISMATCH, "DONTUNMAP: the old range reads zeros");
		fill_pat(du + MiB, 2 * MiB, 0, 12);
		fill_pat(dd + 3 * MiB, MiB, 0, 13);
		check(find_pat_mismatch(du + MiB, 2 * MiB, 0, 12) == NOMISMATCH &&
			      find_pat_mismatch(dd + 3 * MiB, MiB, 0, 13) == NOMISMATCH &&
			      find_pat_mismatch(dd, 2 * MiB, 0, 11) == NOMISMATCH,
		      "DONTUNMAP: both ranges take writes, independently");
	}

	/* ---- move only the middle of a mapping out ------------------------ */
	uint8_t *w = map_anon(8 * MiB);
	fill_pat(w, MiB, 0, 14);
	fill_pat(w + 3 * MiB, MiB, 3 * MiB, 14);
	fill_pat(w + 7 * MiB, MiB, 7 * MiB, 14);
	uint8_t *wd = free_range(8 * MiB);
	uint8_t *wm = mremap(w + 2 * MiB, 3 * MiB, 5 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, wd);
	if (wm == MAP_FAILED)
		die("mremap middle");
	check(find_nonzero(wm, MiB) == NOMISMATCH && find_pat_mismatch(wm + MiB, MiB, 3 * MiB, 14) == NOMISMATCH &&
		      find_nonzero(wm + 2 * MiB, 3 * MiB) == NOMISMATCH,
	      "middle moved out: its bytes, its untouched pages and the grown part as expected");
	check(find_pat_mismatch(w, MiB, 0, 14) == NOMISMATCH && find_nonzero(w + MiB, MiB) == NOMISMATCH &&
		      find_nonzero(w + 5 * MiB, 2 * MiB) == NOMISMATCH &&
		      find_pat_mismatch(w + 7 * MiB, MiB, 7 * MiB, 14) == NOMISMATCH,
	      "middle moved out: the two sides left behind as they were");
	/* (in two pieces: a 3 MiB mapping is what the tests' `load` rules take) */
	uint8_t *wf = mmap(w + 2 * MiB, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	uint8_t *wf2 = mmap(w + 4 * MiB, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	check(wf == w + 2 * MiB && wf2 == w + 4 * MiB && find_nonzero(wf, 3 * MiB) == NOMISMATCH,
	      "the hole it left, mapped again: zeros");

	/* ---- the source region, moved and grown ------------------------- */
	if (have_src) {
		uint8_t *s = map_anon(SOURCE_REGION);
		size_t m0 = find_source_mismatch(&src, s, 0, 128 * KiB); /* touch the start */
		check(m0 == NOMISMATCH, "source region: first 128 KiB as expected before the move");
		uint8_t *sd = free_range(SOURCE_REGION + 2 * MiB);
		uint8_t *sm = mremap(s, SOURCE_REGION, SOURCE_REGION + MiB, MREMAP_MAYMOVE | MREMAP_FIXED, sd);
		if (sm == MAP_FAILED)
			die("mremap source");
		check(find_source_mismatch(&src, sm, 0, MiB) == NOMISMATCH,
		      "source region moved: first MiB (partly touched before) as expected");
		check(find_nonzero(sm + SOURCE_REGION, MiB) == NOMISMATCH, "source region moved: grown part is zeros");
		/* Shrink it to 2 MiB in place, then move it again: [1M,2M) was
		 * never touched. */
		uint8_t *ss = mremap(sm, SOURCE_REGION + MiB, 2 * MiB, 0);
		uint8_t *sd2 = free_range(4 * MiB);
		uint8_t *sm2 = mremap(ss, 2 * MiB, 2 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, sd2);
		if (sm2 == MAP_FAILED)
			die("mremap source 2");
		check(find_source_mismatch(&src, sm2, 0, 2 * MiB) == NOMISMATCH,
		      "source region shrunk and moved again: untouched pages as expected");
	}
	return finish("mremap");
}
