/* Unit tests of the readahead window policy (preload/window.c), which is a
 * pure function of the region's last window and the fault: no kernel. */
#include <criterion/criterion.h>

#include "lf.h"

#define KIB (1024UL)
#define MIB (1024UL * 1024UL)
#define BASE 0x40000000UL /* a region of 64 MiB at BASE */
#define END (BASE + 64 * MIB)

static struct lf_window_plan fault(struct lf_window *w, uintptr_t addr, size_t min, bool one_page)
{
	struct lf_window_ask a = {.addr = addr, .start = BASE, .end = END, .min = min,
				  .one_page = one_page};
	struct lf_window_plan p;
	lf_window_decide(w, &a, &p);
	cr_assert(p.from <= addr && addr < p.from + p.len, "window %#lx+%zu misses the fault %#lx",
		  (unsigned long)p.from, p.len, (unsigned long)addr);
	cr_assert(p.from >= BASE && p.from + p.len <= END, "window leaves the region");
	return p;
}

Test(window, min_is_the_readahead_in_pages_capped)
{
	cr_expect_eq(lf_window_min(64 * KIB, false), 64 * KIB);
	cr_expect_eq(lf_window_min(5000, false), 8 * KIB, "rounded up to pages");
	cr_expect_eq(lf_window_min(0, false), LF_PAGE);
	cr_expect_eq(lf_window_min(100 * MIB, false), LF_MAX_WINDOW, "capped at the largest window");
	cr_expect_eq(lf_window_min(64 * KIB, true), LF_PAGE, "poison rules: one page");
}

Test(window, first_fault_serves_readahead_from_the_page_up)
{
	struct lf_window w = {0};
	struct lf_window_plan p = fault(&w, BASE + 10 * LF_PAGE, 64 * KIB, false);
	cr_expect_eq(p.from, BASE + 10 * LF_PAGE);
	cr_expect_eq(p.len, 64 * KIB);
	cr_expect(!p.stream && !p.largest);
	cr_expect_eq(w.lo, p.from);
	cr_expect_eq(w.hi, p.from + p.len);
}

Test(window, forward_stream_doubles_up_to_the_largest)
{
	struct lf_window w = {0};
	struct lf_window_plan p = fault(&w, BASE, 64 * KIB, false);
	size_t expect = 64 * KIB;
	for (int i = 0; i < 12; i++) {
		uintptr_t next = p.from + p.len;
		p = fault(&w, next, 64 * KIB, false);
		expect = expect * 2 > LF_MAX_WINDOW ? LF_MAX_WINDOW : expect * 2;
		cr_expect(p.stream, "fault %d at the window's end continues the stream", i);
		cr_expect_eq(p.from, next);
		cr_expect_eq(p.len, expect, "fault %d: %zu, expected %zu", i, p.len, expect);
		cr_expect_eq(p.largest, expect == LF_MAX_WINDOW);
		cr_expect_eq(p.settled, expect >= 256 * KIB, "fault %d: settled from 256K up", i);
	}
}

Test(window, backward_stream_grows_downwards)
{
	struct lf_window w = {0};
	uintptr_t top = BASE + 32 * MIB;
	struct lf_window_plan p = fault(&w, top, 64 * KIB, false);
	p = fault(&w, top - LF_PAGE, 64 * KIB, false);
	cr_expect(p.stream);
	cr_expect_eq(p.from + p.len, top, "ends just below the last window");
	cr_expect_eq(p.len, 128 * KIB);
}

Test(window, backward_stream_stops_at_the_region_start)
{
	struct lf_window w = {0};
	struct lf_window_plan p = fault(&w, BASE + 4 * LF_PAGE, 64 * KIB, false);
	p = fault(&w, BASE + 3 * LF_PAGE, 64 * KIB, false);
	cr_expect_eq(p.from, BASE);
	cr_expect_eq(p.len, 4 * LF_PAGE);
}

