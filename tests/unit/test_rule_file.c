/* Unit tests of the rule file as a file (common/rules.c): only UTF-8 text,
 * values that go on on the next line, messages that never carry raw
 * bytes, what is allowed but warned about, and the files it names (a rule
 * file that is a FIFO, `source` resolved beside the rule file and checked
 * before anything runs). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rule_keys.h"
#include "rules_compare.h"
#include "tmpdir.h"

static struct lf_rules R;
static char E[8192];

static void fini(void) { lf_rules_free(&R); }

TestSuite(text, .fini = fini);
TestSuite(lines, .fini = fini);
TestSuite(warnings, .fini = fini);
TestSuite(files, .init = make_dir, .fini = remove_dir);

static int parse(const char *text)
{
	lf_rules_free(&R);
	return lf_rules_parse(text, strlen(text), "t.ini", &R, E, sizeof(E));
}

static void good(const char *text)
{
	cr_assert_eq(parse(text), 0, "rejected:\n%s\n-> %s", text, E);
}

static void bad(const char *text, const char *prefix, const char *word)
{
	cr_assert_eq(parse(text), -1, "accepted:\n%s", text);
	cr_expect(strncmp(E, prefix, strlen(prefix)) == 0, "expected '%s...', got '%s'", prefix, E);
	if (word)
		cr_expect(strstr(E, word) != NULL, "expected '%s' in '%s'", word, E);
}

/* No byte of the message is a control character or outside UTF-8. */
static void printable(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		cr_expect(*c >= 0x20 && *c < 0x7f, "byte 0x%02x in the message '%s'", *c, s);
}

/* ----------------------------------------------------------------- text */

Test(text, rule_name_must_be_utf8)
{
	bad("[caf\xe9]\nmatch = anon\n", "t.ini:1: syntax error:", "byte 0xe9 (column 5) is not UTF-8");
	printable(E);
	good("[caf\xc3\xa9]\nmatch = anon\n");
	cr_expect_str_eq(R.rule[0].name, "caf\xc3\xa9");
}

/* A binary file: the first line with a byte that is not text is refused,
 * and the message shows none of its bytes raw. */
Test(text, binary_file_not_echoed)
{
	static const char elf[] = "\x7f" "ELF\x02\x01\x01\n[a]\nmatch = anon\n";
	bad(elf, "t.ini:1: syntax error:", "control character U+007F (column 1)");
	printable(E);
	bad("[a]\nmatch = anon\ncaller = \x1b]0;owned\x07\n", "t.ini:3: syntax error:",
	    "control character U+001B");
	printable(E);
	/* C1 controls are control characters too (0xC2 0x9B: CSI) */
	bad("[a]\nmatch = anon\npath = /x\xc2\x9b" "2J\n", "t.ini:3:", "U+009B");
	bad("# \xff in a comment\n", "t.ini:1:", "0xff");
	/* tabs and CRLF line ends are text */
	good("[a]\r\nmatch =\tanon\r\n");
}

/* The file name comes from outside (LAZYFAULT_RULES, argv): escaped. */
Test(text, file_name_escaped)
{
	lf_rules_free(&R);
	cr_assert_eq(lf_rules_parse("[a]\nmatch = heap\n", 16, "evil\x1b[2J.ini", &R, E, sizeof(E)), -1);
	cr_expect(strncmp(E, "evil\\x1b[2J.ini:2: key 'match':", 31) == 0, "%s", E);
	printable(E);
}

/* ------------------------------------------------- values on several lines */

Test(lines, pages_list_goes_on_after_a_comma)
{
	good("[p]\nmatch = anon\naction = poison\npages = 1, 2,\n   3-5,\n\t7, last\nmin_size = 1M\n");
	const struct lf_rule *r = &R.rule[0];
	cr_assert_eq(r->npages, 5);
	cr_expect_eq(r->pages[2].first, 3);
	cr_expect_eq(r->pages[2].last, 5);
	cr_expect_eq(r->pages[4].first, LF_PAGE_LAST);
	cr_expect_eq(r->min_size, 1 << 20, "the next key is read as a key again");
	cr_expect_eq(r->key_line[LF_K_PAGES], 4, "the key's line is the first");
	cr_expect_eq(r->key_line[LF_K_MIN_SIZE], 7);
}

Test(lines, any_value_goes_on_after_a_backslash)
{
	good("[f]\nmatch = file\npath = /srv/a/very/long/\\\n    path/*.db ; comment\n");
	cr_expect_str_eq(R.rule[0].path, "/srv/a/very/long/path/*.db");
	/* the backslash goes, the blank before it stays: "1 2-3" */
	bad("[p]\nmatch = anon\naction = poison\npages = 1 \\\n 2-3\n", "t.ini:4: key 'pages':",
	    "'1 2-3' is not a page number");
	/* a comma elsewhere is part of the value */
	good("[f]\nmatch = file\npath = /a,\n[g]\nmatch = anon\n");
	cr_expect_str_eq(R.rule[0].path, "/a,");
}

