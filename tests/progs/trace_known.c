/* trace_known: faults whose order, pages, kinds and threads are known, for
 * the fault-trace tests (tests/integration/test_trace.py, which run it
 * under the library only: its tids line differs from run to run).
 *
 *   trace_known FILE            the sequence below, then exit
 *   trace_known FILE kill       the same up to the thread's touches, then
 *                               SIGKILL to itself
 *   trace_known FILE vfork      the same, with a vfork child that calls
 *                               _exit after the thread's touches
 *   trace_known - many N        N write faults: every other page of a
 *                               mapping of 2N pages (never a stream)
 *
 * The sequence, under rules that take 1 MiB anonymous mappings and FILE
 * with readahead = 4K (one page per fault, as no two touches are next to
 * each other):
 *   1. a 1 MiB mapping, made by make_region() (the allocation site);
 *   2. the main thread: write page 7, read 3, write 200, read 50, write 120;
 *   3. a second thread: write 90, write 30, read 250;
 *   4. FILE (16 pages, written here) mapped read-only: read pages 2 and 9;
 *   5. MADV_DONTNEED on page 7 of the mapping, then write page 7 again;
 *   6. munmap of the mapping, then of the file.
 * Prints "tids MAIN OTHER" (the two threads' ids) and its checks. */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lftest.h"

static uint8_t *region;
static pid_t other_tid;

__attribute__((noinline)) static uint8_t *make_region(size_t len)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	return p;
}

static void touch(uint8_t *base, size_t page, bool write)
{
	volatile uint8_t *b = base + page * (size_t)page_size() + 64;
	if (write)
		*b = (uint8_t)page;
	else
		check(*b == 0, "page %zu reads zeros", page);
}

static void *other(void *arg)
{
	(void)arg;
	other_tid = (pid_t)syscall(SYS_gettid);
	touch(region, 90, true);
	touch(region, 30, true);
	touch(region, 250, false);
	return NULL;
}

static int many(size_t n)
{
	size_t pg = (size_t)page_size();
	uint8_t *p = make_region(2 * n * pg);
	for (size_t i = 0; i < n; i++)
		p[2 * i * pg] = 1;
	check(p[2 * (n - 1) * pg] == 1, "%zu pages written", n);
	return finish("trace_known");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: trace_known FILE [kill | many N]");
	if (argc > 3 && !strcmp(argv[2], "many"))
		return many(strtoul(argv[3], NULL, 0));
	size_t pg = (size_t)page_size();
	/* The file first, so that writing it faults nothing of ours. */
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("%s: %s", argv[1], strerror(errno));
	for (size_t i = 0; i < 16; i++) {
		uint8_t page[4096];
		memset(page, (int)(0x40 + i), sizeof page);
		if (write(fd, page, sizeof page) != (ssize_t)sizeof page)
			die("write: %s", strerror(errno));
	}

	region = make_region(MiB);
	touch(region, 7, true);
	touch(region, 3, false);
	touch(region, 200, true);
	touch(region, 50, false);
	touch(region, 120, true);
	pthread_t t;
	if (pthread_create(&t, NULL, other, NULL) != 0)
		die("pthread_create");
	pthread_join(t, NULL);
	printf("tids %ld %ld\n", (long)syscall(SYS_gettid), (long)other_tid);
	fflush(stdout);
	if (argc > 2 && !strcmp(argv[2], "kill"))
		kill(getpid(), SIGKILL);
	if (argc > 2 && !strcmp(argv[2], "vfork")) {
		pid_t c = vfork();
		if (c == 0)
			_exit(0);
		int st;
		check(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st), "vfork child exited");
	}

	uint8_t *f = mmap(NULL, 16 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f == MAP_FAILED)
		die("mmap %s: %s", argv[1], strerror(errno));
	check(f[2 * pg + 5] == 0x42, "file page 2 reads the file");
	check(f[9 * pg + 5] == 0x49, "file page 9 reads the file");
	check(madvise(region + 7 * pg, pg, MADV_DONTNEED) == 0, "MADV_DONTNEED of page 7");
	touch(region, 7, true);
	check(region[7 * pg + 64] == 7, "page 7 written again");
	check(munmap(region, MiB) == 0, "munmap of the mapping");
	check(munmap(f, 16 * pg) == 0, "munmap of the file");
	close(fd);
	return finish("trace_known");
}
