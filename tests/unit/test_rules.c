/* Unit tests of the rule file parser (common/rules.c): every default, every
 * accepted syntax, every rejection with the line and key its message names.
 * The value parsers alone: test_values.c; the key table: test_rule_keys.c. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"
#include "rules_compare.h"

static struct lf_rules R;
static char E[512];

/* R holds the last result (or zeros): free it before parsing again. */
static int parse(const char *text)
{
	lf_rules_free(&R);
	return lf_rules_parse(text, strlen(text), "t.ini", &R, E, sizeof(E));
}

/* Parse text that must be valid; fail the test with the message if not. */
static void good(const char *text)
{
	int rc = parse(text);
	cr_assert_eq(rc, 0, "rejected:\n%s\n-> %s", text, E);
}

/* The text must be rejected with a message starting with `prefix` (file,
 * line, key or rule) and containing `word` when not NULL; *out left empty. */
static void bad(const char *text, const char *prefix, const char *word)
{
	lf_rules_free(&R);
	memset(&R, 0x5a, sizeof(R)); /* garbage in: the parser must not read it */
	int rc = lf_rules_parse(text, strlen(text), "t.ini", &R, E, sizeof(E));
	cr_assert_eq(rc, -1, "accepted:\n%s", text);
	cr_expect(strncmp(E, prefix, strlen(prefix)) == 0,
		  "for:\n%s\nexpected a message starting '%s', got '%s'", text, prefix, E);
	if (word)
		cr_expect(strstr(E, word) != NULL, "for:\n%s\nexpected '%s' in '%s'", text, word, E);
	cr_expect(R.rule == NULL && R.nrules == 0 && R.file == NULL && R.log == NULL && R.stats == NULL,
		  "*out not left empty for:\n%s", text);
}

static void fini(void)
{
	lf_rules_free(&R);
}

TestSuite(rules, .fini = fini);

/* ------------------------------------------------------------- defaults */

Test(rules, global_defaults)
{
	good("");
	cr_assert_str_eq(R.file, "t.ini");
	cr_assert_str_eq(R.log, "stderr");
	cr_assert_eq(R.log_level, LF_LEVEL_WARN);
	cr_assert_null(R.stats);
	cr_assert_eq(R.on_error, LF_ON_ERROR_PASSTHROUGH);
	cr_assert_eq(R.workers, 1);
	cr_assert_eq(R.nrules, 0);
}

Test(rules, only_comments_and_empty_global)
{
	good("# a comment\n; another\n\n[global]\n");
	cr_assert_eq(R.nrules, 0);
	cr_assert_eq(R.workers, 1);
}

static void common_defaults(const struct lf_rule *r)
{
	cr_assert_eq(r->max_size, LF_NO_MAX);
	cr_assert_null(r->path);
	cr_assert_null(r->caller);
	cr_assert_eq(r->caller_depth, 8);
	cr_assert_null(r->source);
	cr_assert_eq(r->source_offset, 0);
	cr_assert_eq(r->readahead, 65536);
	cr_assert_null(r->pages);
	cr_assert_eq(r->npages, 0);
	cr_assert_eq(r->pages_all, false);
	cr_assert_eq(r->probability, 1.0);
	cr_assert_eq(r->after, 0);
	cr_assert_eq(r->every, 1);
	cr_assert_eq(r->times, LF_TIMES_UNLIMITED);
	cr_assert_eq(r->times, -1);
	cr_assert_eq(r->delay_ns, 0);
}

Test(rules, anon_defaults)
{
	good("[global]\n\n[big]\nmatch = anon\n");
	cr_assert_eq(R.nrules, 1);
	const struct lf_rule *r = &R.rule[0];
	cr_assert_str_eq(r->name, "big");
	cr_assert_eq(r->line, 3);
	cr_assert_eq(r->given, LF_KEY_MATCH);
	cr_assert_eq(r->match, LF_MATCH_ANON);
	cr_assert_eq(r->min_size, 64 * 1024);
	cr_assert_eq(r->action, LF_ACTION_ZERO);
	cr_assert_eq(r->fill, LF_FILL_ZERO);
	common_defaults(r);
}

Test(rules, malloc_defaults)
{
	good("[m]\nmatch = malloc\n");
	const struct lf_rule *r = &R.rule[0];
	cr_assert_eq(r->match, LF_MATCH_MALLOC);
	cr_assert_eq(r->min_size, 128 * 1024);
	cr_assert_eq(r->action, LF_ACTION_ZERO);
	cr_assert_eq(r->fill, LF_FILL_ZERO);
	common_defaults(r);
}

Test(rules, malloc_min_size_given_is_kept)
{
	good("[m]\nmatch = malloc\nmin_size = 4K\n");
	cr_assert_eq(R.rule[0].min_size, 4096);
	cr_assert_eq(R.rule[0].given, LF_KEY_MATCH | LF_KEY_MIN_SIZE);
}

Test(rules, file_defaults)
{
	good("[f]\nmatch = file\n");
	const struct lf_rule *r = &R.rule[0];
	cr_assert_eq(r->match, LF_MATCH_FILE);
	cr_assert_eq(r->min_size, 64 * 1024);
	cr_assert_eq(r->action, LF_ACTION_LOAD);
	cr_assert_eq(r->fill, LF_FILL_LOAD);
	common_defaults(r);
}

Test(rules, poison_defaults)
{
	good("[p]\nmatch = anon\naction = poison\n[q]\nmatch = file\naction = poison\n");
	cr_assert_eq(R.rule[0].action, LF_ACTION_POISON);
	cr_assert_eq(R.rule[0].fill, LF_FILL_ZERO);
	cr_assert_eq(R.rule[1].fill, LF_FILL_LOAD);
	cr_assert_eq(R.rule[0].given, LF_KEY_MATCH | LF_KEY_ACTION);
	common_defaults(&R.rule[0]);
	common_defaults(&R.rule[1]);
}

