/* liblazyfault internals, shared by the files of preload/.
 *
 * The library's invariants (each file repeats the ones it relies on):
 *  I1. The helper threads never touch memory they serve, never use it as a
 *      COPY source, and never take a lock that a faulting thread may hold:
 *      no malloc, no stdio, no loader lock.  The only lock they wait for is
 *      the region table's, which nobody holds across an access to user
 *      memory and which is taken with all signals blocked (a handler that
 *      faults cannot run while it is held); the mm lock they only try
 *      (a handoff, lf_regions_handoff), never wait for.
 *  I2. Every wrapper works before the constructor, inside the library's own
 *      allocations and in any thread: the thread-local guard `lf_busy`
 *      (initial-exec TLS, never allocates) sends nested calls straight to
 *      the real functions.
 *  I3. After fork, the child closes the inherited userfaultfd (its ioctls act
 *      on the parent's memory), opens its own, registers every region again
 *      and starts its own helpers, before fork() returns in the child.
 */
#ifndef LF_H
#define LF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rules.h"

#define LF_API __attribute__((visibility("default")))
#define LF_PAGE 4096UL
#define LF_MAX_WORKERS 64
#define LF_MAX_WINDOW (4UL << 20) /* largest window served per fault */
#define LF_HANDOFF_MIN (16UL << 20) /* smallest region handed to the kernel */

static inline uintptr_t lf_page_down(uintptr_t a) { return a & ~(LF_PAGE - 1); }
static inline uintptr_t lf_page_up(uintptr_t a) { return (a + LF_PAGE - 1) & ~(LF_PAGE - 1); }

/* ---- guard.c: per-thread recursion guard ---------------------------- */
extern __thread int lf_busy;
extern __thread bool lf_signals_blocked; /* set on helper threads */

