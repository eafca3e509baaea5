/* Unit tests of the seeds of a tree of processes (preload/seed.c): places
 * as paths of fork and exec steps, the seed of each process from the
 * rule's and its place, and LAZYFAULT_TREE's value. */
#include <criterion/criterion.h>
#include <string.h>

#include "lf.h"
#include "tree.h"

Test(seed, places)
{
	char a[LF_POSITION_MAX], b[LF_POSITION_MAX];
	cr_assert_eq(lf_position_child("/", 2, a, sizeof a), 0);
	cr_expect_str_eq(a, "/f2");
	cr_assert_eq(lf_position_exec(a, b, sizeof b), 0);
	cr_expect_str_eq(b, "/f2/e");
	cr_assert_eq(lf_position_child(b, 1, a, sizeof a), 0);
	cr_expect_str_eq(a, "/f2/e/f1");
	cr_assert_eq(lf_position_exec("/", a, sizeof a), 0);
	cr_expect_str_eq(a, "/e");
}

/* A deep tree: folded into a hash of the whole path, deterministic, and
 * never longer than a place may be; two different deep places differ. */
Test(seed, deep_places_fold)
{
	char p[LF_POSITION_MAX] = "/", q[LF_POSITION_MAX], first[LF_POSITION_MAX] = "";
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(lf_position_child(p, 1, q, sizeof q), 0);
		cr_assert_lt(strlen(q), LF_POSITION_MAX);
		strcpy(p, q);
		if (!first[0] && p[1] == '#')
			strcpy(first, p);
	}
	cr_expect_neq(first[0], 0, "never folded");
	char again[LF_POSITION_MAX] = "/";
	for (int i = 0; i < 200; i++) {
		lf_position_child(again, 1, q, sizeof q);
		strcpy(again, q);
	}
	cr_expect_str_eq(again, p, "folding is deterministic");
	char other[LF_POSITION_MAX];
	lf_position_child(p, 2, other, sizeof other);
	lf_position_child(p, 1, q, sizeof q);
	cr_expect_str_neq(other, q);
}

Test(seed, process_seeds)
{
	uint64_t s = 123456789;
	cr_expect_eq(lf_process_seed(s, "/"), s, "the first process draws from the rule's seed");
	uint64_t a = lf_process_seed(s, "/f1/e"), b = lf_process_seed(s, "/f2/e");
	cr_expect_neq(a, b);
	cr_expect_neq(a, s);
	cr_expect_eq(a, lf_process_seed(s, "/f1/e"), "a place's seed is always the same");
	cr_expect_neq(a, lf_process_seed(s + 1, "/f1/e"));
	const char *places[] = { "/", "/e", "/f1", "/f1/e", "/#0123456789abcdef" };
	for (size_t i = 0; i < 5; i++)
		for (uint64_t k = 0; k < 64; k++) {
			cr_expect_leq(lf_process_seed(LF_SEED_MAX - k, places[i]), LF_SEED_MAX);
			cr_expect_leq(lf_process_seed(UINT64_MAX - k, places[i]), LF_SEED_MAX);
		}
}

Test(seed, chosen_rule_seeds)
{
	uint64_t r = 0xfeedface;
	cr_expect_neq(lf_rule_seed_chosen(r, 0), lf_rule_seed_chosen(r, 1));
	cr_expect_eq(lf_rule_seed_chosen(r, 3), lf_rule_seed_chosen(r, 3));
	for (size_t i = 0; i < 100; i++)
		cr_expect_leq(lf_rule_seed_chosen(r * i, i), LF_SEED_MAX);
}

Test(seed, tree_variable)
{
	char v[LF_TREE_ENTRY_MAX], pos[LF_POSITION_MAX];
	uint64_t r;
	cr_assert_eq(lf_tree_value_format(0x1f2e3d, "/f3/e", v, sizeof v), 0);
	cr_expect_str_eq(v, "00000000001f2e3d:/f3/e");
	cr_assert_eq(lf_tree_value_parse(v, &r, pos, sizeof pos), 0);
	cr_expect_eq(r, 0x1f2e3d);
	cr_expect_str_eq(pos, "/f3/e");
	static const char *const bad[] = {
		"", ":", "12", "12:", "12:f1", "xyz:/", "00000000000000000:/",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(lf_tree_value_parse(bad[i], &r, pos, sizeof pos), -1, "'%s' accepted", bad[i]);
	char long_place[LF_POSITION_MAX + 8] = "1:/";
	memset(long_place + 3, 'e', LF_POSITION_MAX);
	long_place[LF_POSITION_MAX + 3] = '\0';
	cr_expect_eq(lf_tree_value_parse(long_place, &r, pos, sizeof pos), -1);
}
