/* Regression (user-mode-only): read() into a private file mapping that
 * mprotect split in two (one region of the library, two VMAs) returns the
 * full count and the right bytes, across the split.
 *
 *     regress_split FILE       (FILE of at least 1 MiB)
 */
#include "lftest.h"

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: regress_split FILE");
	size_t flen, pg = (size_t)page_size();
	uint8_t *want = slurp(argv[1], &flen);
	if (flen < MiB)
		die("%s is too small", argv[1]);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die("open %s", argv[1]);
	uint8_t *a = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (a == MAP_FAILED)
		die("mmap");
	/* split the mapping at page 2 */
	check(mprotect(a + 2 * pg, MiB - 2 * pg, PROT_READ | PROT_WRITE | PROT_EXEC) == 0,
	      "mprotect splits the mapping");
	int s = open(argv[1], O_RDONLY);
	if (s < 0)
		die("open %s", argv[1]);
	/* pages 1..4: page 1 before the split, 2.. after */
	uint64_t from = 777 * 1024;
	ssize_t n = pread(s, a + pg + 100, 3 * pg, (off_t)from);
	check(n == (ssize_t)(3 * pg), "pread across the split returns %zd (%s), want %zu", n,
	      n < 0 ? strerror(errno) : "ok", 3 * pg);
	check(!memcmp(a, want, pg + 100), "the bytes before the buffer are the file's");
	check(!memcmp(a + pg + 100, want + from, 3 * pg), "the buffer holds what was read");
	check(!memcmp(a + 4 * pg + 100, want + 4 * pg + 100, MiB - 4 * pg - 100),
	      "the bytes after it are the file's");

	/* read() too, near the split from the other side */
	uint8_t *b = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (b == MAP_FAILED)
		die("mmap");
	check(mprotect(b + 8 * pg, 4 * pg, PROT_READ) == 0 &&
	      mprotect(b + 8 * pg, 4 * pg, PROT_READ | PROT_WRITE | PROT_EXEC) == 0,
	      "mprotect splits the second mapping in three");
	lseek(s, 0, SEEK_SET);
	n = read(s, b + 6 * pg, 8 * pg);
	check(n == (ssize_t)(8 * pg), "read across two splits returns %zd, want %zu", n, 8 * pg);
	check(!memcmp(b + 6 * pg, want, 8 * pg), "the buffer holds what was read");
	check(!memcmp(b, want, 6 * pg), "the bytes before it are the file's");
	munmap(a, MiB);
	munmap(b, MiB);
	close(s);
	close(fd);
	free(want);
	return finish("regress_split");
}
