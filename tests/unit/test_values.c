/* Unit tests of the value parsers of the rule file (common/values.c), each
 * alone: what it accepts, what it refuses, and that a refusal leaves the
 * output and errno as they were.  The sizes, durations and booleans of
 * whole rule files: test_rules.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ numbers */

Test(values, u64_stops_after_the_digits)
{
	static const struct { const char *s; uint64_t v; size_t used; } ok[] = {
		{ "0", 0, 1 }, { "42", 42, 2 }, { "007x", 7, 3 }, { "64K", 64, 2 }, { "3 4", 3, 1 },
		{ "18446744073709551615", UINT64_MAX, 20 }, { "5-6", 5, 1 },
	};
	for (size_t i = 0; i < N(ok); i++) {
		const char *end = NULL;
		uint64_t v = 1;
		cr_expect_eq(lf_parse_u64(ok[i].s, &end, &v), 0, "'%s' rejected", ok[i].s);
		cr_expect_eq(v, ok[i].v, "'%s' gave %llu", ok[i].s, (unsigned long long)v);
		cr_expect_eq(end, ok[i].s + ok[i].used, "'%s': end at %td", ok[i].s, end - ok[i].s);
	}
}

Test(values, u64_wants_a_digit_first_and_no_overflow)
{
	static const struct { const char *s; int rc; } no[] = {
		{ "", -1 }, { " 1", -1 }, { "+1", -1 }, { "-1", -1 }, { "x1", -1 },
		{ "18446744073709551616", LF_TOO_LARGE }, { "99999999999999999999999", LF_TOO_LARGE },
	};
	for (size_t i = 0; i < N(no); i++) {
		const char *end = "untouched";
		uint64_t v = 77;
		cr_expect_eq(lf_parse_u64(no[i].s, &end, &v), no[i].rc, "'%s' accepted", no[i].s);
		cr_expect_eq(v, 77, "'%s' changed the value", no[i].s);
		cr_expect_str_eq(end, "untouched", "'%s' moved the end", no[i].s);
	}
	cr_expect_eq(lf_parse_u64(NULL, &(const char *){ 0 }, &(uint64_t){ 0 }), -1);
}

/* The library parses inside the program: errno is the program's. */
Test(values, errno_left_as_it_was)
{
	uint64_t v;
	double d;
	errno = 1234;
	cr_expect_eq(lf_parse_number("18446744073709551616", &v), LF_TOO_LARGE); /* strtoull: ERANGE */
	cr_expect_eq(lf_parse_size("99999999999999999999G", &v), LF_TOO_LARGE);
	cr_expect_eq(lf_parse_number("12", &v), 0);
	cr_expect_eq(lf_parse_probability("1e-999", &d), 0); /* strtod: ERANGE, underflow */
	cr_expect_eq(d, 0.0);
	cr_expect_eq(lf_parse_probability("1e999", &d), LF_OUT_OF_RANGE);
	cr_expect_eq(errno, 1234, "errno changed to %d", errno);
}

Test(values, number_is_the_whole_string)
{
	uint64_t v = 5;
	cr_expect_eq(lf_parse_number("123", &v), 0);
	cr_expect_eq(v, 123);
	static const char *const no[] = { "", "12 ", "1x", "1K", "-0", "0x10", "1.0" };
	for (size_t i = 0; i < N(no); i++) {
		v = 9;
		cr_expect_eq(lf_parse_number(no[i], &v), -1, "'%s' accepted", no[i]);
		cr_expect_eq(v, 9, "'%s' changed the value", no[i]);
	}
}

Test(values, limit)
{
	static const struct { const char *s; int64_t v; } ok[] = {
		{ "-1", -1 }, { "0", 0 }, { "4", 4 }, { "9223372036854775807", INT64_MAX },
	};
	for (size_t i = 0; i < N(ok); i++) {
		int64_t v = 12;
		cr_expect_eq(lf_parse_limit(ok[i].s, &v), 0, "'%s' rejected", ok[i].s);
		cr_expect_eq(v, ok[i].v, "'%s' gave %lld", ok[i].s, (long long)v);
	}
	static const char *const no[] = {
		"", "-2", "-0", "- 1", "-1 ", "+1", "many", "1.5",
	};
	for (size_t i = 0; i < N(no); i++) {
		int64_t v = 12;
		cr_expect_eq(lf_parse_limit(no[i], &v), -1, "'%s' accepted", no[i]);
		cr_expect_eq(v, 12, "'%s' changed the value", no[i]);
	}
	int64_t v = 12;
	cr_expect_eq(lf_parse_limit("9223372036854775808", &v), LF_TOO_LARGE);
	cr_expect_eq(v, 12);
	cr_expect_eq(lf_parse_limit(NULL, &(int64_t){ 0 }), -1);
}

