/* file_touch: read the pages of a file, through a private mapping or after
 * read()ing the whole file into a buffer.
 *
 *   file_touch create PATH MIB        write a test file (not timed)
 *   file_touch mmap|read seq|rand PATH [PERCENT [SEED]]
 *
 * Page i of the file starts with the 8-byte number i; the rest of the page
 * is a pattern of i.  `mmap`: map the file MAP_PRIVATE, PROT_READ, and read
 * the first word of each page in order (seq), or of PERCENT% of the pages
 * (distinct, random order from a fixed seed: rand).  `read`: allocate a
 * buffer (anonymous mmap), read() the whole file into it, then the same
 * touches.  Timed: from the open to the last touch.  Prints one line:
 * work_ns=N pages=N bad=N (bad: a touched page whose bytes are wrong). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"


static int create(const char *path, size_t mib)
{
	size_t psz = 4096, chunk = 1 << 20;
	char *buf = malloc(chunk);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || !buf) {
		perror(path);
		return 1;
	}
	uint64_t page = 0;
	for (size_t c = 0; c < mib; c++) {
		for (size_t off = 0; off < chunk; off += psz, page++) {
			memset(buf + off, (int)(page * 131 + 7) & 0xff, psz);
			memcpy(buf + off, &page, sizeof page);
		}
		if (write(fd, buf, chunk) != (ssize_t)chunk) {
			perror("write");
			return 1;
		}
	}
	return close(fd) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "create"))
		return create(argv[2], strtoull(argv[3], NULL, 0));
	if (argc < 4) {
		fprintf(stderr, "usage: %s create PATH MIB | mmap|read seq|rand PATH [PERCENT [SEED]]\n",
			argv[0]);
		return 2;
	}
	int use_read = !strcmp(argv[1], "read");
	int rand_mode = !strcmp(argv[2], "rand");
	const char *path = argv[3];
	double pct = argc > 4 ? atof(argv[4]) : 1.0;
	uint64_t seed = argc > 5 ? strtoull(argv[5], NULL, 0) : 0x5eed1234abcdULL;
	const size_t psz = 4096;
	struct stat st;
	if (stat(path, &st) < 0) {
		perror(path);
		return 1;
	}
	size_t len = (size_t)st.st_size, npages = len / psz;
	if (npages > MAX_PAGES || npages == 0) {
		fprintf(stderr, "bad file size\n");
		return 2;
	}
	size_t n = npages;
	if (rand_mode) {
		n = choose_pages(npages, pct, seed);
	} else {
		for (size_t i = 0; i < n; i++)
			order[i] = (uint32_t)i;
	}

	uint64_t t0 = now_ns();
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	const char *p;
	if (use_read) {
		char *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		size_t got = 0;
		while (got < len) {
			ssize_t r = read(fd, b + got, len - got);
			if (r <= 0) {
				perror("read");
				return 1;
			}
			got += (size_t)r;
		}
		p = b;
	} else {
		p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	}
	return touch_file_pages(p, n, psz, t0) ? 1 : 0;
}
