/* fork and the advice the kernel keeps in a mapping: MADV_DONTFORK (the child
 * has no such range), MADV_DOFORK (it has it again), MADV_WIPEONFORK (the
 * child's copy is fresh memory: zeros, whatever was written or loaded),
 * MADV_KEEPONFORK (a plain copy again); on a whole region, on part of one,
 * in a child and a grandchild.  And the child's address space: a mapping the
 * child makes first gets the address the parent freed just before fork, as
 * natively, because nothing of the library takes it.
 *
 *   fork_advice DIR --source PATH OFFSET
 *
 * DIR: where a file is made for the private file mapping (WIPEONFORK is
 * refused there).  The source region (3 MiB, the `src` rule) reads the
 * source's bytes under the library, zeros natively (lftest.h).
 */
#include <sys/wait.h>

#include "file_util.h"

#define MAPPED_NOT 0
#define MAPPED_YES 1

/* Whether [p, p+len) is mapped at all: mincore fails with ENOMEM where
 * nothing is (it faults nothing in). */
static int mapped(const void *p, size_t len)
{
	unsigned char vec[1024];
	size_t pg = (size_t)page_size(), n = len / pg;
	for (size_t at = 0; at < n; at += sizeof vec) {
		size_t k = n - at < sizeof vec ? n - at : sizeof vec;
		if (mincore((uint8_t *)p + at * pg, k * pg, vec) < 0)
			return errno == ENOMEM ? MAPPED_NOT : -1;
	}
	return MAPPED_YES;
}

static bool all_zero(const uint8_t *p, size_t len) { return find_nonzero(p, len) == NOMISMATCH; }

static void wait_child(pid_t pid, const char *who)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s exited with status 0", who);
}

static size_t pg;
static uint8_t *dont, *dont_part, *again, *wiped, *kept;
static struct source src;
static uint8_t *srcmap;

