/* liblazyfault internals: what the files of preload/ share (but for the
 * headers of one concern: filemap.h, file regions beyond one fault;
 * badpages.h, bad pages of a file; blocks.h, the malloc family's blocks).
 * docs/ARCHITECTURE.md is the map (which file owns what, the path of one
 * fault, one mmap, one malloc, one fork) and explains the invariants below.
 *
 *  I1. The helper threads never touch memory they serve, never use it as a
 *      COPY source, and never take a lock that a faulting thread may hold:
 *      no malloc, no stdio streams, no loader lock (the library is linked
 *      with -z now, so no call enters the lazy-binding resolver), none of
 *      the library's own wrappers (they reach the kernel with syscall(2)).
 *      The only lock they wait for is the region table's, which nobody
 *      holds across an access to user memory and which program threads
 *      take with every signal blocked; the mm lock they only try.
 *  I2. Every wrapper works before the constructor, inside the library's own
 *      allocations and in any thread: the thread-local guard `lf_busy`
 *      (initial-exec TLS, never allocates) sends nested calls straight to
 *      the real functions.
 *  I3. After fork, the child closes the inherited userfaultfd (its ioctls act
 *      on the parent's memory), opens its own, forgets the regions it does not
 *      have (MADV_DONTFORK), registers every other region again and starts its
 *      own helpers, before fork() returns in the child.
 *  I4. Lock order: mm, then blocks (malloc.c's block table), then table.
 *      A debug build (-DLF_DEBUG) asserts it, and that no lock is held
 *      where the library touches program memory.
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
_Static_assert(LF_MAX_WINDOW == LF_READAHEAD_MAX, "the rule file's readahead cap is the window cap");
#define LF_HANDOFF_MIN (16UL << 20) /* smallest region handed to the kernel */
#define LF_POSITION_MAX 200 /* a place in the tree, "/f2/e" (seed.c), with its NUL */
#define LF_TREE_ENTRY_MAX (40 + LF_POSITION_MAX) /* "LAZYFAULT_TREE=RANDOM:PLACE" */

static inline uintptr_t lf_page_down(uintptr_t a) { return a & ~(LF_PAGE - 1); }
static inline uintptr_t lf_page_up(uintptr_t a) { return (a + LF_PAGE - 1) & ~(LF_PAGE - 1); }

/* ---- debug.c: assertions of the debug build ------------------------- */
#ifdef LF_DEBUG
void lf_assert_failed(const char *what, const char *file, int line) __attribute__((noreturn));
#define LF_ASSERT(c) ((c) ? (void)0 : lf_assert_failed(#c, __FILE__, __LINE__))
#else
#define LF_ASSERT(c) ((void)0)
#endif

/* ---- guard.c: per-thread state -------------------------------------- */
extern __thread int lf_busy;
extern __thread bool lf_signals_blocked; /* set on helper threads */

/* ---- locks.c: the mm lock and the table lock (I4) ------------------- */
enum lf_lock { LF_LOCK_MM = 1, LF_LOCK_BLOCKS = 2, LF_LOCK_TABLE = 4 };
#ifdef LF_DEBUG
extern __thread unsigned lf_locks_held;
/* Taking `l` while holding it or a lock that comes after it breaks I4. */
#define LF_LOCK_TAKEN(l) (LF_ASSERT((lf_locks_held & ~((unsigned)(l) - 1)) == 0), lf_locks_held |= (l))
#define LF_LOCK_DROPPED(l) (LF_ASSERT(lf_locks_held & (l)), lf_locks_held &= ~(unsigned)(l))
#define LF_ASSERT_NO_LOCKS() LF_ASSERT(lf_locks_held == 0)
#else
#define LF_LOCK_TAKEN(l) ((void)0)
#define LF_LOCK_DROPPED(l) ((void)0)
#define LF_ASSERT_NO_LOCKS() ((void)0)
#endif
/* Held by a program thread across a change of the address space and the
 * table update that goes with it (mmap + register + add, munmap + remove,
 * mremap + move), so that no other thread's change slips in between: a
 * block freed by one thread and mapped again at once by another must not
 * lose its new entry to the late removal of the old one.  Never waited for
 * by a helper (lf_mm_trylock); signals blocked while held. */
