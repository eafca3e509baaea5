/* System calls whose buffer holds a poisoned page, for tests/integration/
 * test_crash.py: run under a rule that poisons page 1 of a four-page
 * anonymous mapping (`match = anon`, `pages = 1`).  The kernel fails such a
 * call with EFAULT, or stops its copy at the page and returns what it moved:
 *   - read of three pages from a pipe into pages 0-2: 4096 bytes (cut)
 *   - read into page 1: EFAULT
 *   - write from page 1: EFAULT
 *   - readv of 100 bytes into page 0, then 100 into page 1: EFAULT (a
 *     pipe's read gives no partial count when its copy from one of its
 *     pages fails, though 100 bytes were copied)
 *   - read of two pages into pages 2-3 from a pipe holding 50 bytes: 50
 *     (short for want of data: no poisoned page where it stopped)
 * The library must report the first four, and only them (the test reads
 * its log and statistics).  Under the library only: natively nothing is
 * poisoned. */
#include <sys/uio.h>

#include "lftest.h"

static void fill_pipe(int fd, size_t n)
{
	static char data[3 * 4096];
	memset(data, 'x', sizeof data);
	if (n > sizeof data || write(fd, data, n) != (ssize_t)n)
		die("cannot fill the pipe");
}

int main(void)
{
	size_t pg = (size_t)page_size();
	char *a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	int p[2];
	if (pipe(p) != 0)
		die("pipe: %s", strerror(errno));

	fill_pipe(p[1], 3 * pg);
	ssize_t n = read(p[0], a, 3 * pg);
	check(n == (ssize_t)pg, "read into pages 0-2 stops at the poisoned page 1 (%zd)", n);

	errno = 0;
	n = read(p[0], a + pg, pg);
	check(n == -1 && errno == EFAULT, "read into page 1 fails with EFAULT");

	errno = 0;
	n = write(p[1], a + pg, 100);
	check(n == -1 && errno == EFAULT, "write from page 1 fails with EFAULT");

	struct iovec iov[2] = {{a, 100}, {a + pg, 100}};
	errno = 0;
	n = readv(p[0], iov, 2);
	check(n == -1 && errno == EFAULT, "readv with an iovec in page 1 fails with EFAULT");

	/* Empty the pipe, then a short read for want of data. */
	static char sink[3 * 4096];
	while (read(p[0], sink, sizeof sink) == (ssize_t)sizeof sink)
		;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	while (read(p[0], sink, sizeof sink) > 0)
		;
	fill_pipe(p[1], 50);
	n = read(p[0], a + 2 * pg, 2 * pg);
	check(n == 50, "read of 50 bytes from the pipe into pages 2-3");
	return finish("poison_efault");
}
