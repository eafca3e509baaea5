/* A program that waits for orders on its standard input, for the tests of
 * `lazyfault ctl` (tests/integration/test_triggers.py): the test changes the
 * rules of this running process between two orders and sees what each
 * touch meets.
 *
 * Orders, one per line; each is answered by one line on standard output:
 *   map NPAGES    map an anonymous private region      "mapped R" (R from 1)
 *   touch R P     read page P of region R              "R P: sigbus" or "R P: ok"
 *   fork          a child that waits to be killed      "child PID", then "forked"
 *   reap          kill the child and wait for it       "reaped"
 *   quit          end                                  the closing line
 * The first line printed is "ready PID".  A page that did not raise SIGBUS
 * must read zeros (else "R P: wrong bytes"). */
#include <sys/wait.h>

#include "file_util.h"

int main(void)
{
	uint8_t *region[64];
	size_t nregions = 0, pg = (size_t)page_size();
	pid_t child = -1;
	char line[256];
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof line, stdin)) {
		size_t a, b;
		if (sscanf(line, "map %zu", &a) == 1 && nregions < 64) {
			region[nregions++] = map_anon(a * pg);
			printf("mapped %zu\n", nregions);
		} else if (sscanf(line, "touch %zu %zu", &a, &b) == 2 && a >= 1 && a <= nregions) {
			struct probe_result r = probe(region[a - 1] + b * pg, false, 0);
			printf("%zu %zu: %s\n", a, b, r.sig == SIGBUS ? "sigbus"
				: r.sig == 0 && r.val == 0 ? "ok" : "wrong bytes");
		} else if (!strncmp(line, "fork", 4) && child < 0) {
			int ready[2];
			if (pipe(ready) != 0)
				die("pipe");
			child = lft_fork();
			if (child == 0) {
				printf("child %d\n", (int)getpid());
				fflush(stdout);
				if (write(ready[1], "", 1) != 1)
					_exit(2);
				alarm(60); /* never outlive a test that forgot us */
				for (;;)
					pause();
			}
			char c;
			if (read(ready[0], &c, 1) != 1)
				die("the child did not start");
			close(ready[0]);
			close(ready[1]);
			printf("forked\n");
		} else if (!strncmp(line, "reap", 4) && child > 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			child = -1;
			printf("reaped\n");
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("bad order: %s", line);
		}
	}
	return finish("ctl_target");
}
