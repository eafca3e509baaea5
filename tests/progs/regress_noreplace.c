/* Regression: a file mapping with MAP_FIXED_NOREPLACE under a `file` rule
 * succeeds at the address asked for and reads the file; over a mapping that
 * exists it still fails with EEXIST.
 *
 *     regress_noreplace FILE       (FILE of at least 4 pages)
 */
#include "lftest.h"

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: regress_noreplace FILE");
	size_t flen, pg = (size_t)page_size(), len = 3 * pg;
	uint8_t *want = slurp(argv[1], &flen);
	if (flen < len + pg)
		die("%s is too small", argv[1]);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die("open %s", argv[1]);

	/* a free address: reserved, then given back */
	uint8_t *hint = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hint == MAP_FAILED)
		die("mmap reserve");
	munmap(hint, 2 * len);

	uint8_t *p = mmap(hint, len, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	if (!check(p != MAP_FAILED, "MAP_FIXED_NOREPLACE file mapping: %s",
		   p == MAP_FAILED ? strerror(errno) : "mapped"))
		return finish("regress_noreplace");
	check(p == hint, "at the address asked for");
	check(!memcmp(p, want, len), "it reads the file's bytes");

	errno = 0;
	void *q = mmap(p + pg, len, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	check(q == MAP_FAILED && errno == EEXIST, "over an existing mapping: %s",
	      q == MAP_FAILED ? strerror(errno) : "mapped");
	if (q != MAP_FAILED)
		munmap(q, len);
	check(!memcmp(p, want, len), "the first mapping still reads the file's bytes");

	/* a second one just after the first, at an offset */
	uint8_t *r = mmap(p + len, len, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, pg);
	check(r == p + len, "a second MAP_FIXED_NOREPLACE mapping right after the first: %s",
	      r == MAP_FAILED ? strerror(errno) : "mapped");
	if (r != MAP_FAILED) {
		check(!memcmp(r, want + pg, len), "it reads the file from its offset");
		munmap(r, len);
	}
	munmap(p, len);
	close(fd);
	free(want);
	return finish("regress_noreplace");
}
