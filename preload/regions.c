/* The table of registered regions: a sorted array of non-overlapping
 * ranges, each with the rule that took it and what its unfilled pages hold.
 *
 * The library keeps the table itself, through its wrappers of mmap, munmap,
 * mremap and madvise, rather than through userfaultfd's UNMAP/REMAP/REMOVE
 * events: those events make the program's thread wait for a helper, and a
 * helper that is busy (or a worker that must read the event before any fill
 * can succeed) turns into stalls and deadlocks (KERNEL-NOTES).  What bypasses
 * the PLT is not seen; README "Limits" says what that means.
 *
 * Invariants:
 *  - The table lock is taken with every signal blocked and is never held
 *    across an access to memory the library serves, nor across a call that
 *    may wait for a helper; so a helper may take it (I1).
 *  - The array lives in a private mapping of the library's own (no malloc).
 *  - After a change that alters what a range must read as (unmapped, moved,
 *    now zeros), lf_regions_quiesce() waits out fills that planned with the
 *    old table, so that none lands afterwards.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lf.h"

#define MAX_REGIONS (1u << 18)

static struct lf_region *table;
static size_t nregions;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread sigset_t saved_mask __attribute__((tls_model("initial-exec")));

static pthread_mutex_t mm_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread sigset_t mm_mask __attribute__((tls_model("initial-exec")));

/* A program thread may run on a stack the library serves (a coroutine's,
 * or one given to pthread_attr_setstack): the locked sections must not
 * fault on it, or the helper would wait for the lock forever.  So touch,
 * before taking the lock, more stack than any locked section uses. */
static __attribute__((noinline)) void touch_stack(void)
{
	/* One page: the locked sections use well under a page of stack, and
	 * a thread may have a small stack (PTHREAD_STACK_MIN is 16 KiB). */
	volatile char pad[LF_PAGE];
	for (size_t i = 0; i < sizeof pad; i += LF_PAGE)
		pad[i] = 0;
	pad[sizeof pad - 1] = 0;
}

/* A handoff (lf_regions_handoff) leaves the wait for the fills that planned
 * with the region it gave away to the next program thread that takes the
 * mm lock: a helper must not wait for a fill that may run in a program
 * thread (user-mode-only prefault), and a stale fill can only land in a
 * range registered again, which happens under the mm lock. */
static _Atomic bool quiesce_owed;

void lf_mm_lock(void)
{
	touch_stack();
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &mm_mask);
	pthread_mutex_lock(&mm_lock);
	if (atomic_load_explicit(&quiesce_owed, memory_order_relaxed)) {
		atomic_store(&quiesce_owed, false);
		lf_regions_quiesce();
	}
}

/* For a helper, which must never wait for the mm lock (a program thread may
 * hold it while it touches memory the helper serves): take it only if free. */
bool lf_mm_trylock(void)
{
	touch_stack();
	sigset_t all;
	sigset_t old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_mutex_trylock(&mm_lock) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return false;
	}
	mm_mask = old;
	return true;
}

void lf_mm_unlock(void)
{
	pthread_mutex_unlock(&mm_lock);
	pthread_sigmask(SIG_SETMASK, &mm_mask, NULL);
}

void lf_mm_fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	mm_lock = fresh;
	pthread_sigmask(SIG_SETMASK, &mm_mask, NULL);
}

/* Helpers run with every signal blocked already: they skip the two
 * sigprocmask calls, which are a good part of a fault's cost. */
__thread bool lf_signals_blocked __attribute__((tls_model("initial-exec")));

void lf_regions_lock(void)
{
	if (!lf_signals_blocked)
		touch_stack();
	if (!lf_signals_blocked) {
		sigset_t all;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &saved_mask);
	}
	pthread_mutex_lock(&table_lock);
}

void lf_regions_unlock(void)
{
	pthread_mutex_unlock(&table_lock);
	if (!lf_signals_blocked)
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
}

/* The child of fork is single-threaded: a fresh lock is the right one
 * (the parent held it across fork through pthread_atfork's prepare). */
