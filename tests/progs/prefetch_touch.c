/* Known touches of one 4 MiB region, for the working set and prefetch
 * tests (test_prefetch.py): page i is read when i % 8 == 1, written when
 * i % 8 == 3, read then written when i % 8 == 5, never touched otherwise,
 * in the order i = 37 k mod 1024.  No two touched pages are neighbours, so
 * with readahead = 4K each fault serves its own page: the trace's set is
 * exactly 384 pages, 256 of them written.
 *
 *   prefetch_touch mkfile PATH [huge]     a 4 MiB (64 MiB) file of pattern 7
 *   prefetch_touch zero|file|source PATH [early] [fork] [dontneed] [keep] [pause] [big] [huge] [poison9]
 *                  [dense] [hole]
 *     zero: anonymous memory (zeros); file: a private mapping of PATH;
 *     source: anonymous memory a `load` rule fills from PATH.
 *     fork: a child checks every touched page, writes some, and its parent
 *     sees its own; dontneed: MADV_DONTNEED of pages 128-383 (huge: 128 to
 *     the end; their next
 *     touch reads zeros, the file's bytes for a file mapping); early: both
 *     right after mmap, while a prefetch may still be installing; keep: no
 *     munmap at the end (the pages are counted at exit); pause: 100 ms of
 *     other work between mmap and the first touch; big: the region is
 *     8 MiB (the same pages touched); huge: 64 MiB, the same pattern over
 *     all of it (6144 pages touched, more than prefetch installs before
 *     mmap returns: its helper installs the rest); poison9: page 9 is read through a
 *     probe, which reports whether it raised SIGBUS (a poison rule's page);
 *     dense: every page is read, in order, none written; hole (with huge):
 *     right after mmap, pages 6000-9999 are unmapped and mapped again as
 *     new anonymous memory (zeros), while a prefetch may be installing.
 * Every touched page is checked whole, so a wrong byte anywhere shows. */
#include <sys/wait.h>

#include "file_util.h"

#define NP 1024
#define NP_HUGE 16384
#define PG 4096
#define DROP_FROM 128
#define DROP_TO 384
#define HOLE_FROM 6000
#define HOLE_TO 10000

static int mode; /* 0 zero, 1 file, 2 source */
static struct source src;
static size_t np = NP; /* pages of the region's pattern (huge: NP_HUGE) */
static bool wrote[NP_HUGE], dropped[NP_HUGE], holed[NP_HUGE];
static bool poison9; /* page 9 is probed, not checked */
static bool dense;   /* every page read, in order */

static uint8_t base_byte(size_t i, size_t off)
{
	uint64_t x = (uint64_t)i * PG + off;
	if (holed[i])
		return 0;
	if (mode == 1)
		return pat_byte(x, 7);
	if (mode == 2 && !dropped[i])
		return source_byte(&src, x);
	return 0;
}

static uint8_t want(size_t i, size_t off)
{
	return wrote[i] && off < 64 ? (uint8_t)(i * 13 + 5) : base_byte(i, off);
}

static bool page_ok(const volatile uint8_t *p, size_t i)
{
	for (size_t off = 0; off < PG; off++)
		if (p[i * PG + off] != want(i, off)) {
			printf("   page %zu byte %zu: got %u, want %u\n", i, off, p[i * PG + off], want(i, off));
			return false;
		}
	return true;
}

static void write_page(volatile uint8_t *p, size_t i)
{
	for (size_t off = 0; off < 64; off++)
		p[i * PG + off] = (uint8_t)(i * 13 + 5);
	wrote[i] = true;
}

static bool touched(size_t i)
{
	return (dense || i % 8 == 1 || i % 8 == 3 || i % 8 == 5) && !(poison9 && i == 9);
}

/* The touches, in their order; true when every read was right. */
static bool touch(volatile uint8_t *p)
{
	bool ok = true;
	for (size_t k = 0; k < np; k++) {
		size_t i = dense ? k : k * 37 % np;
		if (dense) {
			ok &= page_ok(p, i);
			continue;
		}
		if (poison9 && i == 9) {
			struct probe_result r = probe(p + 9 * PG, false, 0);
			printf("page 9: %s\n", r.sig == SIGBUS && r.addr_in_page ? "SIGBUS" :
			       r.sig ? sig_name(r.sig) : "read");
			continue;
		}
		if (i % 8 == 1 || i % 8 == 5)
			ok &= page_ok(p, i);
		if (i % 8 == 3 || i % 8 == 5)
			write_page(p, i);
	}
	return ok;
}

