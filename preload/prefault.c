/* User-mode-only mode: the kernel does not ask us to fill a registered page
 * that a system call touches; the call fails with EFAULT instead (or comes
 * short).  So before such a call we fill, in the calling thread, every page
 * of its buffers that is registered and not yet present (mincore tells),
 * exactly as the helper would have served the fault. */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "signals.h"

#define CHUNK 256 /* pages per mincore call */

/* A signal handler that does I/O on untouched memory would run a second
 * serve inside this one, in the same thread: the fill-in-flight slot
 * (epochs.c) is one per thread.  Handlers wait until the page is in. */
static uintptr_t serve_with_signals_blocked(uintptr_t page, uint32_t tid)
{
	sigset_t all, old;
	sigfillset(&all);
	lf_real_sigmask(SIG_BLOCK, &all, &old);
	lf_busy++; /* what the fill allocates goes straight to glibc */
	uintptr_t end = lf_serve_fault_sync(page, true, tid);
	lf_busy--;
	lf_real_sigmask(SIG_SETMASK, &old, NULL);
	return end;
}

void lf_prefault(const void *buf, size_t len)
{
	LF_ASSERT_NO_LOCKS();
	if (!buf || !len || lf_regions_empty())
		return;
	uintptr_t a = lf_page_down((uintptr_t)buf), e = lf_page_up((uintptr_t)buf + len);
	if (e < a || !lf_regions_overlap(a, e))
		return;
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	unsigned char vec[CHUNK];
	uintptr_t served = 0, region_end = 0;
	struct lf_region r;
	int src = -1;
	while (a < e) {
		size_t pages = (e - a) / LF_PAGE;
		if (pages > CHUNK)
			pages = CHUNK;
		if (syscall(SYS_mincore, a, pages * LF_PAGE, vec) < 0) {
			/* Part of the range is not mapped: the call will fail
			 * on its own, as it would without us. */
			return;
		}
		size_t i;
		for (i = 0; i < pages; i++) {
			uintptr_t page = a + i * LF_PAGE;
			if (page >= region_end) { /* one look-up per region, not per page */
				if (lf_regions_lookup(page, &r)) {
					src = r.src;
					region_end = r.end;
				} else {
					src = -1;
					region_end = page + LF_PAGE;
				}
			}
			/* mincore reports the page cache for a shmem mapping, not
			 * its page tables: such a page is served once per window
			 * (CONTINUE on a mapped page just fails with EEXIST). */
			if (src == LF_SRC_SHMEM) {
				if (page >= served)
					served = serve_with_signals_blocked(page, tid);
				continue;
			}
			/* A poisoned page is empty for mincore: the call gets
			 * EFAULT there, as the kernel gives it. */
			if (src < 0 || (vec[i] & 1) || lf_sigbus_marker(page))
				continue;
			/* Serve, then look again from the next page: a window may
			 * have stopped short (a VMA end), so trust mincore, not the
			 * plan. */
			serve_with_signals_blocked(page, tid);
			region_end = 0; /* the region may have been handed off */
			i++;
			break;
		}
		a += i * LF_PAGE;
	}
}