/* What a child (or grandchild) of the advised process sees. */
static void child_checks(const char *who)
{
	check(mapped(dont, 4 * MiB) == MAPPED_NOT, "%s: the DONTFORK region is not mapped", who);
	check(mapped(dont_part, MiB) == MAPPED_YES && mapped(dont_part + 3 * MiB, MiB) == MAPPED_YES &&
		      mapped(dont_part + MiB, 2 * MiB) == MAPPED_NOT,
	      "%s: of the region DONTFORK in its middle, only the middle is not mapped", who);
	check(dont_part[0] == 0x31 && dont_part[3 * MiB + pg] == 0 && dont_part[4 * MiB - 1] == 0,
	      "%s: its ends: the parent's byte, zeros where nobody wrote", who);
	check(again[0] == 0x32 && again[7 * pg] == 0, "%s: DONTFORK then DOFORK: mapped, the parent's bytes",
	      who);
	check(all_zero(wiped, 4 * MiB), "%s: the WIPEONFORK region reads zeros, written pages included", who);
	check(find_nonzero(srcmap, SOURCE_REGION) == NOMISMATCH,
	      "%s: the WIPEONFORK source region reads zeros, loaded pages and untouched ones", who);
	check(kept[0] == 0x34 && kept[9 * pg] == 0x35, "%s: WIPEONFORK then KEEPONFORK: the parent's bytes",
	      who);
	memset(wiped + 5 * pg, 0x44, pg);
	check(wiped[5 * pg] == 0x44 && wiped[6 * pg - 1] == 0x44, "%s: the wiped region takes writes", who);
}

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[2], "--source")) {
		fprintf(stderr, "usage: fork_advice DIR --source PATH OFFSET\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(40, "fork_advice");
	pg = (size_t)page_size();
	source_open(&src, argv[3], strtoull(argv[4], NULL, 0));

	/* A private file mapping: the kernel refuses WIPEONFORK there.  Made
	 * first, with a served region, so that what the library maps once in
	 * the parent (its tables) is there before the hole below is made. */
	char path[4096];
	int fd = make_file(argv[1], "wipe.dat", 64 * pg, 3, path, sizeof path);
	uint8_t *f = map_file(NULL, 64 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	errno = 0;
	check(madvise(f, 64 * pg, MADV_WIPEONFORK) < 0 && errno == EINVAL,
	      "MADV_WIPEONFORK on a private file mapping: EINVAL");
	check(f[0] == pat_byte(0, 3), "the file mapping still reads the file");
	uint8_t *first = map_anon(4 * MiB);
	first[0] = 1;

	/* The child's first mapping takes the hole the parent left. */
	uint8_t *a = map_anon(2 * MiB);
	a[0] = 1;
	munmap(a, 2 * MiB);
	pid_t pid = lft_fork();
	if (pid == 0) {
		uint8_t *b = map_anon(2 * MiB);
		b[0] = 7;
		b[2 * MiB - 1] = 8;
		check(b == a, "child: its first 2 MiB mapping gets the address the parent freed");
		check(b[0] == 7 && b[2 * MiB - 1] == 8 && b[MiB] == 0, "child: the new mapping takes writes, reads zeros elsewhere");
		fflush(stdout);
		_exit(lft_exit_status());
	}
	wait_child(pid, "the first child");

	dont = map_anon(4 * MiB);
	dont[0] = 0x30;
	check(madvise(dont, 4 * MiB, MADV_DONTFORK) == 0, "MADV_DONTFORK on a whole region");
	dont_part = map_anon(4 * MiB);
	dont_part[0] = 0x31;
	check(madvise(dont_part + MiB, 2 * MiB, MADV_DONTFORK) == 0, "MADV_DONTFORK on the middle of a region");
	again = map_anon(4 * MiB);
	again[0] = 0x32;
	check(madvise(again, 4 * MiB, MADV_DONTFORK) == 0 && madvise(again, 4 * MiB, MADV_DOFORK) == 0,
	      "MADV_DONTFORK, then MADV_DOFORK");
	wiped = map_anon(4 * MiB);
	memset(wiped, 0x33, 2 * pg);
	check(madvise(wiped, 4 * MiB, MADV_WIPEONFORK) == 0, "MADV_WIPEONFORK on a written region");
	kept = map_anon(4 * MiB);
	kept[0] = 0x34;
	kept[9 * pg] = 0x35;
	check(madvise(kept, 4 * MiB, MADV_WIPEONFORK) == 0 && madvise(kept, 4 * MiB, MADV_KEEPONFORK) == 0,
	      "MADV_WIPEONFORK, then MADV_KEEPONFORK");
	srcmap = map_anon(SOURCE_REGION);
	check(find_source_mismatch(&src, srcmap, 0, pg) == NOMISMATCH, "the source region's page 0 reads its bytes");
	srcmap[pg] = 0x36;
	check(madvise(srcmap, SOURCE_REGION, MADV_WIPEONFORK) == 0, "MADV_WIPEONFORK on the source region");

	pid = lft_fork();
	if (pid == 0) {
		child_checks("child");
		pid_t g = lft_fork();
		if (g == 0) {
			child_checks("grandchild");
			fflush(stdout);
			_exit(lft_exit_status());
		}
		wait_child(g, "the grandchild");
		check(f[5 * pg] == pat_byte(5 * pg, 3), "child: the file mapping reads the file");
		fflush(stdout);
		_exit(lft_exit_status());
	}
	wait_child(pid, "the child");
	check(dont[0] == 0x30 && dont[pg] == 0, "parent: the DONTFORK region is its own still");
	check(wiped[0] == 0x33 && wiped[2 * pg - 1] == 0x33 && wiped[5 * pg] == 0,
	      "parent: the WIPEONFORK region keeps its bytes (the child's writes stay in the child)");
	check(find_source_mismatch(&src, srcmap, 0, pg) == NOMISMATCH && srcmap[pg] == 0x36 &&
		      find_source_mismatch(&src, srcmap, 100 * pg, pg) == NOMISMATCH,
	      "parent: the source region reads its bytes, its own write, untouched pages loaded");
	close(fd);
	watchdog(0, "");
	return finish("fork_advice");
}
