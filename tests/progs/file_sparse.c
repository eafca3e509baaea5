/* A sparse scan: 1% of the pages of a 64 MiB private file mapping, far
 * apart and in no sequential order, each checked whole.  Under a `load`
 * rule only what is touched (and its readahead window) is loaded: the test
 * reads pages_loaded and bytes_read from the statistics.  With `seq`, every
 * page is read in order instead (a stream: the readahead may grow).
 *
 *   file_sparse DIR [MiB [seq]]   (creates sparse.dat in DIR; 64 MiB unless told)
 */
#include "file_util.h"

#define SEED 51

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_sparse DIR [MiB]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(50, "file_sparse");
	size_t pg = (size_t)page_size();
	size_t fsz = (argc > 2 ? strtoul(argv[2], NULL, 0) : 64) * MiB;
	char path[4096];
	int fd = make_file(argv[1], "sparse.dat", fsz, SEED, path, sizeof path);
	uint8_t *p = map_file(NULL, fsz, PROT_READ, MAP_PRIVATE, fd, 0);
	size_t npages = fsz / pg, n = npages / 100, bad = 0;
	if (argc > 3 && !strcmp(argv[3], "seq")) {
		for (size_t k = 0; k < npages; k++)
			if (find_file_mismatch(p + k * pg, pg, k * pg, fsz, SEED) != NOMISMATCH)
				bad++;
		printf("read %zu pages in order\n", npages);
		check(bad == 0, "every page holds the file's bytes");
		if (bad)
			printf("   %zu bad pages\n", bad);
		munmap(p, fsz);
		close(fd);
		return finish("file_sparse");
	}
	/* Distinct pages drawn at random (a fixed seed: the same pages in
	 * every run), touched in the order drawn. */
	uint8_t *seen = calloc(npages, 1);
	uint64_t x = 0x1234567;
	for (size_t i = 0; i < n;) {
		x += 0x9E3779B97F4A7C15ULL;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		size_t k = (size_t)((z ^ (z >> 31)) % npages);
		if (seen[k])
			continue;
		seen[k] = 1;
		i++;
		if (find_file_mismatch(p + k * pg, pg, k * pg, fsz, SEED) != NOMISMATCH)
			bad++;
	}
	free(seen);
	printf("touched %zu of %zu pages\n", n, npages);
	check(bad == 0, "every touched page holds the file's bytes");
	if (bad)
		printf("   %zu bad pages\n", bad);
	munmap(p, fsz);
	close(fd);
	watchdog(0, "");
	return finish("file_sparse");
}
