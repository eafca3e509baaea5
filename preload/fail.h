/* Fail rules: which allocations fail (fail.c), for the malloc family and
 * the mmap wrappers. */
#ifndef LF_FAIL_H
#define LF_FAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lf_rule_rt;

/* ---- fail.c: allocations that a fail rule fails -------------------- */
/* Allocation `number` of fail rule rt: does it fail?  (Under its lock;
 * counted and recorded when it does.) */
bool lf_fail_next(struct lf_rule_rt *rt, uint64_t number);
/* The log line of a failed call, and errno = ENOMEM for the caller to
 * return NULL or MAP_FAILED with. */
void lf_fail_report(int rule, uint64_t number, const char *call, size_t size);

#endif
