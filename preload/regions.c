/* The table of registered regions: a sorted array of non-overlapping
 * ranges, each with the rule that took it and what its unfilled pages hold.
 *
 * The library keeps the table itself, through its wrappers of mmap, munmap,
 * mremap and madvise, rather than through userfaultfd's UNMAP/REMAP/REMOVE
 * events: those events make the program's thread wait until a helper reads
 * them, and every fill fails with EAGAIN while one is unread, which turns a
 * busy helper into stalls and deadlocks.  What bypasses the PLT is not seen
 * (README "Limits").
 *
 * Invariants:
 *  - Every access to the table is under the table lock (locks.c), except
 *    the relaxed read of its size by lf_regions_empty().
 *  - The array lives in a private mapping of the library's own (no malloc).
 *  - After a change that alters what a range must read as (unmapped, moved,
 *    now zeros), lf_epochs_quiesce() waits out fills that planned with the
 *    old table, so that none lands afterwards.
 *  - A region with a descriptor of its own (file regions) holds one
 *    reference on it (fdrefs.c) for as long as it is in the table.
 */
#include <string.h>
#include <sys/mman.h>

#include "blocks.h"
#include "filemap.h"
#include "lf.h"
#include "poisoned.h"
#include "stream.h"
#include "record.h"
#include "trace.h"

#define MAX_REGIONS (1u << 18)

static struct lf_region *table;
static size_t nregions;

static bool owns_fd(const struct lf_region *r) { return r->kind == LF_MATCH_FILE && r->fd >= 0; }

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

size_t lf_regions_lower_bound_locked(uintptr_t addr)
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

struct lf_region *lf_regions_find_locked(uintptr_t addr)
{
	if (!table)
		return NULL;
	size_t i = lf_regions_lower_bound_locked(addr);
	return i < nregions && table[i].start <= addr ? &table[i] : NULL;
}

size_t lf_regions_count_locked(void) { return nregions; }
struct lf_region *lf_regions_nth_locked(size_t i) { return &table[i]; }
bool lf_regions_empty(void) { return __atomic_load_n(&nregions, __ATOMIC_RELAXED) == 0; }

static int insert_at(size_t i, const struct lf_region *r)
{
	if (nregions >= MAX_REGIONS)
		return -1;
	memmove(&table[i + 1], &table[i], (nregions - i) * sizeof *table);
	table[i] = *r;
	nregions++;
	if (owns_fd(r))
		lf_fdrefs_hold(r->fd);
	lf_handoff_admit(&table[i]);
	lf_files_admit(&table[i]);
	return 0;
}

static void delete_at(size_t i)
{
	lf_handoff_leave(&table[i]);
	lf_files_leave(&table[i]);
	if (owns_fd(&table[i]))
		lf_fdrefs_release(table[i].fd);
	memmove(&table[i], &table[i + 1], (nregions - i - 1) * sizeof *table);
	nregions--;
}

void lf_regions_delete_locked(struct lf_region *r) { delete_at((size_t)(r - table)); }

/* Make sure no region straddles addr, by cutting the one that does. */
static int split_at(uintptr_t addr)
{
	struct lf_region *r = lf_regions_find_locked(addr);
	if (!r || r->start == addr)
		return 0;
	struct lf_region tail = *r;
	tail.start = addr;
	tail.offset += addr - r->start;
	tail.win.size = 0;
	r->end = addr;
	return insert_at((size_t)(r - table) + 1, &tail);
}

/* Cut the table at start and end; the index of the first region inside. */
static size_t isolate(uintptr_t start, uintptr_t end)
{
	split_at(start);
	split_at(end);
	return lf_regions_lower_bound_locked(start);
}

int lf_regions_add(const struct lf_region *r)
{
	lf_table_lock();
	int rc = ensure_table();
	if (rc == 0) {
		/* Whatever the table still held there is stale (unmapped behind
		 * our back, e.g. by a raw system call): the new region wins. */
		size_t i = isolate(r->start, r->end);
		while (i < nregions && table[i].start < r->end)
			delete_at(i);
		rc = insert_at(i, r);
	}
	lf_table_unlock();
	return rc;
}

