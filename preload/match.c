/* Which rule takes a region: the first, in file order, whose match keys
 * all hold (lazyfault.ini(5), "Rules").  Runs in the mmap and malloc wrappers. */
#include <fnmatch.h>

#include "lf.h"

int lf_match_region(enum lf_match kind, size_t len, const char *path, bool shared)
{
	struct lf_frames frames = {.n = -1};
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		const struct lf_rule *r = &lf.rules.rule[i];
		if (r->match != kind || len < r->min_size || len > r->max_size)
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
		lf_trace_site(&frames);
		return (int)i;
	}
	return -1;
}
