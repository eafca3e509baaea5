/* liblazyfault internals: what a run learns of its memory and what the
 * next run does with it.  Written-page tracking (written.c) and working-set
 * prefetch from the trace of an earlier run (workset.c reads it,
 * prefetch.c installs it).  The rest of what preload/ shares, and the
 * invariants, are in lf.h. */
#ifndef LF_RECORD_H
#define LF_RECORD_H

#include "lf.h"

/* ---- written.c: the pages the program wrote ------------------------- */
/* A region about to be taken can be tracked (registered for write-protect
 * faults too, LF_REG_MISSING_WP): zeros and copied bytes, on a kernel with
 * WP_ASYNC and PAGEMAP_SCAN; without them, said once at info.  mm lock
 * held. */
bool lf_written_can_track(enum lf_src src);
/* Count the pages of regions first.. (up to end) that leave the table:
 * written, or present and read only (table lock held, regions.c). */
void lf_written_released(size_t first, uintptr_t end);
/* The pages of [start, end) that madvise(advice) is about to empty
 * (MADV_DONTNEED), counted first (mm lock held, no table lock). */
void lf_written_before_drop(uintptr_t start, uintptr_t end, int advice);
/* The process ends: count what every region still holds (once per pid;
 * before the trace closes and the statistics are written). */
void lf_written_end(void);

/* ---- workset.c: the working sets of an earlier run's trace ---------- */
/* One run of pages in first-touch order, all written or all read only. */
struct lf_ws_run {
	uint64_t first;                 /* page index from the region's start as taken */
	uint32_t pages;
	uint32_t written;               /* 1: the earlier run wrote them */
};
struct lf_ws_region {
	uint32_t rule;                  /* index in lf.rt, matched by name */
	uint64_t number, size;
	uint8_t kind, src;              /* enum lf_match, enum lf_src */
	bool has_file;
	uint64_t dev, ino, fsize, mtime_ns; /* its file when it was taken */
	size_t run0, nruns;             /* its runs, in lf_ws.runs */
	_Atomic bool used;              /* a region of this run took it */
};
struct lf_ws {
	struct lf_ws_region *region;
	size_t nregions;
	struct lf_ws_run *runs;
	size_t nruns;
};
/* Read the trace at path into *ws for the rules whose `prefetch` names it;
 * false, with a reason in why, when it cannot serve (no such file, not a
 * trace, another program's). */
bool lf_ws_read(const char *path, struct lf_ws *ws, char *why, size_t whylen);

/* ---- prefetch.c: installing a working set ahead --------------------- */
/* At initialisation, before the trace opens (it may be the same file). */
void lf_prefetch_load(void);
/* A region was taken (take.c, mm lock held): a recorded one of its rule
 * and number is installed ahead, unless it changed since. */
void lf_prefetch_taken(const struct lf_region *r);
/* madvise is about to empty pages: no prefetch lands between the kernel's
 * drop and the table's update (mm lock held). */
void lf_prefetch_hold(void);
void lf_prefetch_release(void);
void lf_prefetch_fork_child(void);

#endif
