/* Long sequential reads of a file region go to the kernel (`handoff`).
 *
 * The kernel maps a file's page-cache pages into a private mapping with no
 * copy; an emulated mapping must copy every byte (UFFDIO_CONTINUE exists
 * only for shmem and hugetlbfs).  So when a stream in a region whose pages
 * can only hold the file's bytes (read only, never made writable, locked or
 * given advice the mapping keeps) has grown to 256 KiB windows (the
 * third fault in a row that continues it: sequential for sure), the
 * helper maps the file itself over the whole region, wakes every thread
 * waiting in it and forgets the region: from then on the mapping is the
 * kernel's, with the kernel's own meaning for everything.
 *
 * A region of a shmem file is already the program's own mapping of the
 * file, registered for minor faults (CONTINUE maps the page-cache pages):
 * handing it over is unregistering it, which wakes the threads waiting
 * there too.
 *
 * The helper does it under the mm lock, taken only if free (I1), so that
 * no wrapper changes the address space meanwhile.  Fills that planned with
 * the region find no registered range any more (ENOENT: they only wake);
 * the next program thread to take the mm lock waits for them (epochs.c),
 * before anything can be registered there again. */
#include <sys/mman.h>

#include "filemap.h"
#include "lf.h"
#include "procmap.h"
#include "trace.h"

/* Regions whose handoff_ok is set, so that the mprotect and madvise
 * wrappers of a program with none take no lock.  Changed under the table
 * lock only. */
static _Atomic size_t candidates;
static bool never; /* after mlockall: every mapping may be locked */

bool lf_handoff_any(void) { return atomic_load_explicit(&candidates, memory_order_relaxed) != 0; }

void lf_handoff_admit(struct lf_region *r)
{
	if (never)
		r->handoff_ok = 0;
	if (r->handoff_ok)
		atomic_fetch_add_explicit(&candidates, 1, memory_order_relaxed);
}

void lf_handoff_leave(struct lf_region *r)
{
	if (r->handoff_ok)
		atomic_fetch_sub_explicit(&candidates, 1, memory_order_relaxed);
	r->handoff_ok = 0;
}

void lf_handoff_forbid(uintptr_t start, uintptr_t end, bool everything)
{
	lf_table_lock();
	if (everything)
		never = true;
	size_t n = lf_regions_count_locked();
	for (size_t i = everything ? 0 : lf_regions_lower_bound_locked(start); i < n; i++) {
		struct lf_region *r = lf_regions_nth_locked(i);
		if (!everything && r->start >= end)
			break;
		lf_handoff_leave(r);
	}
	lf_table_unlock();
}

bool lf_handoff_wanted(const struct lf_fault_plan *p)
{
	return p->win.settled && p->r.handoff_ok && p->r.end - p->r.start >= LF_HANDOFF_MIN;
}

/* Since Linux 6.12 a file whose own mmap method fails (NFS, FUSE) leaves a
 * hole where the old mapping was.  Put anonymous memory back, registered:
 * its pages load from the file again on their next touch. */
static bool restore_after_failed_map(struct lf_region *r)
{
	void *p = lf_real_mmap((void *)r->start, r->end - r->start, r->prot,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return true; /* EEXIST: the old mapping is still there, untouched */
	r->win.size = 0;
	return p == (void *)r->start &&
	       lf_uffd_register(r->start, r->end - r->start, lf_region_reg(r), NULL) == 0;
}

/* A mapping the program made behind our back (a raw munmap, then a new
 * mapping in the hole) may lie where the table still has a region: never
 * map over it.  The faulting page is ours (its fault came to our
 * userfaultfd), and a VMA registered with us never merges with one that is
 * not: one anonymous VMA from the faulting page over the whole region
 * means the whole region is ours.  No PROCMAP_QUERY (before Linux 6.11):
 * no handoff. */
static bool still_ours(uintptr_t addr, const struct lf_region *r)
{
	uintptr_t vs, ve;
	bool anon;
	bool emulated = r->src != LF_SRC_SHMEM; /* anonymous memory over the file */
	return lf_vma_at(addr, &vs, &ve, &anon) == 0 && anon == emulated && vs <= r->start &&
	       ve >= r->end;
}

/* Mapping the file over the region; mm lock held (tried), table lock held. */
static bool map_over(uintptr_t addr, struct lf_region *r, bool *lost)
{
	if (!still_ours(addr, r)) {
		lf_handoff_leave(r);
		return false;
	}
	if (r->src == LF_SRC_SHMEM) {
		if (lf_uffd_unregister(r->start, r->end - r->start) < 0) {
			lf_handoff_leave(r);
			return false;
		}
		lf_regions_delete_locked(r);
		return true;
	}
	void *p = lf_real_mmap((void *)r->start, r->end - r->start, r->prot,
			       MAP_PRIVATE | MAP_FIXED, r->fd, (off_t)r->offset);
	if (p == MAP_FAILED) {
		lf_handoff_leave(r); /* the kernel said no: do not ask again */
		*lost = !restore_after_failed_map(r);
		return false;
	}
	lf_regions_delete_locked(r);
	return true;
}

bool lf_handoff(const struct lf_fault_plan *plan, uint64_t t0, uintptr_t *end)
{
	struct lf_rule_rt *rt = &lf.rt[plan->r.rule];
	bool ok = false, lost = false;
	uintptr_t start = 0;
	if (!lf_mm_trylock())
		return false;
	lf_table_lock();
	struct lf_region *r = lf_regions_find_locked(plan->addr);
	if (r && r->handoff_ok) {
		start = r->start;
		*end = r->end;
		ok = map_over(plan->addr, r, &lost);
	}
	lf_table_unlock();
	if (ok)
		lf_epochs_owe();
	lf_mm_unlock();
	if (lost)
		lf_error("a failed handoff left %#lx-%#lx unmapped, and it could not be served "
			 "again: its untouched pages read zeros", (unsigned long)start,
			 (unsigned long)*end);
	if (!ok)
		return false;
	/* The pages loaded so far are dropped with the old mapping: they were
	 * the file's bytes (the region was never writable), and the kernel
	 * maps the same.  Count, then wake every thread waiting in the range:
	 * they retry on the kernel's mapping. */
	atomic_fetch_add_explicit(&rt->handoffs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt->bytes_handed_off, *end - start, memory_order_relaxed);
	lf_trace_handoff(plan, start, *end, t0);
	lf_stats_fault(rt, lf_now_ns() - t0);
	lf_uffd_wake(start, *end - start);
	lf_info("rule '%s': sequential reading at %#lx: the mapping %#lx-%#lx (file offset "
		"%llu) is handed to the kernel, which maps the file itself from now on",
		rt->rule->name, (unsigned long)plan->addr, (unsigned long)start,
		(unsigned long)*end, (unsigned long long)plan->r.offset);
	return true;
}
