/* Maps 256 MiB, writes one byte per page, reads it all back.  Run it under
 * examples/zero.ini: the statistics show the faults the library served. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 0) : 256) << 20;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return perror("mmap"), 1;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	unsigned long sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	printf("zero_fill: %zu MiB touched, checksum %lu\n", len >> 20, sum);
	return 0;
}
