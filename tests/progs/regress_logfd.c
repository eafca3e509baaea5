/* Regression: the library's log descriptor survives closefrom(3).  The
 * program closes everything from 3 on, opens a data file (which may get the
 * log's old number), writes to it and makes the library log (a region taken
 * and touched): the data file must hold only what the program wrote.
 *
 *     regress_logfd DATAFILE
 */
#include "lftest.h"

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: regress_logfd DATAFILE");
	closefrom(3); /* a daemon closing what it did not open */
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open %s", argv[1]);
	check(write(fd, "DATA\n", 5) == 5, "write to the data file");
	uint8_t *p = map_anon(MiB);
	p[0] = 1;
	check(p[0] == 1 && p[MiB - 1] == 0, "the region reads right");
	munmap(p, MiB);
	uint8_t *q = map_anon(2 * MiB);
	q[4096] = 2;
	check(q[4096] == 2 && q[0] == 0, "a second region reads right");
	check(close(fd) == 0, "close the data file");

	size_t len;
	uint8_t *data = slurp(argv[1], &len);
	check(len == 5 && !memcmp(data, "DATA\n", 5),
	      "the data file holds only what the program wrote (%zu bytes)", len);
	if (len != 5)
		printf("data file: %.*s\n", (int)(len > 400 ? 400 : len), (const char *)data);
	free(data);
	return finish("regress_logfd");
}
