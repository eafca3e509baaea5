/* Which pages the program writes, without a round trip per write.
 *
 * Where the kernel has UFFD_FEATURE_WP_ASYNC and PAGEMAP_SCAN (Linux 6.7),
 * every region of zeros or copied bytes is registered for write-protect
 * faults as well as missing ones (lf_region.wp) and its pages are
 * installed write-protected (fill.c): a write to such a page is resolved
 * by the kernel in the writing thread, no message, and PAGEMAP_SCAN
 * reports the page PAGE_IS_WRITTEN from then on.  A read fault of zeros
 * maps the shared zero page (ZEROPAGE), which a write replaces by a copy:
 * PAGE_IS_PFNZERO tells it apart.  So a present page is written when it is
 * reported written and is not the zero page, read only otherwise.
 *
 * The pages are counted when they leave: munmap (and whatever else takes a
 * range out of the table, regions.c), MADV_DONTNEED (before the kernel
 * empties them) and the end of the process; into the rule's statistics
 * (pages_written, pages_read_only) and, with a trace, as LF_TRACE_WRITTEN
 * records of the region's written runs, which a later run's prefetch reads
 * (workset.c).  Pages a move (mremap) or a fork child's copy took the
 * protection from count as written (the kernel drops it there); pages
 * handed to the kernel (handoff) are the file's and not counted.
 *
 * Every scan runs with the table lock held (so the runs buffer is ours),
 * in a program thread or the exit path; PAGEMAP_SCAN reads page tables
 * only, it touches none of the memory and waits for no helper. */
#include <unistd.h>

#include "filemap.h"
#include "lf.h"
#include "pagemap_compat.h"
#include "record.h"
#include "trace.h"
#include "trace_format.h"
#include "trace_write.h"
#include "uffd_compat.h"

static struct page_region runs[LF_SCAN_RUNS];

bool lf_written_can_track(enum lf_src src)
{
	static bool told; /* mm lock held: one caller at a time */
	if (src != LF_SRC_ZERO && src != LF_SRC_FILE)
		return false;
	bool can = lf_wp_can();
	if (!can && !told) {
		told = true;
		lf_info("this kernel lacks UFFD_FEATURE_WP_ASYNC or PAGEMAP_SCAN (Linux 6.7): the pages "
			"the program writes are not told apart; the trace records the pages touched only");
	}
	return can;
}

/* The written runs of one scan, two to a trace record. */
struct pending {
	const struct lf_region *r;
	uint64_t run[2][2];
	unsigned n;
};

static void flush(struct pending *p)
{
	unsigned n = p->n;
	p->n = 0;
	if (!n || !p->r->trace_id || !lf_trace_hdr())
		return;
	struct lf_trace_rec rec = {
		.type = LF_TRACE_WRITTEN, .flags = (uint8_t)n, .a16 = (uint16_t)p->r->rule,
		.a32 = lf_trace_tid(), .t = lf_trace_since_start(lf_now_ns()),
		.u = {p->r->trace_id, p->run[0][0], p->run[0][1], p->run[1][0], p->run[1][1]},
	};
	lf_trace_emit(&rec);
}

static void add_written(struct pending *p, uint64_t first, uint64_t pages)
{
	if (p->n && p->run[p->n - 1][0] + p->run[p->n - 1][1] == first) {
		p->run[p->n - 1][1] += pages; /* the kernel splits runs at page-table ends */
		return;
	}
	if (p->n == 2)
		flush(p);
	p->run[p->n][0] = first;
	p->run[p->n][1] = pages;
	p->n++;
}

/* Count the present (or swapped) pages of [from, to) of region r. */
static void count(const struct lf_region *r, uintptr_t from, uintptr_t to)
{
	if (!r->wp || from >= to)
		return;
	uint64_t written = 0, read_only = 0;
	struct pending p = {.r = r};
	for (uintptr_t at = from; at < to;) {
		struct pm_scan_arg a = {
			.start = at, .end = to, .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_WRITTEN | PAGE_IS_PFNZERO,
		};
		long n = lf_pagemap_scan(&a, runs);
		if (n < 0)
			break;
		for (long i = 0; i < n; i++) {
			uint64_t pages = (runs[i].end - runs[i].start) / LF_PAGE;
			if ((runs[i].categories & (PAGE_IS_WRITTEN | PAGE_IS_PFNZERO)) == PAGE_IS_WRITTEN) {
				written += pages;
				add_written(&p, (runs[i].start - r->base) / LF_PAGE, pages);
			} else {
				read_only += pages;
			}
		}
		if (a.walk_end <= at)
			break;
		at = (uintptr_t)a.walk_end;
	}
	flush(&p);
	struct lf_rule_rt *rt = &lf.rt[r->rule];
	atomic_fetch_add_explicit(&rt->pages_written, written, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt->pages_read_only, read_only, memory_order_relaxed);
}

void lf_written_released(size_t first, uintptr_t end)
{
	for (size_t i = first; i < lf_regions_count_locked(); i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		if (r->start >= end)
			break;
		count(r, r->start, r->end);
	}
}

void lf_written_before_drop(uintptr_t start, uintptr_t end, int advice)
{
	/* MADV_FREE leaves the pages until reclaim wants them: counted when
	 * they leave for good. */
	if (advice != 4 /* MADV_DONTNEED */ && advice != 24 /* MADV_DONTNEED_LOCKED */)
		return;
	lf_table_lock();
	for (size_t i = lf_regions_lower_bound_locked(start); i < lf_regions_count_locked(); i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		if (r->start >= end)
			break;
		count(r, r->start > start ? r->start : start, r->end < end ? r->end : end);
	}
	lf_table_unlock();
}

void lf_written_end(void)
{
	static _Atomic int counted_pid;
	int pid = (int)getpid();
	if (!lf.rt || atomic_exchange(&counted_pid, pid) == pid)
		return;
	lf_table_lock();
	for (size_t i = 0; i < lf_regions_count_locked(); i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		count(r, r->start, r->end);
	}
	lf_table_unlock();
}
