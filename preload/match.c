/* Which rule takes a region: the first, in file order, whose match keys
 * all hold (lazyfault.ini(5), "Rules").  Runs in the mmap and malloc wrappers.
 *
 * Each rule numbers, from 1, the regions (allocations) that all its other
 * match keys let through, in the order they come (`numbered`, an atomic:
 * threads may allocate at once); `regions` then chooses among those
 * numbers, and a fail rule decides whether the allocation fails
 * (fail.c).  A region a rule lets pass for either reason goes on to the
 * next rules.  A disabled rule (control.c) still numbers, so that the
 * numbers name the same allocations whether or not it was switched off,
 * and takes nothing. */
#include <fnmatch.h>

#include "lf.h"
#include "fail.h"
#include "trace.h"
#include "sites.h"

int lf_match_region(enum lf_match kind, size_t len, const char *path, bool shared,
		    uint64_t *number)
{
	/* Not zeroed whole: 64 frames of zeros cost every mmap of a program
	 * more than the rest of the match (n = -1: none taken yet). */
	struct lf_frames frames;
	frames.n = -1;
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		const struct lf_rule *r = &lf.rules.rule[i];
		struct lf_rule_rt *rt = &lf.rt[i];
		if (r->match != kind || len < r->min_size || len > r->max_size || !rt->applies)
			continue;
		if (r->path && (!path || fnmatch(r->path, path, 0) != 0))
			continue;
		if (r->caller && !lf_caller_matches(i, &frames))
			continue;
		if (shared && !(r->given & LF_KEY_FILE_PAGES)) {
			/* The kernel keeps shared memory coherent between processes:
			 * that cannot be emulated, so it stays the kernel's (but for
			 * the bad pages of a file: shared.c). */
			lf_info("rule '%s': a shared mapping of %zu bytes%s%s is left to the kernel",
				r->name, len, path ? " of " : "", path ? path : "");
			return -1;
		}
		if (atomic_load_explicit(&lf_locked_future, memory_order_relaxed)) {
			/* After mlockall(MCL_FUTURE) the kernel fills a new mapping
			 * as it makes it, before we could register it: ours would
			 * hold zeros where a file's bytes belong.  Locked memory is
			 * all filled at once anyway: nothing lazy is left to do. */
			lf_info("rule '%s': a mapping of %zu bytes%s%s is left to the kernel "
				"(mlockall(MCL_FUTURE) is in force)", r->name, len,
				path ? " of " : "", path ? path : "");
			return -1;
		}
		uint64_t n = atomic_fetch_add_explicit(&rt->numbered, 1, memory_order_relaxed) + 1;
		if (!atomic_load_explicit(&rt->enabled, memory_order_relaxed))
			continue;
		if (rt->has_regions && !lf_page_list_has(&r->regions, n, 0))
			continue;
		if (r->action == LF_ACTION_FAIL && !lf_fail_next(rt, n))
			continue;
		*number = n;
		/* A failed allocation takes no region: no site to trace.  A
		 * poison rule's region keeps its site (sites.c). */
		if (r->action == LF_ACTION_POISON)
			lf_sites_keep((uint32_t)i, n, &frames);
		if (r->action != LF_ACTION_FAIL)
			lf_trace_site(&frames);
		return (int)i;
	}
	return -1;
}
