/* Dropping the clean pages of a tracked file region (filechange.c says
 * which and why) without ever losing a write of the program.
 *
 * The race.  A page written between the scan that finds it clean and its
 * drop would lose the write: MADV_DONTNEED drops whatever is there.  So the
 * drop is the kernel's own test instead: MADV_FREE makes a page lazily
 * freeable, and MADV_PAGEOUT frees it at once unless it was written after
 * MADV_FREE (the kernel tests the page's dirty bit under its page-table
 * lock, as memory reclaim does).  That leaves one hole: MADV_FREE itself
 * clears the dirty bit of a page written between the scan and MADV_FREE,
 * and reclaim could then free it.  Hence, for each batch of clean pages:
 *   1. pin them (vmsplice into a pipe of ours holds a reference: the kernel
 *      never frees a page someone else holds);
 *   2. MADV_FREE;
 *   3. scan again: the pages written since the first scan;
 *   4. MADV_POPULATE_WRITE on those, which marks them dirty again;
 *   5. let the pipe go, and MADV_PAGEOUT the rest.
 * A write at any moment lands either before its page's drop (the page is
 * dirty, or found written in step 3: kept) or after it (a missing page: the
 * fault loads the file as it is now, then the write goes on).
 *
 * The kernel takes a page only once it is on its LRU lists, and a page a
 * helper has just installed, or that MADV_FREE has just marked, waits in a
 * per-CPU batch first; from another CPU neither MADV_FREE nor MADV_PAGEOUT
 * can take it (it is left as it is: stale, never lost).  So the helper
 * empties its CPU's batch after installing pages (fill.c), MADV_PAGEOUT
 * empties the batch of the CPU it runs on, and when pages are left all
 * the same (the thread moved between CPUs), move_pages(2), which drains
 * every CPU's batches before it moves anything (lru_cache_disable, tens of
 * microseconds), comes before a second pass.  A kernel without NUMA has no
 * move_pages: such pages may then keep the old bytes (README "Limits").
 *
 * Runs with the mm lock held; no table lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "filemap.h"
#include "invisible.h"
#include "lf.h"
#include "pagemap_compat.h"
#include "uffd_compat.h"

#define PIN_BYTES (1 << 20)     /* what the pipe is asked to hold */

/* The runs of the first scan of a batch, and of the scans after it. */
static struct page_region clean[LF_SCAN_RUNS], later[LF_SCAN_RUNS];
static size_t pin_pages;        /* pages the pipe holds */
static char drain_buf[65536];

#define PAGEMAP lf_follow_fd[LF_FD_PAGEMAP]
#define PIN_R lf_follow_fd[LF_FD_PIN_R]
#define PIN_W lf_follow_fd[LF_FD_PIN_W]

/* Every CPU's LRU batches drained (see above), by a move_pages of a page
 * of ours to the node it is on. */
static void drain_lru_batches(void)
{
	static char page[LF_PAGE] __attribute__((aligned(LF_PAGE)));
	unsigned node = 0;
	void *pages[1] = {page};
	int nodes[1], status[1];
	page[0] = 1;
	syscall(SYS_getcpu, NULL, &node, NULL);
	nodes[0] = (int)node;
	syscall(SYS_move_pages, 0, 1, pages, nodes, status, 0);
}

static int open_pagemap(void)
{
	if (PAGEMAP < 0)
		PAGEMAP = lf_fd_place((int)syscall(SYS_openat, AT_FDCWD, "/proc/self/pagemap",
						     O_RDONLY | O_CLOEXEC));
	return PAGEMAP;
}

