/* Regression: MAP_LOCKED (populated at once by the kernel) does not bypass
 * the library.  A MAP_LOCKED private file mapping under a `file` rule, and
 * one with MAP_POPULATE, read the file's bytes; a MAP_LOCKED anonymous
 * source region (3 MiB, a `load` rule) reads the source file's bytes (zeros
 * natively).
 *
 *     regress_locked FILE SOURCE OFFSET     (FILE of at least 64 KiB)
 */
#include "lftest.h"

int main(int argc, char **argv)
{
	if (argc != 4)
		die("usage: regress_locked FILE SOURCE OFFSET");
	size_t flen, len = 64 * KiB;
	uint8_t *want = slurp(argv[1], &flen);
	if (flen < len)
		die("%s is too small", argv[1]);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die("open %s", argv[1]);

	uint8_t *a = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_LOCKED, fd, 0);
	if (check(a != MAP_FAILED, "MAP_LOCKED file mapping: %s",
		  a == MAP_FAILED ? strerror(errno) : "mapped")) {
		check(!memcmp(a, want, len), "MAP_LOCKED file mapping reads the file's bytes");
		munmap(a, len);
	}
	uint8_t *c = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (check(c != MAP_FAILED, "MAP_POPULATE file mapping: %s",
		  c == MAP_FAILED ? strerror(errno) : "mapped")) {
		check(!memcmp(c, want, len), "MAP_POPULATE file mapping reads the file's bytes");
		munmap(c, len);
	}
	uint8_t *w = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_LOCKED, fd, 0);
	if (check(w != MAP_FAILED, "MAP_LOCKED writable private file mapping: %s",
		  w == MAP_FAILED ? strerror(errno) : "mapped")) {
		check(!memcmp(w, want, len), "it reads the file's bytes");
		w[5] = (uint8_t)(want[5] + 1);
		check(w[5] == (uint8_t)(want[5] + 1), "a write to it reads back");
		munmap(w, len);
	}
	close(fd);

	struct source s;
	source_open(&s, argv[2], strtoull(argv[3], NULL, 0));
	uint8_t *r = mmap(NULL, SOURCE_REGION, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	if (check(r != MAP_FAILED, "MAP_LOCKED anonymous source region: %s",
		  r == MAP_FAILED ? strerror(errno) : "mapped")) {
		size_t bad = find_source_mismatch(&s, r, 0, SOURCE_REGION);
		check(bad == NOMISMATCH, "MAP_LOCKED source region reads the source's bytes (first wrong at %zd)",
		      (ssize_t)bad);
		munmap(r, SOURCE_REGION);
	}
	free(want);
	return finish("regress_locked");
}