/* ------------------------------------------------- sizes, durations, bools */

Test(values, size_duration_bool_leave_output_on_error)
{
	uint64_t v = 3;
	bool b = true;
	cr_expect_eq(lf_parse_size("1T", &v), -1);
	cr_expect_eq(lf_parse_duration("5", &v), -1);
	cr_expect_eq(lf_parse_duration("1 h", &v), -1);
	cr_expect_eq(v, 3);
	cr_expect_eq(lf_parse_bool("maybe", &b), -1);
	cr_expect_eq(lf_parse_bool(NULL, &b), -1);
	cr_expect_eq(b, true);
	cr_expect_eq(lf_parse_duration(NULL, &v), -1);
	/* the units multiply, and the product must fit */
	cr_expect_eq(lf_parse_size("16777215T", &v), -1);
	cr_expect_eq(lf_parse_size("16 G", &v), 0);
	cr_expect_eq(v, 16 * LF_GIB);
	cr_expect_eq(lf_parse_duration("7 us", &v), 0);
	cr_expect_eq(v, 7000);
}

/* -------------------------------------------------------- probabilities */

Test(values, probability)
{
	static const struct { const char *s; double v; } ok[] = {
		{ "0", 0 }, { "1", 1 }, { "0.5", 0.5 }, { ".25", 0.25 }, { "1e-3", 0.001 },
		{ "1.0", 1 }, { "0.000", 0 }, { "25e-2", 0.25 }, { "-0", 0 }, { "1E0", 1 },
	};
	for (size_t i = 0; i < N(ok); i++) {
		double d = 7;
		cr_expect_eq(lf_parse_probability(ok[i].s, &d), 0, "'%s' rejected", ok[i].s);
		cr_expect_eq(d, ok[i].v, "'%s' gave %g", ok[i].s, d);
		cr_expect(!signbit(d), "'%s' gave a negative zero", ok[i].s);
	}
	static const char *const range[] = { "-1", "1.5", "1.0000001", "2", "-0.1", "1e1" };
	for (size_t i = 0; i < N(range); i++) {
		double d = 7;
		cr_expect_eq(lf_parse_probability(range[i], &d), LF_OUT_OF_RANGE, "'%s'", range[i]);
		cr_expect_eq(d, 7);
	}
	static const char *const no[] = {
		"", "nan", "inf", "0x1p-1", "half", "50%", "0.5.5", " 0.5", "0.5 ", "e", ".", "+",
	};
	for (size_t i = 0; i < N(no); i++) {
		double d = 7;
		cr_expect_eq(lf_parse_probability(no[i], &d), -1, "'%s' accepted", no[i]);
		cr_expect_eq(d, 7);
	}
	cr_expect_eq(lf_parse_probability(NULL, &(double){ 0 }), -1);
}

/* ---------------------------------------------------------------- names */

Test(values, names)
{
	static const char *const names[] = { "zero", "load", "poison" };
	unsigned v = 9;
	cr_expect_eq(lf_parse_name("zero", names, 3, &v), 0);
	cr_expect_eq(v, 0);
	cr_expect_eq(lf_parse_name("poison", names, 3, &v), 0);
	cr_expect_eq(v, 2);
	v = 9;
	static const char *const no[] = { "", "Zero", "zer", "zeros", " zero", "poison " };
	for (size_t i = 0; i < N(no); i++)
		cr_expect_eq(lf_parse_name(no[i], names, 3, &v), -1, "'%s' accepted", no[i]);
	cr_expect_eq(lf_parse_name("poison", names, 2, &v), -1, "looked past n");
	cr_expect_eq(lf_parse_name(NULL, names, 3, &v), -1);
	cr_expect_eq(v, 9);
}

/* ------------------------------------------------------------ page lists */

static struct lf_page_list L;
static char why[128];

static void pages_fini(void)
{
	free(L.pages);
	memset(&L, 0, sizeof(L));
}

TestSuite(pages, .fini = pages_fini);

/* s must parse to the spans want[0..n) (first, last pairs), not `all`. */
static void pages_are(const char *s, const uint64_t (*want)[2], size_t n)
{
	pages_fini();
	cr_assert_eq(lf_parse_pages(s, &L, why, sizeof(why)), 0, "'%s' rejected: %s", s, why);
	cr_assert_eq(L.npages, n, "'%s': %zu spans", s, L.npages);
	cr_assert_eq(L.pages_all, false, "'%s'", s);
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(L.pages[i].first, want[i][0], "'%s' span %zu first", s, i);
		cr_expect_eq(L.pages[i].last, want[i][1], "'%s' span %zu last", s, i);
	}
}

