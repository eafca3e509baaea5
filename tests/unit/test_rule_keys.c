/* Unit tests of the key table (common/rule_keys.def) and of what is walked
 * from it: every key has a default that parses, a paragraph in the man page,
 * a line in tests/rules/good/every_key.ini; the round-trip comparison sees a
 * change of each key; the good rule files print and parse back the same;
 * and the printer stays out of the library. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfsyms.h"
#include "rule_keys.h"
#include "rules_compare.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A file of the source tree: this test is built from tests/unit/ by a make
 * run at the top, which also runs it there. */
static void source_path(char *buf, size_t len, const char *rel)
{
	const char *here = __FILE__, *at = strstr(here, "tests/unit/");
	cr_assert_not_null(at, "cannot tell the source tree from %s", here);
	snprintf(buf, len, "%.*s%s", (int)(at - here), here, rel);
}

static char *read_file(const char *rel)
{
	char path[PATH_MAX];
	source_path(path, sizeof(path), rel);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s (run from the top of the tree)", path);
	char *buf = NULL;
	size_t cap = 0;
	cr_assert(getdelim(&buf, &cap, '\0', f) > 0, "%s is empty", path);
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------ the table */

/* Unique in each section; a name in both (program) means the same there,
 * so it has the same kind. */
Test(rule_keys, names_are_unique)
{
	const struct lf_key *all[LF_NRULE_KEYS + LF_NGLOBAL_KEYS];
	for (size_t i = 0; i < LF_NRULE_KEYS; i++)
		all[i] = &lf_rule_keys[i];
	for (size_t i = 0; i < LF_NGLOBAL_KEYS; i++)
		all[LF_NRULE_KEYS + i] = &lf_global_keys[i];
	for (size_t i = 0; i < N(all); i++) {
		cr_assert_not_null(all[i]->name, "entry %zu has no name", i);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(all[i]->name, all[j]->name) != 0)
				continue;
			bool both = (i < LF_NRULE_KEYS) != (j < LF_NRULE_KEYS);
			cr_expect(both, "two entries for '%s' in one section", all[i]->name);
			cr_expect_eq(all[i]->kind, all[j]->kind, "'%s' of [global] and of a rule differ",
				     all[i]->name);
		}
	}
}

Test(rule_keys, every_default_parses)
{
	for (size_t i = 0; i < LF_NRULE_KEYS; i++)
		for (int m = 0; m < LF_NMATCH; m++) {
			const struct lf_key *k = &lf_rule_keys[i];
			struct lf_rule r = { 0 };
			char why[256];
			if (!k->def[m])
				continue;
			cr_expect_eq(lf_key_set(k, &r, k->def[m], why, sizeof(why)), 0,
				     "default '%s' of '%s' (match = %s): %s", k->def[m], k->name,
				     lf_match_name(m), why);
			lf_key_free(k, &r);
		}
	for (size_t i = 0; i < LF_NGLOBAL_KEYS; i++) {
		const struct lf_key *k = &lf_global_keys[i];
		struct lf_rules r = { 0 };
		char why[256];
		if (k->def[0])
			cr_expect_eq(lf_key_set(k, &r, k->def[0], why, sizeof(why)), 0, "'%s': %s",
				     k->name, why);
		lf_key_free(k, &r);
	}
}

/* The table and the struct fields: a rule parsed from text holds in each
 * key's field what the key was given. */
