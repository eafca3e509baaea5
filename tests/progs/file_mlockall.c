/* mlockall(MCL_FUTURE): the kernel fills every new mapping as it makes it.
 * A file mapping made then must hold the file's bytes, as natively (an
 * emulation would be filled with zeros before it could be registered).
 *
 *   A. a file mapping made before mlockall(MCL_CURRENT | MCL_FUTURE): its
 *      bytes, before and after (mlockall fills it at once);
 *   B. a file mapping made while MCL_FUTURE is in force: its bytes;
 *   C. after munlockall, a file mapping again: its bytes.
 *
 *   file_mlockall DIR
 */
#include "file_util.h"

#define LEN (1 * MiB)

static void one(const char *dir, const char *name, unsigned seed, const char *what)
{
	char path[4096], desc[128];
	int fd = make_file(dir, name, LEN, seed, path, sizeof path);
	uint8_t *p = map_file(NULL, LEN, PROT_READ, MAP_PRIVATE, fd, 0);
	snprintf(desc, sizeof desc, "%s: the file's bytes", what);
	check_file_range(p, LEN, 0, LEN, seed, desc);
	munmap(p, LEN);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_mlockall DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(30, "file_mlockall");
	char path[4096];
	int fd = make_file(argv[1], "a.dat", LEN, 71, path, sizeof path);
	uint8_t *a = map_file(NULL, LEN, PROT_READ, MAP_PRIVATE, fd, 0);
	check_file_range(a, LEN / 2, 0, LEN, 71, "A: before mlockall, the file's bytes");
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
		printf("mlockall unavailable here (%s): skipped\n", strerror(errno));
	} else {
		check_file_range(a, LEN, 0, LEN, 71, "A: after mlockall, the file's bytes");
		one(argv[1], "b.dat", 72, "B: mapped under MCL_FUTURE");
		check(munlockall() == 0, "munlockall");
	}
	one(argv[1], "c.dat", 73, "C: mapped after munlockall");
	munmap(a, LEN);
	close(fd);
	watchdog(0, "");
	return finish("file_mlockall");
}
