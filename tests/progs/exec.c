/* exec: a program that maps memory, touches it (from two threads, so that
 * the library's helper and another thread exist at exec time), starts a
 * copy of itself with posix_spawn (a vfork-like child that shares the
 * memory until it execs), then execs itself; the new image maps and
 * touches memory again and checks it, and does so once more after a fork.
 *
 *   exec            (first stage; execs `exec stage2 N`)
 */
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

#include "lftest.h"

static uint8_t *region;

static void *toucher(void *arg)
{
	(void)arg;
	fill_pat(region + 4 * MiB, 4 * MiB, 0, 2);
	return NULL;
}

static void stage(const char *name, unsigned seed)
{
	uint8_t *p = map_anon(24 * MiB); /* [16M,24M): touched first by a child */
	check(find_nonzero(p, 8 * MiB) == NOMISMATCH, "%s: fresh mapping reads zeros", name);
	fill_pat(p, 8 * MiB, 0, seed);
	check(find_pat_mismatch(p, 8 * MiB, 0, seed) == NOMISMATCH, "%s: writes stick", name);
	region = p;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "spawned")) {
		stage("spawned", 5);
		return finish("exec (spawned)");
	}
	if (argc > 2 && !strcmp(argv[1], "stage2")) {
		int gen = atoi(argv[2]);
		stage("after exec", 3);
		check(find_nonzero(region + 8 * MiB, 4 * MiB) == NOMISMATCH, "after exec: untouched pages read zeros");
		pid_t pid = fork();
		if (pid == 0) {
			check(find_pat_mismatch(region, 8 * MiB, 0, 3) == NOMISMATCH &&
				      find_nonzero(region + 8 * MiB, 16 * MiB) == NOMISMATCH,
			      "after exec, in a child: bytes and zeros as in the parent, and where nobody touched");
			exit(lft_exit_status());
		}
		int st;
		waitpid(pid, &st, 0);
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "after exec: child exited 0");
		if (gen < 2) { /* exec once more, from an exec'd image */
			char g[16];
			snprintf(g, sizeof g, "%d", gen + 1);
			fflush(stdout);
			execl("/proc/self/exe", argv[0], "stage2", g, (char *)NULL);
			die("execl");
		}
		return finish("exec");
	}
	stage("before exec", 1);
	pthread_t t;
	pthread_create(&t, NULL, toucher, NULL);
	pthread_join(t, NULL);
	check(find_pat_mismatch(region + 4 * MiB, 4 * MiB, 0, 2) == NOMISMATCH,
	      "before exec: bytes another thread wrote are seen");
	/* posix_spawn a copy: the parent's memory is untouched by it. */
	fflush(stdout);
	pid_t sp;
	char *sargv[] = {argv[0], "spawned", NULL};
	int e = posix_spawn(&sp, "/proc/self/exe", NULL, NULL, sargv, environ);
	int st = 0;
	check(e == 0 && waitpid(sp, &st, 0) == sp && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "posix_spawn'd copy ran and exited 0");
	check(find_pat_mismatch(region, 4 * MiB, 0, 1) == NOMISMATCH &&
		      find_pat_mismatch(region + 4 * MiB, 4 * MiB, 0, 2) == NOMISMATCH &&
		      find_nonzero(region + 8 * MiB, 4 * MiB) == NOMISMATCH,
	      "before exec: bytes and zeros unchanged by the spawned child");
	if (lft_failures)
		return finish("exec");
	fflush(stdout);
	execl("/proc/self/exe", argv[0], "stage2", "1", (char *)NULL);
	die("execl");
}
