/* `lazyfault check -f FILE`: which pages of FILE the rules name bad (a rule
 * with file_pages), with the very function the library decides with
 * (common/file_pages.c), so that what is printed is what a run meets. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_pages.h"
#include "lazyfault.h"
#include "rules.h"
#include "text.h"

/* "3, 7-9, 12": the bad pages in [0, pages), at most `max` ranges (then
 * "..."); the number of bad pages. */
static uint64_t print_ranges(FILE *out, const struct lf_rule *r, uint64_t seed, uint64_t pages,
			     unsigned max)
{
	uint64_t count = 0;
	unsigned ranges = 0;
	for (uint64_t b = lf_file_bad_next(r, seed, 0, pages); b < pages;
	     b = lf_file_bad_next(r, seed, b, pages)) {
		uint64_t e = lf_file_good_next(r, seed, b, pages);
		if (ranges++ < max) {
			fprintf(out, "%s%" PRIu64, ranges > 1 ? ", " : "", b);
			if (e - b > 1)
				fprintf(out, "-%" PRIu64, e - 1);
		} else if (ranges == max + 1) {
			fputs(", ...", out);
		}
		count += e - b;
		b = e;
	}
	return count;
}

/* The rule lists pages past the file's last page: bad if the file grows. */
static bool names_past(const struct lf_rule *r, uint64_t pages)
{
	if (r->file_pages.pages_all)
		return true;
	for (size_t i = 0; i < r->file_pages.npages; i++)
		if (r->file_pages.pages[i].last >= pages)
			return true;
	return false;
}

static int check_file(const struct lf_rules *rs, const char *file, FILE *out)
{
	char path[PATH_MAX], shown[4 * PATH_MAX]; /* a name's bytes escaped (text.h) */
	struct stat st;
	if (!realpath(file, path) || stat(path, &st) != 0) {
		int e = errno;
		lf_escape_text(file, shown, sizeof shown);
		fprintf(out, "file %s: cannot be read: %s\n", shown, strerror(e));
		return LF_EXIT_PROBLEM;
	}
	lf_escape_text(path, shown, sizeof shown);
	uint64_t pages = ((uint64_t)st.st_size + LF_FILE_PAGE - 1) / LF_FILE_PAGE;
	fprintf(out, "file %s: %" PRIu64 " page%s of %u bytes (%lld bytes)", shown, pages,
		pages == 1 ? "" : "s", LF_FILE_PAGE, (long long)st.st_size);
	int i = S_ISREG(st.st_mode) ? lf_file_pages_rule(rs, path) : -1;
	if (i < 0) {
		fprintf(out, "; no rule with file_pages takes it: no page is bad\n");
		return LF_EXIT_OK;
	}
	const struct lf_rule *r = &rs->rule[i];
	fprintf(out, "; rule '%s' (mappings%s): ", r->name,
		r->io_error ? " and reads, io_error = yes" : " only, io_error = no");
	if (r->probability < 1 && !(r->given & LF_KEY_SEED)) {
		fprintf(out, "each page of file_pages is bad with probability %g, drawn from a seed "
			"chosen at each start (give the rule a seed to know them)\n", r->probability);
		return LF_EXIT_OK;
	}
	uint64_t seed = (r->given & LF_KEY_SEED) ? r->seed : 0;
	fputs("bad pages ", out);
	uint64_t n = print_ranges(out, r, seed, pages, 64);
	if (!n)
		fputs("none", out);
	fprintf(out, " (%" PRIu64 " of %" PRIu64 ")", n, pages);
	if (names_past(r, pages))
		fputs("; file_pages also names pages past its end, bad if it grows", out);
	fputc('\n', out);
	return LF_EXIT_OK;
}

int lf_check_files(const struct lf_rules *rs, char *const *files, size_t n)
{
	int rc = LF_EXIT_OK;
	for (size_t i = 0; i < n; i++)
		if (check_file(rs, files[i], stdout) != LF_EXIT_OK)
			rc = LF_EXIT_PROBLEM;
	return rc;
}
