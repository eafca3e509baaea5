/* Allocating call stacks (sites.c): taken once per wrapper call and shared
 * by `caller` (caller.c), the fault trace (trace_events.c) and the regions
 * of poison rules, whose sites are kept so that a poisoned page's warn
 * line, an EFAULT or a crash on it can say where its region was
 * allocated. */
#ifndef LF_SITES_H
#define LF_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lf_frames;

#define LF_SITE_FRAMES 12               /* frames kept of a poison rule's region */
#define LF_SITES_MAX_OBJECTS 1024       /* objects numbered (ids 1..) */

/* backtrace()'s first call loads libgcc_s: made at initialisation, not in
 * a wrapper later, nor in a fatal signal's handler.  Idempotent. */
void lf_sites_init(void);
/* The caller's frames, this library's left out, each a return address
 * minus one (inside the call); once per wrapper call (f->n < 0: not yet).
 * A program thread holding no lock of ours (backtrace and dladdr take the
 * loader's). */
void lf_frames_take(struct lf_frames *f);
/* Each frame as object id << 48 | offset from the object's base; frames
 * of no known object are left out.  Returns how many, at most max. */
int lf_site_encode(const struct lf_frames *f, uint64_t *frame, int max);
/* The object of an id lf_site_encode gave: its path ("" for the program
 * itself: lf.exe) and base; NULL when unknown.  Async-signal-safe. */
const char *lf_site_object(uint32_t id, uintptr_t *base);
#define LF_SITE_OBJECT(frame) ((uint32_t)((frame) >> 48))
#define LF_SITE_OFFSET(frame) ((frame) & ((UINT64_C(1) << 48) - 1))

/* match.c: region `number` of poison rule `rule` is allocated here. */
void lf_sites_keep(uint32_t rule, uint64_t number, struct lf_frames *f);
/* A page of that region was poisoned: keep its site for good (a bounded
 * table; a helper may call it: atomics only). */
void lf_sites_pin(uint32_t rule, uint64_t number);
/* The kept site of that region: how many frames into out (at most
 * LF_SITE_FRAMES), 0 when none is kept.  Async-signal-safe. */
int lf_sites_of(uint32_t rule, uint64_t number, uint64_t *out);
/* The i-th kept site (from 0): its frames into out, its region in *rule
 * and *number; -1 past the last.  Async-signal-safe. */
int lf_sites_pinned(uint32_t i, uint32_t *rule, uint64_t *number, uint64_t *out);
/* "sqlite3+0x1a2b3 < libc.so.6+0x2a1c0 ..." for a log line. */
void lf_sites_describe(const uint64_t *frame, int n, char *out, size_t len);

#endif
