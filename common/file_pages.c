/* Bad pages of a file (file_pages.h). */
#include "file_pages.h"

#include <fnmatch.h>

/* splitmix64's finaliser: every bit of the input reaches every bit of the
 * output, so neighbouring pages draw independently. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The page's draw, uniform in [0, 1). */
static double draw(uint64_t seed, uint64_t page)
{
	uint64_t h = mix(seed ^ mix(page + 0x9e3779b97f4a7c15ULL));
	return (double)(h >> 11) * 0x1.0p-53;
}

/* `last` is refused in file_pages (rules.c): a file's end moves. */
static bool listed(const struct lf_page_list *l, uint64_t page)
{
	if (l->pages_all)
		return true;
	for (size_t i = 0; i < l->npages; i++)
		if (page >= l->pages[i].first && page <= l->pages[i].last)
			return true;
	return false;
}

bool lf_file_page_bad(const struct lf_rule *r, uint64_t seed, uint64_t page)
{
	if (!listed(&r->file_pages, page))
		return false;
	return r->probability >= 1 || draw(seed, page) < r->probability;
}

/* The first listed page in [from, to), or to. */
static uint64_t listed_next(const struct lf_page_list *l, uint64_t from, uint64_t to)
{
	if (l->pages_all)
		return from;
	uint64_t best = to;
	for (size_t i = 0; i < l->npages; i++) {
		uint64_t a = l->pages[i].first, b = l->pages[i].last;
		uint64_t at = a > from ? a : from;
		if (at <= b && at < best)
			best = at;
	}
	return best;
}

uint64_t lf_file_bad_next(const struct lf_rule *r, uint64_t seed, uint64_t from, uint64_t to)
{
	if (r->probability <= 0)
		return to;
	for (uint64_t p = listed_next(&r->file_pages, from, to); p < to;
	     p = listed_next(&r->file_pages, p + 1, to))
		if (lf_file_page_bad(r, seed, p))
			return p;
	return to;
}

uint64_t lf_file_good_next(const struct lf_rule *r, uint64_t seed, uint64_t from, uint64_t to)
{
	if (r->file_pages.pages_all && r->probability >= 1)
		return to;
	uint64_t p = from;
	while (p < to && lf_file_page_bad(r, seed, p))
		p++;
	return p;
}

int lf_file_pages_rule(const struct lf_rules *rs, const char *path)
{
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct lf_rule *r = &rs->rule[i];
		if ((r->given & LF_KEY_FILE_PAGES) && (!r->path || fnmatch(r->path, path, 0) == 0))
			return (int)i;
	}
	return -1;
}