Test(rules, rules_keep_file_order)
{
	good("[c]\nmatch=anon\n[a]\nmatch=file\n[b]\nmatch=malloc\n");
	cr_assert_eq(R.nrules, 3);
	cr_assert_str_eq(R.rule[0].name, "c");
	cr_assert_str_eq(R.rule[1].name, "a");
	cr_assert_str_eq(R.rule[2].name, "b");
	cr_assert_eq(R.rule[2].line, 5);
}

/* --------------------------------------------------------------- global */

Test(rules, global_keys)
{
	good("[global]\nlog = /tmp/lf.%p.log\nlog_level = debug\nstats = /tmp/s.%p.json\n"
	     "on_error = abort\nworkers = 64\n");
	cr_assert_str_eq(R.log, "/tmp/lf.%p.log");
	cr_assert_eq(R.log_level, LF_LEVEL_DEBUG);
	cr_assert_str_eq(R.stats, "/tmp/s.%p.json");
	cr_assert_eq(R.on_error, LF_ON_ERROR_ABORT);
	cr_assert_eq(R.workers, 64);
}

Test(rules, global_enum_values)
{
	static const struct { const char *v; enum lf_level l; } lv[] = {
		{ "error", LF_LEVEL_ERROR }, { "warn", LF_LEVEL_WARN },
		{ "info", LF_LEVEL_INFO }, { "debug", LF_LEVEL_DEBUG },
	};
	char t[128];
	for (size_t i = 0; i < 4; i++) {
		snprintf(t, sizeof(t), "[global]\nlog_level = %s\n", lv[i].v);
		good(t);
		cr_expect_eq(R.log_level, lv[i].l, "%s", lv[i].v);
		lf_rules_free(&R);
	}
	good("[global]\non_error = passthrough\nlog = off\n");
	cr_assert_eq(R.on_error, LF_ON_ERROR_PASSTHROUGH);
	cr_assert_str_eq(R.log, "off");
	lf_rules_free(&R);
	good("[global]\nlog = stderr\nworkers = 1\n");
	cr_assert_str_eq(R.log, "stderr");
}

Test(rules, stats_empty_means_none)
{
	good("[global]\nstats =\n");
	cr_assert(R.stats == NULL || R.stats[0] == '\0');
}

/* ---------------------------------------------------------------- sizes */

Test(rules, sizes_accepted)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "64K", 65536 }, { "64k", 65536 },
		{ "1M", 1048576 }, { "1m", 1048576 }, { "2G", 2147483648ull }, { "3 K", 3072 },
		{ "007", 7 }, { "18446744073709551615", UINT64_MAX },
		{ "17179869183G", 17179869183ull << 30 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 12345;
		cr_expect_eq(lf_parse_size(ok[i].s, &v), 0, "'%s' rejected", ok[i].s);
		cr_expect_eq(v, ok[i].v, "'%s' gave %llu", ok[i].s, (unsigned long long)v);
	}
	good("[a]\nmatch = anon\nmin_size = 1M\nmax_size = 2G\n");
	cr_assert_eq(R.rule[0].min_size, 1 << 20);
	cr_assert_eq(R.rule[0].max_size, 2ull << 30);
	cr_assert_eq(R.rule[0].given, LF_KEY_MATCH | LF_KEY_MIN_SIZE | LF_KEY_MAX_SIZE);
	lf_rules_free(&R);
	good("[a]\nmatch = anon\nmin_size = 1M\nmax_size = 1M\n"); /* equal is fine */
	lf_rules_free(&R);
	good("[a]\nmatch = anon\nreadahead = 1M\n");
	cr_assert_eq(R.rule[0].readahead, 1 << 20);
	lf_rules_free(&R);
	good("[a]\nmatch = anon\naction = load\nsource = /data/x\nsource_offset = 4K\n");
	cr_assert_str_eq(R.rule[0].source, "/data/x");
	cr_assert_eq(R.rule[0].source_offset, 4096);
}

Test(rules, sizes_rejected)
{
	static const char *const no[] = {
		"", "-1", "+1", " 1", "K", "1T", "1KB", "1.5K", "0x10", "1e3", "12X", "1 2", "1KK",
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		uint64_t v = 77;
		cr_expect_eq(lf_parse_size(no[i], &v), -1, "'%s' accepted", no[i]);
		cr_expect_eq(v, 77, "'%s' changed the output", no[i]);
	}
	/* A number that is one, but larger than 2^64 - 1 bytes. */
	static const char *const large[] = {
		"18446744073709551616", "17179869184G", "99999999999999999999999", "99999999999G",
	};
	for (size_t i = 0; i < sizeof(large) / sizeof(large[0]); i++) {
		uint64_t v = 77;
		cr_expect_eq(lf_parse_size(large[i], &v), LF_TOO_LARGE, "'%s' accepted", large[i]);
		cr_expect_eq(v, 77, "'%s' changed the output", large[i]);
	}
	cr_expect_eq(lf_parse_size(NULL, &(uint64_t){ 0 }), -1);
}

Test(rules, bad_size_names_line_and_key)
{
	bad("[a]\nmatch = anon\nmin_size = 12X\n", "t.ini:3: key 'min_size':", "12X");
	bad("[a]\nmatch = anon\nmax_size = -5\n", "t.ini:3: key 'max_size':", "bad size");
	bad("[a]\nmatch = anon\nreadahead = 1T\n", "t.ini:3: key 'readahead':", "bad size");
	bad("[a]\nmatch = anon\n\nmin_size = 99999999999G\n", "t.ini:4: key 'min_size':",
	    "'99999999999G' is too large (at most 18446744073709551615 bytes)");
	/* The library serves at most 4M per fault: a larger readahead would be
	 * printed as something it does not do. */
	bad("[a]\nmatch = anon\nreadahead = 100M\n", "t.ini:3: key 'readahead':",
	    "'100M' is too large (at most 4M)");
	good("[a]\nmatch = anon\nreadahead = 4M\n");
	bad("[a]\nmatch = anon\nreadahead = 0\n", "t.ini:3: key 'readahead':", NULL);
	bad("[a]\nmatch = anon\naction = load\nsource = /x\nsource_offset = x\n",
	    "t.ini:5: key 'source_offset':", "bad size");
	bad("[a]\nmatch = anon\nmin_size =\n", "t.ini:3: key 'min_size':", "empty");
}