Test(lines, a_thousand_pages)
{
	char *text = malloc(1 << 16);
	size_t at = (size_t)sprintf(text, "[p]\nmatch = anon\naction = poison\npages = ");
	for (int i = 0; i < 1000; i++)
		at += (size_t)sprintf(text + at, "%d%s", 2 * i, i == 999 ? "\n" : (i % 20 == 19 ? ",\n  " : ", "));
	good(text);
	free(text);
	cr_assert_eq(R.rule[0].npages, 1000);
	cr_expect_eq(R.rule[0].pages[999].first, 1998);
	/* printed back within the line limit, and parsed back the same */
	char *printed = NULL, why[256];
	cr_expect_eq(lf_rules_round_trip(&R, &printed, why, sizeof(why)), 0, "%s", why);
	for (char *l = printed; l && *l;) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		cr_expect_leq(n, 198, "printed line of %zu characters", n);
		l = nl ? nl + 1 : l + n;
	}
	free(printed);
}

Test(lines, long_string_printed_on_several_lines)
{
	char text[1024], path[700];
	memset(path, 'a', sizeof(path));
	for (size_t i = 0; i < sizeof(path) - 1; i += 50)
		path[i] = '/';
	path[101] = ' ';
	path[102] = ' ';
	path[sizeof(path) - 1] = '\0';
	int n = snprintf(text, sizeof(text), "[f]\nmatch = file\npath = ");
	for (size_t i = 0; i < strlen(path); i += 150)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%.150s%s", path + i,
			      i + 150 < strlen(path) ? "\\\n" : "\n");
	good(text);
	cr_assert_str_eq(R.rule[0].path, path);
	char *printed = NULL, why[256];
	cr_expect_eq(lf_rules_round_trip(&R, &printed, why, sizeof(why)), 0, "%s\n%s", why, printed);
	free(printed);
}

Test(lines, a_value_that_goes_on_needs_a_line)
{
	bad("[p]\nmatch = anon\naction = poison\npages = 1,\n\npages = 2\n", "t.ini:5: syntax error:",
	    "the value of key 'pages' (line 4) goes on here");
	cr_expect(strstr(E, "empty"), "%s", E);
	bad("[p]\nmatch = anon\naction = poison\npages = 1,\n# two\n", "t.ini:5: syntax error:",
	    "a comment");
	bad("[p]\nmatch = anon\naction = poison\npages = 1,", "t.ini:4: key 'pages':",
	    "the file ends");
	bad("[f]\nmatch = file\npath = /x\\\n", "t.ini:3: key 'path':", "the file ends");
	/* what follows is the value's, even a key or a section */
	bad("[p]\nmatch = anon\naction = poison\npages = 1,\nmin_size = 1M\n", "t.ini:4: key 'pages':",
	    "'min_size = 1M' is not a page number");
	/* the limit of a line holds for each line */
	char t[600];
	snprintf(t, sizeof(t), "[f]\nmatch = file\npath = /x\\\n/%0197d\n", 0);
	bad(t, "t.ini:4: syntax error:", "line longer than 197 characters");
}

/* ------------------------------------------------------------- warnings */

static void warns(const char *text, const char *line_key, const char *word)
{
	good(text);
	bool found = false;
	for (size_t i = 0; i < R.nwarnings; i++)
		found |= strncmp(R.warning[i], line_key, strlen(line_key)) == 0 &&
			 strstr(R.warning[i], word) != NULL;
	cr_expect(found, "no warning '%s...%s' for:\n%s(%zu warnings%s%s)", line_key, word, text,
		  R.nwarnings, R.nwarnings ? ", first: " : "", R.nwarnings ? R.warning[0] : "");
}

#define POISON "[p]\nmatch = anon\naction = poison\n"

Test(warnings, rules_that_never_fire)
{
	warns(POISON "probability = 0\n", "t.ini:4: key 'probability':",
	      "rule 'p' never poisons a page (probability = 0)");
	/* what lazyfault sweep writes for the rules it neutralises: allowed */
	warns(POISON "times = 0\n", "t.ini:4: key 'times':", "never poisons a page (times = 0)");
	warns(POISON "pages = 3\ntimes = 0\n", "t.ini:5: key 'times':", "no effect");
	warns("[a]\nmatch = anon\n\n[b]\nmatch = anon\nmin_size = 1M\n", "t.ini:4: rule 'b':",
	      "never takes a region: rule 'a' (line 1) comes first");
	warns("[a]\nmatch = malloc\ncaller = f*\n[b]\nmatch = malloc\ncaller = f*\ncaller_depth = 4\n",
	      "t.ini:4: rule 'b':", "never takes a region");
}

