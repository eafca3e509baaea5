/* fork with private file mappings: the child sees the pages the parent read
 * or wrote before the fork as the parent had them, reads the file's bytes in
 * pages the parent never touched (loaded in the child, lazily), not what the
 * parent wrote after the fork; its own writes and its MADV_DONTNEED (the
 * file's bytes again) stay its own.  A grandchild does the same one level
 * down.  The parent, after the children are gone, reads its untouched pages
 * as the file's bytes and its written pages as it wrote them.
 *
 *   file_fork DIR      (creates its files in DIR)
 *
 * Layout of the 8 MiB read-write mapping P (file f.dat, 8 MiB):
 *   [0, 256K) read by the parent before fork, [256K, 512K) written by it;
 *   [2M, 5M) first read by the child, [5M, 8M) by the grandchild (far from
 *   the parent's touches, beyond any readahead window of the parent);
 *   [7M, 7M+256K) written by the parent after the fork.
 * R: a read-only mapping of 4 MiB at file offset 1 MiB, [0, 64K) read
 * before the fork, the rest first in the child.
 */
#include <sys/wait.h>

#include "file_util.h"

#define FSZ (8 * MiB)
static uint8_t *P, *R;

static void wait_ok(pid_t pid, const char *who)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s exited with status 0", who);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		printf("   status %#x\n", st);
}

static void grandchild(void)
{
	check_file_range(P + 5 * MiB, 3 * MiB, 5 * MiB, FSZ, 12,
			 "grandchild: P [5M,8M) never touched before: the file's bytes");
	check(find_pat_mismatch(P + 2 * MiB, MiB, 2 * MiB, 5) == NOMISMATCH,
	      "grandchild: P [2M,3M) holds the child's writes");
	check_file_range(P + 256 * KiB, 256 * KiB, 256 * KiB, FSZ, 12,
			 "grandchild: P [256K,512K), emptied by the child before: the file's bytes");
	fill_pat(P + 6 * MiB, MiB, 0, 6);
	check(find_pat_mismatch(P + 6 * MiB, MiB, 0, 6) == NOMISMATCH, "grandchild: its writes stick");
	fflush(stdout);
	_exit(lft_exit_status());
}

static void child(int go)
{
	char c;
	if (read(go, &c, 1) != 1)
		die("child: read");
	check_file_range(P, 256 * KiB, 0, FSZ, 12, "child: P [0,256K) read before fork: the file's bytes");
	check(find_pat_mismatch(P + 256 * KiB, 256 * KiB, 256 * KiB, 3) == NOMISMATCH,
	      "child: P [256K,512K) holds the parent's pre-fork writes");
	/* Scattered first touches, then the whole range. */
	bool ok = true;
	for (size_t o = 5 * MiB - 4096; o >= 2 * MiB; o -= 37 * 4096)
		ok = ok && P[o + 11] == pat_byte(o + 11, 12);
	check(ok, "child: scattered pages of P [2M,5M), never touched before: the file's bytes");
	check_file_range(P + 2 * MiB, 3 * MiB, 2 * MiB, FSZ, 12, "child: all of P [2M,5M): the file's bytes");
	check_file_range(R, 4 * MiB, MiB, FSZ, 12, "child: all of R (offset 1M): the file's bytes");
	fill_pat(P + 2 * MiB, MiB, 2 * MiB, 5);
	check(find_pat_mismatch(P + 2 * MiB, MiB, 2 * MiB, 5) == NOMISMATCH, "child: its writes stick");
	check(madvise(P + 256 * KiB, 256 * KiB, MADV_DONTNEED) == 0, "child: MADV_DONTNEED of P [256K,512K)");
	check_file_range(P + 256 * KiB, 256 * KiB, 256 * KiB, FSZ, 12,
			 "child: P [256K,512K) reads the file's bytes again");
	pid_t g = lft_fork();
	if (g == 0)
		grandchild();
	wait_ok(g, "grandchild");
	check_file_range(P + 5 * MiB, 2 * MiB, 5 * MiB, FSZ, 12,
			 "child: P [5M,7M) reads the file's bytes (not the grandchild's writes)");
	check_file_range(P + 7 * MiB, MiB, 7 * MiB, FSZ, 12,
			 "child: P [7M,8M): the file's bytes, not what the parent wrote after fork");
	fflush(stdout);
	_exit(lft_exit_status());
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_fork DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(50, "file_fork");
	char pf[4096];
	int fd = make_file(argv[1], "f.dat", FSZ, 12, pf, sizeof pf);
	P = map_file(NULL, FSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	R = map_file(NULL, 4 * MiB, PROT_READ, MAP_PRIVATE, fd, (off_t)MiB);
	close(fd); /* the mappings outlive the descriptor */

	check_file_range(P, 256 * KiB, 0, FSZ, 12, "parent: P [0,256K): the file's bytes");
	fill_pat(P + 256 * KiB, 256 * KiB, 256 * KiB, 3);
	check_file_range(R, 64 * KiB, MiB, FSZ, 12, "parent: R [0,64K): the file's bytes");

	int go[2];
	if (pipe(go) < 0)
		die("pipe");
	pid_t pid = lft_fork();
	if (pid == 0) {
		close(go[1]);
		child(go[0]);
	}
	close(go[0]);
	fill_pat(P + 7 * MiB, 256 * KiB, 0, 7);
	if (write(go[1], "g", 1) != 1)
		die("write");
	wait_ok(pid, "child");
	check_file_range(P + MiB, 6 * MiB, MiB, FSZ, 12,
			 "parent: P [1M,7M), untouched by it: the file's bytes, none of the children's writes");
	check(find_pat_mismatch(P + 7 * MiB, 256 * KiB, 0, 7) == NOMISMATCH,
	      "parent: P [7M,7M+256K) holds what it wrote after fork");
	check_file_range(P + 7 * MiB + 256 * KiB, MiB - 256 * KiB, 7 * MiB + 256 * KiB, FSZ, 12,
			 "parent: P [7M+256K,8M): the file's bytes");
	check(find_pat_mismatch(P + 256 * KiB, 256 * KiB, 256 * KiB, 3) == NOMISMATCH,
	      "parent: P [256K,512K) holds what it wrote (the child's DONTNEED was its own)");
	check_file_range(R, 4 * MiB, MiB, FSZ, 12, "parent: all of R: the file's bytes");
	watchdog(0, "");
	return finish("file_fork");
}
