/* A sequential stream of first writes, as a program filling a large buffer
 * does: under a zero rule the library may serve it with 2 MiB pages moved
 * in (UFFDIO_MOVE).  Whatever serves it, the program must see what the
 * kernel gives: zeros, its own writes, and the same after fork,
 * MADV_DONTNEED and mremap.
 *
 *   stream mmap|malloc|nohuge|huge [thp=yes|no [nh]]
 *
 * mmap: an anonymous mapping; malloc: one malloc block; nohuge, huge: a
 * mapping the program gives MADV_NOHUGEPAGE, MADV_HUGEPAGE (its advice
 * must hold).  thp=yes: the written range must end backed by huge pages
 * (AnonHugePages in smaps); thp=no: by none; nh: the mapping carries
 * MADV_NOHUGEPAGE in its VmFlags before the stream (the library gives it
 * to the ranges it registers).  Without them nothing is checked of that. */
#include <sys/wait.h>

#include "lftest.h"

#define LEN (64 * MiB)
#define PG 4096UL

/* AnonHugePages of the mappings that overlap [p, p+len), in KiB. */
static long thp_kib(const char *p, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	long kib = 0;
	bool in = false;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = lo < (uintptr_t)p + len && hi > (uintptr_t)p;
			continue;
		}
		long v;
		if (in && sscanf(line, "AnonHugePages: %ld kB", &v) == 1)
			kib += v;
	}
	if (f)
		fclose(f);
	return kib;
}

/* The mapping that holds p has VmFlags `nh` (MADV_NOHUGEPAGE). */
static bool has_nh(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false, nh = false;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = lo <= (uintptr_t)p && (uintptr_t)p < hi;
		else if (in && !strncmp(line, "VmFlags:", 8))
			nh = strstr(line, " nh") != NULL;
	}
	if (f)
		fclose(f);
	return nh;
}

/* Page i holds i in its first word, i+1 in its last, zeros between (the
 * range [from, to) of pages is checked). */
static size_t wrong_pages(const uint8_t *p, size_t from, size_t to)
{
	size_t bad = 0;
	for (size_t i = from; i < to; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * PG);
		if (w[0] != i || w[PG / 8 - 1] != i + 1 || w[1] || w[PG / 16] || w[PG / 8 - 2])
			bad++;
	}
	return bad;
}

