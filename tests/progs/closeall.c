/* A daemon-like program: maps a file privately and an anonymous buffer,
 * then closes every descriptor it does not know (close loop, closefrom,
 * close_range) and dup2s pipes onto low numbers, and only then touches the
 * memory.  The library's own descriptors (userfaultfd, file dups) must
 * survive all of it, or the file pages would read wrong. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lftest.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		return fprintf(stderr, "usage: closeall FILE\n"), 2;
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return perror(argv[1]), 2;
	size_t n = (size_t)st.st_size;
	unsigned char *f = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	unsigned char *a = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f == MAP_FAILED || a == MAP_FAILED)
		return perror("mmap"), 2;
	for (int i = 3; i < 1024; i++)
		close(i);
	closefrom(3);
	close_range(3, ~0u, 0);
	int p[2];
	if (pipe(p) == 0)
		for (int i = 3; i < 12; i++)
			dup2(p[i & 1], i);
	unsigned long sum = 0;
	for (size_t i = 0; i < n; i += 997)
		sum += f[i];
	a[12345] = 1;
	printf("closeall: file sum %lu, anon %d\n", sum, a[12345] + a[2 << 20]);
	return 0;
}
