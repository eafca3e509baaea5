/* Unit tests of the keys that choose what a rule takes and how it fails
 * (common/rule_keys.def, values.c): regions, program, control, action =
 * fail and the keys that go with it; the list helpers they use. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_compare.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct lf_rules R;
static char E[512];

static int parse(const char *text)
{
	lf_rules_free(&R);
	return lf_rules_parse(text, strlen(text), "t.ini", &R, E, sizeof(E));
}

static void fini(void) { lf_rules_free(&R); }

TestSuite(selection, .fini = fini);

Test(selection, regions_are_numbers_from_one)
{
	cr_assert_eq(parse("[r]\nmatch = malloc\nregions = 2, 4-6, 9\n"), 0, "%s", E);
	const struct lf_page_list *l = &R.rule[0].regions;
	cr_assert_eq(l->npages, 3);
	cr_expect(R.rule[0].given & LF_KEY_REGIONS);
	bool want[11] = { [2] = true, [4] = true, [5] = true, [6] = true, [9] = true };
	for (uint64_t n = 1; n <= 10; n++)
		cr_expect_eq(lf_page_list_has(l, n, 0), want[n], "region %llu", (unsigned long long)n);
	char buf[64];
	cr_expect_eq(lf_format_pages(l, buf, sizeof(buf)), strlen("2,4-6,9"));
	cr_expect_str_eq(buf, "2,4-6,9");
	/* too small a buffer: cut, and the length it needs */
	cr_expect_eq(lf_format_pages(l, buf, 4), 7);
	cr_expect_str_eq(buf, "2,4");
}

Test(selection, regions_refused)
{
	static const struct { const char *v, *why; } cases[] = {
		{ "0", "numbered from 1" }, { "0-3", "numbered from 1" }, { "last", "'last'" },
		{ "1,last", "'last'" }, { "all", "'all'" }, { "x", "not a page number" },
		{ "3-1", "backwards" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		char t[128];
		snprintf(t, sizeof(t), "[r]\nmatch = anon\nregions = %s\n", cases[i].v);
		cr_expect_eq(parse(t), -1, "%s accepted", cases[i].v);
		cr_expect(strncmp(E, "t.ini:3: key 'regions': bad region list", 39) == 0, "%s", E);
		cr_expect(strstr(E, cases[i].why) != NULL, "'%s' gave '%s'", cases[i].v, E);
	}
}

Test(selection, program_in_global_and_in_rules)
{
	cr_assert_eq(parse("[global]\nprogram = */sqlite3\ncontrol = yes\n[r]\nmatch = anon\n"
			   "program = /usr/bin/*\n[s]\nmatch = anon\n"), 0, "%s", E);
	cr_expect_str_eq(R.program, "*/sqlite3");
	cr_expect(R.control);
	cr_expect_str_eq(R.rule[0].program, "/usr/bin/*");
	cr_expect_null(R.rule[1].program);
	cr_assert_eq(parse("[r]\nmatch = anon\n"), 0, "%s", E);
	cr_expect_null(R.program);
	cr_expect(!R.control);
	char *printed = lf_rules_printed(&R);
	cr_expect(strstr(printed, "# program: any program\n") != NULL, "%s", printed);
	cr_expect(strstr(printed, "control = no\n") != NULL, "%s", printed);
	free(printed);
}

Test(selection, fail_rules)
{
	cr_assert_eq(parse("[f]\nmatch = malloc\nmin_size = 0\naction = fail\nregions = 3\n"
			   "probability = 0.5\nseed = 9\ntimes = 2\ncaller = f\nprogram = *\n"), 0, "%s", E);
	cr_expect_eq(R.rule[0].action, LF_ACTION_FAIL);
	cr_assert_eq(parse("[f]\nmatch = anon\naction = fail\n"), 0, "%s", E);
	char *printed = lf_rules_printed(&R);
	cr_expect(strstr(printed, "every allocation it takes fails with ENOMEM") != NULL, "%s", printed);
	cr_expect(strstr(printed, "readahead") == NULL && strstr(printed, "delay") == NULL &&
		  strstr(printed, "fill") == NULL, "keys that do not apply printed:\n%s", printed);
	free(printed);

	cr_expect_eq(parse("[f]\nmatch = file\naction = fail\n"), -1);
	cr_expect(strncmp(E, "t.ini:3: key 'action': action = fail is only for match = anon or malloc",
			  71) == 0, "%s", E);
	static const char *const refused[][2] = {
		{ "after", "1" }, { "every", "2" }, { "pages", "1" }, { "fill", "zero" },
		{ "delay", "1ms" }, { "readahead", "1M" }, { "source", "/x" },
	};
	for (size_t i = 0; i < N(refused); i++) {
		char t[128], prefix[64];
		snprintf(t, sizeof(t), "[f]\nmatch = malloc\naction = fail\n%s = %s\n", refused[i][0],
			 refused[i][1]);
		snprintf(prefix, sizeof(prefix), "t.ini:4: key '%s':", refused[i][0]);
		cr_expect_eq(parse(t), -1, "%s accepted", refused[i][0]);
		cr_expect(strncmp(E, prefix, strlen(prefix)) == 0, "%s gave %s", refused[i][0], E);
	}
}

Test(selection, round_trip)
{
	cr_assert_eq(parse("[global]\nprogram = */x\ncontrol = yes\n[f]\nmatch = malloc\n"
			   "action = fail\nregions = 1-3,7\ntimes = 1\n[p]\nmatch = anon\n"
			   "action = poison\nregions = 2\npages = 0\n"), 0, "%s", E);
	char why[256], *s;
	cr_expect_eq(lf_rules_round_trip(&R, &s, why, sizeof(why)), 0, "%s\n%s", why, s);
	free(s);
}

Test(selection, probability_printed_shortest)
{
	char b[32];
	lf_format_probability(0.1, b, sizeof(b));
	cr_expect_str_eq(b, "0.1");
	lf_format_probability(1, b, sizeof(b));
	cr_expect_str_eq(b, "1");
	lf_format_probability(1.0 / 3, b, sizeof(b));
	cr_expect_eq(strtod(b, NULL), 1.0 / 3);
}