Test(window, random_fault_starts_over)
{
	struct lf_window w = {0};
	struct lf_window_plan p = fault(&w, BASE, 64 * KIB, false);
	p = fault(&w, BASE + 64 * KIB, 64 * KIB, false);
	cr_expect(p.stream);
	p = fault(&w, BASE + 40 * MIB, 64 * KIB, false);
	cr_expect(!p.stream, "a jump is not a stream");
	cr_expect_eq(p.len, 64 * KIB, "back to the readahead");
}

Test(window, fault_inside_the_last_window_serves_its_rest_and_keeps_the_state)
{
	struct lf_window w = {0};
	struct lf_window_plan p = fault(&w, BASE, 64 * KIB, false);
	p = fault(&w, BASE + 64 * KIB, 64 * KIB, false); /* stream: 128K window */
	struct lf_window before = w;
	uintptr_t inside = BASE + 64 * KIB + 5 * LF_PAGE;
	p = fault(&w, inside, 64 * KIB, false);
	cr_expect_eq(p.from, inside);
	cr_expect_eq(p.from + p.len, before.hi);
	cr_expect(p.stream, "part of a stream whose window outgrew the readahead");
	cr_expect(!p.largest);
	cr_expect_eq(w.lo, before.lo);
	cr_expect_eq(w.hi, before.hi);
	cr_expect_eq(w.size, before.size);
}

Test(window, window_is_cut_at_the_region_end)
{
	struct lf_window w = {0};
	struct lf_window_plan p = fault(&w, END - 2 * LF_PAGE, 64 * KIB, false);
	cr_expect_eq(p.len, 2 * LF_PAGE);
}

Test(window, poison_rules_serve_one_page_and_never_stream)
{
	struct lf_window w = {0};
	size_t min = lf_window_min(64 * KIB, true);
	for (int i = 0; i < 8; i++) {
		struct lf_window_plan p = fault(&w, BASE + (uintptr_t)i * LF_PAGE, min, true);
		cr_expect_eq(p.len, LF_PAGE);
		cr_expect(!p.stream);
	}
}

Test(window, random_jumps_shrink_the_window_to_one_page)
{
	struct lf_window w = {0};
	size_t expect = 64 * KIB;
	for (int i = 0; i < 8; i++) {
		/* far apart, never adjacent to the last window */
		struct lf_window_plan p = fault(&w, BASE + (uintptr_t)(i * 7 + 1) * MIB, 64 * KIB,
						false);
		cr_expect(!p.stream);
		cr_expect_eq(p.len, expect, "jump %d: %zu, expected %zu", i, p.len, expect);
		expect = expect / 2 < LF_PAGE ? LF_PAGE : expect / 2;
	}
	/* Then sequential access: a stream again, from the readahead up. */
	struct lf_window_plan p = fault(&w, w.hi, 64 * KIB, false);
	cr_expect(p.stream);
	cr_expect_eq(p.len, 64 * KIB);
	p = fault(&w, w.hi, 64 * KIB, false);
	cr_expect_eq(p.len, 128 * KIB);
	/* A jump after a stream starts over at the readahead. */
	p = fault(&w, BASE + 60 * MIB, 64 * KIB, false);
	cr_expect(!p.stream);
	cr_expect_eq(p.len, 64 * KIB);
}

Test(window, huge_streams_end_on_2mib_boundaries_and_keep_doubling)
{
	struct lf_window w = {0};
	uintptr_t at = BASE + 5 * LF_PAGE; /* not aligned */
	struct lf_window_ask a = {.addr = at, .start = BASE, .end = END, .min = 64 * KIB,
				  .huge = true};
	struct lf_window_plan p;
	lf_window_decide(&w, &a, &p);
	for (int i = 0; i < 10; i++) {
		a.addr = p.from + p.len;
		lf_window_decide(&w, &a, &p);
		cr_expect(p.stream);
		cr_expect_eq(p.from, a.addr);
		if (p.len >= 2 * MIB || w.size >= 2 * MIB)
			cr_expect_eq((p.from + p.len) % (2 * MIB), 0, "fault %d: window %#lx+%zu",
				     i, (unsigned long)p.from, p.len);
	}
	cr_expect_eq(p.len, LF_WINDOW_HUGE_MAX, "aligned windows of the largest size");
	cr_expect(p.largest);
	cr_expect_eq(p.from % (2 * MIB), 0);
}