void lf_regions_remove(uintptr_t start, uintptr_t end)
{
	if (!table || start >= end)
		return;
	lf_poisoned_forget(start, end);
	lf_table_lock();
	size_t i = isolate(start, end);
	lf_written_released(i, end);
	lf_trace_released(i, end);
	while (i < nregions && table[i].start < end)
		delete_at(i);
	lf_table_unlock();
	lf_epochs_quiesce();
}

void lf_regions_set_zero(uintptr_t start, uintptr_t end)
{
	if (!table || start >= end)
		return;
	lf_trace_drop(start, end);
	lf_poisoned_forget(start, end); /* emptied: the markers are gone */
	lf_table_lock();
	for (size_t i = isolate(start, end); i < nregions && table[i].start < end; i++) {
		if (table[i].kind != LF_MATCH_FILE)
			table[i].src = LF_SRC_ZERO;
		table[i].win.size = 0;
	}
	lf_table_unlock();
	lf_epochs_quiesce();
}

void lf_regions_set_fork(uintptr_t start, uintptr_t end, int advice)
{
	if (!table || start >= end)
		return;
	lf_table_lock();
	for (size_t i = isolate(start, end); i < nregions && table[i].start < end; i++) {
		uint8_t *f = &table[i].fork_advice;
		switch (advice) {
		case MADV_DONTFORK: *f |= LF_FORK_DONT; break;
		case MADV_DOFORK: *f &= (uint8_t)~LF_FORK_DONT; break;
		case MADV_WIPEONFORK: *f |= LF_FORK_WIPE; break;
		case MADV_KEEPONFORK: *f &= (uint8_t)~LF_FORK_WIPE; break;
		case MADV_HUGEPAGE:
			/* Kept, but the range stays MADV_NOHUGEPAGE while
			 * registered (take.c says why); its zero streams get
			 * huge pages (stream.c). */
			table[i].thp_no = 0;
			if (table[i].src != LF_SRC_SHMEM)
				lf_real_madvise((void *)table[i].start, table[i].end - table[i].start,
						MADV_NOHUGEPAGE);
			break;
		case MADV_NOHUGEPAGE: table[i].thp_no = 1; break;
		}
	}
	lf_table_unlock();
}

/* The child is single-threaded here (fork.c), its locks fresh.  A malloc
 * block whose every piece is gone leaves the block table too: a block the
 * child maps at the same address later must not meet a stale entry. */
void lf_regions_fork_child(void)
{
	struct gone { uintptr_t base, base_end; };
	static struct gone blocks_gone[64];
	size_t n;
	do {
		n = 0;
		lf_table_lock();
		for (size_t i = 0; table && i < nregions && n < 64;) {
			struct lf_region *r = &table[i];
			if (r->fork_advice & LF_FORK_WIPE) {
				r->src = LF_SRC_ZERO; /* fresh memory, whatever the rule loads */
				r->win.size = 0;
			}
			if (!(r->fork_advice & LF_FORK_DONT)) {
				i++;
				continue;
			}
			if (r->kind == LF_MATCH_MALLOC)
				blocks_gone[n++] = (struct gone){r->base, r->base_end};
			delete_at(i);
		}
		lf_table_unlock();
		for (size_t k = 0; k < n; k++) {
			struct lf_block b;
			if (!lf_regions_overlap(blocks_gone[k].base, blocks_gone[k].base_end))
				lf_blocks_get(blocks_gone[k].base, &b, true);
		}
	} while (n == 64);
}

/* Batches of moved pieces: static, not on the stack (a thread on a served
 * stack must not fault under the lock); the mm lock, which every caller
 * holds, keeps it private. */
#define MOVE_BATCH 256
static struct lf_region moved[MOVE_BATCH];

static uintptr_t shift(uintptr_t a, uintptr_t from, uintptr_t to) { return a - from + to; }

