/* Unit tests of the bad pages of a file (common/file_pages.c), which the
 * library decides every access with and `lazyfault check -f` prints: rules
 * parsed from text, pages decided as the library does. */
#include <criterion/criterion.h>
#include <string.h>

#include "file_pages.h"
#include "rules.h"

static struct lf_rules R;

static const struct lf_rules *rules(const char *text)
{
	char err[512];
	lf_rules_free(&R);
	cr_assert_eq(lf_rules_parse(text, strlen(text), "t.ini", &R, err, sizeof err), 0, "%s", err);
	return &R;
}

/* One file rule with these keys. */
static const struct lf_rule *rule(const char *keys)
{
	char text[1024];
	snprintf(text, sizeof text, "[disk]\nmatch = file\naction = poison\n%s", keys);
	return &rules(text)->rule[0];
}

/* The first bad page by brute force. */
static uint64_t brute_next(const struct lf_rule *r, uint64_t seed, uint64_t from, uint64_t to)
{
	for (uint64_t p = from; p < to; p++)
		if (lf_file_page_bad(r, seed, p))
			return p;
	return to;
}

Test(file_pages, listed_pages_are_bad_and_no_other)
{
	const struct lf_rule *r = rule("file_pages = 3, 7-9, 100\n");
	for (uint64_t p = 0; p < 200; p++) {
		bool want = p == 3 || (p >= 7 && p <= 9) || p == 100;
		cr_expect_eq(lf_file_page_bad(r, 1, p), want, "page %llu", (unsigned long long)p);
	}
	cr_expect_eq(lf_file_bad_next(r, 1, 0, 200), 3);
	cr_expect_eq(lf_file_bad_next(r, 1, 4, 200), 7);
	cr_expect_eq(lf_file_good_next(r, 1, 7, 200), 10, "the run 7-9 ends at 10");
	cr_expect_eq(lf_file_bad_next(r, 1, 10, 100), 100, "none in [10, 100): the end");
	cr_expect_eq(lf_file_bad_next(r, 1, 101, UINT64_MAX), UINT64_MAX);
}

Test(file_pages, all_is_every_page)
{
	const struct lf_rule *r = rule("file_pages = all\n");
	cr_expect(lf_file_page_bad(r, 5, 0));
	cr_expect(lf_file_page_bad(r, 5, UINT64_MAX - 1));
	cr_expect_eq(lf_file_good_next(r, 5, 10, 1 << 30), 1 << 30, "one run to the end");
}

/* A pure function of seed and page: the same whatever the order of the
 * questions (every access path, every process, asks in its own order). */
Test(file_pages, probability_is_drawn_once_per_page)
{
	const struct lf_rule *r = rule("file_pages = all\nprobability = 0.1\nseed = 42\n");
	enum { N = 100000 };
	static bool up[N];
	size_t bad = 0;
	for (uint64_t p = 0; p < N; p++)
		bad += up[p] = lf_file_page_bad(r, r->seed, p);
	for (uint64_t p = N; p-- > 0;)
		cr_assert_eq(lf_file_page_bad(r, r->seed, p), up[p], "page %llu drawn twice otherwise",
			     (unsigned long long)p);
	cr_expect(bad > N / 10 - 1000 && bad < N / 10 + 1000, "about 10%% of %d: %zu", N, bad);
	size_t same = 0;
	for (uint64_t p = 0; p < N; p++)
		same += lf_file_page_bad(r, 43, p) == up[p];
	cr_expect(same < N - 1000, "another seed draws other pages (%zu of %d the same)", same, N);
	/* Neighbouring pages draw independently: runs of bad pages are rare. */
	size_t pairs = 0;
	for (uint64_t p = 1; p < N; p++)
		pairs += up[p] && up[p - 1];
	cr_expect(pairs < N / 100 + 300, "%zu pairs of neighbours both bad", pairs);
}