static bool all_touched_ok(const volatile uint8_t *p)
{
	bool ok = true;
	for (size_t i = 0; i < np; i++)
		if (touched(i))
			ok &= page_ok(p, i);
	return ok;
}

/* Pages 128-383 (huge: every page from 128 on, most of them still to be
 * installed by the prefetch helper when it comes early). */
static void drop(uint8_t *p)
{
	size_t to = np == NP ? DROP_TO : np;
	check(madvise(p + DROP_FROM * PG, (to - DROP_FROM) * PG, MADV_DONTNEED) == 0,
	      "MADV_DONTNEED of pages %d-%zu", DROP_FROM, to - 1);
	for (size_t i = DROP_FROM; i < to; i++) {
		dropped[i] = true;
		wrote[i] = false;
	}
}

/* Pages HOLE_FROM to HOLE_TO - 1 of the huge region are new memory. */
static void hole(uint8_t *p)
{
	uint8_t *h = p + HOLE_FROM * PG;
	size_t len = (HOLE_TO - HOLE_FROM) * PG;
	check(np == NP_HUGE && munmap(h, len) == 0 &&
	      mmap(h, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == h,
	      "pages %d-%d unmapped and mapped again as new memory", HOLE_FROM, HOLE_TO - 1);
	for (size_t i = HOLE_FROM; i < HOLE_TO; i++) {
		holed[i] = true;
		wrote[i] = false;
	}
}

static void forked(volatile uint8_t *p)
{
	pid_t pid = lft_fork();
	if (pid == 0) {
		bool ok = all_touched_ok(p);
		for (size_t i = 3; i < np; i += 64)
			p[i * PG + 100] = 0xEE; /* the child's own copy */
		ok &= p[3 * PG + 100] == 0xEE;
		_exit(ok ? 0 : 1);
	}
	int st;
	check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "a child of fork sees every touched page right, and its writes stay its own");
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: prefetch_touch mkfile|zero|file|source PATH [early] [fork] [dontneed] [keep] [pause] [big] [huge] [poison9] [dense] [hole]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(60, "prefetch_touch");
	if (!strcmp(argv[1], "mkfile")) {
		char path[4096], *slash = strrchr(argv[2], '/');
		*slash = 0;
		size_t pages = argc > 3 && !strcmp(argv[3], "huge") ? NP_HUGE : NP;
		close(make_file(argv[2], slash + 1, pages * PG, 7, path, sizeof path));
		return 0;
	}
	mode = !strcmp(argv[1], "file") ? 1 : !strcmp(argv[1], "source") ? 2 : 0;
	bool early = false, do_fork = false, do_drop = false, keep = false, pause = false,
	     do_hole = false;
	size_t len = NP * PG;
	for (int a = 3; a < argc; a++) {
		early |= !strcmp(argv[a], "early");
		do_fork |= !strcmp(argv[a], "fork");
		do_drop |= !strcmp(argv[a], "dontneed");
		keep |= !strcmp(argv[a], "keep");
		pause |= !strcmp(argv[a], "pause");
		poison9 |= !strcmp(argv[a], "poison9");
		dense |= !strcmp(argv[a], "dense");
		do_hole |= !strcmp(argv[a], "hole");
		if (!strcmp(argv[a], "big"))
			len = 2 * NP * PG;
		if (!strcmp(argv[a], "huge"))
			len = (np = NP_HUGE) * PG;
	}
	uint8_t *p;
	if (mode == 1) {
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			die("open %s", argv[2]);
		p = map_file(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		close(fd);
	} else {
		if (mode == 2)
			source_open(&src, argv[2], 0);
		p = map_anon(len);
	}
	if (do_hole)
		hole(p);
	if (pause)
		usleep(100000);
	if (early && do_drop)
		drop(p);
	if (early && do_fork)
		forked(p);
	check(touch(p), "every page read reads what it holds");
	if (!early && do_drop)
		drop(p);
	if (!early && do_fork)
		forked(p);
	check(all_touched_ok(p), "every touched page holds its bytes at the end");
	if (!keep)
		munmap(p, len);
	return finish("prefetch_touch");
}
