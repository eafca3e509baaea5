/* fork: parent and child both see exactly the bytes they would see without
 * the library, for pages touched before the fork, pages touched after it
 * (by either side), and pages never touched before the fork (zeros in the
 * child, and the source file's bytes for memory that a `load` rule fills).
 * The child's writes never reach the parent, nor the parent's the child.
 * A grandchild (fork in the child) checks the same one level down.
 *
 *   fork [--source FILE OFFSET]
 *
 * With --source, a SOURCE_REGION-sized anonymous mapping is expected to be
 * taken by a `load` rule with `source = FILE`, `source_offset = OFFSET`.
 */
#include <sys/wait.h>

#include "lftest.h"

/* Layout of the zero-filled mapping: [0,16M) is touched by the parent and
 * the first child as described below; [24M,26M) is first touched by the
 * child, [30M,32M) by the grandchild, [36M,40M) by the second child: far
 * from every other touch, so that no readahead window reaches them and
 * each process really serves faults of its own. */
#define LEN (40 * MiB)

static struct source src;
static bool have_src;

/* Check the source region [from, from+n) in this process. */
static void check_source(const char *who, const uint8_t *s, size_t from, size_t n)
{
	size_t m = find_source_mismatch(&src, s, from, n);
	check(m == NOMISMATCH, "%s: source region bytes %zu K..%zu K are the expected ones%s", who,
	      from / KiB, (from + n) / KiB, m == NOMISMATCH ? "" : " (mismatch)");
	if (m != NOMISMATCH)
		printf("   first mismatch at region offset %zu: got %u, want %u\n", from + m,
		       s[from + m], source_byte(&src, from + m));
}

static int wait_child(pid_t pid, const char *who)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s exited with status 0", who);
	return st;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 3 && !strcmp(argv[1], "--source")) {
		source_open(&src, argv[2], strtoull(argv[3], NULL, 0));
		have_src = true;
	}
	uint8_t *p = map_anon(LEN);
	uint8_t *s = have_src ? map_anon(SOURCE_REGION) : NULL;

	/* Before fork: [0,4M) written, [4M,6M) only read, the rest untouched. */
	fill_pat(p, 4 * MiB, 0, 1);
	check(find_nonzero(p + 4 * MiB, 2 * MiB) == NOMISMATCH, "parent: read-only pages are zeros");
	if (have_src) /* the first 256 KiB of the source region touched before fork */
		check_source("parent before fork", s, 0, 256 * KiB);

	int go[2], done[2];
	if (pipe(go) < 0 || pipe(done) < 0)
		die("pipe");
	pid_t pid = lft_fork();
	if (pid == 0) {
		char c;
		/* Wait until the parent has written [12M,14M) after the fork. */
		if (read(go[0], &c, 1) != 1)
			die("child: read go");
		check(find_pat_mismatch(p, 4 * MiB, 0, 1) == NOMISMATCH,
		      "child: pages written before fork have the parent's bytes");
		check(find_nonzero(p + 4 * MiB, 2 * MiB) == NOMISMATCH,
		      "child: pages read before fork are zeros");
		check(find_nonzero(p + 6 * MiB, 10 * MiB) == NOMISMATCH,
		      "child: pages never touched before fork are zeros (incl. those the parent wrote after fork)");
		check(find_nonzero(p + 24 * MiB, 2 * MiB) == NOMISMATCH, "child: pages nobody touched are zeros");
		fill_pat(p + 25 * MiB, MiB, 0, 10);
		fill_pat(p, 2 * MiB, 0, 7);
		fill_pat(p + 8 * MiB, 2 * MiB, 0, 8);
		check(find_pat_mismatch(p, 2 * MiB, 0, 7) == NOMISMATCH &&
			      find_pat_mismatch(p + 8 * MiB, 2 * MiB, 0, 8) == NOMISMATCH,
		      "child: its own writes stick");
		check(find_pat_mismatch(p + 2 * MiB, 2 * MiB, 2 * MiB, 1) == NOMISMATCH,
		      "child: parent's bytes next to its writes unchanged");
		if (have_src) {
			check_source("child", s, 0, 256 * KiB);
			check_source("child", s, 256 * KiB, SOURCE_REGION - 256 * KiB);
		}

		/* One level down. */
		pid_t g = lft_fork();
		if (g == 0) {
			check(find_pat_mismatch(p, 2 * MiB, 0, 7) == NOMISMATCH,
			      "grandchild: sees the child's writes");
			check(find_nonzero(p + 10 * MiB, 6 * MiB) == NOMISMATCH &&
				      find_pat_mismatch(p + 25 * MiB, MiB, 0, 10) == NOMISMATCH,
			      "grandchild: sees what the child wrote and read");
			check(find_nonzero(p + 30 * MiB, 2 * MiB) == NOMISMATCH,
			      "grandchild: pages nobody touched are zeros");
			fill_pat(p + 14 * MiB, MiB, 0, 9);
			check(find_pat_mismatch(p + 14 * MiB, MiB, 0, 9) == NOMISMATCH,
			      "grandchild: its own writes stick");
			exit(lft_exit_status());
		}
		wait_child(g, "grandchild");
		check(find_nonzero(p + 14 * MiB, MiB) == NOMISMATCH,
		      "child: grandchild's writes did not leak");
		exit(lft_exit_status());
	}

	/* Parent, after fork: touch more, then let the child look. */
	fill_pat(p + 12 * MiB, 2 * MiB, 0, 2);
	if (write(go[1], "x", 1) != 1)
		die("write go");
	wait_child(pid, "child");
	check(find_pat_mismatch(p, 4 * MiB, 0, 1) == NOMISMATCH,
	      "parent: its bytes unchanged by the child's writes");
	check(find_nonzero(p + 4 * MiB, 8 * MiB) == NOMISMATCH,
	      "parent: pages only the child wrote are still zeros here");
	check(find_pat_mismatch(p + 12 * MiB, 2 * MiB, 0, 2) == NOMISMATCH,
	      "parent: pages written after fork keep their bytes");
	check(find_nonzero(p + 14 * MiB, 2 * MiB) == NOMISMATCH &&
		      find_nonzero(p + 24 * MiB, 10 * MiB) == NOMISMATCH,
	      "parent: pages only children touched are zeros here");
	if (have_src)
		check_source("parent after fork", s, 0, SOURCE_REGION);

	/* A second fork after everything above: all still right in a new child. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		check(find_pat_mismatch(p + 12 * MiB, 2 * MiB, 0, 2) == NOMISMATCH &&
			      find_pat_mismatch(p, 4 * MiB, 0, 1) == NOMISMATCH,
		      "second child: sees the parent's bytes");
		check(find_nonzero(p + 14 * MiB, 2 * MiB) == NOMISMATCH &&
			      find_nonzero(p + 36 * MiB, 4 * MiB) == NOMISMATCH,
		      "second child: zeros where nobody wrote");
		exit(lft_exit_status());
	}
	wait_child(pid, "second child");
	return finish("fork");
}
