/* The readahead window policy (window.c): pure functions of the region's
 * last window and the fault, included by lf.h (a region keeps its window). */
#ifndef LF_WINDOW_H
#define LF_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The last window served in a region; size 0: no stream. */
struct lf_window {
	uintptr_t lo, hi;
	size_t size;
	unsigned jumps;                 /* faults in a row that continued nothing */
};
struct lf_window_ask {
	uintptr_t addr;                 /* the faulting page */
	uintptr_t start, end;           /* the region */
	size_t min;                     /* the rule's readahead, lf_window_min() */
	bool one_page;                  /* poison rules: one page per fault */
	bool huge;                      /* streams served in 2 MiB pages (stream.c) */
};
#define LF_WINDOW_HUGE (2UL << 20)      /* stream.h's LF_HUGE */
/* A huge-page stream's largest window: its first 2 MiB, where the fault
 * is, are copied (the fault gave that chunk a page table, so no huge page
 * can be moved there), the other three moved in. */
#define LF_WINDOW_HUGE_MAX (8UL << 20)
struct lf_window_plan {
	uintptr_t from;                 /* [from, from+len) holds addr */
	size_t len;
	bool stream;                    /* the access is sequential (either way) */
	bool largest;                   /* a stream at its largest window */
	bool settled;                   /* a stream grown to LF_WINDOW_SETTLED */
};
/* A stream whose window has doubled to this is sequential for sure: a file
 * region is handed to the kernel there (handoff.c), before copying more. */
#define LF_WINDOW_SETTLED (256UL << 10)
size_t lf_window_min(uint64_t readahead, bool one_page);
void lf_window_decide(struct lf_window *w, const struct lf_window_ask *a, struct lf_window_plan *out);

#endif