/* ------------------------------------------------------------ durations */

Test(rules, durations)
{
	static const struct { const char *s; uint64_t ns; } ok[] = {
		{ "0", 0 }, { "0s", 0 }, { "10ns", 10 }, { "5us", 5000 }, { "3ms", 3000000 },
		{ "1s", 1000000000 }, { "2 ms", 2000000 }, { "18446744073s", 18446744073000000000ull },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1;
		cr_expect_eq(lf_parse_duration(ok[i].s, &v), 0, "'%s' rejected", ok[i].s);
		cr_expect_eq(v, ok[i].ns, "'%s'", ok[i].s);
	}
	static const char *const no[] = {
		"", "5", "3 parsecs", "-1ms", "1h", "ms", "1.5ms", "1MS", "1 s s",
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect_eq(lf_parse_duration(no[i], &(uint64_t){ 0 }), -1, "'%s' accepted", no[i]);
	cr_expect_eq(lf_parse_duration("18446744074s", &(uint64_t){ 0 }), LF_TOO_LARGE);
	cr_expect_eq(lf_parse_duration("99999999999999999999ns", &(uint64_t){ 0 }), LF_TOO_LARGE);

	good("[a]\nmatch = anon\ndelay = 3ms\n");
	cr_assert_eq(R.rule[0].delay_ns, 3000000);
	cr_assert(R.rule[0].given & LF_KEY_DELAY);
}

Test(rules, bad_duration_names_line_and_key)
{
	bad("[a]\nmatch = anon\ndelay = 3 parsecs\n", "t.ini:3: key 'delay':", "3 parsecs");
	bad("[a]\nmatch = anon\ndelay = 5\n", "t.ini:3: key 'delay':", "bad duration");
}

/* -------------------------------------------------------------- handoff */

Test(rules, handoff_default_and_values)
{
	good("[f]\nmatch = file\n");
	cr_expect(R.rule[0].handoff, "a plain file load hands long streams off by default");
	good("[f]\nmatch = file\nhandoff = no\n");
	cr_expect(!R.rule[0].handoff);
	good("[f]\nmatch = file\ndelay = 1ms\n");
	cr_expect(!R.rule[0].handoff, "a delayed rule serves every fault itself");
	good("[f]\nmatch = file\naction = poison\n");
	cr_expect(!R.rule[0].handoff, "a poison rule decides every page");
	good("[a]\nmatch = anon\nsource = /x\naction = load\n");
	cr_expect(!R.rule[0].handoff, "memory loaded from a source is anonymous memory");
}

Test(rules, handoff_refused_where_it_cannot_apply)
{
	bad("[f]\nmatch = file\nhandoff = maybe\n", "t.ini:3: key 'handoff':", "maybe");
	bad("[a]\nmatch = anon\nhandoff = yes\n", "t.ini:3: key 'handoff':", "match = file");
	bad("[f]\nmatch = file\naction = poison\nhandoff = no\n", "t.ini:4: key 'handoff':",
	    "action = load");
	bad("[f]\nmatch = file\nhandoff = yes\ndelay = 2ms\n", "t.ini:3: key 'handoff':", "delay");
}

/* ------------------------------------------------------------- booleans */

Test(rules, booleans)
{
	static const struct { const char *s; bool v; } ok[] = {
		{ "yes", true }, { "no", false }, { "true", true }, { "false", false },
		{ "1", true }, { "0", false }, { "YES", true }, { "False", false },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		bool v = !ok[i].v;
		cr_expect_eq(lf_parse_bool(ok[i].s, &v), 0, "'%s' rejected", ok[i].s);
		cr_expect_eq(v, ok[i].v, "'%s'", ok[i].s);
	}
	static const char *const no[] = { "", "y", "n", "2", "on", "yes please", " yes" };
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect_eq(lf_parse_bool(no[i], &(bool){ 0 }), -1, "'%s' accepted", no[i]);
}

/* ---------------------------------------------------------------- enums */

Test(rules, enum_values)
{
	good("[a]\nmatch = anon\naction = zero\n"
	     "[b]\nmatch = anon\naction = load\nsource = /s\n"
	     "[c]\nmatch = malloc\naction = poison\nfill = load\nsource = /s\n"
	     "[d]\nmatch = anon\naction = poison\nfill = zero\n"
	     "[e]\nmatch = file\naction = load\n"
	     "[f]\nmatch = malloc\naction = zero\n");
	cr_assert_eq(R.nrules, 6);
	cr_assert_eq(R.rule[0].action, LF_ACTION_ZERO);
	cr_assert_eq(R.rule[1].action, LF_ACTION_LOAD);
	cr_assert_eq(R.rule[2].match, LF_MATCH_MALLOC);
	cr_assert_eq(R.rule[2].fill, LF_FILL_LOAD);
	cr_assert_str_eq(R.rule[2].source, "/s");
	cr_assert_eq(R.rule[3].fill, LF_FILL_ZERO);
	cr_assert_eq(R.rule[4].action, LF_ACTION_LOAD);
	cr_assert_eq(R.rule[5].action, LF_ACTION_ZERO);
	cr_assert_str_eq(lf_match_name(LF_MATCH_ANON), "anon");
	cr_assert_str_eq(lf_match_name(LF_MATCH_FILE), "file");
	cr_assert_str_eq(lf_match_name(LF_MATCH_MALLOC), "malloc");
	cr_assert_str_eq(lf_action_name(LF_ACTION_ZERO), "zero");
	cr_assert_str_eq(lf_action_name(LF_ACTION_LOAD), "load");
	cr_assert_str_eq(lf_action_name(LF_ACTION_POISON), "poison");
}

/* A file region always reads the file's bytes where it is not poisoned (the
 * library maps it so): zeros asked for there would be a promise not kept. */
Test(rules, zeros_refused_on_file_rules)
{
	bad("[f]\nmatch = file\naction = zero\n", "t.ini:3: key 'action':", "match = anon or malloc");
	bad("[f]\naction = zero\nmatch = file\n", "t.ini:2: key 'action':", "file's bytes");
	bad("[f]\nmatch = file\naction = poison\nfill = zero\n", "t.ini:4: key 'fill':",
	    "match = anon or malloc");
	/* what they do mean on a file rule is accepted */
	good("[f]\nmatch = file\naction = poison\nfill = load\n");
	cr_assert_eq(R.rule[0].fill, LF_FILL_LOAD);
	good("[f]\nmatch = file\naction = load\n");
}

/* Keys whose value nothing would read, given the rest of the rule. */
Test(rules, keys_that_would_be_ignored_are_refused)
{
	bad("[a]\nmatch = anon\ncaller_depth = 3\n", "t.ini:3: key 'caller_depth':", "'caller'");
	bad("[a]\nmatch = anon\naction = poison\nseed = 3\n", "t.ini:4: key 'seed':", "'probability'");
	bad("[a]\nmatch = anon\naction = poison\nafter = 3\nseed = 3\n", "t.ini:5: key 'seed':",
	    "'probability'");
	static const char *const triggers[] = { "probability = 0.5", "after = 1", "every = 2", "times = 1" };
	for (size_t i = 0; i < 4; i++) {
		char t[128], prefix[64];
		snprintf(t, sizeof(t), "[a]\nmatch = anon\naction = poison\n%s\npages = all\n", triggers[i]);
		snprintf(prefix, sizeof(prefix), "t.ini:4: key '%.*s':", (int)strcspn(triggers[i], " "),
			 triggers[i]);
		bad(t, prefix, "pages = all");
	}
	/* the same keys where they are used */
	good("[a]\nmatch = anon\ncaller = f\ncaller_depth = 3\n");
	good("[a]\nmatch = anon\naction = poison\nprobability = 0.5\nseed = 3\n");
	good("[a]\nmatch = anon\naction = poison\npages = 1\nafter = 3\n");
}

Test(rules, unknown_match)
{
	bad("[a]\nmatch = heap\n", "t.ini:2: key 'match':", "heap");
	bad("[a]\nmatch = ANON\n", "t.ini:2: key 'match':", "anon, file or malloc");
}

Test(rules, bad_enum_values)
{
	bad("[a]\nmatch = anon\naction = zap\n", "t.ini:3: key 'action':", "zero, load or poison");
	bad("[a]\nmatch = anon\naction = poison\nfill = poison\n", "t.ini:4: key 'fill':", "zero or load");
	bad("[global]\nlog_level = verbose\n", "t.ini:2: key 'log_level':", "error, warn, info or debug");
	bad("[global]\non_error = ignore\n", "t.ini:2: key 'on_error':", "passthrough or abort");
	bad("[global]\nlog =\n", "t.ini:2: key 'log':", NULL);
	bad("[a]\nmatch =\n", "t.ini:2: key 'match':", "empty");
}

/* ------------------------------------------------------- number keys */

Test(rules, workers_and_caller_depth_range)
{
	good("[global]\nworkers = 1\n");
	lf_rules_free(&R);
	good("[a]\nmatch = anon\ncaller = read_*\ncaller_depth = 64\n");
	cr_assert_str_eq(R.rule[0].caller, "read_*");
	cr_assert_eq(R.rule[0].caller_depth, 64);
	lf_rules_free(&R);
	good("[a]\nmatch = anon\ncaller = f\ncaller_depth = 1\n");
	cr_assert_eq(R.rule[0].caller_depth, 1);
	bad("[global]\nworkers = 0\n", "t.ini:2: key 'workers':", "out of range");
	bad("[global]\nworkers = 65\n", "t.ini:2: key 'workers':", "out of range");
	bad("[global]\nworkers = -1\n", "t.ini:2: key 'workers':", NULL);
	bad("[global]\nworkers = two\n", "t.ini:2: key 'workers':", NULL);
	bad("[a]\nmatch = anon\ncaller_depth = 0\n", "t.ini:3: key 'caller_depth':", "out of range");
	bad("[a]\nmatch = anon\ncaller_depth = 65\n", "t.ini:3: key 'caller_depth':", "out of range");
}

static const char POISON[] = "[p]\nmatch = anon\naction = poison\n"; /* 3 lines */

static void poison_good(const char *key, const char *value)
{
	char t[256];
	snprintf(t, sizeof(t), "%s%s = %s\n", POISON, key, value);
	lf_rules_free(&R);
	good(t);
}

static void poison_bad(const char *key, const char *value, const char *word)
{
	char t[256], prefix[64];
	snprintf(t, sizeof(t), "%s%s = %s\n", POISON, key, value);
	snprintf(prefix, sizeof(prefix), "t.ini:4: key '%s':", key);
	bad(t, prefix, word);
}

Test(rules, probability)
{
	static const struct { const char *s; double v; } ok[] = {
		{ "0", 0 }, { "1", 1 }, { "0.5", 0.5 }, { ".25", 0.25 }, { "1e-3", 0.001 },
		{ "1.0", 1 }, { "0.000", 0 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		poison_good("probability", ok[i].s);
		cr_expect_eq(R.rule[0].probability, ok[i].v, "'%s'", ok[i].s);
		cr_expect(R.rule[0].given & LF_KEY_PROBABILITY);
	}
}

Test(rules, probability_rejected)
{
	poison_bad("probability", "-1", "out of range");
	poison_bad("probability", "1.5", "out of range");
	poison_bad("probability", "1.0000001", "out of range");
	poison_bad("probability", "nan", NULL);
	poison_bad("probability", "inf", NULL);
	poison_bad("probability", "0x1p-1", NULL);
	poison_bad("probability", "half", NULL);
	poison_bad("probability", "50%", NULL);
	poison_bad("probability", "0.5.5", NULL);
}

Test(rules, after_every_times_seed)
{
	poison_good("after", "0");
	cr_assert_eq(R.rule[0].after, 0);
	poison_good("after", "10");
	cr_assert_eq(R.rule[0].after, 10);
	poison_good("every", "1");
	cr_assert_eq(R.rule[0].every, 1);
	poison_good("every", "3");
	cr_assert_eq(R.rule[0].every, 3);
	poison_good("times", "-1");
	cr_assert_eq(R.rule[0].times, -1);
	cr_assert(R.rule[0].given & LF_KEY_TIMES);
	poison_good("times", "0");
	cr_assert_eq(R.rule[0].times, 0);
	poison_good("times", "4");
	cr_assert_eq(R.rule[0].times, 4);
	poison_good("times", "9223372036854775807");
	cr_assert_eq(R.rule[0].times, INT64_MAX);
	/* a seed is for the draws of probability */
	good("[p]\nmatch = anon\naction = poison\nprobability = 0.5\nseed = 0\n");
	cr_assert_eq(R.rule[0].seed, 0);
	cr_assert(R.rule[0].given & LF_KEY_SEED);
	/* below 2^53, so that the seed read back from the statistics by a
	 * tool that reads numbers as doubles is still the seed */
	good("[p]\nmatch = anon\naction = poison\nprobability = 0.5\nseed = 9007199254740991\n");
	cr_assert_eq(R.rule[0].seed, LF_SEED_MAX);
	bad("[p]\nmatch = anon\naction = poison\nprobability = 0.5\nseed = 9007199254740992\n",
	    "t.ini:5: key 'seed':", "out of range (0 to 9007199254740991)");
}

Test(rules, after_every_times_seed_rejected)
{
	poison_bad("every", "0", "out of range");
	poison_bad("every", "-1", NULL);
	poison_bad("every", "x", NULL);
	poison_bad("after", "-1", NULL);
	poison_bad("after", "1.5", NULL);
	poison_bad("times", "-2", NULL);
	poison_bad("times", "9223372036854775808", NULL);
	poison_bad("times", "many", NULL);
	poison_bad("seed", "-1", NULL);
	poison_bad("seed", "18446744073709551616", NULL);
	poison_bad("seed", "0x10", NULL);
}

/* ---------------------------------------------------------------- pages */

Test(rules, pages_lists)
{
	poison_good("pages", "3");
	cr_assert_eq(R.rule[0].npages, 1);
	cr_assert_eq(R.rule[0].pages[0].first, 3);
	cr_assert_eq(R.rule[0].pages[0].last, 3);
	cr_assert(R.rule[0].given & LF_KEY_PAGES);

	poison_good("pages", "0,5,10-19");
	cr_assert_eq(R.rule[0].npages, 3);
	cr_assert_eq(R.rule[0].pages[1].first, 5);
	cr_assert_eq(R.rule[0].pages[2].first, 10);
	cr_assert_eq(R.rule[0].pages[2].last, 19);

	poison_good("pages", " 1 , 2 - 3 ,last , 7-7");
	cr_assert_eq(R.rule[0].npages, 4);
	cr_assert_eq(R.rule[0].pages[0].first, 1);
	cr_assert_eq(R.rule[0].pages[1].first, 2);
	cr_assert_eq(R.rule[0].pages[1].last, 3);
	cr_assert_eq(R.rule[0].pages[2].first, LF_PAGE_LAST);
	cr_assert_eq(R.rule[0].pages[2].last, LF_PAGE_LAST);
	cr_assert_eq(R.rule[0].pages[3].first, 7);
	cr_assert_eq(R.rule[0].pages_all, false);

	poison_good("pages", "last");
	cr_assert_eq(R.rule[0].npages, 1);
	cr_assert_eq(R.rule[0].pages[0].first, LF_PAGE_LAST);

	poison_good("pages", "all");
	cr_assert_eq(R.rule[0].pages_all, true);
	cr_assert_eq(R.rule[0].npages, 0);
}

Test(rules, pages_rejected)
{
	poison_bad("pages", "5-2", "5-2");
	poison_bad("pages", "1,,2", "empty item");
	poison_bad("pages", "1,", "the value goes on");
	poison_bad("pages", ",1", "empty item");
	poison_bad("pages", "all,1", "all");
	poison_bad("pages", "x", NULL);
	poison_bad("pages", "3-", NULL);
	poison_bad("pages", "-3", NULL);
	poison_bad("pages", "3 4", NULL);
	poison_bad("pages", "lastly", NULL);
	poison_bad("pages", "1-last", NULL);
	poison_bad("pages", "18446744073709551615", NULL);
	poison_bad("pages", "18446744073709551616", NULL);
}

/* ------------------------------------------------------ INI syntax */

/* Every accepted form of the INI syntax, and what it means. */
Test(rules, comments_indentation_crlf_bom_values)
{
	good("\xEF\xBB\xBF# comment\n"
	     "; comment\n"
	     "   # indented comment\n"
	     "[global] ; inline comment\n"
	     "\tworkers = 2 ; two\n"
	     "\n"
	     "  [ spaced ]\r\n"
	     "  match = anon\r\n"
	     "  action = poison\r\n"
	     "  pages = 1 ; only page 1\n"
	     "[f]\n"
	     "match: file\n"
	     "path = /srv/a;b/*.dat\n"
	     "caller=load_*\n");
	cr_assert_eq(R.workers, 2);
	cr_assert_eq(R.nrules, 2);
	cr_assert_str_eq(R.rule[0].name, "spaced");
	cr_assert_eq(R.rule[0].line, 7);
	cr_assert_eq(R.rule[0].action, LF_ACTION_POISON);
	cr_assert_eq(R.rule[0].npages, 1);
	cr_assert_eq(R.rule[1].match, LF_MATCH_FILE);
	cr_assert_str_eq(R.rule[1].path, "/srv/a;b/*.dat"); /* ';' after no blank: not a comment */
	cr_assert_str_eq(R.rule[1].caller, "load_*");
}

Test(rules, value_starting_with_semicolon)
{
	/* inih reads ';' as a comment only after a blank: "=;x" is the value ";x" */
	bad("[global]\nstats =;none\n", "t.ini:2: key 'stats':", "comment");
	bad("[a]\nmatch = file\npath =;x\n", "t.ini:3: key 'path':", "comment");
}

Test(rules, no_final_newline)
{
	good("[a]\nmatch = file");
	cr_assert_eq(R.rule[0].match, LF_MATCH_FILE);
}

Test(rules, not_nul_terminated)
{
	/* lf_rules_parse takes a length; it must not read past it. */
	char *t = malloc(14);
	memcpy(t, "[a]\nmatch=anon", 14);
	cr_assert_eq(lf_rules_parse(t, 14, "t.ini", &R, E, sizeof(E)), 0, "%s", E);
	cr_assert_eq(R.rule[0].match, LF_MATCH_ANON);
	free(t);
}

Test(rules, broken_section_header)
{
	bad("[a]\nmatch = anon\n[abc\nmatch = anon\n", "t.ini:3: syntax error:", "']'");
	bad("[abc ; comment]\nmatch = anon\n", "t.ini:1: syntax error:", "']'");
}

Test(rules, line_without_equals)
{
	bad("[a]\nmatch = anon\nthis is not a key\n", "t.ini:3: syntax error:", "key = value");
	bad("[a]\nmatch = anon\n= anon\n", "t.ini:3: syntax error:", NULL);
}

Test(rules, syntax_error_reported_before_later_errors)
{
	/* inih keeps going after its own error; ours must not hide it. */
	bad("[a]\nbroken\nmatch = heap\n", "t.ini:2: syntax error:", NULL);
	bad("[a]\nbroken\n[b]\nmatch = anon\n", "t.ini:2: syntax error:", NULL);
	/* a forgotten '=' is a syntax error, not a missing key */
	bad("[a]\nmatch anon\n", "t.ini:2: syntax error:", NULL);
	bad("[a]\nmatch anon\n[b]\nmatch = anon\n", "t.ini:2: syntax error:", NULL);
}

Test(rules, section_names)
{
	bad("[]\n", "t.ini:1: syntax error:", "empty section name");
	bad("[   ]\n", "t.ini:1: syntax error:", "empty section name");
	bad("[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nmatch = anon\n",
	    "t.ini:1: syntax error:", "longer than 49");
	bad("[a\tb]\nmatch = anon\n", "t.ini:1: syntax error:", "control character");
	good("[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nmatch = anon\n");
	cr_assert_eq(strlen(R.rule[0].name), 49);
}

Test(rules, long_line_and_nul)
{
	char t[400];
	snprintf(t, sizeof(t), "[a]\nmatch = file\npath = /%0250d\n", 0);
	bad(t, "t.ini:3: syntax error:", "longer than");
	static const char nul[] = "[a]\nmatch = anon\nmin_size = 1\0K\n";
	lf_rules_free(&R);
	cr_assert_eq(lf_rules_parse(nul, sizeof(nul) - 1, "t.ini", &R, E, sizeof(E)), -1);
	cr_assert(strncmp(E, "t.ini:3: syntax error:", 22) == 0, "%s", E);
	cr_assert(strstr(E, "NUL") != NULL, "%s", E);
}

/* ------------------------------------------------------- structure errors */

Test(rules, unknown_key)
{
	bad("[a]\nmatch = anon\nsize = 4K\n", "t.ini:3: key 'size':", "unknown key");
	bad("[a]\nmatch = anon\nMatch = anon\n", "t.ini:3: key 'Match':", "unknown key");
	bad("[a]\nmatch = anon\nworkers = 2\n", "t.ini:3: key 'workers':", "[global]");
	bad("[global]\nworkers = 2\nmatch = anon\n", "t.ini:3: key 'match':", "not a [global] key");
	bad("[global]\nfoo = 1\n", "t.ini:2: key 'foo':", "not a [global] key");
}

Test(rules, key_before_any_section)
{
	bad("# top\nmatch = anon\n[a]\nmatch = anon\n", "t.ini:2: key 'match':", "outside any section");
	bad("workers = 2\n", "t.ini:1: key 'workers':", "outside any section");
}

Test(rules, duplicate_rule)
{
	bad("[a]\nmatch = anon\n[b]\nmatch = file\n[a]\nmatch = malloc\n",
	    "t.ini:5: rule 'a':", "first on line 1");
	/* adjacent: inih alone would merge them into one section */
	bad("[a]\nmatch = anon\n[a]\naction = zero\n", "t.ini:3: rule 'a':", "duplicate");
	bad("[a]\nmatch = anon\n[ a ]\nmatch = anon\n", "t.ini:3: rule 'a':", "duplicate");
	bad("[global]\n[global]\n", "t.ini:2: section 'global':", "first on line 1");
}

Test(rules, duplicate_key)
{
	bad("[a]\nmatch = anon\nmin_size = 1M\nmin_size = 2M\n", "t.ini:4: key 'min_size':",
	    "first on line 3");
	bad("[global]\nworkers = 1\nworkers = 2\n", "t.ini:3: key 'workers':", "twice");
	/* the same key in two rules is fine */
	good("[a]\nmatch = anon\n[b]\nmatch = anon\n");
}

Test(rules, missing_required_key)
{
	bad("[a]\nmin_size = 1M\n", "t.ini:1: rule 'a': missing required key 'match'", NULL);
	/* an empty section, then another: the empty one is reported */
	bad("[global]\n[a]\n[b]\nmatch = anon\n", "t.ini:2: rule 'a': missing required key 'match'", NULL);
	/* an empty section at the end of the file */
	bad("[a]\nmatch = anon\n\n[b]\n", "t.ini:4: rule 'b': missing required key 'match'", NULL);
	bad("[a]\nmatch = anon\naction = load\n", "t.ini:1: rule 'a': missing required key 'source'", NULL);
	bad("[a]\nmatch = malloc\naction = poison\nfill = load\n",
	    "t.ini:1: rule 'a': missing required key 'source'", "fill = load");
}

Test(rules, keys_not_for_this_rule)
{
	bad("[a]\nmatch = file\nsource = /x\n", "t.ini:3: key 'source':", "file");
	bad("[a]\nmatch = file\nsource_offset = 4K\n", "t.ini:3: key 'source_offset':", NULL);
	bad("[a]\nmatch = anon\npath = /x\n", "t.ini:3: key 'path':", "file");
	bad("[a]\nmatch = malloc\npath = /x\n", "t.ini:3: key 'path':", "file");
	bad("[a]\nmatch = anon\nsource = /x\n", "t.ini:3: key 'source':", "load");
	bad("[a]\nmatch = anon\naction = poison\nsource = /x\n", "t.ini:4: key 'source':", NULL);
	bad("[a]\nmatch = anon\naction = poison\nreadahead = 4K\n", "t.ini:4: key 'readahead':", "one page");
	/* the key comes before the action that makes it wrong: still its line */
	bad("[a]\npath = /x\nmatch = anon\n", "t.ini:2: key 'path':", NULL);
}

Test(rules, poison_only_keys)
{
	static const char *const keys[][2] = {
		{ "pages", "1" }, { "probability", "0.5" }, { "after", "1" }, { "every", "2" },
		{ "times", "1" }, { "seed", "1" }, { "fill", "zero" },
	};
	static const char *const heads[] = {
		"[a]\nmatch = anon\n", "[a]\nmatch = file\n", "[a]\nmatch = anon\naction = zero\n",
		"[a]\nmatch = file\naction = load\n",
	};
	for (size_t h = 0; h < 4; h++)
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char t[256], prefix[64];
			snprintf(t, sizeof(t), "%s%s = %s\n", heads[h], keys[i][0], keys[i][1]);
			int line = 1;
			for (const char *c = heads[h]; *c; c++)
				line += *c == '\n';
			snprintf(prefix, sizeof(prefix), "t.ini:%d: key '%s':", line, keys[i][0]);
			bad(t, prefix, "poison");
		}
}

Test(rules, min_size_above_max_size)
{
	bad("[a]\nmatch = anon\nmin_size = 1M\nmax_size = 4K\n", "t.ini:4: key 'max_size':", "below");
	bad("[a]\nmatch = anon\nmax_size = 4K\nmin_size = 1M\n", "t.ini:3: key 'max_size':", NULL);
	/* against the default min_size */
	bad("[a]\nmatch = malloc\nmax_size = 64K\n", "t.ini:3: key 'max_size':", "default");
}

Test(rules, first_error_wins)
{
	/* rule a's missing match (line 1) is found when [b] starts, before
	 * the bad value of line 4 */
	bad("[a]\nmin_size = 1\n[b]\nmatch = heap\n", "t.ini:1: rule 'a':", NULL);
	bad("[a]\nmatch = heap\nmin_size = x\n", "t.ini:2: key 'match':", NULL);
}

Test(rules, error_message_fits_small_buffer)
{
	char small[16];
	memset(small, 'x', sizeof(small));
	cr_assert_eq(lf_rules_parse("[a]\nmatch = heap\n", 16, "a-long-file-name.ini", &R, small,
				    sizeof(small)), -1);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	/* and no buffer at all */
	cr_assert_eq(lf_rules_parse("[a]\n", 4, "t.ini", &R, NULL, 0), -1);
}

/* ------------------------------------------------------------ the file */

Test(rules, load_file)
{
	char path[] = "/tmp/lf-test-rules-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	static const char text[] = "[global]\nworkers = 3\n[z]\nmatch = anon\n";
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_eq(lf_rules_load(path, &R, E, sizeof(E)), 0, "%s", E);
	cr_assert_str_eq(R.file, path);
	cr_assert_eq(R.workers, 3);
	cr_assert_str_eq(R.rule[0].name, "z");
	lf_rules_free(&R);

	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, "[z]\nmatch = x\n", 14), 14);
	close(fd);
	cr_assert_eq(lf_rules_load(path, &R, E, sizeof(E)), -1);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: key 'match':", path);
	cr_assert(strncmp(E, want, strlen(want)) == 0, "%s", E);
	unlink(path);
}