Test(pages, one_page)
{
	pages_are("3", (const uint64_t[][2]){ { 3, 3 } }, 1);
	pages_are("0", (const uint64_t[][2]){ { 0, 0 } }, 1);
	pages_are("18446744073709551614", (const uint64_t[][2]){ { UINT64_MAX - 1, UINT64_MAX - 1 } }, 1);
}

Test(pages, ranges)
{
	pages_are("10-19", (const uint64_t[][2]){ { 10, 19 } }, 1);
	pages_are("7-7", (const uint64_t[][2]){ { 7, 7 } }, 1);
	pages_are("0-18446744073709551614", (const uint64_t[][2]){ { 0, UINT64_MAX - 1 } }, 1);
}

Test(pages, last)
{
	pages_are("last", (const uint64_t[][2]){ { LF_PAGE_LAST, LF_PAGE_LAST } }, 1);
	pages_are("0,last", (const uint64_t[][2]){ { 0, 0 }, { LF_PAGE_LAST, LF_PAGE_LAST } }, 2);
}

Test(pages, all)
{
	static const char *const alls[] = { "all", " all", "all ", " all\t" };
	for (size_t i = 0; i < N(alls); i++) {
		pages_fini();
		cr_assert_eq(lf_parse_pages(alls[i], &L, why, sizeof(why)), 0, "'%s': %s", alls[i], why);
		cr_expect_eq(L.pages_all, true, "'%s'", alls[i]);
		cr_expect_eq(L.npages, 0);
		cr_expect_null(L.pages, "'%s' kept an array", alls[i]);
	}
}

Test(pages, lists_and_blanks)
{
	pages_are("0,5,10-19", (const uint64_t[][2]){ { 0, 0 }, { 5, 5 }, { 10, 19 } }, 3);
	pages_are(" 1 , 2 - 3 ,last , 7-7",
		  (const uint64_t[][2]){ { 1, 1 }, { 2, 3 }, { LF_PAGE_LAST, LF_PAGE_LAST }, { 7, 7 } }, 4);
	pages_are("\t4\t,\t5\t", (const uint64_t[][2]){ { 4, 4 }, { 5, 5 } }, 2);
	/* a long list: one span per item */
	char s[600] = "";
	for (int i = 0; i < 100; i++)
		snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%d", i ? "," : "", 2 * i);
	pages_fini();
	cr_assert_eq(lf_parse_pages(s, &L, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(L.npages, 100);
	cr_expect_eq(L.pages[99].first, 198);
}

/* s must be refused with `word` in the reason, *out untouched. */
static void pages_refused(const char *s, const char *word)
{
	struct lf_page_list out;
	memset(&out, 0x5a, sizeof(out));
	struct lf_page_list before = out;
	why[0] = '\0';
	cr_assert_eq(lf_parse_pages(s, &out, why, sizeof(why)), -1, "'%s' accepted", s);
	cr_expect(memcmp(&out, &before, sizeof(out)) == 0, "'%s' changed the output", s);
	cr_expect(strstr(why, word) != NULL, "'%s': expected '%s' in '%s'", s, word, why);
}

Test(pages, errors)
{
	pages_refused("5-2", "range 5-2 goes backwards");
	pages_refused("", "empty item");
	pages_refused("   ", "empty item");
	pages_refused("1,,2", "empty item");
	pages_refused("1,", "empty item");
	pages_refused(",1", "empty item");
	pages_refused("1, ,2", "empty item");
	pages_refused("all,1", "'all' cannot be combined");
	pages_refused("1,all", "'all' cannot be combined");
	pages_refused("x", "'x' is not a page number");
	pages_refused("2,x y ,3", "'x y' is not a page number");
	pages_refused("3 4", "'3 4' is not a page number");
	pages_refused("lastly", "'lastly' is not");
	pages_refused("allx", "'allx' is not");
	pages_refused("-3", "'-3' is not");
	pages_refused("+3", "'+3' is not");
	pages_refused("3-", "a range needs two page numbers");
	pages_refused("3-x", "a range needs two page numbers");
	pages_refused("1-last", "a range needs two page numbers");
	pages_refused("1.5", "'1.5' is not");
	pages_refused("18446744073709551615", "too large");
	pages_refused("1-18446744073709551615", "too large");
	pages_refused("18446744073709551616", "too large");
}

Test(pages, reason_fits_a_small_buffer)
{
	char small[8];
	memset(small, 'x', sizeof(small));
	struct lf_page_list out = { 0 };
	cr_assert_eq(lf_parse_pages("not-a-page-at-all", &out, small, sizeof(small)), -1);
	cr_expect_eq(strlen(small), sizeof(small) - 1);
}