/* The same for fail rules, and for `regions` and `program`: a fail rule
 * that never fails, and a rule hidden by an earlier one only when that one
 * lets nothing through (no `regions`, no other `program`, a fail rule
 * without probability or times). */
Test(warnings, fail_rules_and_selection)
{
	warns("[f]\nmatch = malloc\naction = fail\ntimes = 0\n", "t.ini:4: key 'times':",
	      "rule 'f' never fails an allocation (times = 0)");
	warns("[f]\nmatch = anon\naction = fail\nprobability = 0\n", "t.ini:4: key 'probability':",
	      "never fails an allocation");
	warns("[f]\nmatch = malloc\naction = fail\nprobability = 1\nseed = 3\n", "t.ini:5: key 'seed':",
	      "no effect: probability = 1 draws nothing");
	warns("[a]\nmatch = malloc\naction = fail\n[b]\nmatch = malloc\n", "t.ini:4: rule 'b':",
	      "never takes a region");
	warns("[a]\nmatch = anon\nprogram = */x\n[b]\nmatch = anon\nprogram = */x\n",
	      "t.ini:4: rule 'b':", "never takes a region");
	/* (and none_for_rules_that_work: an earlier rule that lets some
	 * through hides nothing) */
}

/* Only a rule that draws has a seed that matters: a poison or a fail rule
 * with a probability strictly between 0 and 1. */