Test(rules, load_missing_file)
{
	cr_assert_eq(lf_rules_load("/nonexistent/lf.ini", &R, E, sizeof(E)), -1);
	cr_assert_str_eq(E, "/nonexistent/lf.ini: cannot open: No such file or directory");
	cr_assert_eq(lf_rules_load("/tmp", &R, E, sizeof(E)), -1);
	cr_assert_str_eq(E, "/tmp: cannot open: a directory, not a regular file");
}

Test(rules, free_twice_is_harmless)
{
	good("[a]\nmatch = anon\n");
	lf_rules_free(&R);
	lf_rules_free(&R);
	lf_rules_free(NULL);
}

/* ---------------------------------------------------------------- print */

static char *print_to_string(const struct lf_rules *r)
{
	char *s = lf_rules_printed(r);
	cr_assert_not_null(s);
	return s;
}

static const char SAMPLE[] =
	"[global]\nlog = /tmp/lf.%p\nlog_level = info\nstats = /tmp/st.%p.json\n"
	"on_error = abort\nworkers = 4\n"
	"[zero]\nmatch = anon\nmin_size = 1M\nmax_size = 3G\ncaller = make_*\ncaller_depth = 3\n"
	"readahead = 128K\ndelay = 250us\n"
	"[ld]\nmatch = malloc\naction = load\nsource = /data/blob\nsource_offset = 8K\n"
	"[fl]\nmatch = file\npath = /usr/share/*\n"
	"[pz]\nmatch = file\naction = poison\npages = 0, 5, 10-19, last\nprobability = 0.1\n"
	"after = 5\nevery = 3\ntimes = 4\nseed = 42\nfill = load\ndelay = 2s\n"
	"[pa]\nmatch = anon\naction = poison\npages = all\n"
	"[pn]\nmatch = anon\naction = poison\n"
	"[pr]\nmatch = malloc\naction = poison\nprobability = 0.5\n";

