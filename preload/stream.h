/* Zero-fill streams served with 2 MiB pages moved in (stream.c). */
#ifndef LF_STREAM_H
#define LF_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lf.h"

struct lf_region;

#define LF_HUGE LF_WINDOW_HUGE /* one PMD: a transparent huge page */

/* True once the kernel grants UFFDIO_MOVE and THP is not `never`. */
extern bool lf_stream_on;
void lf_stream_init(void);       /* at initialisation, in a program thread */
void lf_stream_fork_child(void); /* the scratch holds nothing in the child */
/* The region's write streams may be served with huge pages: zeros,
 * private anonymous read-write memory, no MADV_NOHUGEPAGE of the program. */
bool lf_stream_wanted(const struct lf_region *r);
/* Install zeros in [from, from+len) (all missing), its 2 MiB aligned
 * chunks moved in as huge pages but the one of the faulting page addr (its
 * fault gave it a page table), the rest copied from `zeros` (at least
 * LF_HUGE long), none woken; returns the bytes installed, or -1 when the
 * scratch is busy (the caller copies instead). */
long lf_stream_zero(uintptr_t addr, uintptr_t from, size_t len, const void *zeros);
/* After the wake: populate the scratch for the stream's next fault. */
void lf_stream_refill(void);

#endif
