/* Allocations that a fail rule fails: the decision (poison_decide.c) under
 * the rule's lock, its count, and the line that says so.  The wrappers then
 * fail as the real call does: malloc and its family return NULL (realloc
 * leaving the old block as it was), mmap MAP_FAILED, with errno ENOMEM.
 *
 * The lock is taken by program threads here, without blocking signals: a
 * fail rule has no regions, so no helper ever waits for it, and a signal
 * handler that allocates while its thread holds it finds lf_busy set and
 * goes straight to the real call. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "fail.h"

bool lf_fail_next(struct lf_rule_rt *rt, uint64_t number)
{
	lf_spin_lock(&rt->poison_lock);
	bool fail = lf_fail_decide(rt->rule, &rt->poison);
	if (fail) {
		lf_ranges_add(&rt->taken, number);
		atomic_fetch_add_explicit(&rt->allocations_failed, 1, memory_order_relaxed);
	}
	lf_spin_unlock(&rt->poison_lock);
	return fail;
}

void lf_fail_report(int rule, uint64_t number, const char *call, size_t size)
{
	lf_warn("rule '%s': %s(%zu) fails with ENOMEM (allocation %llu of the rule), thread %ld",
		lf.rules.rule[rule].name, call, size, (unsigned long long)number,
		(long)syscall(SYS_gettid));
	errno = ENOMEM;
}
