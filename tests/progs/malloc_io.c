/* The read/write family on fresh malloc blocks that nobody touched yet: the
 * kernel makes the first access.  Under a `malloc` rule in user-mode-only
 * mode the kernel cannot ask the library to fill those pages; the calls
 * must still return what they return natively, with the native bytes.
 *
 *   malloc_io DATAFILE OUTDIR
 *
 * DATAFILE holds at least 8 MiB; OUTDIR is a writable directory.  Every
 * block is >= 2 MiB (taken by the tests' rules); each check uses a block
 * of its own, untouched before the call.
 */
#include <sys/uio.h>

#include "lftest.h"

#define DATA (8 * MiB)

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint8_t *data; /* the file, read with a glibc buffer */
static size_t datalen;

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		die("usage: malloc_io DATAFILE OUTDIR");
	data = slurp(argv[1], &datalen);
	if (datalen < DATA)
		die("data file too small");
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die("open");

	/* read() into a fresh block */
	uint8_t *p = malloc(DATA);
	ssize_t n = read(fd, p, DATA);
	check(n == (ssize_t)DATA && memcmp(p, data, DATA) == 0, "read() of 8 MiB into a fresh malloc block");
	printf("   read: %zd bytes, hash %016llx\n", n, (unsigned long long)fnv(p, n > 0 ? (size_t)n : 0));

	/* pread() into the middle of a fresh block, unaligned */
	uint8_t *q = malloc(6 * MiB);
	n = pread(fd, q + 3 * MiB + 123, 2 * MiB, 4096 + 7);
	check(n == (ssize_t)(2 * MiB) && memcmp(q + 3 * MiB + 123, data + 4096 + 7, 2 * MiB) == 0,
	      "pread() of 2 MiB into the middle of a fresh block");

	/* readv() into two fresh blocks */
	uint8_t *r1 = malloc(3 * MiB), *r2 = calloc(1, 4 * MiB);
	struct iovec iov[2] = {{r1 + 1, 3 * MiB - 1}, {r2 + 4096, 2 * MiB}};
	n = preadv(fd, iov, 2, 0);
	check(n == (ssize_t)(5 * MiB - 1) && memcmp(r1 + 1, data, 3 * MiB - 1) == 0 &&
		      memcmp(r2 + 4096, data + 3 * MiB - 1, 2 * MiB) == 0 && find_nonzero(r2, 4096) == NOMISMATCH &&
		      find_nonzero(r2 + 4096 + 2 * MiB, 2 * MiB - 4096) == NOMISMATCH,
	      "preadv() into two fresh blocks; the rest of the calloc'd one reads zeros");

	/* write() from a fresh calloc'd block (zeros) and from a fresh block
	 * whose first half was written by the program */
	char path[4096];
	snprintf(path, sizeof path, "%s/out.bin", argv[2]);
	int out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		die("open %s", path);
	uint8_t *z = calloc(4, MiB);
	n = write(out, z, 4 * MiB);
	check(n == (ssize_t)(4 * MiB), "write() of a fresh calloc'd block: 4 MiB written");
	uint8_t *w = malloc(4 * MiB);
	memcpy(w, data, 2 * MiB);
	n = write(out, w, 2 * MiB);
	check(n == (ssize_t)(2 * MiB), "write() of a block the program filled");
	uint8_t *wz = calloc(1, 3 * MiB);
	struct iovec wv[2] = {{wz, 3 * MiB}, {w, 1 * MiB}};
	n = pwritev(out, wv, 2, 6 * MiB);
	check(n == (ssize_t)(4 * MiB), "pwritev() of a fresh calloc'd block and a filled one");
	/* read it all back through glibc-sized chunks */
	uint8_t *back = malloc(10 * MiB);
	n = pread(out, back, 10 * MiB, 0);
	check(n == (ssize_t)(10 * MiB) && find_nonzero(back, 4 * MiB) == NOMISMATCH &&
		      memcmp(back + 4 * MiB, data, 2 * MiB) == 0 && find_nonzero(back + 6 * MiB, 3 * MiB) == NOMISMATCH &&
		      memcmp(back + 9 * MiB, data, 1 * MiB) == 0,
	      "the file holds exactly what was written");
	printf("   file hash %016llx\n", (unsigned long long)fnv(back, n > 0 ? (size_t)n : 0));

	/* stdio: fread into and fwrite from fresh blocks */
	FILE *f = fopen(argv[1], "rb");
	uint8_t *fr = malloc(5 * MiB);
	size_t got = f ? fread(fr, 1, 5 * MiB, f) : 0;
	check(got == 5 * MiB && memcmp(fr, data, 5 * MiB) == 0, "fread() of 5 MiB into a fresh block");
	if (f)
		fclose(f);
	snprintf(path, sizeof path, "%s/out2.bin", argv[2]);
	f = fopen(path, "w+b");
	uint8_t *fw = calloc(1, 3 * MiB);
	size_t put = f ? fwrite(fw, 1, 3 * MiB, f) : 0;
	if (f)
		fflush(f);
	check(put == 3 * MiB && f && ftell(f) == (long)(3 * MiB), "fwrite() of a fresh calloc'd block");
	if (f)
		fclose(f);

	/* read() into a block grown by realloc (its new part untouched) */
	uint8_t *g = malloc(2 * MiB);
	fill_pat(g, 4096, 0, 9);
	g = realloc(g, 16 * MiB);
	n = pread(fd, g + 8 * MiB, DATA, 0);
	check(n == (ssize_t)DATA && memcmp(g + 8 * MiB, data, DATA) == 0 &&
		      find_pat_mismatch(g, 4096, 0, 9) == NOMISMATCH,
	      "pread() into the untouched part of a block grown by realloc");

	free(p);
	free(q);
	free(r1);
	free(r2);
	free(z);
	free(w);
	free(wz);
	free(back);
	free(fr);
	free(fw);
	free(g);
	close(out);
	close(fd);
	return finish("malloc_io");
}