Test(file_pages, probability_only_among_the_pages_listed)
{
	const struct lf_rule *r = rule("file_pages = 1000-1999\nprobability = 0.5\nseed = 3\n");
	size_t bad = 0;
	for (uint64_t p = 0; p < 4000; p++) {
		bool b = lf_file_page_bad(r, 3, p);
		cr_assert(!b || (p >= 1000 && p <= 1999), "page %llu is not listed", (unsigned long long)p);
		bad += b;
	}
	cr_expect(bad > 400 && bad < 600, "%zu of 1000", bad);
	cr_expect_eq(lf_file_bad_next(rule("file_pages = all\nprobability = 0\n"), 1, 0, 1 << 20),
		     1 << 20, "probability 0: no page is bad");
}

Test(file_pages, next_and_runs_agree_with_every_page)
{
	const struct lf_rule *r = rule("file_pages = 5-60, 70, 200-300\nprobability = 0.3\nseed = 9\n");
	for (uint64_t from = 0; from < 320; from += 7)
		for (uint64_t to = from; to < 330; to += 13) {
			uint64_t b = lf_file_bad_next(r, 9, from, to);
			cr_assert_eq(b, brute_next(r, 9, from, to), "[%llu, %llu)", (unsigned long long)from,
				     (unsigned long long)to);
			if (b < to) {
				uint64_t e = lf_file_good_next(r, 9, b, to);
				for (uint64_t p = b; p < e; p++)
					cr_assert(lf_file_page_bad(r, 9, p));
				cr_assert(e == to || !lf_file_page_bad(r, 9, e));
			}
		}
}

Test(file_pages, the_first_rule_with_file_pages_whose_path_matches)
{
	const struct lf_rules *rs = rules("[load]\nmatch = file\npath = *.db\n"
					  "[a]\nmatch = file\npath = /data/*.db\naction = poison\nfile_pages = 1\n"
					  "[b]\nmatch = file\naction = poison\nfile_pages = 2\nio_error = yes\n");
	cr_expect_eq(lf_file_pages_rule(rs, "/data/t.db"), 1, "[load] has no file_pages");
	cr_expect_eq(lf_file_pages_rule(rs, "/other/t.db"), 2, "[b] has no path: any file");
	cr_expect(!rs->rule[1].io_error && rs->rule[2].io_error);
}

/* What the parser derives: such a rule takes mappings of any size. */
Test(file_pages, a_rule_with_file_pages_takes_any_size)
{
	cr_expect_eq(rule("file_pages = 1\n")->min_size, 0);
	cr_expect_eq(rule("pages = 1\n")->min_size, 64 * 1024, "without file_pages: the default");
}

/* Each refusal names the key and the line at fault. */
Test(file_pages, refused_with_what_it_does_not_do)
{
	static const struct { const char *keys, *msg; } bad[] = {
		{ "file_pages = 1\nafter = 2\n", "t.ini:5: key 'after': not with 'file_pages'" },
		{ "file_pages = 1\nevery = 2\n", "t.ini:5: key 'every': not with 'file_pages'" },
		{ "file_pages = 1\ntimes = 2\n", "t.ini:5: key 'times': not with 'file_pages'" },
		{ "file_pages = 1\npages = 2\n", "t.ini:5: key 'pages': not with 'file_pages'" },
		{ "file_pages = 1\nmax_size = 1M\n", "t.ini:5: key 'max_size': not with 'file_pages'" },
		{ "file_pages = 1\ncaller = f\n", "t.ini:5: key 'caller': not with 'file_pages'" },
		{ "file_pages = 1, last\n", "t.ini:4: key 'file_pages': 'last' is not for file_pages" },
		{ "io_error = yes\n", "t.ini:4: key 'io_error': only used with 'file_pages'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[512], err[512];
		struct lf_rules r;
		snprintf(text, sizeof text, "[disk]\nmatch = file\naction = poison\n%s", bad[i].keys);
		cr_expect_eq(lf_rules_parse(text, strlen(text), "t.ini", &r, err, sizeof err), -1, "%s",
			     bad[i].keys);
		cr_expect(strstr(err, bad[i].msg) != NULL, "%s: '%s'", bad[i].keys, err);
	}
}