static void inflight_reset(void);
void lf_regions_fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	table_lock = fresh;
	inflight_reset(); /* the parent's helpers do not exist here */
	pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
}

static int ensure_table(void)
{
	if (table)
		return 0;
	void *p = lf_real_mmap(NULL, MAX_REGIONS * sizeof *table, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	table = p;
	return 0;
}

/* First index whose region ends after addr. */
static size_t lower_bound(uintptr_t addr)
{
	size_t lo = 0, hi = nregions;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (table[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct lf_region *find(uintptr_t addr)
{
	size_t i = lower_bound(addr);
	return i < nregions && table[i].start <= addr ? &table[i] : NULL;
}

/* A file region loads through a descriptor of its own (a dup of the
 * program's), shared by the pieces the region is split into: counted here,
 * closed with the last piece.  Memory loaded from a rule's `source` uses
 * the rule's descriptor, which lives as long as the process. */
#define MAX_FD (1 << 16)
static uint32_t *fd_refs;
static int fd_top = -1; /* the highest descriptor ever held */

int lf_regions_fd_top(void) { return __atomic_load_n(&fd_top, __ATOMIC_RELAXED); }

static bool owns_fd(const struct lf_region *r) { return r->kind == LF_MATCH_FILE && r->fd >= 0; }

static void fd_hold(const struct lf_region *r)
{
	if (!owns_fd(r) || r->fd >= MAX_FD)
		return;
	if (!fd_refs) {
		void *p = lf_real_mmap(NULL, MAX_FD * sizeof *fd_refs, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		fd_refs = p == MAP_FAILED ? NULL : p;
	}
	if (fd_refs)
		fd_refs[r->fd]++;
	if (r->fd > fd_top)
		__atomic_store_n(&fd_top, r->fd, __ATOMIC_RELAXED);
}

static void fd_release(const struct lf_region *r)
{
	if (owns_fd(r) && r->fd < MAX_FD && fd_refs && fd_refs[r->fd] && --fd_refs[r->fd] == 0)
		close(r->fd);
}

void lf_regions_file_resized(uint64_t dev, uint64_t ino, uint64_t old_size, uint64_t size)
{
	/* Shrunk: the pages past the new end.  Grown: the pages past the old
	 * end, which may hold the poison markers that gave SIGBUS there. */
	uint64_t lo = lf_page_up(size < old_size ? size : old_size);
	uint64_t hi = size < old_size ? UINT64_MAX : lf_page_up(size);
	if (!table || lo >= hi)
		return;
	/* Fills that read the file before it changed finish first; any fill
	 * after this reads the file as it is now. */
	lf_regions_quiesce();
	size_t emptied = 0;
	lf_regions_lock();
	for (size_t i = 0; i < nregions; i++) {
		struct lf_region *r = &table[i];
		/* A real shmem mapping is the kernel's to follow. */
		if (r->kind != LF_MATCH_FILE || r->src == LF_SRC_SHMEM || r->dev != dev ||
		    r->ino != ino)
			continue;
		uint64_t a = r->offset, b = r->offset + (r->end - r->start);
		a = a > lo ? a : lo;
		b = b < hi ? b : hi;
		if (a >= b)
			continue;
		uintptr_t from = r->start + (a - r->offset), to = r->start + (b - r->offset);
		/* DONTNEED faults nothing in: safe under the table lock. */
		lf_real_madvise((void *)from, to - from, MADV_DONTNEED);
		r->ra_window = 0;
		emptied += to - from;
	}
	lf_regions_unlock();
	/* Logged after the lock: formatting needs more stack than we touched. */
	if (emptied)
		lf_info("a mapped file changed size from %llu to %llu bytes: %zu bytes of its "
			"mappings emptied, their next touch sees the file as it is now",
			(unsigned long long)old_size, (unsigned long long)size, emptied);
}

bool lf_regions_fd_in_use(int fd)
{
	return fd >= 0 && fd < MAX_FD && fd_refs && __atomic_load_n(&fd_refs[fd], __ATOMIC_RELAXED);
}

/* The program is about to reuse descriptor number `from` (dup2 onto it):
 * every region that loads through it now loads through `to`. */
void lf_regions_relocate_fd(int from, int to)
{
	if (!table)
		return;
	lf_regions_lock();
	for (size_t i = 0; i < nregions; i++)
		if (table[i].fd == from)
			table[i].fd = to;
	if (fd_refs && from < MAX_FD && to < MAX_FD) {
		fd_refs[to] = fd_refs[from];
		fd_refs[from] = 0;
	}
	lf_regions_unlock();
}

/* Regions whose handoff_ok is set, so that the mprotect and madvise
 * wrappers of a program with none take no lock.  Changed under the table
 * lock, only here and in clear_handoff(). */
static _Atomic size_t handoff_regions;

bool lf_regions_any_handoff(void)
{
	return atomic_load_explicit(&handoff_regions, memory_order_relaxed) != 0;
}

static void clear_handoff(struct lf_region *r)
{
	if (r->handoff_ok)
		atomic_fetch_sub_explicit(&handoff_regions, 1, memory_order_relaxed);
	r->handoff_ok = 0;
}

static int insert_at(size_t i, const struct lf_region *r)
{
	if (nregions >= MAX_REGIONS)
		return -1;
	memmove(&table[i + 1], &table[i], (nregions - i) * sizeof *table);
	table[i] = *r;
	nregions++;
	fd_hold(r);
	if (r->handoff_ok)
		atomic_fetch_add_explicit(&handoff_regions, 1, memory_order_relaxed);
	return 0;
}

static void delete_at(size_t i)
{
	clear_handoff(&table[i]);
	fd_release(&table[i]);
	memmove(&table[i], &table[i + 1], (nregions - i - 1) * sizeof *table);
	nregions--;
}

/* Make sure no region straddles addr, by cutting the one that does. */
static int split_at(uintptr_t addr)
{
	struct lf_region *r = find(addr);
	if (!r || r->start == addr)
		return 0;
	struct lf_region tail = *r;
	tail.start = addr;
	tail.offset += addr - r->start;
	tail.ra_window = 0;
	r->end = addr;
	return insert_at((size_t)(r - table) + 1, &tail);
}

static bool handoff_never; /* after mlockall: every mapping may be locked */

int lf_regions_add(const struct lf_region *given)
{
	struct lf_region copy = *given, *r = &copy;
	lf_regions_lock();
	if (handoff_never)
		copy.handoff_ok = 0;
	int rc = ensure_table();
	if (rc == 0) {
		/* Whatever the table still held there is stale (unmapped behind
		 * our back, e.g. by a raw system call): the new region wins. */
		split_at(r->start);
		split_at(r->end);
		size_t i = lower_bound(r->start);
		while (i < nregions && table[i].start < r->end)
			delete_at(i);
		rc = insert_at(i, r);
	}
	lf_regions_unlock();
	return rc;
}

void lf_regions_remove(uintptr_t start, uintptr_t end)
{
	if (!table || start >= end)
		return;
	lf_regions_lock();
	split_at(start);
	split_at(end);
	size_t i = lower_bound(start);
	while (i < nregions && table[i].start < end)
		delete_at(i);
	lf_regions_unlock();
	lf_regions_quiesce();
}

void lf_regions_set_zero(uintptr_t start, uintptr_t end)
{
	if (!table || start >= end)
		return;
	lf_regions_lock();
	split_at(start);
	split_at(end);
	for (size_t i = lower_bound(start); i < nregions && table[i].start < end; i++) {
		if (table[i].kind != LF_MATCH_FILE)
			table[i].src = LF_SRC_ZERO;
		table[i].ra_window = 0;
	}
	lf_regions_unlock();
	lf_regions_quiesce();
}

/* Batches of moved pieces: static, not on the stack (a thread on a served
 * stack must not fault under the lock); the mm lock, which every caller
 * holds, keeps it private. */
static struct lf_region moved[256];

void lf_regions_move(uintptr_t old, size_t len, uintptr_t new_addr)
{
	if (!table)
		return;
	size_t n;
again:
	n = 0;
	lf_regions_lock();
	split_at(old);
	split_at(old + len);
	size_t i = lower_bound(old);
	while (i < nregions && table[i].start < old + len && n < 256) {
		moved[n] = table[i];
		moved[n].start = moved[n].start - old + new_addr;
		moved[n].end = moved[n].end - old + new_addr;
		moved[n].base = moved[n].base - old + new_addr;
		moved[n].base_end = moved[n].base_end - old + new_addr;
		moved[n].ra_window = 0;
		fd_hold(&moved[n]); /* keep the descriptor open across the move */
		n++;
		delete_at(i);
	}
	lf_regions_unlock();
	lf_regions_quiesce();
	/* The kernel drops the registration of a moved range (no REMAP event
	 * asked for): register it again.  Nobody else knows the new address
	 * before mremap returns, so nothing can touch it in between. */
	for (size_t k = 0; k < n; k++) {
		uint64_t ioctls;
		if (lf_uffd_register(moved[k].start, moved[k].end - moved[k].start,
				     moved[k].src == LF_SRC_SHMEM, &ioctls) == 0)
			lf_regions_add(&moved[k]);
		else
			lf_info("region moved by mremap to %#lx could not be registered again",
				(unsigned long)moved[k].start);
		lf_regions_lock();
		fd_release(&moved[k]);
		lf_regions_unlock();
	}
	if (n == 256)
		goto again; /* more pieces than one batch */
}

void lf_regions_resize(uintptr_t start, size_t oldlen, size_t newlen)
{
	if (!table)
		return;
	uintptr_t old_end = start + lf_page_up(oldlen), new_end = start + lf_page_up(newlen);
	if (new_end < old_end) {
		lf_regions_remove(new_end, old_end);
		return;
	}
	if (new_end == old_end)
		return;
	/* Grown in place: the kernel extends the VMA with its registration.
	 * New anonymous pages are zeros; a file mapping goes on with the file. */
	lf_regions_lock();
	struct lf_region *r = find(old_end - 1);
	if (r && r->end == old_end) {
		atomic_fetch_add_explicit(&lf.rt[r->rule].bytes_registered, new_end - old_end,
					  memory_order_relaxed);
		if (r->kind == LF_MATCH_FILE || r->src == LF_SRC_ZERO) {
			r->end = new_end;
			r->base_end = new_end;
		} else {
			struct lf_region grown = *r;
			grown.start = old_end;
			grown.end = new_end;
			grown.src = LF_SRC_ZERO;
			grown.offset += old_end - r->start;
			grown.ra_window = 0;
			insert_at((size_t)(r - table) + 1, &grown);
		}
	}
	lf_regions_unlock();
}

bool lf_regions_has_kind(uintptr_t start, uintptr_t end, enum lf_match kind)
{
	bool hit = false;
	lf_regions_lock();
	for (size_t i = table ? lower_bound(start) : 0; table && i < nregions && table[i].start < end; i++)
		hit |= table[i].kind == kind;
	lf_regions_unlock();
	return hit;
}

bool lf_regions_overlap(uintptr_t start, uintptr_t end)
{
	if (!table || lf_regions_empty())
		return false;
	lf_regions_lock();
	size_t i = lower_bound(start);
	bool hit = i < nregions && table[i].start < end;
	lf_regions_unlock();
	return hit;
}

bool lf_regions_at(uintptr_t addr, int *rule, int *src, uintptr_t *end)
{
	if (!table)
		return false;
	lf_regions_lock();
	const struct lf_region *r = find(addr);
	if (r) {
		*rule = (int)r->rule;
		*src = r->src;
		*end = r->end;
	}
	lf_regions_unlock();
	return r != NULL;
}

int lf_regions_rule_at_locked(uintptr_t addr)
{
	const struct lf_region *r = table ? find(addr) : NULL;
	return r ? (int)r->rule : -1;
}


bool lf_regions_empty(void) { return __atomic_load_n(&nregions, __ATOMIC_RELAXED) == 0; }

size_t lf_regions_count_locked(void) { return nregions; }
const struct lf_region *lf_regions_at_locked(size_t i) { return &table[i]; }

/* Decide the window.  A fault just above the last window continues a
 * forward stream, one just below it a backward stream (memcpy may copy
 * downwards); the window then doubles, up to LF_MAX_WINDOW.  Anything else
 * starts over from the rule's readahead, from the faulting page up.
 * Poison rules serve one page per fault. */
bool lf_regions_plan(uintptr_t addr, struct lf_fault_plan *plan)
{
	if (!table)
		return false;
	lf_regions_lock();
	struct lf_region *r = find(addr);
	if (!r) {
		lf_regions_unlock();
		return false;
	}
	const struct lf_rule *rule = lf.rt[r->rule].rule;
	size_t min = rule->action == LF_ACTION_POISON ? LF_PAGE : lf_page_up(rule->readahead);
	if (min == 0)
		min = LF_PAGE;
	if (min > LF_MAX_WINDOW) /* the buffers hold one window at most */
		min = LF_MAX_WINDOW;
	size_t win = min;
	/* A fault inside the last window is another thread that touched it
	 * before it was filled, or a page the window's clipping left out (a
	 * present page stopped it): the rest of the window is served from
	 * there, as part of the stream if it was one, and the stream's state
	 * stays, so that its next fault, at ra_hi, goes on growing it. */
	if (r->ra_window && addr >= r->ra_lo && addr < r->ra_hi) {
		plan->stream = rule->action != LF_ACTION_POISON && r->ra_window > min;
		plan->handoff = false;
		plan->r = *r;
		plan->addr = plan->from = addr;
		plan->len = (r->ra_hi < r->end ? r->ra_hi : r->end) - addr;
		lf_regions_unlock();
		return true;
	}
	bool up = r->ra_window && addr == r->ra_hi;
	bool down = r->ra_window && addr + LF_PAGE == r->ra_lo;
	plan->stream = rule->action != LF_ACTION_POISON && (up || down);
	if (plan->stream) {
		win = r->ra_window * 2;
		if (win > LF_MAX_WINDOW)
			win = LF_MAX_WINDOW;
		if (win < min)
			win = min;
	}
	uintptr_t from = addr, to;
	if (plan->stream && down) {
		from = addr + LF_PAGE - win;
		if (from < r->start || from > addr)
			from = r->start;
		to = addr + LF_PAGE;
	} else {
		to = addr + win > r->end || addr + win < addr ? r->end : addr + win;
	}
	/* A stream that has reached the largest window has read several MiB
	 * in order: the rest of the mapping goes to the kernel, which maps
	 * the file's page-cache pages with no copy, when it is worth it. */
	plan->handoff = plan->stream && win == LF_MAX_WINDOW && r->handoff_ok &&
			r->end - r->start >= LF_HANDOFF_MIN;
	r->ra_lo = from;
	r->ra_hi = to;
	r->ra_window = to - from;
	plan->r = *r;
	plan->addr = addr;
	plan->from = from;
	plan->len = to - from;
	lf_regions_unlock();
	return true;
}

/* Since Linux 6.12 a file whose own mmap method fails (NFS, FUSE) leaves a
 * hole where the old mapping was.  Put anonymous memory back, registered:
 * its pages load from the file again on their next touch. */
static bool restore_after_failed_map(struct lf_region *r)
{
	void *p = lf_real_mmap((void *)r->start, r->end - r->start, r->prot,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return true; /* EEXIST: the old mapping is still there, untouched */
	r->ra_window = 0;
	return p == (void *)r->start &&
	       lf_uffd_register(r->start, r->end - r->start, false, NULL) == 0;
}

/* A mapping the program made behind our back (a raw munmap, then a new
 * mapping in the hole) may lie where the table still has a region: never
 * map over it.  The faulting page is ours (its fault came to our
 * userfaultfd), and a VMA registered with us never merges with one that is
 * not: one anonymous VMA from the faulting page over the whole region
 * means the whole region is ours.  No PROCMAP_QUERY (before Linux 6.11):
 * no handoff. */
static bool still_ours(uintptr_t addr, const struct lf_region *r)
{
	uintptr_t vs, ve;
	bool anon;
	return lf_vma_at(addr, &vs, &ve, &anon) == 0 && anon && vs <= r->start && ve >= r->end;
}

/* Under the mm lock, so that no wrapper changes the address space
 * meanwhile, and only when it is free (a helper never waits for it): the
 * region is still in the table, so its addresses are still ours to replace.
 * Fills that planned with the region find no registered range any more
 * (ENOENT: they only wake); the next program thread to take the mm lock
 * waits for them (quiesce_owed), before anything can be registered there
 * again. */
bool lf_regions_handoff(uintptr_t addr, uintptr_t *start, uintptr_t *end)
{
	bool ok = false, restored = true;
	uintptr_t lost_from = 0, lost_to = 0;
	if (!table || !lf_mm_trylock())
		return false;
	lf_regions_lock();
	struct lf_region *r = find(addr);
	if (r && r->handoff_ok && !still_ours(addr, r)) {
		clear_handoff(r);
	} else if (r && r->handoff_ok) {
		void *p = lf_real_mmap((void *)r->start, r->end - r->start, r->prot,
				       MAP_PRIVATE | MAP_FIXED, r->fd, (off_t)r->offset);
		if (p != MAP_FAILED) {
			*start = r->start;
			*end = r->end;
			delete_at((size_t)(r - table));
			ok = true;
		} else {
			clear_handoff(r); /* the kernel said no: do not ask again */
			restored = restore_after_failed_map(r);
			lost_from = r->start;
			lost_to = r->end;
		}
	}
	lf_regions_unlock();
	if (!restored)
		lf_error("a failed handoff left %#lx-%#lx unmapped, and it could not be served "
			 "again: its untouched pages read zeros", (unsigned long)lost_from,
			 (unsigned long)lost_to);
	if (ok)
		atomic_store(&quiesce_owed, true);
	lf_mm_unlock();
	return ok;
}

void lf_regions_no_handoff(uintptr_t start, uintptr_t end, bool everything)
{
	lf_regions_lock();
	if (everything)
		handoff_never = true;
	if (!table) {
		lf_regions_unlock();
		return;
	}
	for (size_t i = everything ? 0 : lower_bound(start);
	     i < nregions && (everything || table[i].start < end); i++)
		clear_handoff(&table[i]);
	lf_regions_unlock();
}

/* ---- fills in flight ------------------------------------------------
 * Each fill records the epoch it began in a slot; quiesce() bumps the
 * epoch and waits for every slot that holds an older one. */
#define SLOTS 128
static _Atomic uint64_t epoch = 1;
static _Atomic uint64_t slot[SLOTS];
static __thread int my_slot __attribute__((tls_model("initial-exec"))) = -1;

void lf_inflight_begin(void)
{
	for (;;) {
		for (int i = 0; i < SLOTS; i++) {
			uint64_t zero = 0;
			uint64_t e = atomic_load(&epoch);
			if (atomic_compare_exchange_strong(&slot[i], &zero, e)) {
				my_slot = i;
				return;
			}
		}
		sched_yield();
	}
}

void lf_inflight_end(void)
{
	atomic_store(&slot[my_slot], 0);
	my_slot = -1;
}

static void inflight_reset(void)
{
	for (int i = 0; i < SLOTS; i++)
		atomic_store(&slot[i], 0);
}

void lf_regions_quiesce(void)
{
	uint64_t e = atomic_fetch_add(&epoch, 1);
	for (int i = 0; i < SLOTS; i++) {
		if (i == my_slot)
			continue;
		for (;;) {
			uint64_t s = atomic_load(&slot[i]);
			if (s == 0 || s > e)
				break;
			sched_yield();
		}
	}
}
