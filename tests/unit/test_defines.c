/* Unit tests of the keys set from outside the rule file (common/rules.c):
 * -D RULE.KEY=VALUE as the command and the library apply them, and the
 * `set` of the control socket (lf_rule_with_define).  What they must give:
 * the rules of the file edited the same way, and for a bad value the very
 * message of the file, with the define named instead of the line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_keys.h"
#include "rules_compare.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct lf_rules R;
static char E[512];

static int parse_defs(const char *text, const char *const *defs, size_t n)
{
	struct lf_defines d = { .label = "-D", .text = defs, .n = n };
	lf_rules_free(&R);
	return lf_rules_parse_defs(text, strlen(text), "t.ini", &d, &R, E, sizeof(E));
}

static void fini(void) { lf_rules_free(&R); }

TestSuite(defines, .fini = fini);

static const char BASE[] = "[global]\nworkers = 2\n"
			   "[heap]\nmatch = malloc\naction = poison\nafter = 5\n"
			   "[big]\nmatch = anon\nmin_size = 1M\n";

/* The rules of BASE with the defines equal those of `edited`, key by key. */
static void same_as_edited(const char *const *defs, size_t n, const char *edited)
{
	struct lf_rules want;
	char why[256];
	cr_assert_eq(parse_defs(BASE, defs, n), 0, "%s", E);
	cr_assert_eq(lf_rules_parse(edited, strlen(edited), "t.ini", &want, why, sizeof(why)), 0,
		     "%s", why);
	cr_expect_eq(lf_rules_compare(&want, &R, why, sizeof(why)), 0, "%s: %s", defs[0], why);
	lf_rules_free(&want);
}

Test(defines, the_same_rules_as_the_edited_file)
{
	static const char *const replace[] = { "heap.after=7" };
	same_as_edited(replace, 1, "[global]\nworkers = 2\n[heap]\nmatch = malloc\naction = poison\n"
		       "after = 7\n[big]\nmatch = anon\nmin_size = 1M\n");
	static const char *const add[] = { "big.regions=2-3", "heap.pages=0,last", "global.workers=5",
					   "global.program=*/sqlite3" };
	same_as_edited(add, N(add), "[global]\nworkers = 5\nprogram = */sqlite3\n[heap]\n"
		       "match = malloc\naction = poison\nafter = 5\npages = 0,last\n[big]\n"
		       "match = anon\nmin_size = 1M\nregions = 2-3\n");
	/* a define that changes the action brings its keys with it */
	static const char *const action[] = { "big.action=fail", "big.times=2" };
	same_as_edited(action, N(action), "[global]\nworkers = 2\n[heap]\nmatch = malloc\n"
		       "action = poison\nafter = 5\n[big]\nmatch = anon\nmin_size = 1M\n"
		       "action = fail\ntimes = 2\n");
}

/* A bad value gives the file's message, "-D RULE.KEY=VALUE: " in place of
 * "t.ini:LINE: ". */