Test(rules, print_shows_effective_values)
{
	good(SAMPLE);
	char *s = print_to_string(&R);
	static const char *const want[] = {
		"[global]\n", "log = /tmp/lf.%p\n", "log_level = info\n", "stats = /tmp/st.%p.json\n",
		"on_error = abort\n", "workers = 4\n",
		"[zero]\n", "min_size = 1048576 ; 1M\n", "max_size = 3221225472 ; 3G\n",
		"caller = make_*\n", "caller_depth = 3\n", "readahead = 131072 ; 128K\n",
		"delay = 250000ns ; 250us\n", "action = zero\n",
		"[ld]\n", "min_size = 131072 ; 128K\n", "source = /data/blob\n",
		"source_offset = 8192 ; 8K\n", "readahead = 65536 ; 64K\n",
		"[fl]\n", "path = /usr/share/*\n", "action = load\n",
		"pages = 0,5,10-19,last\n", "probability = 0.1\n", "after = 5\n", "every = 3\n",
		"times = 4\n", "seed = 42\n", "fill = load\n", "fill = zero\n",
		"delay = 2000000000ns ; 2s\n",
		"pages = all\n", "times = -1", "every page is poisoned", "# max_size: none\n",
		"# seed: random",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(s, want[i]) != NULL, "'%s' missing from:\n%s", want[i], s);
	free(s);
}