void lf_mm_lock(void);
bool lf_mm_trylock(void);
void lf_mm_unlock(void);
/* The region table's lock: short sections, no access to served memory, no
 * call that may wait for a helper; program threads take it with every
 * signal blocked, so a helper may wait for it (I1). */
void lf_table_lock(void);
void lf_table_unlock(void);
/* A program thread may run on a stack the library serves: touch one page
 * of it before a locked section, which uses less. */
void lf_touch_stack(void);
void lf_locks_fork_child(void);

/* ---- log.c ---------------------------------------------------------- */
void lf_log_setup(const char *dest, enum lf_level level);
void lf_log(enum lf_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lf_log_fd(void);            /* a log file's descriptor (2 for stderr) */
void lf_log_moved(int fd);
size_t lf_expand_pid(const char *tmpl, char *out, size_t outlen);
#define lf_error(...) lf_log(LF_LEVEL_ERROR, __VA_ARGS__)
#define lf_warn(...) lf_log(LF_LEVEL_WARN, __VA_ARGS__)
#define lf_info(...) lf_log(LF_LEVEL_INFO, __VA_ARGS__)
#define lf_debug(...) lf_log(LF_LEVEL_DEBUG, __VA_ARGS__)

/* ---- real.c: the functions the wrappers stand in front of ----------- */
void *lf_real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int lf_real_munmap(void *addr, size_t len);
void *lf_real_mremap(void *old, size_t oldlen, size_t newlen, int flags, void *newaddr);
int lf_real_madvise(void *addr, size_t len, int advice);
int lf_real_close(int fd);
void *lf_real_sym(const char *name); /* dlsym(RTLD_NEXT, name), cached by callers */
/* The next definition of `name` (a wrapper's real function), cached in
 * *slot; errno kept.  A wrapper called before the library loaded its
 * look-ups (another library's constructor ran first) looks it up here;
 * relaxed is enough: a thread that finds the slot empty looks the name up
 * itself, and finds the same. */
void *lf_next_lookup(void *_Atomic *slot, const char *name);
static inline void *lf_next(void *_Atomic *slot, const char *name)
{
	void *p = atomic_load_explicit(slot, memory_order_relaxed);
	return __builtin_expect(p != NULL, 1) ? p : lf_next_lookup(slot, name);
}

/* ---- state.c: initialisation and the process-wide state ------------- */
enum lf_state { LF_UNINIT = 0, LF_INITIALISING, LF_OFF, LF_ON };
enum lf_mode { LF_MODE_FULL, LF_MODE_USER };

/* Per-rule runtime: the parsed rule, its statistics and its poison state. */
struct lf_poison_state {
	uint64_t faults;                /* the rule's faults so far, numbered from 1 */
	uint64_t poisoned;              /* pages poisoned so far */
	uint64_t rng;                   /* generator state, seeded by `seed` */
};
/* The numbers of the regions a rule took (of the allocations a fail rule
 * failed), in the order taken, as ranges: the first LF_RANGES of them. */
#define LF_RANGES 16
struct lf_ranges {
	struct lf_page_span span[LF_RANGES];
	unsigned n;
	bool more;                      /* more numbers than the ranges hold */
};
struct lf_rule_rt {
	const struct lf_rule *rule;
	int source_fd;                  /* load from `source`, else -1 */
	/* which regions it takes (match.c, take.c, fail.c, control.c) */
	bool applies;                   /* `program` matches this process */
	bool has_regions;               /* the rule has `regions` */
	_Atomic bool enabled;           /* control: a disabled rule takes and poisons nothing */
	_Atomic uint64_t numbered;      /* regions (allocations) numbered so far */
	struct lf_ranges taken;         /* under the mm lock; a fail rule's under poison_lock */
	_Atomic uint64_t allocations_failed;
	uint64_t rule_seed;             /* given, or chosen for the tree; `seed` is this process's */
	/* statistics (stats.c) */
	_Atomic uint64_t regions, bytes_registered, faults;
	_Atomic uint64_t pages_zeroed, pages_loaded, bytes_read, pages_poisoned;
	_Atomic uint64_t handoffs, bytes_handed_off;
	_Atomic uint64_t fault_ns_total;        /* the sum of the service times */
	_Atomic uint64_t read_errors, reads_cut; /* io_error: reads failed, reads cut short */
	_Atomic uint64_t calls_efault, calls_short; /* calls that met a page it poisoned (efault.c) */
	_Atomic uint64_t pages_written, pages_read_only; /* written.c: found as they left */
	_Atomic uint64_t pages_prefetched;      /* prefetch.c: installed ahead */
	_Atomic uint64_t lat_hist[64 * 8];
	/* poison decisions (poison.c), fail decisions (fail.c), under
	 * `poison_lock`, as are the rule's fields that control.c changes */
	_Atomic int poison_lock;
	struct lf_poison_state poison;
	uint64_t seed;                  /* this process's: lf_process_seed() */
};

struct lf_global {
	_Atomic int state;              /* enum lf_state */
	enum lf_mode mode;
	int uffd;                       /* -1 when none */
	uint64_t features;              /* what UFFDIO_API granted */
	struct lf_rules rules;
	struct lf_rule_rt *rt;          /* rules.nrules entries */
	char stats_path[4096];          /* empty: no statistics file */
	char exe[4096];                 /* the executable, at initialisation (state.c) */
	unsigned workers;
	bool abort_on_error;
};
extern struct lf_global lf;

/* True when the library serves memory (rules loaded, userfaultfd open).
 * Initialises on first call; cheap afterwards. */
bool lf_active(void);
/* Called when something the rules need fails: log, then follow on_error. */
void lf_setup_failed(const char *why);
static inline bool lf_is_on(void)
{
	return atomic_load_explicit(&lf.state, memory_order_acquire) == LF_ON;
}
extern bool lf_serve_by_signal; /* signals.h: the kernel cannot fill for system calls either */
static inline bool lf_user_mode(void)
{
	return lf_is_on() && (lf.mode == LF_MODE_USER || lf_serve_by_signal);
}

/* ---- uffd.c: the userfaultfd, one small function per ioctl ---------- */
int lf_uffd_open(enum lf_mode *mode, uint64_t *features, char *why, size_t whylen);
/* How a range is registered: for missing faults; for minor faults (shmem
 * page-cache pages, served by CONTINUE); or for missing and write-protect
 * faults (an emulated file mapping whose loaded pages are installed
 * write-protected, so that the kernel records which the program wrote). */
enum lf_reg { LF_REG_MISSING, LF_REG_MINOR, LF_REG_MISSING_WP };
/* Register [start, start+len); 0 or -errno. */
int lf_uffd_register(uintptr_t start, size_t len, enum lf_reg how, uint64_t *ioctls);
int lf_uffd_unregister(uintptr_t start, size_t len);
/* COPY_WP: a COPY that installs the pages write-protected (LF_REG_MISSING_WP). */
enum lf_fill_op { LF_OP_COPY, LF_OP_COPY_WP, LF_OP_ZEROPAGE, LF_OP_POISON, LF_OP_CONTINUE,
		 LF_OP_COPY_WAKE /* a COPY that wakes the range itself (fill.c) */ };
/* Fill [dst, dst+len) (COPY from src) without waking anyone: the caller
 * counts, then wakes the range, so that a woken thread never sees figures
 * that miss its own fault.  Handles EEXIST (skips the page), partial
 * EAGAIN, and ENOENT (a window that crosses a VMA end is cut to the pages
 * before it).  Returns the bytes installed, or -1 with errno ESRCH when
 * the process is exiting. */
long lf_uffd_fill(enum lf_fill_op op, uintptr_t dst, size_t len, const void *src);
void lf_uffd_wake(uintptr_t start, size_t len);
/* UFFDIO_MOVE of [src, src+len) to dst, DONTWAKE: the bytes moved, or
 * -errno when none were (stream.c). */
long lf_uffd_move(uintptr_t dst, uintptr_t src, size_t len);

/* ---- window.c: how much a fault serves: window.h ------------------- */
#include "window.h"

/* ---- regions.c: the table of registered regions --------------------- */
/* What a fault in the region installs: zeros; the file's bytes, copied
 * (an emulated private file mapping, or memory loaded from a `source`);
 * or, for a real private mapping of a shmem (tmpfs, memfd) file, the
 * page-cache page itself, mapped by CONTINUE with no copy; or a poison
 * marker, always: a bad page of a shared file mapping (shared.c). */
enum lf_src { LF_SRC_ZERO, LF_SRC_FILE, LF_SRC_SHMEM, LF_SRC_BAD };
struct lf_region {
	uintptr_t start, end;           /* page aligned, end exclusive */
	uintptr_t base, base_end;       /* the whole mapping it came from:
					   `pages` index from base */
	uint32_t rule;                  /* index in lf.rt */
	uint64_t number;                /* its number in the rule, from 1 (match.c) */
	uint8_t kind;                   /* enum lf_match */
	uint8_t src;                    /* enum lf_src: what unfilled pages hold */
	uint8_t poison_ok;              /* UFFDIO_POISON allowed on this range */
	/* A read-only file region of a rule with `handoff`, never made
	 * writable nor locked since: every page it holds is the file's, so the
	 * file itself may be mapped over it (handoff.c). */
	uint8_t handoff_ok;
	uint8_t fork_advice;            /* LF_FORK_*: what fork does with it */
	/* An emulated file mapping registered for write-protect faults too,
	 * its pages loaded write-protected: the kernel records the ones the
	 * program writes (filechange.c). */
	uint8_t tracked;
	/* The program gave it MADV_NOHUGEPAGE (the library gives every
	 * registered range that advice itself, and keeps the program's). */
	uint8_t thp_no;
	/* Registered for write-protect faults too, its pages installed
	 * write-protected (all of a tracked region's): the kernel records the
	 * ones the program writes, counted when they leave (written.c). */
	uint8_t wp;
	int fd;                         /* LF_SRC_FILE: the file */
	uint64_t offset;                /* file offset of `start` */
	uint64_t dev, ino;              /* the file of a `file` region */
	int prot;                       /* as mapped (mprotect is not followed) */
	uint32_t trace_id;              /* its id in the fault trace (trace.c); 0: none */
	struct lf_window win;           /* owned by whoever serves its faults */
};

/* How the region's range is registered with the userfaultfd. */
static inline enum lf_reg lf_region_reg(const struct lf_region *r)
{
	return r->src == LF_SRC_SHMEM ? LF_REG_MINOR : r->wp ? LF_REG_MISSING_WP : LF_REG_MISSING;
}

/* The fork advice a region was given (madvise), as the kernel keeps it in
 * the VMA: MADV_DONTFORK (the child has no such range), MADV_WIPEONFORK
 * (the child's copy is fresh memory: zeros). */
enum { LF_FORK_DONT = 1, LF_FORK_WIPE = 2 };

/* Add a region that has just been registered.  Caller holds no table lock. */
int lf_regions_add(const struct lf_region *r);
/* Forget [start, end): the range is gone (munmap, MAP_FIXED over it). */
void lf_regions_remove(uintptr_t start, uintptr_t end);
/* The pages [start,end) now read as zeros when refilled (MADV_DONTNEED on
 * anonymous memory that was loaded from a source). */
void lf_regions_set_zero(uintptr_t start, uintptr_t end);
/* madvise gave [start, end) fork advice (MADV_DONTFORK, MADV_DOFORK,
 * MADV_WIPEONFORK, MADV_KEEPONFORK), or huge page advice (MADV_HUGEPAGE,
 * MADV_NOHUGEPAGE). */
void lf_regions_set_fork(uintptr_t start, uintptr_t end, int advice);
/* In the child of fork, before registering again: forget the regions the
 * child does not have (DONTFORK, and their malloc blocks), and make the
 * wiped ones (WIPEONFORK) read zeros. */
void lf_regions_fork_child(void);
/* mremap moved [old, old+len) to new. */
void lf_regions_move(uintptr_t old, size_t len, uintptr_t new_addr);
/* mremap grew or shrank a region in place. */
void lf_regions_resize(uintptr_t start, size_t oldlen, size_t newlen);
bool lf_regions_overlap(uintptr_t start, uintptr_t end);
bool lf_regions_has_kind(uintptr_t start, uintptr_t end, enum lf_match kind);
bool lf_regions_empty(void);
/* A copy of the region that holds addr (read only: nothing changes). */
bool lf_regions_lookup(uintptr_t addr, struct lf_region *out);
/* A copy of the region that holds addr or, if none does, of the first
 * above it; false when no region ends above addr. */
bool lf_regions_lookup_from(uintptr_t addr, struct lf_region *out);
/* The program is about to reuse descriptor number `from` (dup2 onto it):
 * every region that loads through it now loads through `to`. */
void lf_regions_relocate_fd(int from, int to);
/* Look up the region of addr and decide the window (window.c), keeping the
 * region's window state; false: no region. */
struct lf_fault_plan;
bool lf_regions_plan(uintptr_t addr, struct lf_fault_plan *plan);
/* With the table lock held: */
struct lf_region *lf_regions_find_locked(uintptr_t addr);
void lf_regions_delete_locked(struct lf_region *r);
size_t lf_regions_count_locked(void);
struct lf_region *lf_regions_nth_locked(size_t i);
size_t lf_regions_lower_bound_locked(uintptr_t addr); /* first index ending after addr */

/* ---- fdrefs.c: descriptors that file regions load through ----------- */
/* A file region loads through a dup of the program's descriptor, shared by
 * the pieces the region is split into: counted, closed with the last. */
void lf_fdrefs_hold(int fd);
void lf_fdrefs_release(int fd);          /* table lock held */
void lf_fdrefs_move(int from, int to);   /* table lock held */
bool lf_fdrefs_in_use(int fd);
int lf_fdrefs_top(void);                 /* no region ever held a higher one */

/* ---- epochs.c: fills in flight -------------------------------------- */
/* Each fill runs between enter and leave; lf_epochs_quiesce() waits until
 * no fill that began before it is still running, so that no stale fill
 * lands in memory whose meaning just changed. */
void lf_epochs_enter(void);
void lf_epochs_leave(void);
void lf_epochs_quiesce(void);
/* A helper must not wait for fills (one may run in a program thread): it
 * leaves the wait to the next program thread that takes the mm lock. */
void lf_epochs_owe(void);
void lf_epochs_settle(void);             /* mm lock held */
void lf_epochs_fork_child(void);

/* ---- fault.c: one fault, from plan to wake -------------------------- */
struct lf_fault_plan {
	struct lf_region r;             /* a copy of the faulting region */
	uintptr_t addr;                 /* the faulting page */
	struct lf_window_plan win;      /* the window to serve */
};
/* Serve the fault at addr (write: a write fault; tid: the faulting thread;
 * t0: when its message was read).  Returns the end of what it installed
 * (addr + a page at least). */
uintptr_t lf_fault_serve(uintptr_t addr, bool write, uint32_t tid, uint64_t t0);

/* ---- fill.c: what a fault installs ---------------------------------- */
struct lf_fill_result {
	uintptr_t wake_from;            /* wake [wake_from, +wake_len) once counted */
	size_t wake_len;
	uintptr_t later_from;           /* zero pages to map once the thread runs */
	size_t later_len;
	bool after_wake;                /* work left for lf_fill_after_wake() */
};
void lf_fill(const struct lf_fault_plan *p, bool write, uint32_t tid, struct lf_fill_result *out);
void lf_fill_later(const struct lf_fault_plan *p, const struct lf_fill_result *done);
/* A write fault whose window is its page alone, in zeros: served by one
 * COPY that also wakes the thread (lf_fill_zero_woken), one system call
 * fewer than fill, then wake. */
bool lf_fill_alone(const struct lf_fault_plan *p, bool write);
void lf_fill_zero_woken(const struct lf_fault_plan *p);
/* What need not hold the thread: the scratch of a zero stream populated
 * again (stream.c), the LRU batch of a tracked load emptied. */
void lf_fill_after_wake(const struct lf_fault_plan *p);
void lf_fill_init(void);
void *lf_fill_new_bounce(void);
/* pread of [off, off+len) as far as the file goes; *err: the error that stopped it. */
size_t lf_fill_read_file(int fd, char *buf, size_t len, uint64_t off, int *err);
void lf_fill_fork_child(void);          /* the inherited buffers are free */
void lf_fill_thread_init(void *bounce_buffer);

/* ---- poison.c: which pages are poisoned, and poisoning one ---------- */
bool lf_poison_page_listed(const struct lf_rule *r, uint64_t index, uint64_t last);
/* The rule's decision for its next fault, on page `index` of a region
 * whose last page is `last` (pure: the state is the caller's). */
bool lf_poison_decide(const struct lf_rule *r, struct lf_poison_state *s, uint64_t index,
		      uint64_t last);
/* The same, numbered in the order faults are served (the rule's lock); a
 * disabled rule numbers the fault and poisons nothing. */
bool lf_poison_next(struct lf_rule_rt *rt, uint64_t index, uint64_t last);
/* A fail rule's decision for its next allocation (pure, as above). */
bool lf_fail_decide(const struct lf_rule *r, struct lf_poison_state *s);
void lf_spin_lock(_Atomic int *l);
void lf_spin_unlock(_Atomic int *l);
/* Poison the faulting page of the plan (why: NULL for a rule's decision,
 * else the reason, e.g. past the end of the file). */
void lf_poison_install(const struct lf_fault_plan *p, uint32_t tid, const char *why);

/* ---- server.c: the helper threads ---------------------------------- */
int lf_server_start(void);          /* idempotent; 0 or -1 */
/* Start one thread of the library (every one starts here): detached, every
 * signal blocked, a small stack; 0 or the error number. */
int lf_server_spawn(void *(*fn)(void *), void *arg, const char *name);
void lf_server_fork_child(void);    /* the child has no helpers yet */
/* Serve one fault read from the userfaultfd, after its rule's delay. */
void lf_serve_fault(uintptr_t addr, bool write, uint32_t tid);
/* The same for a thread that must have the page before it goes on
 * (user-mode-only prefault): the delay is slept here.  Returns the end of
 * the window it served. */
uintptr_t lf_serve_fault_sync(uintptr_t addr, bool write, uint32_t tid);

/* ---- fork.c: the lock order across fork, and every module's reset --- */
void lf_fork_init(void);

/* ---- stats.c -------------------------------------------------------- */
void lf_stats_fault(struct lf_rule_rt *rt, uint64_t ns);
void lf_stats_write(void);          /* async-signal-safe; once per pid */
void lf_stats_fork_child(void);
void lf_stats_start(void);          /* the process starts now: its time, its parent */
void lf_stats_argv(int argc, char **argv); /* main's arguments, for the file */
uint64_t lf_now_ns(void);

/* ---- exitpath.c: statistics however the program ends --------------- */
void lf_exitpath_init(void);

/* ---- prefault.c: user-mode-only mode -------------------------------- */
/* Make sure the registered pages of [buf, buf+len) are filled before the
 * kernel touches them (it cannot ask us in user-mode-only mode). */
void lf_prefault(const void *buf, size_t len);

/* ---- take.c: a mapping a rule takes --------------------------------- */
struct stat;
/* Register a fresh mapping and enter it in the table, as region `number`
 * of the rule (lf_match_region's); false when the kernel refuses (the
 * mapping then stays the kernel's). */
bool lf_take_region(uintptr_t start, size_t len, int rule, uint64_t number, enum lf_match kind,
		    enum lf_src src, int fd, uint64_t offset, const struct stat *st, int prot);
/* Add number n to the ranges, in the order taken. */
void lf_ranges_add(struct lf_ranges *t, uint64_t n);

/* ---- wrap_protect.c: mprotect and the mlock family ------------------ */
/* mlockall(MCL_FUTURE) without MCL_ONFAULT is in force: the kernel fills
 * every new mapping as it makes it, so no rule takes one (match.c). */
extern _Atomic bool lf_locked_future;

/* ---- match.c and caller.c: which rule takes a region ---------------- */
/* Index of the first rule that takes the region, or -1; *number: the
 * region's number in that rule.  `path` is the mapped file's absolute path
 * or NULL.  A fail rule that returns here fails the allocation. */
int lf_match_region(enum lf_match kind, size_t len, const char *path, bool shared,
		    uint64_t *number);
struct lf_frames {
	int n;                          /* -1: not taken yet */
	uintptr_t pc[64];
};
bool lf_caller_matches(size_t rule, struct lf_frames *f);
void lf_caller_init(void);

#endif