Test(rule_keys, fields_are_the_keys)
{
	struct lf_rules R;
	char err[256];
	const char text[] = "[global]\nworkers = 7\n[r]\nmatch = anon\ncaller = f\ncaller_depth = 5\n"
			    "min_size = 3K\nreadahead = 1M\ndelay = 2us\n";
	cr_assert_eq(lf_rules_parse(text, sizeof(text) - 1, "t.ini", &R, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(*(unsigned *)lf_key_field(&lf_global_keys[LF_G_WORKERS], &R), 7);
	const struct lf_rule *r = &R.rule[0];
	cr_expect_eq(*(unsigned *)lf_key_field(&lf_rule_keys[LF_K_CALLER_DEPTH], r), 5);
	cr_expect_eq(*(uint64_t *)lf_key_field(&lf_rule_keys[LF_K_MIN_SIZE], r), 3072);
	cr_expect_eq(*(uint64_t *)lf_key_field(&lf_rule_keys[LF_K_READAHEAD], r), 1 << 20);
	cr_expect_eq(*(uint64_t *)lf_key_field(&lf_rule_keys[LF_K_DELAY], r), 2000);
	cr_expect_str_eq(*(char **)lf_key_field(&lf_rule_keys[LF_K_CALLER], r), "f");
	cr_expect_eq(r->given, LF_KEY_MATCH | LF_KEY_CALLER | LF_KEY_CALLER_DEPTH | LF_KEY_MIN_SIZE |
			       LF_KEY_READAHEAD | LF_KEY_DELAY);
	lf_rules_free(&R);
}

Test(rule_keys, every_key_in_the_man_page)
{
	char *man = read_file("man/lazyfault.ini.5");
	const struct lf_key *tabs[] = { lf_rule_keys, lf_global_keys };
	const size_t ns[] = { LF_NRULE_KEYS, LF_NGLOBAL_KEYS };
	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < ns[t]; i++) {
			/* a paragraph whose tag names it: ".TP\n.BI name ..." */
			char tag[64];
			bool found = false;
			snprintf(tag, sizeof(tag), " %s ", tabs[t][i].name);
			for (const char *c = strstr(man, ".TP\n."); c && !found; c = strstr(c + 1, ".TP\n.")) {
				const char *end = strchr(c + 4, '\n');
				char line[256];
				snprintf(line, sizeof(line), "%.*s ", (int)(end - c - 4), c + 4);
				for (char *q = line; *q; q++)
					if (*q == '"')
						*q = ' ';
				found = strstr(line, tag) != NULL;
			}
			cr_expect(found, "key '%s' has no paragraph in man/lazyfault.ini.5", tabs[t][i].name);
		}
	free(man);
}

/* every_key.ini is what its name says: a new key must be added there too,
 * and `lazyfault check` prints each one back. */
Test(rule_keys, every_key_ini_has_every_key)
{
	char path[PATH_MAX], err[512];
	struct lf_rules R;
	source_path(path, sizeof(path), "tests/rules/good/every_key.ini");
	cr_assert_eq(lf_rules_load(path, &R, err, sizeof(err)), 0, "%s", err);
	char *printed = lf_rules_printed(&R);
	cr_assert_not_null(printed);
	char *text = read_file("tests/rules/good/every_key.ini");
	unsigned given = 0;
	for (size_t i = 0; i < R.nrules; i++)
		given |= R.rule[i].given;
	for (size_t i = 0; i < LF_NRULE_KEYS; i++) {
		char line[64];
		snprintf(line, sizeof(line), "\n%s = ", lf_rule_keys[i].name);
		cr_expect(given & (1u << i), "every_key.ini lacks '%s'", lf_rule_keys[i].name);
		cr_expect(strstr(printed, line) != NULL, "'%s' not printed:\n%s", lf_rule_keys[i].name,
			  printed);
	}
	for (size_t i = 0; i < LF_NGLOBAL_KEYS; i++) {
		char line[64];
		snprintf(line, sizeof(line), "\n%s = ", lf_global_keys[i].name);
		cr_expect(strstr(text, line) != NULL, "every_key.ini lacks '%s'", lf_global_keys[i].name);
		cr_expect(strstr(printed, line) != NULL, "'%s' not printed", lf_global_keys[i].name);
	}
	free(text);
	free(printed);
	lf_rules_free(&R);
}

/* ------------------------------------------------- the round-trip check */

/* Change the value of key k's field, whatever it is: by kind, so that a
 * key added to the table is changed here too. */
static void change(const struct lf_key *k, void *f)
{
	switch (k->kind) {
	case LF_KIND_ENUM:
		*(unsigned *)f = (*(unsigned *)f + 1) % k->nnames;
		return;
	case LF_KIND_STRING:
		free(*(char **)f);
		*(char **)f = strdup("changed");
		return;
	case LF_KIND_SIZE:
	case LF_KIND_DURATION:
		*(uint64_t *)f += 1;
		return;
	case LF_KIND_NUMBER:
		if (k->width == sizeof(unsigned))
			*(unsigned *)f += 1;
		else
			*(uint64_t *)f += 1;
		return;
	case LF_KIND_LIMIT:
		*(int64_t *)f += 1;
		return;
	case LF_KIND_BOOL:
		*(bool *)f = !*(bool *)f;
		return;
	case LF_KIND_PROBABILITY:
		*(double *)f = *(double *)f == 0.5 ? 0.25 : 0.5;
		return;
	case LF_KIND_PAGES:
		((struct lf_page_list *)f)->pages_all = !((struct lf_page_list *)f)->pages_all;
		return;
	}
	cr_assert_fail("key '%s' of a kind this test does not know", k->name);
}

/* Parse BASE twice, change key k in the second only: the comparison must
 * name k. */
static void compare_sees(const struct lf_key *k, bool rule)
{
	static const char BASE[] = "[global]\nstats = /s\n[r]\nmatch = anon\naction = poison\n";
	struct lf_rules a, b;
	char err[256], why[256], want[64];
	cr_assert_eq(lf_rules_parse(BASE, strlen(BASE), "a", &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(lf_rules_parse(BASE, strlen(BASE), "b", &b, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(lf_rules_compare(&a, &b, why, sizeof(why)), 0, "%s", why);
	change(k, lf_key_field(k, rule ? (void *)&b.rule[0] : (void *)&b));
	cr_expect_eq(lf_rules_compare(&a, &b, why, sizeof(why)), -1, "a change of '%s' unseen", k->name);
	snprintf(want, sizeof(want), "key '%s' differs", k->name);
	cr_expect(strstr(why, want) != NULL, "'%s' changed, the comparison says '%s'", k->name, why);
	lf_rules_free(&a);
	lf_rules_free(&b);
}

Test(rule_keys, compare_sees_each_value)
{
	for (size_t i = 0; i < LF_NRULE_KEYS; i++)
		compare_sees(&lf_rule_keys[i], true);
	for (size_t i = 0; i < LF_NGLOBAL_KEYS; i++)
		compare_sees(&lf_global_keys[i], false);
}

/* The same value, given in one and not the other, can mean other rules: a
 * poison rule with any trigger decides otherwise (the four triggers come
 * into force together: the first of them is named). */
Test(rule_keys, compare_sees_what_is_in_force)
{
	static const struct { const char *a, *b, *key; } pairs[] = {
		{ "[r]\nmatch = anon\naction = poison\n", "[r]\nmatch = anon\naction = poison\nafter = 0\n",
		  "probability" },
		{ "[r]\nmatch = anon\naction = poison\npages = 1\n",
		  "[r]\nmatch = anon\naction = poison\npages = 1\ntimes = -1\n", "probability" },
		{ "[r]\nmatch = anon\naction = poison\n",
		  "[r]\nmatch = anon\naction = poison\nprobability = 1\n", "probability" },
		{ "[r]\nmatch = anon\n", "[r]\nmatch = anon\nmax_size = 18446744073709551615\n", "max_size" },
		{ "[r]\nmatch = anon\naction = poison\nprobability = 0.5\n",
		  "[r]\nmatch = anon\naction = poison\nprobability = 0.5\nseed = 0\n", "seed" },
	};
	for (size_t i = 0; i < N(pairs); i++) {
		struct lf_rules a, b;
		char err[256], why[256], want[64];
		cr_assert_eq(lf_rules_parse(pairs[i].a, strlen(pairs[i].a), "a", &a, err, sizeof(err)), 0,
			     "%s", err);
		cr_assert_eq(lf_rules_parse(pairs[i].b, strlen(pairs[i].b), "b", &b, err, sizeof(err)), 0,
			     "%s", err);
		snprintf(want, sizeof(want), "key '%s' differs", pairs[i].key);
		cr_expect_eq(lf_rules_compare(&a, &b, why, sizeof(why)), -1, "%s", pairs[i].b);
		cr_expect(strstr(why, want) != NULL, "%s: '%s'", pairs[i].b, why);
		lf_rules_free(&a);
		lf_rules_free(&b);
	}
}

/* ------------------------------------------------------ the rule files */

Test(rule_keys, good_rule_files_round_trip)
{
	char dir[PATH_MAX];
	source_path(dir, sizeof(dir), "tests/rules/good");
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s", dir);
	int files = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".ini") != 0)
			continue;
		char path[PATH_MAX + 256], err[512], why[256], *s;
		struct lf_rules r;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		cr_assert_eq(lf_rules_load(path, &r, err, sizeof(err)), 0, "%s", err);
		int rc = lf_rules_round_trip(&r, &s, why, sizeof(why));
		cr_expect_eq(rc, 0, "%s: %s: %s\n%s", e->d_name, rc == LF_PRINTED_REFUSED ?
			     "printed form refused" : "printed form differs", why, s);
		free(s);
		lf_rules_free(&r);
		files++;
	}
	closedir(d);
	cr_expect_geq(files, 5, "only %d good rule files in %s", files, dir);
}

/* -------------------------------------------------------- the library */

struct seen {
	bool parse, print, compare;
};

static int note(const char *name, uint64_t value, uint64_t size, void *arg)
{
	struct seen *s = arg;
	s->parse |= strcmp(name, "lf_rules_parse") == 0;
	s->print |= strcmp(name, "lf_rules_print") == 0;
	s->compare |= strcmp(name, "lf_rules_compare") == 0;
	return 0;
}

/* The library never prints rules: the printer is left out of it, and of
 * the command the comparison.  Looked up in the build next to this test
 * ($(B)/tests/unit/ -> $(B)/). */
Test(rule_keys, printer_not_in_the_library)
{
	char self[PATH_MAX], lib[PATH_MAX + 32], cmd[PATH_MAX + 32], err[256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(lib, sizeof(lib), "%s/../../liblazyfault.so", self);
	snprintf(cmd, sizeof(cmd), "%s/../../lazyfault", self);
	if (access(lib, R_OK) != 0)
		cr_skip_test("no library built beside this test (%s): `make test` builds it", lib);
	struct seen s = { 0 };
	bool dynsym;
	cr_assert_eq(lf_elf_functions(lib, note, &s, &dynsym, err, sizeof(err)), 0, "%s", err);
	cr_assert(!dynsym, "%s has no .symtab to look in", lib);
	cr_expect(s.parse, "lf_rules_parse not found in %s: the look-up proves nothing", lib);
	cr_expect(!s.print, "lf_rules_print is linked into %s", lib);
	cr_expect(!s.compare, "lf_rules_compare is linked into %s", lib);
	if (access(cmd, R_OK) != 0)
		return;
	s = (struct seen){ 0 };
	cr_assert_eq(lf_elf_functions(cmd, note, &s, &dynsym, err, sizeof(err)), 0, "%s", err);
	cr_expect(s.print, "the command %s has no printer", cmd);
	cr_expect(!s.compare, "lf_rules_compare is linked into %s", cmd);
}