Test(defines, the_same_errors_as_the_file)
{
	static const char *const cases[][2] = {
		{ "after", "x" }, { "after", "-1" }, { "every", "0" }, { "probability", "2" },
		{ "pages", "5-2" }, { "min_size", "12X" }, { "readahead", "1M" },
		{ "seed", "3" }, { "regions", "0" }, { "regions", "last" }, { "fill", "poison" },
		{ "path", "/x" }, { "caller_depth", "3" }, { "bogus", "1" }, { "delay", "5" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		char file[512], def[128], want[512];
		snprintf(file, sizeof(file), "[heap]\nmatch = malloc\naction = poison\n%s = %s\n",
			 cases[i][0], cases[i][1]);
		cr_assert_eq(lf_rules_parse(file, strlen(file), "t.ini", &R, E, sizeof(E)), -1, "%s", file);
		const char *after = strstr(E, ": ");
		cr_assert(strncmp(E, "t.ini:4: ", 9) == 0, "%s", E);
		snprintf(want, sizeof(want), "-D heap.%s=%s%s", cases[i][0], cases[i][1], after);
		snprintf(def, sizeof(def), "heap.%s=%s", cases[i][0], cases[i][1]);
		const char *d[] = { def };
		cr_expect_eq(parse_defs("[heap]\nmatch = malloc\naction = poison\n", d, 1), -1, "%s", def);
		cr_expect_str_eq(E, want);
	}
}

Test(defines, global_keys)
{
	const char *d[] = { "global.log_level=debug", "global.control=yes" };
	cr_assert_eq(parse_defs(BASE, d, 2), 0, "%s", E);
	cr_expect_eq(R.log_level, LF_LEVEL_DEBUG);
	cr_expect(R.control);
	const char *bad[] = { "global.after=1" };
	cr_expect_eq(parse_defs(BASE, bad, 1), -1);
	cr_expect(strncmp(E, "-D global.after=1: key 'after': not a [global] key", 50) == 0, "%s", E);
	/* also with no [global] in the file */
	const char *w[] = { "global.workers=9" };
	cr_assert_eq(parse_defs("[a]\nmatch = anon\n", w, 1), 0, "%s", E);
	cr_expect_eq(R.workers, 9);
}

Test(defines, refused_defines)
{
	static const struct { const char *def, *msg; } cases[] = {
		{ "after=3", "-D after=3: expected RULE.KEY=VALUE or global.KEY=VALUE" },
		{ "heap.after", "-D heap.after: expected RULE.KEY=VALUE" },
		{ ".after=3", "-D .after=3: expected" },
		{ "heap.=3", "-D heap.=3: expected" },
		{ "nosuch.after=3", "-D nosuch.after=3: no rule 'nosuch' in t.ini" },
		{ "heap.after=", "-D heap.after=: key 'after': empty value" },
		/* (the message shows the line break escaped, as any byte that is
		 * not printable text) */
		{ "heap.after=1\nx", "-D heap.after=1\\x0ax: a value cannot hold a line break" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *d[] = { cases[i].def };
		cr_expect_eq(parse_defs(BASE, d, 1), -1, "%s", cases[i].def);
		cr_expect(strncmp(E, cases[i].msg, strlen(cases[i].msg)) == 0, "'%s' gave '%s'",
			  cases[i].def, E);
	}
	const char *twice[] = { "heap.after=1", "heap.after=2" };
	cr_expect_eq(parse_defs(BASE, twice, 2), -1);
	cr_expect_str_eq(E, "-D heap.after=2: key 'after': given twice (first as -D heap.after=1)");
}

/* The define is reported before an error of the file, whose line it could
 * have changed. */
Test(defines, a_define_error_first)
{
	const char *d[] = { "a.after=x" };
	cr_expect_eq(parse_defs("[a]\nmatch = anon\naction = poison\n[b]\nmatch = anon\nmin_size = 1Q\n",
				d, 1), -1);
	cr_expect(strncmp(E, "-D a.after=x: ", 14) == 0, "%s", E);
}

Test(defines, a_rule_name_with_dots)
{
	const char *d[] = { "a.b.after=3" };
	cr_assert_eq(parse_defs("[a.b]\nmatch = anon\naction = poison\n", d, 1), 0, "%s", E);
	cr_expect_eq(R.rule[0].after, 3);
}

Test(defines, split_from_the_environment)
{
	struct lf_defines d;
	char *store;
	cr_assert_eq(lf_defines_split("a.after=1\n\nb.pages=2,3\n", "-D", &d, &store), 0);
	cr_assert_eq(d.n, 2);
	cr_expect_str_eq(d.text[0], "a.after=1");
	cr_expect_str_eq(d.text[1], "b.pages=2,3");
	lf_defines_free(&d, store);
	cr_assert_eq(lf_defines_split(NULL, "-D", &d, &store), 0);
	cr_expect_eq(d.n, 0);
	lf_defines_free(&d, store);
}

/* ---- the control socket's `set` ---------------------------------------- */

static const char RULE[] = "[p]\nmatch = anon\naction = poison\npages = 1\n"
			   "[f]\nmatch = malloc\naction = fail\n";

Test(defines, set_checks_as_the_parser_does)
{
	struct lf_rule copy;
	int k;
	cr_assert_eq(lf_rules_parse(RULE, strlen(RULE), "t.ini", &R, E, sizeof(E)), 0, "%s", E);
	cr_assert_eq(lf_rule_with_define(&R, 0, "set", "p.after=3", &copy, &k, E, sizeof(E)), 0, "%s", E);
	cr_expect_eq(k, LF_K_AFTER);
	cr_expect_eq(copy.after, 3);
	cr_expect(copy.given & LF_KEY_AFTER);
	cr_expect_eq(R.rule[0].after, 0, "the rule itself is left as it was");
	cr_expect(!(R.rule[0].given & LF_KEY_AFTER));

	/* a new list is the copy's own; the rule keeps its own */
	cr_assert_eq(lf_rule_with_define(&R, 0, "set", "p.pages=4-6", &copy, &k, E, sizeof(E)), 0, "%s", E);
	cr_expect_neq(copy.pages, R.rule[0].pages);
	cr_expect_eq(copy.npages, 1);
	cr_expect_eq(copy.pages[0].first, 4);
	cr_expect_eq(R.rule[0].pages[0].first, 1);
	lf_key_free(&lf_rule_keys[k], &copy);

	static const struct { size_t rule; const char *text, *msg; } bad[] = {
		{ 0, "p.after=x", "set p.after=x: key 'after': bad number 'x'" },
		{ 1, "f.after=1", "set f.after=1: key 'after': only for action = poison rules" },
		{ 1, "f.probability=2", "set f.probability=2: key 'probability': 2 is out of range" },
		{ 0, "p.nosuch=1", "set p.nosuch=1: key 'nosuch': unknown key in rule 'p'" },
		{ 0, "p.after", "set p.after: expected RULE.KEY=VALUE" },
	};
	for (size_t i = 0; i < N(bad); i++) {
		cr_expect_eq(lf_rule_with_define(&R, bad[i].rule, "set", bad[i].text, &copy, &k, E,
						 sizeof(E)), -1, "%s", bad[i].text);
		cr_expect(strncmp(E, bad[i].msg, strlen(bad[i].msg)) == 0, "'%s' gave '%s'",
			  bad[i].text, E);
	}
	/* pages = all with a trigger given: refused, as in the file */
	static const char TRIGGERED[] = "[p]\nmatch = anon\naction = poison\nafter = 2\n";
	lf_rules_free(&R);
	cr_assert_eq(lf_rules_parse(TRIGGERED, strlen(TRIGGERED), "t.ini", &R, E, sizeof(E)), 0, "%s", E);
	cr_expect_eq(lf_rule_with_define(&R, 0, "set", "p.pages=all", &copy, &k, E, sizeof(E)), -1);
	cr_expect_str_eq(E, "set p.pages=all: key 'after': never used: pages = all poisons every "
			 "page, whatever 'after' says");
}

/* ---- defines and the rule file's own checks ---------------------------- */

/* A warning about a key a define set names the define, as an error does. */
Test(defines, warnings_name_the_define)
{
	const char *d[] = { "heap.times=0" };
	cr_assert_eq(parse_defs(BASE, d, 1), 0, "%s", E);
	cr_assert_eq(R.nwarnings, 1);
	cr_expect_str_eq(R.warning[0], "-D heap.times=0: key 'times': rule 'heap' never poisons a "
			 "page (times = 0)");
	cr_expect_lt(R.rule[0].key_line[LF_K_TIMES], 0, "a define's place is not a line");
	cr_expect_eq(R.rule[0].key_line[LF_K_AFTER], 6, "the file's keys keep their lines");
}

/* A value of the file that goes on on the next line, replaced by a
 * define; a define's value is one line, a backslash in it its own. */
Test(defines, over_a_value_that_goes_on)
{
	static const char TEXT[] = "[p]\nmatch = anon\naction = poison\npages = 1,\n    2,3\n";
	const char *d[] = { "p.pages=7" };
	cr_assert_eq(parse_defs(TEXT, d, 1), 0, "%s", E);
	cr_expect_eq(R.rule[0].npages, 1);
	cr_expect_eq(R.rule[0].pages[0].first, 7);
	const char *slash[] = { "p.path=/x\\" };
	cr_expect_eq(parse_defs("[p]\nmatch = file\n", slash, 1), 0, "%s", E);
	cr_expect_str_eq(R.rule[0].path, "/x\\");
}

/* A source a define gave that cannot be read: the define is named. */
Test(defines, a_source_names_its_define)
{
	const char *d[] = { "r.source=/nonexistent/lazyfault-data" };
	cr_assert_eq(parse_defs("[r]\nmatch = malloc\naction = load\nsource = /dev/zero\n", d, 1), 0,
		     "%s", E);
	cr_expect_eq(lf_rules_check_sources(&R, E, sizeof(E)), -1);
	static const char want[] = "-D r.source=/nonexistent/lazyfault-data: key 'source': rule 'r': "
				   "cannot use /nonexistent/lazyfault-data: ";
	cr_expect(strncmp(E, want, strlen(want)) == 0, "%s", E);
}