static size_t nonzero_pages(const uint8_t *p, size_t from, size_t to)
{
	size_t bad = 0;
	for (size_t i = from; i < to; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * PG);
		if (w[0] || w[PG / 16] || w[PG / 8 - 1])
			bad++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: stream mmap|malloc|nohuge [thp=yes|no]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *kind = argv[1];
	const char *thp = argc > 2 ? argv[2] : "";
	uint8_t *p, *block = NULL;
	size_t off = 0; /* of the first whole page in a malloc block */
	if (!strcmp(kind, "malloc")) {
		block = malloc(LEN + PG);
		off = (PG - (uintptr_t)block % PG) % PG;
		p = block ? block + off : NULL;
	} else {
		p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			p = NULL;
		if (p && !strcmp(kind, "nohuge"))
			check(madvise(p, LEN, MADV_NOHUGEPAGE) == 0, "madvise(MADV_NOHUGEPAGE) works");
		if (p && !strcmp(kind, "huge"))
			check(madvise(p, LEN, MADV_HUGEPAGE) == 0, "madvise(MADV_HUGEPAGE) works");
	}
	if (p && argc > 3 && !strcmp(argv[3], "nh"))
		check(has_nh(p), "the mapping carries MADV_NOHUGEPAGE");
	if (!check(p != NULL, "%s of 64 MiB", kind))
		return 1;
	size_t n = LEN / PG, written = n - 2048; /* the last 8 MiB stay untouched */
	/* The stream: the first and last word of each page, in order. */
	for (size_t i = 0; i < written; i++) {
		uint64_t *w = (uint64_t *)(p + i * PG);
		w[0] = i;
		w[PG / 8 - 1] = i + 1;
	}
	check(wrong_pages(p, 0, written) == 0, "every written page holds its writes and zeros");
	check(nonzero_pages(p, written, n) == 0, "the pages never written read zeros");
	long kib = thp_kib((char *)p, LEN);
	if (!strcmp(thp, "thp=yes"))
		check(kib >= 16 * 1024, "the stream ended backed by huge pages (%s)",
		      kib >= 16 * 1024 ? "at least 16 MiB" : "less than 16 MiB");
	else if (!strcmp(thp, "thp=no"))
		check(kib == 0, "no huge page, as the program advised");

	/* fork: the child sees the same bytes, and its writes stay its own. */
	pid_t pid = fork();
	if (pid == 0) {
		bool ok = wrong_pages(p, 0, written) == 0 && nonzero_pages(p, written, n) == 0;
		memset(p, 0x77, 4 * MiB);
		memset(p + written * PG, 0x66, PG);
		_exit(ok && p[0] == 0x77 ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child of fork reads the stream's bytes");
	check(wrong_pages(p, 0, written) == 0 && nonzero_pages(p, written, n) == 0,
	      "the child's writes left the parent's memory as it was");

	/* MADV_DONTNEED: a whole 2 MiB chunk and one page of another read
	 * zeros again, and may be written again. */
	uint8_t *chunk = (uint8_t *)(((uintptr_t)p + 24 * MiB) & ~(2 * MiB - 1));
	size_t c0 = (size_t)(chunk - p) / PG, one = c0 + 1024 + 3;
	check(madvise(chunk, 2 * MiB, MADV_DONTNEED) == 0 &&
	      madvise(p + one * PG, PG, MADV_DONTNEED) == 0, "madvise(MADV_DONTNEED) works");
	check(nonzero_pages(p, c0, c0 + 512) == 0 && nonzero_pages(p, one, one + 1) == 0,
	      "emptied pages read zeros");
	check(wrong_pages(p, 0, c0) == 0 && wrong_pages(p, c0 + 512, one) == 0 &&
	      wrong_pages(p, one + 1, written) == 0, "the pages around them kept their bytes");
	for (size_t i = c0; i < c0 + 512; i++) {
		uint64_t *w = (uint64_t *)(p + i * PG);
		w[0] = i;
		w[PG / 8 - 1] = i + 1;
	}
	((uint64_t *)(p + one * PG))[0] = one;
	((uint64_t *)(p + one * PG))[PG / 8 - 1] = one + 1;
	check(wrong_pages(p, 0, written) == 0, "written again, they hold the new writes");

	/* mremap to another place: the bytes go along, the untouched tail
	 * still reads zeros and takes writes. */
	if (strcmp(kind, "malloc")) {
		uint8_t *q = mremap(p, LEN, LEN + 4 * MiB, MREMAP_MAYMOVE);
		if (check(q != MAP_FAILED, "mremap of the whole mapping works")) {
			check(wrong_pages(q, 0, written) == 0, "after mremap, the bytes moved along");
			check(nonzero_pages(q, written, n + 1024) == 0,
			      "after mremap, the untouched pages and the new ones read zeros");
			memset(q + (n - 1) * PG, 0x55, PG);
			memset(q + (n + 1000) * PG, 0x44, PG);
			check(q[(n - 1) * PG + 7] == 0x55 && q[(n + 1000) * PG] == 0x44,
			      "after mremap, untouched and new pages take writes");
		}
	} else {
		/* realloc moves the block (the library: with mremap). */
		uint8_t *q = realloc(block, 2 * LEN);
		if (check(q != NULL, "realloc of the block to 128 MiB works")) {
			check(wrong_pages(q + off, 0, written) == 0, "after realloc, the bytes moved along");
			check(nonzero_pages(q + off, written, n) == 0,
			      "after realloc, the untouched pages read zeros");
			memset(q + LEN + 4 * MiB, 0x44, PG);
			check(q[LEN + 4 * MiB + 9] == 0x44, "after realloc, the new pages take writes");
			free(q);
		}
	}
	return finish("stream");
}
