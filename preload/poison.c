/* Poison rules at fault time: the rule's next decision (poison_decide.c),
 * numbered in the order faults are served under the rule's spinlock (taken
 * by whoever serves a fault: a helper, or a program thread in
 * user-mode-only mode), and installing the marker with its log line. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "signals.h"
#include "poisoned.h"
#include "sites.h"
#include "trace.h"

/* The rule's lock: held for a decision or for control.c's change of a
 * rule's keys, never across anything that may wait. */
void lf_spin_lock(_Atomic int *l)
{
	while (atomic_exchange_explicit(l, 1, memory_order_acquire))
		;
}

void lf_spin_unlock(_Atomic int *l) { atomic_store_explicit(l, 0, memory_order_release); }

bool lf_poison_next(struct lf_rule_rt *rt, uint64_t index, uint64_t last)
{
	bool poison = false;
	lf_spin_lock(&rt->poison_lock);
	/* Disabled (control.c): the fault keeps its number, so that `after`
	 * and `every` name the same faults once the rule is enabled again. */
	if (atomic_load_explicit(&rt->enabled, memory_order_relaxed))
		poison = lf_poison_decide(rt->rule, &rt->poison, index, last);
	else
		rt->poison.faults++;
	lf_spin_unlock(&rt->poison_lock);
	return poison;
}

/* ", FILE offset N" for a region loaded from a file, else "". */
static void describe_file(const struct lf_fault_plan *p, char *out, size_t len)
{
	const struct lf_region *r = &p->r;
	out[0] = 0;
	if (r->fd < 0)
		return;
	char link[64], path[400];
	snprintf(link, sizeof link, "/proc/self/fd/%d", r->fd);
	long n = syscall(SYS_readlink, link, path, sizeof path - 1);
	path[n > 0 ? n : 0] = 0;
	snprintf(out, len, ", %s offset %llu", path,
		 (unsigned long long)(r->offset + (p->addr - r->start)));
}

/* No poison marker on this range (UFFDIO_POISON is refused there). */
static void without_marker(const struct lf_fault_plan *p, const struct lf_rule_rt *rt,
			   const char *why)
{
	const struct lf_region *r = &p->r;
	if (why && r->kind == LF_MATCH_FILE) {
		/* The end of a file mapping: put the file's own page there, so
		 * that the kernel raises the SIGBUS itself.  Under the table lock,
		 * and only while the region is still there: the wrappers take a
		 * range out of the table before the kernel unmaps it. */
		lf_table_lock();
		const struct lf_region *now = lf_regions_find_locked(p->addr);
		if (now && now->rule == r->rule)
			lf_real_mmap((void *)p->addr, LF_PAGE, r->prot, MAP_PRIVATE | MAP_FIXED, r->fd,
				     (off_t)(r->offset + (p->addr - r->start)));
		lf_table_unlock();
		return;
	}
	/* Never leave the page empty: its thread would fault forever. */
	lf_error("rule '%s': cannot poison %#lx (no UFFDIO_POISON on this range): filled instead",
		 rt->rule->name, (unsigned long)p->addr);
	lf_uffd_fill(LF_OP_ZEROPAGE, p->addr, LF_PAGE, NULL);
}

void lf_poison_install(const struct lf_fault_plan *p, uint32_t tid, const char *why)
{
	const struct lf_region *r = &p->r;
	struct lf_rule_rt *rt = &lf.rt[r->rule];
	if (!r->poison_ok) {
		without_marker(p, rt, why);
		return;
	}
	if (lf_uffd_fill(LF_OP_POISON, p->addr, LF_PAGE, NULL) <= 0)
		return; /* gone, or present already: its thread retries and sees */
	atomic_fetch_add_explicit(&rt->pages_poisoned, 1, memory_order_relaxed);
	lf_sigbus_poisoned(); /* its SIGBUS is the program's (sigbus.c) */
	lf_poisoned_add(r, p->addr);
	lf_trace_poison(p, tid, why);
	char where[512], site[400] = "";
	describe_file(p, where, sizeof where);
	/* Where the region was allocated, when its site is kept (sites.c):
	 * objects and offsets, which `lazyfault run` names. */
	uint64_t frame[LF_SITE_FRAMES];
	int n = lf_sites_of(r->rule, r->number, frame);
	if (n) {
		memcpy(site, "; allocated at ", 16);
		lf_sites_describe(frame, n < 4 ? n : 4, site + 15, sizeof site - 15);
	}
	lf_warn("rule '%s': poisoned page %#lx (page %llu of region %llu, %#lx-%#lx%s), thread %u%s%s%s",
		rt->rule->name, (unsigned long)p->addr,
		(unsigned long long)((p->addr - r->base) / LF_PAGE), (unsigned long long)r->number,
		(unsigned long)r->base, (unsigned long)r->base_end, where, tid, why ? ": " : "",
		why ? why : "", site);
}
