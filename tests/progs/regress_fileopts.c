/* Regression: file mappings that the kernel refuses stay refused under a
 * `file` rule: an offset that is not a multiple of the page size (EINVAL),
 * a descriptor opened O_WRONLY (EACCES).  A good mapping of the same file
 * reads the file's bytes.
 *
 *     regress_fileopts FILE      (FILE of at least 2 MiB)
 */
#include "lftest.h"

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: regress_fileopts FILE");
	size_t flen;
	uint8_t *want = slurp(argv[1], &flen);
	if (flen < 2 * MiB)
		die("%s is smaller than 2 MiB", argv[1]);

	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die("open %s", argv[1]);
	errno = 0;
	void *p = mmap(NULL, MiB, PROT_READ, MAP_PRIVATE, fd, 100);
	check(p == MAP_FAILED && errno == EINVAL, "unaligned offset: %s",
	      p == MAP_FAILED ? strerror(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, MiB);

	int wfd = open(argv[1], O_WRONLY);
	if (wfd < 0)
		die("open %s O_WRONLY", argv[1]);
	errno = 0;
	p = mmap(NULL, MiB, PROT_READ, MAP_PRIVATE, wfd, 0);
	check(p == MAP_FAILED && errno == EACCES, "O_WRONLY descriptor: %s",
	      p == MAP_FAILED ? strerror(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, MiB);
	errno = 0;
	p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(p == MAP_FAILED && errno == EACCES, "shared writable mapping of an O_RDONLY descriptor: %s",
	      p == MAP_FAILED ? strerror(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, MiB);

	/* control: the same file mapped as it may be */
	uint8_t *g = mmap(NULL, MiB, PROT_READ, MAP_PRIVATE, fd, 4096);
	if (g == MAP_FAILED)
		die("mmap at offset 4096");
	check(!memcmp(g, want + 4096, MiB), "a mapping at offset 4096 reads the file's bytes");
	munmap(g, MiB);
	close(wfd);
	close(fd);
	free(want);
	return finish("regress_fileopts");
}
