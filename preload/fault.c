/* One fault, from plan to wake: the only place that decides what a fault
 * does.  The path (docs/ARCHITECTURE.md draws it):
 *   1. plan: the region's copy and the window (regions.c, window.c), in a
 *      fill epoch (epochs.c) so that a change of the table waits for us;
 *   2. a fault in no region is handed back to the kernel;
 *   3. a long stream in a file region may be handed to the kernel
 *      (handoff.c);
 *   4. a poison rule decides (poison.c), else the window is filled
 *      (fill.c), DONTWAKE;
 *   5. count (stats.c), then wake: the woken thread may end the process,
 *      and its figures must already hold its own fault;
 *   6. the rest of the window that the faulting thread need not wait for.
 * Runs on a helper, or in a program thread (user-mode-only prefault) with
 * every signal blocked; I1 holds. */
#include "badpages.h"
#include "filemap.h"
#include "lf.h"
#include "stream.h"
#include "trace.h"

/* Registered but in no region: a range that changed behind our back (a raw
 * system call), or a message read before its region was handed off.  Hand
 * the page back to the kernel, under the mm lock and only if still unknown:
 * a wrapper registers a new region, then enters it, under that lock.  Lock
 * busy: just wake, and the thread's next fault asks again. */
static void hand_back(uintptr_t addr)
{
	struct lf_region r;
	if (lf_mm_trylock()) {
		if (!lf_regions_lookup(addr, &r)) {
			lf_debug("fault at %#lx outside every region: handed back to the kernel",
				 (unsigned long)addr);
			lf_uffd_unregister(addr, LF_PAGE);
		}
		lf_mm_unlock();
	}
	lf_uffd_wake(addr, LF_PAGE);
}

static bool poisoned_now(const struct lf_fault_plan *p)
{
	struct lf_rule_rt *rt = &lf.rt[p->r.rule];
	if (p->r.src == LF_SRC_BAD)
		return true; /* a bad page of a shared file mapping (shared.c) */
	if (rt->rule->action != LF_ACTION_POISON)
		return false;
	if (rt->rule->given & LF_KEY_FILE_PAGES) /* by its index in the file */
		return lf_rule_file_page_bad(rt, (p->r.offset + (p->addr - p->r.start)) / LF_PAGE);
	return lf_poison_next(rt, (p->addr - p->r.base) / LF_PAGE,
			      (p->r.base_end - p->r.base) / LF_PAGE - 1);
}

uintptr_t lf_fault_serve(uintptr_t addr, bool write, uint32_t tid, uint64_t t0)
{
	struct lf_fault_plan plan;
	uintptr_t end;
	addr = lf_page_down(addr);
	lf_epochs_enter();
	if (!lf_regions_plan(addr, &plan)) {
		lf_epochs_leave();
		hand_back(addr);
		return addr + LF_PAGE;
	}
	if (lf_handoff_wanted(&plan) && lf_handoff(&plan, t0, &end)) {
		lf_epochs_leave();
		return end;
	}
	struct lf_fill_result done = {.wake_from = addr, .wake_len = LF_PAGE};
	if (poisoned_now(&plan)) {
		lf_poison_install(&plan, tid, NULL);
	} else if (lf_fill_alone(&plan, write)) {
		/* A random write: its page's COPY wakes it, counted first. */
		lf_trace_fault(&plan, &done, write, tid, t0);
		lf_stats_fault(&lf.rt[plan.r.rule], lf_now_ns() - t0);
		lf_fill_zero_woken(&plan);
		lf_epochs_leave();
		return addr + LF_PAGE;
	} else {
		lf_fill(&plan, write, tid, &done);
	}
	lf_trace_fault(&plan, &done, write, tid, t0);
	lf_stats_fault(&lf.rt[plan.r.rule], lf_now_ns() - t0);
	lf_uffd_wake(done.wake_from, done.wake_len);
	if (done.later_len) {
		lf_fill_later(&plan, &done);
		lf_uffd_wake(done.later_from, done.later_len); /* anyone waiting there */
	}
	if (done.after_wake)
		lf_fill_after_wake(&plan);
	lf_epochs_leave();
	end = done.wake_from + done.wake_len;
	return end > addr ? end : addr + LF_PAGE;
}