static int open_pin(void)
{
	if (PIN_R >= 0)
		return 0;
	int p[2];
	if (syscall(SYS_pipe2, p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	long size = syscall(SYS_fcntl, p[1], F_SETPIPE_SZ, PIN_BYTES);
	if (size < 0)
		size = syscall(SYS_fcntl, p[1], F_GETPIPE_SZ);
	pin_pages = size > 0 ? (size_t)size / LF_PAGE : 16;
	PIN_R = lf_fd_place(p[0]);
	PIN_W = lf_fd_place(p[1]);
	return 0;
}

long lf_pagemap_scan(struct pm_scan_arg *a, struct page_region *out)
{
	a->size = sizeof *a;
	a->vec = (uintptr_t)out;
	a->vec_len = LF_SCAN_RUNS;
	if (open_pagemap() < 0) /* a child of fork opens its own */
		return -1;
	return syscall(SYS_ioctl, PAGEMAP, PAGEMAP_SCAN, a);
}

static long scan(uintptr_t start, uintptr_t end, bool want_written, size_t max_pages,
		 struct page_region *out, uintptr_t *next)
{
	struct pm_scan_arg a = {
		.start = start, .end = end, .max_pages = max_pages,
		.category_mask = PAGE_IS_PRESENT | PAGE_IS_WRITTEN,
		.category_inverted = want_written ? 0 : PAGE_IS_WRITTEN, .return_mask = PAGE_IS_PRESENT,
	};
	long n = lf_pagemap_scan(&a, out);
	*next = (uintptr_t)a.walk_end;
	return n;
}

/* The kernel has what following needs: UFFD_FEATURE_WP_ASYNC (granted at
 * UFFDIO_API) and PAGEMAP_SCAN (asked of a page of ours). */
static bool kernel_can(void)
{
#ifdef LF_TEST_NO_FOLLOW
	/* A build for the test suite only (test_file.py), which shows what
	 * the library does on a kernel without them. */
	return false;
#endif
	if (!(lf.features & UFFD_FEATURE_WP_ASYNC) || open_pagemap() < 0)
		return false;
	uintptr_t page = lf_page_down((uintptr_t)clean), next;
	return scan(page, page + LF_PAGE, false, 0, clean, &next) >= 0;
}

bool lf_wp_can(void)
{
	static int can = -1; /* the mm lock is held: one caller at a time */
	if (can < 0)
		can = kernel_can();
	return can;
}

bool lf_follow_start(void)
{
	static bool told; /* the mm lock is held: one caller at a time */
	bool can = lf_wp_can();
	if (!told) {
		told = true;
		if (!can)
			lf_warn("this kernel lacks UFFD_FEATURE_WP_ASYNC or PAGEMAP_SCAN (Linux 6.7): pages "
				"of private file mappings loaded before their file changes keep the bytes "
				"they had; only changes of the file's size are followed");
	}
	lf_watch_start();
	return can;
}

/* Pin the runs (as far as the pipe goes); returns how many runs are pinned,
 * the last one cut where pinning stopped. */
static long pin(struct page_region *run, long n)
{
	for (long i = 0; i < n; i++) {
		struct iovec iov = {(void *)(uintptr_t)run[i].start, run[i].end - run[i].start};
		long got = syscall(SYS_vmsplice, PIN_W, &iov, 1, SPLICE_F_NONBLOCK);
		if (got <= 0)
			return i;
		if ((size_t)got < iov.iov_len) {
			run[i].end = run[i].start + lf_page_down((uintptr_t)got);
			return run[i].end > run[i].start ? i + 1 : i;
		}
	}
	return n;
}

static void unpin(void)
{
	while (syscall(SYS_read, PIN_R, drain_buf, sizeof drain_buf) > 0)
		;
}

static void advise_runs(const struct page_region *run, long n, int advice)
{
	for (long i = 0; i < n; i++)
		lf_real_madvise((void *)(uintptr_t)run[i].start, run[i].end - run[i].start, advice);
}

/* Steps 3 and 4: the pinned pages of [lo, hi) written since the first scan
 * are marked dirty again.  Returns their number. */
static size_t keep_written(const struct page_region *pinned, long n)
{
	uintptr_t lo = (uintptr_t)pinned[0].start, hi = (uintptr_t)pinned[n - 1].end, next;
	size_t count = 0;
	while (lo < hi) {
		long w = scan(lo, hi, true, 0, later, &next);
		if (w <= 0)
			break;
		for (long i = 0; i < w; i++) {
			/* Only where a pinned run is: pages between runs were
			 * written before the first scan and never freed. */
			for (long k = 0; k < n; k++) {
				uintptr_t a = later[i].start > pinned[k].start ? later[i].start : pinned[k].start;
				uintptr_t b = later[i].end < pinned[k].end ? later[i].end : pinned[k].end;
				if (a < b) {
					lf_real_madvise((void *)a, b - a, MADV_POPULATE_WRITE);
					count += (b - a) / LF_PAGE;
				}
			}
		}
		lo = next;
	}
	return count;
}

/* Drop the clean pages of [start, end), one pinned batch at a time; the
 * clean pages left (shared since a fork, locked, or in another CPU's
 * batch) are counted in c->kept. */
static void drop_clean_pass(uintptr_t start, uintptr_t end, struct lf_drop_counts *c)
{
	while (start < end) {
		uintptr_t next, after;
		long n = scan(start, end, false, pin_pages, clean, &next);
		if (n <= 0)
			return;
		long pinned = pin(clean, n);
		if (pinned == 0) {
			unpin();
			return; /* unreadable (PROT_NONE): left as it is */
		}
		advise_runs(clean, pinned, MADV_FREE);
		size_t again = keep_written(clean, pinned);
		unpin();
		advise_runs(clean, pinned, MADV_PAGEOUT);
		uintptr_t lo = (uintptr_t)clean[0].start, hi = (uintptr_t)clean[pinned - 1].end;
		size_t batch = 0, left = 0;
		for (long i = 0; i < pinned; i++)
			batch += (clean[i].end - clean[i].start) / LF_PAGE;
		/* What is still there and clean was not dropped: shared with a
		 * process forked since it was loaded, or locked. */
		for (uintptr_t at = lo; at < hi; at = after) {
			long k = scan(at, hi, false, 0, later, &after);
			if (k <= 0)
				break;
			for (long i = 0; i < k; i++)
				left += (later[i].end - later[i].start) / LF_PAGE;
		}
		c->dropped += batch > again + left ? batch - again - left : 0;
		c->kept += left;
		start = pinned < n ? (uintptr_t)clean[pinned - 1].end : next;
	}
}

void lf_clean_drop(uintptr_t start, uintptr_t end, struct lf_drop_counts *c)
{
	if (open_pagemap() < 0 || open_pin() < 0)
		return;
	size_t kept = c->kept;
	drop_clean_pass(start, end, c);
	if (c->kept == kept)
		return;
	drain_lru_batches();
	c->kept = kept;
	drop_clean_pass(start, end, c);
}

long lf_clean_scan(uintptr_t start, uintptr_t end, size_t max_pages, struct page_region *out,
		   uintptr_t *next)
{
	return open_pagemap() < 0 ? -1 : scan(start, end, false, max_pages, out, next);
}
