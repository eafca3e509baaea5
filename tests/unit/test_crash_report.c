/* The crash report on the command's side: a statistics file's "crash"
 * section read (statsfile.c), and printed symbolized (crash_report.c), on
 * frames of this test program itself (the offsets of two of its functions
 * from its base, as the library writes them). */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash_report.h"
#include "statsfile.h"
#include "tmpdir.h"

__attribute__((noinline, used)) int lf_toucher_fn(int x) { return x * 7 + 3; }
__attribute__((noinline, used)) int lf_allocator_fn(int x) { return lf_toucher_fn(x) - 1; }

static uint64_t offset_of(void *fn, char *object, size_t len)
{
	Dl_info info;
	cr_assert(dladdr(fn, &info));
	cr_assert_not_null(realpath("/proc/self/exe", object));
	(void)len;
	return (uint64_t)((char *)fn + 4 - (char *)info.dli_fbase);
}

static void write_stats(const char *path, const char *crash)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "{\"pid\": 42, \"mode\": \"full\", \"exe\": \"/bin/x\", \"argv\": [\"x\"],\n"
		   " \"poisoned_call\": \"\"%s,\n \"rules\": []}\n", crash);
	fclose(f);
}

static char *print_report(const struct lf_stats *s, bool brief)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (brief)
		lf_crash_print_short(s, "/nonexistent", "  ", 4, out);
	else
		lf_crash_print(s, "/nonexistent", out);
	fclose(out);
	return text;
}

Test(crash_report, poisoned_page_with_both_stacks, .init = make_dir, .fini = remove_dir)
{
	char obj[4096], crash[16384], path[128], err[512];
	uint64_t touch = offset_of((void *)lf_toucher_fn, obj, sizeof obj);
	uint64_t alloc = offset_of((void *)lf_allocator_fn, obj, sizeof obj);
	snprintf(crash, sizeof crash,
		 ",\n \"crash\": {\"signal\": 7, \"code\": -6, \"address\": 4096, \"ip\": 99, "
		 "\"thread\": 43, \"frames\": [{\"object\": \"%s\", \"offset\": %" PRIu64 "}, "
		 "{\"object\": \"%s\", \"offset\": %" PRIu64 "}], \"poisoned\": {\"rule\": \"heap\", "
		 "\"region\": 3, \"page\": 17, \"page_address\": 4096, \"allocated\": [{\"object\": "
		 "\"%s\", \"offset\": %" PRIu64 "}]}}", obj, touch, obj, alloc, obj, alloc);
	snprintf(path, sizeof path, "%s/stats.json", dir);
	write_stats(path, crash);
	struct lf_stats s;
	cr_assert_eq(lf_stats_read(path, &s, err, sizeof err), LF_STATS_OK, "%s", err);
	const struct lf_stats_crash *c = &s.crash;
	cr_assert(c->present && c->has_addr && c->poisoned);
	cr_assert_eq(c->sig, 7);
	cr_assert_eq(c->code, -6);
	cr_assert_eq(c->addr, 4096);
	cr_assert_eq(c->tid, 43);
	cr_assert_eq(c->nframes, 2);
	cr_assert_eq(c->frames[0].offset, touch);
	cr_assert_str_eq(c->rule, "heap");
	cr_assert_eq(c->region, 3);
	cr_assert_eq(c->page, 17);
	cr_assert_eq(c->nalloc, 1);

	char *text = print_report(&s, false);
	cr_assert(strstr(text, "lazyfault: pid 42 died of SIGBUS at 0x1000 (ip 0x63), in page 17 of "
			       "region 3 of rule 'heap', which the library poisoned\n"), "%s", text);
	cr_assert(strstr(text, "  thread 43 was in:\n    #0 lf_toucher_fn+0x4 ("), "%s", text);
	cr_assert(strstr(text, "\n    #1 lf_allocator_fn+0x4 ("), "%s", text);
	cr_assert(strstr(text, "  region 3 of rule 'heap' was allocated in:\n    #0 lf_allocator_fn+0x4 ("),
		  "%s", text);
	free(text);
	text = print_report(&s, true);
	cr_assert(strstr(text, "    touched in: lf_toucher_fn+0x4 (") &&
		  strstr(text, ") < lf_allocator_fn+0x4 ("), "%s", text);
	cr_assert(strstr(text, "    allocated in: lf_allocator_fn+0x4 ("), "%s", text);
	free(text);
	lf_stats_free(&s);
}

Test(crash_report, not_ours_and_none, .init = make_dir, .fini = remove_dir)
{
	char path[128], err[512];
	snprintf(path, sizeof path, "%s/a.json", dir);
	write_stats(path, ",\n \"crash\": {\"signal\": 11, \"code\": 1, \"address\": 0, \"ip\": 16, "
			  "\"thread\": 42, \"frames\": [{\"object\": \"/nonexistent/lib.so\", \"offset\": 32}]}");
	struct lf_stats s;
	cr_assert_eq(lf_stats_read(path, &s, err, sizeof err), LF_STATS_OK, "%s", err);
	cr_assert(s.crash.present && !s.crash.poisoned);
	char *text = print_report(&s, false);
	cr_assert(strstr(text, "died of SIGSEGV at 0x0 (ip 0x10)\n"), "%s", text);
	cr_assert(strstr(text, "    #0 /nonexistent/lib.so+0x20 ("), "%s", text); /* unreadable */
	cr_assert_null(strstr(text, "allocated"), "%s", text);
	free(text);
	lf_stats_free(&s);

	/* A file without a crash: nothing printed, and lf_crash_find skips it. */
	write_stats(path, "");
	cr_assert_eq(lf_stats_read(path, &s, err, sizeof err), LF_STATS_OK, "%s", err);
	cr_assert(!s.crash.present);
	text = print_report(&s, false);
	cr_assert_str_eq(text, "");
	free(text);
	lf_stats_free(&s);
	char pattern[128];
	snprintf(pattern, sizeof pattern, "%s/*.json", dir);
	cr_assert(!lf_crash_find(pattern, &s));
}

Test(crash_report, allocation_sites, .init = make_dir, .fini = remove_dir)
{
	char obj[4096], text[8192], path[128], err[512];
	uint64_t alloc = offset_of((void *)lf_allocator_fn, obj, sizeof obj);
	snprintf(text, sizeof text,
		 ",\n \"allocation_sites\": [{\"rule\": \"heap\", \"region\": 7, \"frames\": "
		 "[{\"object\": \"%s\", \"offset\": %" PRIu64 "}, {\"object\": \"/nonexistent/x.so\", "
		 "\"offset\": 16}]}]", obj, alloc);
	snprintf(path, sizeof path, "%s/s.json", dir);
	write_stats(path, text);
	struct lf_stats s;
	cr_assert_eq(lf_stats_read(path, &s, err, sizeof err), LF_STATS_OK, "%s", err);
	cr_assert_eq(s.nsites, 1);
	cr_assert_eq(s.sites[0].region, 7);
	cr_assert_eq(s.sites[0].nframes, 2);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	lf_crash_print_sites(&s, "/nonexistent", 6, f);
	fclose(f);
	const char *base = strrchr(obj, '/') + 1;
	char want[512];
	snprintf(want, sizeof want, "  pid 42, region 7 of rule 'heap': lf_allocator_fn+0x4 (%s) < "
		 "x.so+0x10 (x.so: No such file or directory)\n", base);
	cr_assert_str_eq(out, want);
	free(out);
	lf_stats_free(&s);
}
