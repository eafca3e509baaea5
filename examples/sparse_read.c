/* Maps a big data file privately and reads a few records at random: under
 * examples/load.ini the statistics show how little of the file was read. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return fprintf(stderr, "usage: sparse_read FILE [RECORDS]\n"), 2;
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return perror(argv[1]), 1;
	const unsigned char *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return perror("mmap"), 1;
	int records = argc > 2 ? atoi(argv[2]) : 100;
	unsigned long sum = 0, seed = 42;
	for (int i = 0; i < records; i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		sum += p[(seed >> 17) % st.st_size];
	}
	printf("sparse_read: %d records from a %lld-byte file, checksum %lu\n", records,
	       (long long)st.st_size, sum);
	return 0;
}
