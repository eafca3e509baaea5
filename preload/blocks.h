/* liblazyfault internals: the served blocks of the malloc family (blocks.c;
 * malloc.c serves them, regions.c and fork.c keep the table right).  The
 * rest of what preload/ shares is in lf.h. */
#ifndef LF_BLOCKS_H
#define LF_BLOCKS_H

#include "lf.h"

/* ---- blocks.c: the served blocks of the malloc family --------------- */
struct lf_block {
	uintptr_t ptr;                  /* 0: free slot; 1: deleted */
	uintptr_t map;                  /* the mapping that holds it */
	size_t maplen;
};
int lf_blocks_put(uintptr_t ptr, uintptr_t map, size_t maplen);
/* Find (and with `take`, remove) the block at ptr. */
bool lf_blocks_get(uintptr_t ptr, struct lf_block *out, bool take);
extern _Atomic size_t lf_blocks_live;
/* Maybe one of ours: page aligned while blocks exist (free's fast path). */
static inline bool lf_blocks_maybe(const void *p)
{
	return p && ((uintptr_t)p & (LF_PAGE - 1)) == 0 &&
	       atomic_load_explicit(&lf_blocks_live, memory_order_relaxed);
}
void lf_blocks_fork_prepare(void);
void lf_blocks_fork_parent(void);
void lf_blocks_fork_child(void);

#endif