Test(warnings, which_rules_draw)
{
	static const struct { const char *text; bool draws; } cases[] = {
		{ POISON "probability = 0.5\n", true },
		{ "[f]\nmatch = malloc\naction = fail\nprobability = 0.5\n", true },
		{ "[f]\nmatch = malloc\naction = fail\ntimes = 3\n", false },
		{ POISON "probability = 1\n", false },
		{ POISON, false },
		{ "[z]\nmatch = anon\n", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		good(cases[i].text);
		cr_expect_eq(lf_rule_draws(&R.rule[0]), cases[i].draws, "%s", cases[i].text);
	}
}

Test(warnings, keys_without_effect)
{
	warns(POISON "probability = 1\nseed = 7\n", "t.ini:5: key 'seed':",
	      "no effect: probability = 1 draws nothing");
	warns(POISON "pages = all\nfill = zero\n", "t.ini:5: key 'fill':", "no effect");
}

Test(warnings, none_for_rules_that_work)
{
	static const char *const ok[] = {
		POISON "probability = 0.5\nseed = 7\n",
		POISON "pages = 3\n",
		"[a]\nmatch = anon\nmax_size = 1M\n[b]\nmatch = anon\nmin_size = 1M\n",
		"[a]\nmatch = anon\ncaller = f\n[b]\nmatch = anon\n",
		"[a]\nmatch = file\npath = /x/*\n[b]\nmatch = file\n",
		"[a]\nmatch = anon\n[b]\nmatch = malloc\n",
		"[a]\nmatch = anon\nregions = 1\n[b]\nmatch = anon\n",
		"[a]\nmatch = anon\nprogram = */x\n[b]\nmatch = anon\n",
		"[a]\nmatch = malloc\naction = fail\ntimes = 2\n[b]\nmatch = malloc\n",
		"[a]\nmatch = malloc\naction = fail\nprobability = 0.5\n[b]\nmatch = malloc\n",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		good(ok[i]);
		cr_expect_eq(R.nwarnings, 0, "warned for:\n%s: %s", ok[i],
			     R.nwarnings ? R.warning[0] : "");
	}
}

/* A rule with file_pages takes mappings of any size (its min_size is 0),
 * and the reads of its file go to it whatever rule takes the mappings. */
#define BAD_DISK "[d]\nmatch = file\npath = /x/*\naction = poison\n"

Test(warnings, file_pages_rules)
{
	static const char *const ok[] = {
		BAD_DISK "file_pages = 1\nio_error = yes\n",
		BAD_DISK "file_pages = all\nprobability = 0.5\nseed = 3\n",
		/* the 64K of the first leaves it the small mappings */
		"[a]\nmatch = file\n" BAD_DISK "file_pages = 1\n",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		good(ok[i]);
		cr_expect_eq(R.nwarnings, 0, "warned for:\n%s: %s", ok[i],
			     R.nwarnings ? R.warning[0] : "");
	}
	warns(BAD_DISK "file_pages = 1\n[b]\nmatch = file\npath = /x/*\nmin_size = 4K\n",
	      "t.ini:6: rule 'b':", "never takes a region: rule 'd' (line 1) comes first");
	warns("[a]\nmatch = file\nmin_size = 0\n" BAD_DISK "file_pages = 1\nio_error = yes\n",
	      "t.ini:4: rule 'd':", "never takes a mapping: rule 'a' (line 1) comes first and "
	      "takes every one this one would; only reads fail at its bad pages");
	warns(BAD_DISK "file_pages = 1\n" "[e]\nmatch = file\npath = /x/*\naction = poison\n"
	      "file_pages = 2\nio_error = yes\n", "t.ini:6: rule 'e':", "never takes a region");
	warns(BAD_DISK "file_pages = 1\nprobability = 0\n", "t.ini:6: key 'probability':",
	      "rule 'd' never poisons a page");
}

/* ---------------------------------------------------------------- files */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* A FIFO as the rule file is refused at once (inside a program's
 * constructor, waiting for a writer would hang it). */
Test(files, fifo_rule_file_refused_at_once, .timeout = 10)
{
	char fifo[128];
	struct lf_rules r;
	snprintf(fifo, sizeof(fifo), "%s/rules.ini", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(lf_rules_load(fifo, &r, E, sizeof(E)), -1);
	cr_expect(strstr(E, "rules.ini: cannot open: a FIFO, not a regular file"), "%s", E);
}

/* `source` is found beside the rule file, wherever the program runs. */
Test(files, relative_source_beside_the_rule_file)
{
	char sub[256], rules[300], data[300], want[300], cwd[4096];
	struct lf_rules r;
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	snprintf(rules, sizeof(rules), "%s/r.ini", sub);
	snprintf(data, sizeof(data), "%s/data.bin", sub);
	write_text(data, "bytes");
	write_text(rules, "[a]\nmatch = anon\naction = load\nsource = data.bin\n"
			  "[b]\nmatch = malloc\naction = load\nsource = /dev/null\n");
	cr_assert_eq(lf_rules_load(rules, &r, E, sizeof(E)), 0, "%s", E);
	snprintf(want, sizeof(want), "%s/data.bin", sub);
	cr_expect_str_eq(r.rule[0].source, want);
	cr_expect_str_eq(r.rule[1].source, "/dev/null", "an absolute one stays");
	lf_rules_free(&r);
	/* a source a -D gives: beside the rule file too, as if written there */
	const char *text[] = { "b.source=data.bin" };
	struct lf_defines d = { .label = "-D", .text = text, .n = 1 };
	cr_assert_eq(lf_rules_load_defs(rules, &d, &r, E, sizeof(E)), 0, "%s", E);
	cr_expect_str_eq(r.rule[1].source, want);
	lf_rules_free(&r);
	/* a relative rule file: relative to the current directory, made absolute */
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(lf_rules_load("sub/r.ini", &r, E, sizeof(E)), 0, "%s", E);
	cr_expect_str_eq(r.rule[0].source, want);
	cr_expect_eq(lf_rules_check_sources(&r, E, sizeof(E)), -1, "/dev/null is no source");
	cr_expect(strstr(E, "r.ini:8: key 'source': rule 'b': cannot use /dev/null: a character "
			    "device, not a regular file nor a block device"), "%s", E);
	lf_rules_free(&r);
	cr_assert_eq(chdir(cwd), 0);
}

/* Missing, a directory, a FIFO, a device, a file of /proc: each refused,
 * naming the file, the line and the rule; never waited for. */
Test(files, sources_checked, .timeout = 10)
{
	char rules[300], fifo[300];
	struct lf_rules r;
	snprintf(rules, sizeof(rules), "%s/r.ini", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	static const struct { const char *source, *why; } cases[] = {
		{ "no-such.bin", "No such file or directory" },
		{ ".", "a directory" },
		{ "fifo", "a FIFO" },
		{ "/dev/urandom", "a character device" },
		{ "/proc/self/maps", "/proc or /sys" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], want[512];
		snprintf(text, sizeof(text), "[global]\nlog = off\n\n[r%zu]\nmatch = malloc\n"
			 "action = load\nsource = %s\n", i, cases[i].source);
		write_text(rules, text);
		cr_assert_eq(lf_rules_load(rules, &r, E, sizeof(E)), 0, "%s", E);
		cr_expect_eq(lf_rules_check_sources(&r, E, sizeof(E)), -1, "%s accepted", cases[i].source);
		snprintf(want, sizeof(want), "%s:7: key 'source': rule 'r%zu': cannot use ", rules, i);
		cr_expect(strncmp(E, want, strlen(want)) == 0, "expected '%s...' got '%s'", want, E);
		cr_expect(strstr(E, cases[i].why), "expected '%s' in '%s'", cases[i].why, E);
		lf_rules_free(&r);
	}
}