/* ---- log.c ---------------------------------------------------------- */
void lf_log_setup(const char *dest, enum lf_level level);
void lf_log(enum lf_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lf_log_fd(void);            /* a log file's descriptor (2 for stderr) */
void lf_log_moved(int fd);
#define lf_error(...) lf_log(LF_LEVEL_ERROR, __VA_ARGS__)
#define lf_warn(...) lf_log(LF_LEVEL_WARN, __VA_ARGS__)
#define lf_info(...) lf_log(LF_LEVEL_INFO, __VA_ARGS__)
#define lf_debug(...) lf_log(LF_LEVEL_DEBUG, __VA_ARGS__)

/* ---- real.c: the functions the wrappers stand in front of ----------- */
void *lf_real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int lf_real_munmap(void *addr, size_t len);
void *lf_real_mremap(void *old, size_t oldlen, size_t newlen, int flags, void *newaddr);
int lf_real_madvise(void *addr, size_t len, int advice);
void *lf_real_sym(const char *name); /* dlsym(RTLD_NEXT, name), cached by callers */

/* ---- state.c: initialisation and the process-wide state ------------- */
enum lf_state { LF_UNINIT = 0, LF_INITIALISING, LF_OFF, LF_ON };
enum lf_mode { LF_MODE_FULL, LF_MODE_USER };

/* Per-rule runtime: the parsed rule, its statistics and its poison state. */
struct lf_rule_rt {
	const struct lf_rule *rule;
	int source_fd;                  /* load from `source`, else -1 */
	/* statistics (stats.c) */
	_Atomic uint64_t regions, bytes_registered, faults;
	_Atomic uint64_t pages_zeroed, pages_loaded, bytes_read, pages_poisoned;
	_Atomic uint64_t handoffs, bytes_handed_off;
	_Atomic uint64_t lat_hist[64 * 8];
	/* poison decisions (fill.c), under `poison_lock` */
	_Atomic int poison_lock;
	uint64_t poison_faults, poisoned, rng;
	uint64_t seed;
};

struct lf_global {
	_Atomic int state;              /* enum lf_state */
	enum lf_mode mode;
	int uffd;                       /* -1 when none */
	uint64_t features;              /* what UFFDIO_API granted */
	struct lf_rules rules;
	struct lf_rule_rt *rt;          /* rules.nrules entries */
	char stats_path[4096];          /* empty: no statistics file */
	unsigned workers;
	bool abort_on_error;
};
extern struct lf_global lf;

/* True when the library serves memory (rules loaded, userfaultfd open).
 * Initialises on first call; cheap afterwards. */
bool lf_active(void);
/* Called when something the rules need fails: log, then follow on_error. */
void lf_setup_failed(const char *why);

/* ---- uffd.c: the userfaultfd --------------------------------------- */
int lf_uffd_open(enum lf_mode *mode, uint64_t *features, char *why, size_t whylen);
/* Register [start, start+len) for missing faults, or for minor faults
 * (`minor`: shmem page-cache pages, served by CONTINUE); 0 or -errno. */
int lf_uffd_register(uintptr_t start, size_t len, bool minor, uint64_t *ioctls);
int lf_uffd_unregister(uintptr_t start, size_t len);
enum lf_fill_op { LF_OP_COPY, LF_OP_ZEROPAGE, LF_OP_POISON, LF_OP_CONTINUE };
/* Fill [dst, dst+len) (COPY from src) without waking anyone: the caller
 * counts, then wakes the range, so that a woken thread never sees figures
 * that miss its own fault.  Handles EEXIST (skips the page), partial
 * EAGAIN, and ENOENT (a window that crosses a VMA end is cut to the pages
 * before it).  Returns the bytes installed, or -1 with errno ESRCH when
 * the process is exiting. */
long lf_uffd_fill(enum lf_fill_op op, uintptr_t dst, size_t len, const void *src);
void lf_uffd_wake(uintptr_t start, size_t len);

/* ---- regions.c: the table of registered regions --------------------- */
/* What a fault in the region installs: zeros; the file's bytes, copied
 * (an emulated private file mapping, or memory loaded from a `source`);
 * or, for a real private mapping of a shmem (tmpfs, memfd) file, the
 * page-cache page itself, mapped by CONTINUE with no copy. */
enum lf_src { LF_SRC_ZERO, LF_SRC_FILE, LF_SRC_SHMEM };
struct lf_region {
	uintptr_t start, end;           /* page aligned, end exclusive */
	uintptr_t base, base_end;       /* the whole mapping it came from:
					   `pages` index from base */
	uint32_t rule;                  /* index in lf.rt */
	uint8_t kind;                   /* enum lf_match */
	uint8_t src;                    /* enum lf_src: what unfilled pages hold */
	uint8_t poison_ok;              /* UFFDIO_POISON allowed on this range */
	int fd;                         /* LF_SRC_FILE: the file */
	uint64_t offset;                /* file offset of `start` */
	uint64_t dev, ino;              /* the file of a `file` region */
	int prot;                       /* as mapped (mprotect is not followed) */
	/* A read-only file region of a rule with `handoff`, never made
	 * writable nor locked since (the mprotect and mlock wrappers clear
	 * it): every page it holds is the file's, so the file itself may be
	 * mapped over it (lf_regions_handoff). */
	uint8_t handoff_ok;
	/* readahead state, owned by the helpers: the last window served;
	 * a fault just above it or just below it continues a stream */
	uintptr_t ra_lo, ra_hi;
	uint64_t ra_window;             /* 0: no stream */
};
/* Snapshot of the region that holds `addr` plus the window to serve. */
struct lf_fault_plan {
	struct lf_region r;
	uintptr_t addr;                 /* the faulting page */
	uintptr_t from;                 /* the window: [from, from+len) holds addr */
	size_t len;
	bool stream;                    /* the access is sequential (either way) */
	bool handoff;                   /* a long stream in a handoff_ok region */
	/* zero pages to map after the faulting thread is woken, off its path */
	uintptr_t later_from;
	size_t later_len;
};

void lf_regions_lock(void);
void lf_regions_unlock(void);
/* Held by a program thread across a change of the address space and the
 * table update that goes with it (mmap + register + add, munmap + remove,
 * mremap + move), so that no other thread's change slips in between: a
 * block freed by one thread and mapped again at once by another must not
 * lose its new entry to the late removal of the old one.  Never taken by a
 * helper (lf_mm_trylock at most); taken before the table lock; signals
 * blocked while held. */
void lf_mm_lock(void);
bool lf_mm_trylock(void); /* the helpers' way: never waits */
void lf_mm_unlock(void);
void lf_mm_fork_child(void);
void lf_regions_fork_child(void);
/* Add a region that has just been registered.  Caller holds nothing. */
int lf_regions_add(const struct lf_region *r);
/* Forget [start, end): the range is gone (munmap, MAP_FIXED over it). */
void lf_regions_remove(uintptr_t start, uintptr_t end);
/* The pages [start,end) now read as zeros when refilled (MADV_DONTNEED on
 * anonymous memory that was loaded from a source). */
void lf_regions_set_zero(uintptr_t start, uintptr_t end);
/* mremap moved [old, old+len) to new. */
void lf_regions_move(uintptr_t old, size_t len, uintptr_t new_addr);
/* mremap grew or shrank a region in place. */
void lf_regions_resize(uintptr_t start, size_t oldlen, size_t newlen);
bool lf_regions_overlap(uintptr_t start, uintptr_t end);
bool lf_regions_has_kind(uintptr_t start, uintptr_t end, enum lf_match kind);
bool lf_regions_empty(void);
/* The region that holds addr: its rule index, enum lf_src and end. */
bool lf_regions_at(uintptr_t addr, int *rule, int *src, uintptr_t *end);
int lf_regions_rule_at_locked(uintptr_t addr); /* the rule index, or -1 */
bool lf_regions_fd_in_use(int fd);
int lf_regions_fd_top(void); /* no region ever held a higher descriptor */
void lf_regions_relocate_fd(int from, int to);
/* The file (dev, ino) went from old_size to size bytes: empty the pages
 * of its regions between the two ends, so that their next touch sees the
 * file as it now is (SIGBUS past the end, the file's bytes before it). */
void lf_regions_file_resized(uint64_t dev, uint64_t ino, uint64_t old_size, uint64_t size);
/* Map the file itself over the file region that holds addr and forget
 * the region: the kernel serves it from then on, with no copy.  Fills in
 * [*start, *end) and returns true when done; false when the region is gone
 * or changed, or the kernel refused. */
bool lf_regions_handoff(uintptr_t addr, uintptr_t *start, uintptr_t *end);
/* True when some region may still be handed off (no lock taken). */
bool lf_regions_any_handoff(void);
/* The program made [start, end) writable or locked (or, with everything,
 * mlockall): those file regions are never handed off. */
void lf_regions_no_handoff(uintptr_t start, uintptr_t end, bool everything);
/* Look up the region of addr and decide the window; false: no region. */
bool lf_regions_plan(uintptr_t addr, struct lf_fault_plan *plan);
/* Visit every region (fork child, user-mode prefault). Lock held by caller. */
size_t lf_regions_count_locked(void);
const struct lf_region *lf_regions_at_locked(size_t i);
/* Wait until no fill that began before this call is still running, so that
 * no stale fill lands in memory whose meaning just changed. */
void lf_regions_quiesce(void);
void lf_inflight_begin(void);
void lf_inflight_end(void);

/* ---- procmap.c: what the kernel has mapped -------------------------- */
/* The VMA that holds addr: its range, and whether it is anonymous memory;
 * 0 or -errno (ENOTTY before Linux 6.11, ENOENT: nothing mapped there). */
int lf_vma_at(uintptr_t addr, uintptr_t *start, uintptr_t *end, bool *anon);

/* ---- server.c: the helper threads ---------------------------------- */
int lf_server_start(void);          /* idempotent; 0 or -1 */
void lf_server_fork_child(void);    /* the child has no helpers yet */
/* Serve one fault: find its region, fill, wake, count.  Used by the helpers
 * and by the user-mode prefault path. */
void lf_serve_fault(uintptr_t addr, bool write, uint32_t tid);
/* Returns the end of the window it served (addr + a page at least). */
uintptr_t lf_serve_fault_sync(uintptr_t addr, bool write, uint32_t tid);

/* ---- fill.c: what a fault installs ---------------------------------- */
/* Fill the plan's window (counting what it installs, waking no one);
 * then, once the faulting thread is awake, lf_fill_later() does the rest. */
void lf_fill(struct lf_fault_plan *plan, bool write, uint32_t tid);
void lf_fill_later(const struct lf_fault_plan *plan);
void lf_fill_init(void);
void *lf_fill_new_bounce(void);
void lf_fill_thread_init(void *bounce_buffer);

/* ---- stats.c -------------------------------------------------------- */
void lf_stats_fault(struct lf_rule_rt *rt, uint64_t ns);
void lf_stats_write(void);          /* async-signal-safe; once per pid */
void lf_stats_fork_child(void);
uint64_t lf_now_ns(void);

/* ---- exitpath.c: statistics however the program ends --------------- */
void lf_exitpath_init(void);

/* ---- prefault.c: user-mode-only mode -------------------------------- */
/* Make sure the registered pages of [buf, buf+len) are filled before the
 * kernel touches them (it cannot ask us in user-mode-only mode). */
void lf_prefault(const void *buf, size_t len);
static inline bool lf_user_mode(void)
{
	return atomic_load_explicit(&lf.state, memory_order_acquire) == LF_ON &&
	       lf.mode == LF_MODE_USER;
}

/* ---- wrap_protect.c: mprotect and the mlock family ------------------ */
/* mlockall(MCL_FUTURE) without MCL_ONFAULT is in force: the kernel fills
 * every new mapping as it makes it, so no rule takes one (match.c). */
extern _Atomic bool lf_locked_future;

/* ---- match.c and caller.c: which rule takes a region ---------------- */
/* Index of the first rule that takes the region, or -1.  `path` is the
 * mapped file's absolute path or NULL. */
int lf_match_region(enum lf_match kind, size_t len, const char *path, bool shared);
struct lf_frames {
	int n;                          /* -1: not taken yet */
	uintptr_t pc[64];
};
bool lf_caller_matches(size_t rule, struct lf_frames *f);
void lf_caller_init(void);

#endif
