/* The pages the library poisoned (poisoned.c), so that whoever meets one
 * later can say which it was: a system call that failed with EFAULT or
 * came back short on it (efault.c), a process that died touching it
 * (crash.c).  Recorded by poison.c when it installs a marker; forgotten
 * when the range is unmapped, emptied or moved (regions.c). */
#ifndef LF_POISONED_H
#define LF_POISONED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lf_region;

struct lf_poisoned {
	uintptr_t page;                 /* the page's address */
	uint32_t rule;                  /* index in lf.rt */
	uint64_t region;                /* the region's number in its rule */
	uint64_t index;                 /* the page's index in its region (from base) */
	uintptr_t base;                 /* the region's mapping */
};

/* Entries in the registry now: zero, and every look-up is one load. */
extern _Atomic uint32_t lf_poisoned_live;
static inline bool lf_poisoned_any(void)
{
	return atomic_load_explicit(&lf_poisoned_live, memory_order_relaxed) != 0;
}

/* Whoever installs a marker (a helper, or a program thread in
 * user-mode-only mode): no lock, no system call. */
void lf_poisoned_add(const struct lf_region *r, uintptr_t page);
/* The range's pages are poisoned no more (munmap, MADV_DONTNEED...). */
void lf_poisoned_forget(uintptr_t start, uintptr_t end);
/* mremap moved [old, old + len) to new_addr, markers and all. */
void lf_poisoned_move(uintptr_t old, size_t len, uintptr_t new_addr);
/* The lowest poisoned page in [start, end), if any: async-signal-safe,
 * lock-free. */
bool lf_poisoned_find(uintptr_t start, uintptr_t end, struct lf_poisoned *out);
/* Pages poisoned that the registry had no room for. */
uint64_t lf_poisoned_unrecorded(void);


/* ---- efault.c: a call whose buffer holds a poisoned page ------------ */
/* The state of one call's check, after the call (wrap_io.c): each buffer
 * the call names is given in order; the first that holds a poisoned page
 * where the call stopped is reported (warn line, the rule's counters). */
struct lf_met {
	const char *call;
	int fd;                         /* -1: none */
	void *stream;                   /* a stdio call's FILE, or NULL */
	bool failed;                    /* it failed with EFAULT */
	bool done;                      /* reported, or past where it stopped */
	uint64_t left;                  /* bytes it moved not yet matched to a buffer;
					   for a stream, the items it moved */
};
/* Whether to check a call that returned result with errno err; fills m. */
bool lf_met_begin(struct lf_met *m, const char *call, int fd, void *stream, long long result,
		  int err);
void lf_met_range(struct lf_met *m, const void *p, size_t len);
/* n items of size bytes at p (stdio). */
void lf_met_items(struct lf_met *m, const void *p, size_t size, size_t n);
/* A stdio call that failed (f's error indicator, errno EFAULT): its
 * stream's buffer, which glibc filled with an internal read. */
void lf_met_stream(const char *call, void *f);
/* The first such call of the process, as its warn line said it (stats). */
const char *lf_met_first(void);
void lf_met_fork_child(void);

#endif