void lf_regions_move(uintptr_t old, size_t len, uintptr_t new_addr)
{
	if (!table)
		return;
	lf_poisoned_move(old, len, new_addr);
	size_t n;
	do {
		n = 0;
		lf_table_lock();
		size_t i = isolate(old, old + len);
		while (i < nregions && table[i].start < old + len && n < MOVE_BATCH) {
			struct lf_region *m = &moved[n++];
			*m = table[i];
			m->start = shift(m->start, old, new_addr);
			m->end = shift(m->end, old, new_addr);
			m->base = shift(m->base, old, new_addr);
			m->base_end = shift(m->base_end, old, new_addr);
			m->win.size = 0;
			if (owns_fd(m)) /* keep the descriptor open across the move */
				lf_fdrefs_hold(m->fd);
			delete_at(i);
		}
		lf_table_unlock();
		lf_epochs_quiesce();
		/* The kernel drops the registration of a moved range (no REMAP
		 * event asked for): register it again.  Nobody else knows the new
		 * address before mremap returns, so nothing can touch it between.
		 * It drops the write protection of the moved pages too: in a
		 * tracked region they count as written from now on, and keep
		 * their bytes when the file changes (filechange.c). */
		for (size_t k = 0; k < n; k++) {
			struct lf_region *m = &moved[k];
			if (lf_uffd_register(m->start, m->end - m->start, lf_region_reg(m), NULL) == 0)
				lf_regions_add(m);
			else
				lf_info("region moved by mremap to %#lx could not be registered again",
					(unsigned long)m->start);
			if (owns_fd(m)) {
				lf_table_lock();
				lf_fdrefs_release(m->fd);
				lf_table_unlock();
			}
		}
	} while (n == MOVE_BATCH); /* more pieces than one batch */
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
	lf_table_lock();
	struct lf_region *r = lf_regions_find_locked(old_end - 1);
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
			grown.win.size = 0;
			insert_at((size_t)(r - table) + 1, &grown);
		}
	}
	lf_table_unlock();
}

bool lf_regions_has_kind(uintptr_t start, uintptr_t end, enum lf_match kind)
{
	bool hit = false;
	lf_table_lock();
	for (size_t i = table ? lf_regions_lower_bound_locked(start) : 0;
	     table && i < nregions && table[i].start < end; i++)
		hit |= table[i].kind == kind;
	lf_table_unlock();
	return hit;
}

bool lf_regions_overlap(uintptr_t start, uintptr_t end)
{
	if (!table || lf_regions_empty())
		return false;
	lf_table_lock();
	size_t i = lf_regions_lower_bound_locked(start);
	bool hit = i < nregions && table[i].start < end;
	lf_table_unlock();
	return hit;
}

bool lf_regions_lookup(uintptr_t addr, struct lf_region *out)
{
	if (!table)
		return false;
	lf_table_lock();
	const struct lf_region *r = lf_regions_find_locked(addr);
	if (r)
		*out = *r;
	lf_table_unlock();
	return r != NULL;
}

bool lf_regions_lookup_from(uintptr_t addr, struct lf_region *out)
{
	lf_table_lock();
	size_t i = lf_regions_lower_bound_locked(addr); /* no table: nregions is 0 */
	bool hit = i < nregions;
	if (hit)
		*out = table[i];
	lf_table_unlock();
	return hit;
}

void lf_regions_relocate_fd(int from, int to)
{
	if (!table)
		return;
	lf_table_lock();
	for (size_t i = 0; i < nregions; i++)
		if (table[i].fd == from)
			table[i].fd = to;
	lf_fdrefs_move(from, to);
	lf_table_unlock();
}

bool lf_regions_plan(uintptr_t addr, struct lf_fault_plan *plan)
{
	if (!table)
		return false;
	lf_table_lock();
	struct lf_region *r = lf_regions_find_locked(addr);
	if (r) {
		const struct lf_rule *rule = lf.rt[r->rule].rule;
		bool one_page = rule->action == LF_ACTION_POISON;
		struct lf_window_ask ask = {
			.addr = addr, .start = r->start, .end = r->end,
			.min = lf_window_min(rule->readahead, one_page), .one_page = one_page,
			.huge = lf_stream_wanted(r),
		};
		lf_window_decide(&r->win, &ask, &plan->win);
		plan->r = *r;
		plan->addr = addr;
	}
	lf_table_unlock();
	return r != NULL;
}