Test(rules, print_defaults)
{
	good("[a]\nmatch = anon\n");
	char *s = print_to_string(&R);
	static const char *const want[] = {
		"log = stderr\n", "log_level = warn\n", "stats = ; none\n", "on_error = passthrough\n",
		"workers = 1\n", "match = anon\n", "min_size = 65536 ; 64K\n", "# caller: any\n",
		"action = zero\n", "readahead = 65536 ; 64K\n", "delay = 0\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(s, want[i]) != NULL, "'%s' missing from:\n%s", want[i], s);
	/* no caller: no caller_depth either (it would be refused) */
	cr_expect(strstr(s, "caller_depth") == NULL, "caller_depth printed without a caller:\n%s", s);
	free(s);
	good("[a]\nmatch = anon\ncaller = f\n");
	s = print_to_string(&R);
	cr_expect(strstr(s, "caller_depth = 8\n") != NULL, "no default caller_depth in:\n%s", s);
	free(s);
}

/* Out of force, the trigger keys are not printed: printed with their
 * defaults, they would make a rule of listed pages poison every page. */
Test(rules, print_triggers_only_in_force)
{
	good("[p]\nmatch = anon\naction = poison\npages = 3\n");
	char *s = print_to_string(&R);
	static const char *const never[] = { "probability", "after =", "every =", "times =", "seed" };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		cr_expect(strstr(s, never[i]) == NULL, "'%s' printed for a pages-only rule:\n%s", never[i], s);
	cr_expect(strstr(s, "only the pages listed are poisoned") != NULL, "%s", s);
	free(s);
	good("[p]\nmatch = anon\naction = poison\nevery = 2\n");
	s = print_to_string(&R);
	static const char *const all[] = { "probability = 1\n", "after = 0\n", "every = 2\n",
					   "times = -1 ; unlimited\n", "# pages: none\n" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cr_expect(strstr(s, all[i]) != NULL, "'%s' missing from:\n%s", all[i], s);
	free(s);
}

Test(rules, print_round_trips)
{
	static const char *const texts[] = {
		SAMPLE, "", "[global]\nstats =\n", "[a]\nmatch = anon\n",
		"[a]\nmatch = malloc\nmin_size = 100\nmax_size = 4097\naction = poison\nprobability = 0.3333\n",
		"[a]\nmatch = anon\naction = poison\nfill = load\nsource = /s\nsource_offset = 12345\n",
		"[a]\nmatch = anon\naction = poison\npages = 3\n",
		"[a]\nmatch = anon\naction = poison\npages = last\ntimes = 2\n",
		"[f]\nmatch = file\nhandoff = no\n",
		"[f]\nmatch = file\ndelay = 1ms\nhandoff = no\n",
		"[a]\nmatch = anon\nmax_size = 18446744073709551615\n",
	};
	/* Compared key by key through the key table (a key added to it is
	 * compared too: test_rule_keys.c checks the comparison sees each). */
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *s, why[256];
		good(texts[i]);
		int rc = lf_rules_round_trip(&R, &s, why, sizeof(why));
		cr_assert_eq(rc, 0, "%s: %s\n%s", rc == LF_PRINTED_REFUSED ? "printed form rejected"
						  : "printed form differs", why, s);
		free(s);
		lf_rules_free(&R);
	}
}
