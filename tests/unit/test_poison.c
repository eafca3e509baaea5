/* Unit tests of the poison decisions (preload/poison_decide.c): rules
 * parsed from text, decided fault by fault as the library does. */
#include <criterion/criterion.h>
#include <string.h>

#include "lf.h"

static struct lf_rules R;

/* The rule of `head` (its section, match and action) with `keys`. */
static const struct lf_rule *parsed(const char *head, const char *keys)
{
	char text[1024], err[512];
	snprintf(text, sizeof text, "%s%s", head, keys);
	lf_rules_free(&R);
	cr_assert_eq(lf_rules_parse(text, strlen(text), "t.ini", &R, err, sizeof err), 0, "%s", err);
	return &R.rule[0];
}

static const struct lf_rule *rule(const char *keys)
{
	return parsed("[p]\nmatch = anon\naction = poison\n", keys);
}

/* Decide `n` faults on pages 0, 1, 2... of a region of `pages` pages (a
 * fail rule: n allocations); the fault numbers (from 1) that were poisoned
 * (the allocations that failed) go to out[]. */
static size_t run(const struct lf_rule *r, uint64_t seed, size_t n, uint64_t pages,
		  uint64_t *out, size_t max)
{
	struct lf_poison_state s = {.rng = seed};
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if ((r->action == LF_ACTION_FAIL ? lf_fail_decide(r, &s)
						 : lf_poison_decide(r, &s, i % pages, pages - 1)) && k < max)
			out[k++] = i + 1;
	cr_assert_eq(s.faults, n);
	cr_assert_eq(s.poisoned, k);
	return k;
}

Test(poison, no_trigger_poisons_every_page)
{
	uint64_t got[64];
	cr_expect_eq(run(rule(""), 1, 10, 100, got, 64), 10);
}

Test(poison, after_every_times_example)
{
	/* after = 5, every = 3, times = 4: faults 8, 11, 14 and 17. */
	uint64_t got[64];
	size_t k = run(rule("after = 5\nevery = 3\ntimes = 4\n"), 1, 40, 100, got, 64);
	cr_assert_eq(k, 4);
	uint64_t want[] = {8, 11, 14, 17};
	for (size_t i = 0; i < 4; i++)
		cr_expect_eq(got[i], want[i], "poisoned fault %zu: %llu", i, (unsigned long long)got[i]);
}

Test(poison, listed_pages_only)
{
	uint64_t got[64];
	size_t k = run(rule("pages = 0,5,10-12\n"), 1, 20, 100, got, 64);
	uint64_t want[] = {1, 6, 11, 12, 13};
	cr_assert_eq(k, 5);
	for (size_t i = 0; i < k; i++)
		cr_expect_eq(got[i], want[i]);
}

Test(poison, last_page_is_the_regions_last)
{
	const struct lf_rule *r = rule("pages = last\n");
	cr_expect(lf_poison_page_listed(r, 9, 9));
	cr_expect(!lf_poison_page_listed(r, 8, 9));
	cr_expect(lf_poison_page_listed(rule("pages = all\n"), 123, 999));
}

Test(poison, listed_pages_win_over_times_and_count_towards_it)
{
	/* times = 1 is used up by the listed page 0: the triggers then
	 * poison nothing more, but listed page 3 still is. */
	uint64_t got[64];
	size_t k = run(rule("pages = 0,3\ntimes = 1\n"), 1, 8, 100, got, 64);
	cr_assert_eq(k, 2);
	cr_expect_eq(got[0], 1);
	cr_expect_eq(got[1], 4);
}

Test(poison, times_zero_poisons_nothing_but_numbers_every_fault)
{
	uint64_t got[64];
	cr_expect_eq(run(rule("times = 0\n"), 1, 50, 100, got, 64), 0);
}

Test(poison, probability_replays_with_the_same_seed)
{
	const struct lf_rule *r = rule("probability = 0.3\n");
	uint64_t a[1000], b[1000], c[1000];
	size_t ka = run(r, 42, 1000, 1000, a, 1000);
	size_t kb = run(r, 42, 1000, 1000, b, 1000);
	size_t kc = run(r, 43, 1000, 1000, c, 1000);
	cr_assert_eq(ka, kb);
	cr_expect_eq(memcmp(a, b, ka * sizeof a[0]), 0, "same seed, same faults");
	cr_expect(ka > 200 && ka < 400, "about 30%% of 1000: %zu", ka);
	cr_expect(ka != kc || memcmp(a, c, ka * sizeof a[0]) != 0, "another seed draws otherwise");
}

Test(poison, probability_zero_and_one)
{
	uint64_t got[64];
	cr_expect_eq(run(rule("probability = 0\n"), 7, 50, 100, got, 64), 0);
	cr_expect_eq(run(rule("probability = 1\n"), 7, 50, 100, got, 64), 50);
}

/* ---- fail rules: one decision per allocation ---------------------------- */

/* The allocations (from 1) of n that rule `keys` fails, into out. */
static size_t fails(const char *keys, uint64_t seed, size_t n, uint64_t *out)
{
	return run(parsed("[f]\nmatch = malloc\naction = fail\n", keys), seed, n, 1, out, n);
}

Test(poison, fail_every_allocation_without_triggers)
{
	uint64_t got[100];
	cr_expect_eq(fails("", 1, 20, got), 20);
}

Test(poison, fail_times_caps_the_failures)
{
	uint64_t got[100];
	size_t k = fails("times = 3\n", 1, 20, got);
	cr_assert_eq(k, 3);
	for (size_t i = 0; i < 3; i++)
		cr_expect_eq(got[i], i + 1);
	cr_expect_eq(fails("times = 0\n", 1, 20, got), 0);
}

Test(poison, fail_probability_replays_and_times_still_caps)
{
	uint64_t a[1000], b[1000], c[1000];
	size_t ka = fails("probability = 0.2\n", 5, 1000, a);
	size_t kb = fails("probability = 0.2\n", 5, 1000, b);
	size_t kc = fails("probability = 0.2\n", 6, 1000, c);
	cr_assert_eq(ka, kb);
	cr_expect_eq(memcmp(a, b, ka * sizeof a[0]), 0, "same seed, same failures");
	cr_expect(ka > 120 && ka < 280, "about 20%% of 1000: %zu", ka);
	cr_expect(ka != kc || memcmp(a, c, ka * sizeof a[0]) != 0, "another seed fails others");
	cr_expect_eq(fails("probability = 0.2\ntimes = 4\n", 5, 1000, c), 4);
	cr_expect_eq(memcmp(a, c, 4 * sizeof a[0]), 0, "the same first four");
}
