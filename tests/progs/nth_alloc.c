/* Makes several regions of one size, one after the other, then touches
 * every page of each and says which raised SIGBUS: for the `regions` key
 * (tests/integration/test_triggers.py), whose rules pick regions by their
 * number, all of the same size.
 *
 *   nth_alloc KIND COUNT NPAGES [fork]
 *
 *   KIND   malloc (malloc(NPAGES pages) each) or anon (mmap)
 *   fork   then fork: the child makes one region more and touches all of
 *          them, its lines prefixed "child "; the parent touches its own
 *          once the child has ended
 *
 * Output: one line per region, "region I: sigbus none" or "region I: sigbus
 * pages A,B,..." (I from 1, in the order made), then a check per region
 * that the pages that did not raise SIGBUS read zeros and take a write, and
 * the closing line.  No addresses, pids or timings. */
#include <sys/wait.h>

#include "file_util.h"

static void touch_all(uint8_t **region, size_t count, size_t npages, const char *who)
{
	size_t pg = (size_t)page_size();
	for (size_t r = 0; r < count; r++) {
		bool clean = true;
		size_t nbus = 0;
		printf("%sregion %zu: sigbus", who, r + 1);
		for (size_t i = 0; i < npages; i++) {
			volatile uint8_t *p = region[r] + i * pg + (i * 67) % pg;
			struct probe_result got = probe(p, false, 0);
			if (got.sig == SIGBUS) {
				printf("%s%zu", nbus++ ? "," : " pages ", i);
				continue;
			}
			clean &= got.sig == 0 && got.val == 0 &&
				 find_nonzero(region[r] + i * pg, pg) == NOMISMATCH;
			region[r][i * pg] = pat_byte(i, 3);
			clean &= region[r][i * pg] == pat_byte(i, 3);
		}
		printf("%s\n", nbus ? "" : " none");
		check(clean, "%sregion %zu: the pages without SIGBUS read zeros and take a write", who,
		      r + 1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "fork"))) {
		fprintf(stderr, "usage: %s malloc|anon COUNT NPAGES [fork]\n", argv[0]);
		return 2;
	}
	bool use_malloc = !strcmp(argv[1], "malloc");
	size_t count = strtoul(argv[2], NULL, 0), npages = strtoul(argv[3], NULL, 0);
	size_t len = npages * (size_t)page_size();
	if (!count || !npages || count > 63 || (!use_malloc && strcmp(argv[1], "anon")))
		die("bad arguments");
	uint8_t *region[64];
	for (size_t r = 0; r < count; r++) {
		region[r] = use_malloc ? malloc(len) : map_anon(len);
		if (!region[r])
			die("malloc %zu", len);
	}
	if (argc == 5) {
		pid_t pid = lft_fork();
		if (pid == 0) {
			region[count] = use_malloc ? malloc(len) : map_anon(len);
			if (!region[count])
				die("malloc %zu", len);
			touch_all(region, count + 1, npages, "child ");
			fflush(stdout);
			_exit(lft_exit_status());
		}
		int st;
		check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the child's checks held");
	}
	touch_all(region, count, npages, "");
	return finish("nth_alloc");
}
