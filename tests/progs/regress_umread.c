/* Regression (user-mode-only): a 1 MiB read() into a fresh zero region.
 * The library fills the buffer before the call; the test checks it counted
 * a few faults, not one per page.  The bytes must be the file's.
 *
 *     regress_umread FILE       (FILE of at least 1 MiB)
 */
#include "lftest.h"

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: regress_umread FILE");
	size_t flen;
	uint8_t *want = slurp(argv[1], &flen);
	if (flen < MiB)
		die("%s is too small", argv[1]);
	uint8_t *p = map_anon(MiB);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die("open %s", argv[1]);
	ssize_t n = read(fd, p, MiB);
	check(n == (ssize_t)MiB, "read of 1 MiB returned %zd", n);
	check(!memcmp(p, want, MiB), "the region holds the file's bytes");
	close(fd);
	munmap(p, MiB);
	free(want);
	return finish("regress_umread");
}
