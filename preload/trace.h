/* The hooks of the fault trace (trace.c, trace_events.c), called from the
 * fault path, the region table and the exit paths. */
#ifndef LF_TRACE_H
#define LF_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lf_region;
struct lf_frames;
struct lf_fault_plan;
struct lf_fill_result;

/* ---- trace.c: the fault trace (lazyfault-trace(5)) ------------------ */
/* At initialisation, before lf_exitpath_init (which asks lf_trace_on). */
void lf_trace_open(void);
bool lf_trace_on(void);
void lf_trace_fork_child(void);
/* The hooks, one line each where they are called.  Program threads: */
struct lf_frames;
uint32_t lf_trace_region_id(void);       /* a region about to be taken; 0: no trace */
void lf_trace_site(struct lf_frames *f); /* its allocating stack (match.c, no lock held) */
void lf_trace_region(const struct lf_region *r);  /* it was taken (take.c) */
void lf_trace_released(size_t first, uintptr_t end); /* table lock held: regions first.. leave */
void lf_trace_drop(uintptr_t start, uintptr_t end);  /* MADV_DONTNEED, MADV_FREE */
/* Whoever serves a fault (I1 holds in them): */
void lf_trace_fault(const struct lf_fault_plan *p, const struct lf_fill_result *done, bool write,
		    uint32_t tid, uint64_t t0);
void lf_trace_poison(const struct lf_fault_plan *p, uint32_t tid, const char *why);
void lf_trace_handoff(const struct lf_fault_plan *p, uintptr_t start, uintptr_t end, uint64_t t0);
/* The process ends (async-signal-safe; sig 0: not by a signal). */
void lf_trace_end(int sig, uintptr_t addr, int code);
uint64_t lf_trace_records(void);
uint64_t lf_trace_dropped(void);

#endif
