/* fork with served malloc blocks: blocks allocated before the fork (some
 * written, some never touched) are used, grown and freed by both parent
 * and child, and each allocates and frees new ones afterwards.  Each side
 * sees its own bytes only: the child never sees what the parent wrote after
 * the fork, the parent never sees what the child wrote.
 *
 * A second child reallocs an inherited block (grows it: the mapping moves
 * in the child), and a grandchild (fork in that child) frees blocks its
 * parent allocated after the first fork.
 *
 *   malloc_fork
 *
 * Block sizes are all >= 2 MiB (taken by a rule with min_size <= 2M) except
 * `small`.  Blocks whose untouched bytes are checked come from calloc, so
 * that zeros are promised natively too.
 */
#include <malloc.h>
#include <sys/wait.h>

#include "lftest.h"

static uint8_t *a, *b, *d, *small;

static void wait_ok(pid_t pid, const char *who)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s exited with status 0", who);
}

/* New blocks after the fork, in whichever process: allocate, check, grow,
 * free.  The results are returned (ok[3]) and printed by report(), so that
 * a parent can print them after its child ended (same output order as
 * natively, however the two are scheduled). */
static void fresh_blocks(const char *who, unsigned seed, bool ok[3])
{
	uint8_t *e = malloc(32 * MiB);
	uint8_t *f = calloc(5, MiB);
	if (!e || !f)
		die("%s: malloc after fork", who);
	ok[0] = find_nonzero(f, 5 * MiB) == NOMISMATCH;
	fill_pat(e, 3 * MiB, 0, seed);
	fill_pat(e + 31 * MiB, MiB, 31 * MiB, seed);
	fill_pat(f, 5 * MiB, 0, seed + 1);
	uint8_t *g = realloc(e, 64 * MiB);
	if (!g)
		die("%s: realloc", who);
	ok[1] = find_pat_mismatch(g, 3 * MiB, 0, seed) == NOMISMATCH &&
		find_pat_mismatch(g + 31 * MiB, MiB, 31 * MiB, seed) == NOMISMATCH;
	ok[2] = find_pat_mismatch(f, 5 * MiB, 0, seed + 1) == NOMISMATCH;
	free(g);
	free(f);
}

static void report(const char *who, const bool ok[3])
{
	check(ok[0], "%s: a new calloc'd block reads zeros", who);
	check(ok[1], "%s: a new block grown by realloc keeps its bytes", who);
	check(ok[2], "%s: a new calloc'd block keeps its bytes", who);
}

static void fresh_now(const char *who, unsigned seed)
{
	bool ok[3];
	fresh_blocks(who, seed, ok);
	report(who, ok);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	a = malloc(16 * MiB);     /* first 4 MiB written before the fork */
	b = calloc(8, MiB);       /* never touched before the fork */
	d = malloc(4 * MiB);      /* written in full before the fork */
	small = malloc(200);
	uint8_t *c2 = calloc(6, MiB); /* never touched: grown by the second child */
	if (!a || !b || !d || !small || !c2)
		die("malloc");
	fill_pat(a, 4 * MiB, 0, 1);
	fill_pat(d, 4 * MiB, 0, 2);
	fill_pat(small, 200, 0, 3);

	int go[2];
	if (pipe(go) < 0)
		die("pipe");
	pid_t pid = lft_fork();
	if (pid == 0) {
		char ch;
		if (read(go[0], &ch, 1) != 1) /* the parent has written into b */
			die("child: read");
		check(find_pat_mismatch(a, 4 * MiB, 0, 1) == NOMISMATCH,
		      "child: bytes written before the fork are there");
		check(find_pat_mismatch(d, 4 * MiB, 0, 2) == NOMISMATCH &&
			      find_pat_mismatch(small, 200, 0, 3) == NOMISMATCH,
		      "child: fully written blocks are there");
		check(find_nonzero(b, 8 * MiB) == NOMISMATCH,
		      "child: a calloc'd block never touched before the fork reads zeros (also where the parent wrote after it)");
		fill_pat(b, 8 * MiB, 0, 10);
		fill_pat(a + 8 * MiB, 2 * MiB, 0, 11);
		check(find_pat_mismatch(b, 8 * MiB, 0, 10) == NOMISMATCH &&
			      find_pat_mismatch(a + 8 * MiB, 2 * MiB, 0, 11) == NOMISMATCH,
		      "child: its own writes stick");
		int e0 = errno = 1234;
		free(d);
		free(small);
		free(a);
		check(errno == e0, "child: frees of inherited blocks keep errno");
		fresh_now("child", 20);
		free(b);
		free(c2);
		exit(lft_exit_status());
	}
	/* parent, after the fork */
	fill_pat(b + 2 * MiB, 2 * MiB, 0, 5);
	if (write(go[1], "x", 1) != 1)
		die("write");
	bool pok[3];
	fresh_blocks("parent", 30, pok); /* while the child runs */
	wait_ok(pid, "child");
	report("parent", pok);
	check(find_pat_mismatch(a, 4 * MiB, 0, 1) == NOMISMATCH &&
		      find_pat_mismatch(d, 4 * MiB, 0, 2) == NOMISMATCH &&
		      find_pat_mismatch(small, 200, 0, 3) == NOMISMATCH,
	      "parent: its blocks keep their bytes after the child wrote and freed its copies");
	check(find_nonzero(b, 2 * MiB) == NOMISMATCH && find_pat_mismatch(b + 2 * MiB, 2 * MiB, 0, 5) == NOMISMATCH &&
		      find_nonzero(b + 4 * MiB, 4 * MiB) == NOMISMATCH,
	      "parent: the child's writes did not reach it");
	free(d);

	/* A second child: grows an inherited untouched block, forks a
	 * grandchild that frees blocks allocated after the first fork. */
	uint8_t *h = malloc(3 * MiB);
	if (!h)
		die("malloc h");
	fill_pat(h, 3 * MiB, 0, 40);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint8_t *c3 = realloc(c2, 48 * MiB);
		if (!c3)
			die("second child: realloc");
		check(find_nonzero(c3, 6 * MiB) == NOMISMATCH,
		      "second child: an inherited untouched calloc'd block grown by realloc reads zeros");
		fill_pat(c3 + 40 * MiB, MiB, 0, 41);
		fflush(stdout);
		pid_t g = fork();
		if (g == 0) {
			check(find_pat_mismatch(h, 3 * MiB, 0, 40) == NOMISMATCH &&
				      find_pat_mismatch(c3 + 40 * MiB, MiB, 0, 41) == NOMISMATCH,
			      "grandchild: sees the blocks of both generations");
			free(h);
			free(c3);
			fresh_now("grandchild", 50);
			exit(lft_exit_status());
		}
		wait_ok(g, "grandchild");
		check(find_pat_mismatch(h, 3 * MiB, 0, 40) == NOMISMATCH, "second child: its copy is intact");
		free(h);
		free(c3);
		exit(lft_exit_status());
	}
	wait_ok(pid, "second child");
	check(find_nonzero(c2, 6 * MiB) == NOMISMATCH && find_pat_mismatch(h, 3 * MiB, 0, 40) == NOMISMATCH,
	      "parent: its blocks unchanged by the second child");
	free(h);
	free(c2);
	free(a);
	free(b);
	free(small);
	return finish("malloc_fork");
}
