/* How much one fault serves: the readahead window policy, as pure
 * functions of the region's last window and the fault (no lock, no kernel:
 * tests/unit/test_window.c runs them as they are).
 *
 * A fault just above the last window continues a forward stream, one just
 * below it a backward stream (glibc's large memcpy may copy downwards); the
 * window then doubles, up to LF_MAX_WINDOW (LF_WINDOW_HUGE_MAX for streams
 * served in huge pages, stream.c).  Anything else (a jump) starts
 * over from the faulting page up: the rule's readahead after a stream or
 * at the first fault, then half as much at each further jump in a row,
 * down to one page, so that random access pays for the one page it
 * touches (a 64K window on random reads would read and install 16 pages
 * for one).  Poison rules serve one page per fault, so that each first
 * touch of a page is one decision. */
#include "lf.h"

size_t lf_window_min(uint64_t readahead, bool one_page)
{
	size_t min = one_page ? LF_PAGE : lf_page_up(readahead);
	if (min == 0)
		min = LF_PAGE;
	if (min > LF_MAX_WINDOW) /* the helpers' buffers hold one window at most */
		min = LF_MAX_WINDOW;
	return min;
}

void lf_window_decide(struct lf_window *w, const struct lf_window_ask *a, struct lf_window_plan *out)
{
	uintptr_t addr = a->addr;
	size_t win = a->min;
	out->largest = out->settled = false;
	/* A fault inside the last window is another thread that touched it
	 * before it was filled, or a page the window's clipping left out (a
	 * present page stopped it): the rest of the window is served from
	 * there, as part of the stream if it was one, and the stream's state
	 * stays, so that its next fault, at w->hi, goes on growing it. */
	if (w->size && addr >= w->lo && addr < w->hi) {
		out->stream = !a->one_page && w->size > a->min;
		out->from = addr;
		out->len = (w->hi < a->end ? w->hi : a->end) - addr;
		return;
	}
	size_t cap = a->huge ? LF_WINDOW_HUGE_MAX : LF_MAX_WINDOW;
	bool up = w->size && addr == w->hi;
	bool down = w->size && addr + LF_PAGE == w->lo;
	out->stream = !a->one_page && (up || down);
	if (!out->stream) {
		/* A jump: the readahead, halved for each jump before it in a
		 * row (a stream resets the count). */
		unsigned shift = w->jumps < 20 ? w->jumps : 20;
		win = lf_page_up(a->min >> shift);
		if (win < LF_PAGE)
			win = LF_PAGE;
		if (w->jumps < 64)
			w->jumps++;
	} else {
		w->jumps = 0;
		win = w->size * 2;
		if (win > cap)
			win = cap;
		if (win < a->min)
			win = a->min;
	}
	uintptr_t from = addr, to;
	if (out->stream && down) {
		from = addr + LF_PAGE - win;
		if (from < a->start || from > addr)
			from = a->start;
		to = addr + LF_PAGE;
	} else {
		to = addr + win > a->end || addr + win < addr ? a->end : addr + win;
		/* Served in huge pages: a forward stream's window of 2 MiB or
		 * more ends on a 2 MiB boundary, so that the next one starts on
		 * one and is whole huge pages (stream.c).  The size kept is
		 * the one decided, so that the stream goes on doubling. */
		uintptr_t cut = to & ~(LF_WINDOW_HUGE - 1);
		if (a->huge && out->stream && win >= LF_WINDOW_HUGE && to < a->end && cut > from)
			to = cut;
	}
	out->largest = out->stream && win == cap;
	out->settled = out->stream && win >= LF_WINDOW_SETTLED;
	w->lo = from;
	w->hi = to;
	w->size = a->huge && out->stream ? win : to - from;
	out->from = from;
	out->len = to - from;
}
