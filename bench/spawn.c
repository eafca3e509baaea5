/* spawn: run a program and report its whole-process wall time and peak RSS.
 *
 *   spawn PROGRAM [ARGS...]
 *
 * Forks, execs PROGRAM, reaps it with wait4 and appends one line to stdout
 * (after whatever the program wrote there):
 *   spawn_pid=N spawn_status=N spawn_wall_ns=N spawn_maxrss_kb=N
 *   spawn_cpu_ns=N (user + system time of all its threads)
 * Exits with the program's status (128+N for signal N).
 *
 * Why not fork from Python directly: a process's ru_maxrss keeps the high
 * water mark of the memory it left at execve, and a child forked (or
 * vforked) from Python starts with Python's ~16 MiB, which would hide the
 * small footprints of the sparse cases.  A child forked from this small
 * program starts from about 1 MiB.
 *
 * SPAWN_WARM_MIB=N: before the fork, write to N MiB of memory (huge pages
 * where THP allows) and free it.  A guest whose balloon reports free pages
 * to its host (virtio_balloon's free page reporting) gets memory back cold:
 * the first touch of it costs the host's own fault, measured here at about
 * 2 s a GiB against 0.1-0.2 s warm, and that cost fell on whichever case
 * first ran after a pause, not on the one that caused it.  Freed just
 * before the fork, the memory the program gets is warm whatever ran before,
 * for every case alike. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void warm(size_t mib)
{
	size_t len = mib << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	madvise(p, len, MADV_HUGEPAGE); /* fails harmlessly where THP is off */
	for (size_t i = 0; i < len; i += 4096)
		((volatile char *)p)[i] = 1;
	munmap(p, len);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
		return 2;
	}
	const char *w = getenv("SPAWN_WARM_MIB");
	if (w) {
		warm((size_t)strtoull(w, NULL, 0));
		unsetenv("SPAWN_WARM_MIB"); /* not the program's business */
	}
	fflush(stdout);
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 127;
	}
	uint64_t t1 = now_ns();
	uint64_t cpu = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
		       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
	printf("\nspawn_pid=%d spawn_status=%d spawn_wall_ns=%llu spawn_maxrss_kb=%ld spawn_cpu_ns=%llu\n",
	       (int)pid, status, (unsigned long long)(t1 - t0), ru.ru_maxrss,
	       (unsigned long long)cpu);
	fflush(stdout);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
