/* MAP_SHARED file mappings stay the kernel's: what is written through one is
 * in the file (pread) and in every other shared mapping of it, in a child
 * after fork too, and what is written to the file (pwrite) is in the
 * mappings at once.  MAP_SHARED_VALIDATE and a read-only shared mapping
 * likewise.  Beside them, a private mapping of another file (which a rule
 * may take) holds that file's bytes.
 *
 *   file_shared DIR      (creates shared.dat and private.dat in DIR)
 */
#include <sys/wait.h>

#include "file_util.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_shared DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(40, "file_shared");
	size_t pg = (size_t)page_size();
	const size_t SZ = 256 * pg;
	char ps[4096], pp[4096];
	int fs = make_file(argv[1], "shared.dat", SZ, 41, ps, sizeof ps);
	int fp = make_file(argv[1], "private.dat", SZ, 42, pp, sizeof pp);

	uint8_t *a = map_file(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fs, 0);
	uint8_t *b = map_file(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, fs, 0);
	uint8_t *c = map_file(NULL, SZ / 2, PROT_READ, MAP_SHARED, fs, (off_t)(SZ / 2));
	uint8_t *q = map_file(NULL, SZ, PROT_READ, MAP_PRIVATE, fp, 0);

	check(find_pat_mismatch(a, SZ, 0, 41) == NOMISMATCH, "shared mapping: the file's bytes");
	fill_pat(a + 10 * pg, 4 * pg, 0, 43);
	uint8_t *buf = malloc(4 * pg);
	check(pread(fs, buf, 4 * pg, (off_t)(10 * pg)) == (ssize_t)(4 * pg) &&
		      find_pat_mismatch(buf, 4 * pg, 0, 43) == NOMISMATCH,
	      "a write through the shared mapping is in the file (pread)");
	check(find_pat_mismatch(b + 10 * pg, 4 * pg, 0, 43) == NOMISMATCH,
	      "and in the second shared mapping (MAP_SHARED_VALIDATE)");
	fill_pat(buf, 4 * pg, 0, 44);
	if (pwrite(fs, buf, 4 * pg, (off_t)(200 * pg)) != (ssize_t)(4 * pg))
		die("pwrite");
	check(find_pat_mismatch(a + 200 * pg, 4 * pg, 0, 44) == NOMISMATCH &&
		      find_pat_mismatch(b + 200 * pg, 4 * pg, 0, 44) == NOMISMATCH &&
		      find_pat_mismatch(c + (200 * pg - SZ / 2), 4 * pg, 0, 44) == NOMISMATCH,
	      "a pwrite to the file is in all three shared mappings");

	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		fill_pat(b + 150 * pg, pg, 0, 45);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child wrote through a shared mapping");
	check(find_pat_mismatch(a + 150 * pg, pg, 0, 45) == NOMISMATCH &&
		      find_pat_mismatch(c + (150 * pg - SZ / 2), pg, 0, 45) == NOMISMATCH,
	      "the parent sees the child's write in its shared mappings");
	check(msync(a, SZ, MS_SYNC) == 0, "msync of the shared mapping");
	check(find_pat_mismatch(a, 10 * pg, 0, 41) == NOMISMATCH &&
		      find_pat_mismatch(a + 14 * pg, 136 * pg, 14 * pg, 41) == NOMISMATCH,
	      "the rest of the shared mapping is the file's original bytes");

	check_file_range(q, SZ, 0, SZ, 42, "private mapping of the other file: its bytes");
	munmap(a, SZ);
	munmap(b, SZ);
	munmap(c, SZ / 2);
	munmap(q, SZ);
	free(buf);
	close(fs);
	close(fp);
	watchdog(0, "");
	return finish("file_shared");
}
