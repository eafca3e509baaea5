/* The registry of the pages the library poisoned: see poisoned.h.
 *
 * An open-addressing hash table of SLOTS entries keyed by page address, in
 * the library's static memory (no allocation, nothing mapped: it works in
 * any thread, in a signal handler, after fork, where the child inherits
 * both the markers and this table).
 *
 * Writers: poison.c adds from whoever serves the fault (a helper: I1, so
 * only atomics here), regions.c forgets and moves under the mm lock.  A
 * slot is claimed by a compare-and-swap of its key from empty (or a
 * deleted slot's tombstone) to BUSY, its fields stored, then its key
 * stored with release; a reader that sees the key acquires the fields,
 * and checks the key again after reading them (a slot deleted and reused
 * meanwhile reads as absent).  A probe runs to an empty slot or over the
 * whole table, whichever comes first.
 *
 * Limits: at most MAX_LIVE pages at once (a probability rule that poisons
 * more leaves the rest unrecorded, counted: their EFAULTs and crashes are
 * reported without rule, region and page); tombstones are reused by later
 * adds but never cleared, so after many adds and removals a probe may
 * cross most of the table (SLOTS compares, a few microseconds). */
#include "poisoned.h"

#include "lf.h"
#include "sites.h"

#define SLOTS 4096u                     /* a power of two */
#define MAX_LIVE (SLOTS / 4 * 3)
#define EMPTY 0u
#define TOMB 1u                         /* deleted: probes go on past it */
#define BUSY 2u                         /* being written */
#define SCAN_OVER 64u                   /* ranges of more pages: scan the table */

struct slot {
	_Atomic uintptr_t key;
	_Atomic uint32_t rule;
	_Atomic uint64_t region, index;
	_Atomic uintptr_t base;
};

static struct slot table[SLOTS];
_Atomic uint32_t lf_poisoned_live;
static _Atomic uint64_t unrecorded;

static uint32_t home(uintptr_t page)
{
	return (uint32_t)(((page >> 12) * UINT64_C(0x9E3779B97F4A7C15)) >> 52) & (SLOTS - 1);
}

static bool is_page(uintptr_t k) { return k > BUSY; }

static void put(struct slot *s, uintptr_t page, const struct lf_poisoned *v)
{
	atomic_store_explicit(&s->rule, v->rule, memory_order_relaxed);
	atomic_store_explicit(&s->region, v->region, memory_order_relaxed);
	atomic_store_explicit(&s->index, v->index, memory_order_relaxed);
	atomic_store_explicit(&s->base, v->base, memory_order_relaxed);
	atomic_store_explicit(&s->key, page, memory_order_release);
}

static void insert(uintptr_t page, const struct lf_poisoned *v)
{
	if (atomic_fetch_add(&lf_poisoned_live, 1) >= MAX_LIVE) {
		atomic_fetch_sub(&lf_poisoned_live, 1);
		atomic_fetch_add_explicit(&unrecorded, 1, memory_order_relaxed);
		return;
	}
	for (uint32_t i = 0, h = home(page); i < SLOTS; i++, h = (h + 1) & (SLOTS - 1)) {
		uintptr_t k = atomic_load_explicit(&table[h].key, memory_order_relaxed);
		if ((k == EMPTY || k == TOMB) &&
		    atomic_compare_exchange_strong(&table[h].key, &k, (uintptr_t)BUSY)) {
			put(&table[h], page, v);
			return;
		}
	}
	/* Unreachable while live stays below SLOTS, but never spin. */
	atomic_fetch_sub(&lf_poisoned_live, 1);
	atomic_fetch_add_explicit(&unrecorded, 1, memory_order_relaxed);
}

void lf_poisoned_add(const struct lf_region *r, uintptr_t page)
{
	struct lf_poisoned v = {.page = page, .rule = r->rule, .region = r->number,
				.index = (page - r->base) / LF_PAGE, .base = r->base};
	lf_sites_pin(r->rule, r->number);
	insert(page, &v);
}

/* Read slot s if it holds page (or any page, when page is 0). */
static bool read_slot(struct slot *s, uintptr_t page, struct lf_poisoned *out)
{
	uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
	if (!is_page(k) || (page && k != page))
		return false;
	out->page = k;
	out->rule = atomic_load_explicit(&s->rule, memory_order_relaxed);
	out->region = atomic_load_explicit(&s->region, memory_order_relaxed);
	out->index = atomic_load_explicit(&s->index, memory_order_relaxed);
	out->base = atomic_load_explicit(&s->base, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->key, memory_order_relaxed) == k;
}

/* The slot of page, or NULL. */
static struct slot *find_page(uintptr_t page, struct lf_poisoned *out)
{
	for (uint32_t i = 0, h = home(page); i < SLOTS; i++, h = (h + 1) & (SLOTS - 1)) {
		uintptr_t k = atomic_load_explicit(&table[h].key, memory_order_acquire);
		if (k == EMPTY)
			return NULL;
		if (k == page && read_slot(&table[h], page, out))
			return &table[h];
	}
	return NULL;
}

bool lf_poisoned_find(uintptr_t start, uintptr_t end, struct lf_poisoned *out)
{
	if (!lf_poisoned_any() || start >= end)
		return false;
	uintptr_t first = lf_page_down(start), last = lf_page_up(end);
	if ((last - first) / LF_PAGE <= SCAN_OVER) {
		for (uintptr_t p = first; p < last; p += LF_PAGE)
			if (find_page(p, out))
				return true;
		return false;
	}
	bool found = false;
	for (uint32_t i = 0; i < SLOTS; i++) {
		struct lf_poisoned v;
		if (read_slot(&table[i], 0, &v) && v.page >= first && v.page < last &&
		    (!found || v.page < out->page)) {
			*out = v;
			found = true;
		}
	}
	return found;
}

static void delete_slot(struct slot *s, uintptr_t page)
{
	uintptr_t k = page;
	if (atomic_compare_exchange_strong(&s->key, &k, (uintptr_t)TOMB))
		atomic_fetch_sub(&lf_poisoned_live, 1);
}

void lf_poisoned_forget(uintptr_t start, uintptr_t end)
{
	if (!lf_poisoned_any() || start >= end)
		return;
	uintptr_t first = lf_page_down(start), last = lf_page_up(end);
	struct lf_poisoned v;
	if ((last - first) / LF_PAGE <= SCAN_OVER) {
		for (uintptr_t p = first; p < last; p += LF_PAGE) {
			struct slot *s;
			while ((s = find_page(p, &v)) != NULL) /* a stale twin too */
				delete_slot(s, p);
		}
		return;
	}
	for (uint32_t i = 0; i < SLOTS && lf_poisoned_any(); i++)
		if (read_slot(&table[i], 0, &v) && v.page >= first && v.page < last)
			delete_slot(&table[i], v.page);
}

void lf_poisoned_move(uintptr_t old, size_t len, uintptr_t new_addr)
{
	if (!lf_poisoned_any() || !len || old == new_addr)
		return;
	/* Out first, then in: a move onto an overlapping range must not meet
	 * the pages it has just put at their new addresses. */
	/* Static, as regions.c's batch of moved pieces: the caller holds the
	 * mm lock, and may run on a served stack. */
	static struct lf_poisoned keep[64];
	size_t n = 0;
	uintptr_t first = lf_page_down(old), last = lf_page_up(old + len);
	for (uint32_t i = 0; i < SLOTS && lf_poisoned_any(); i++) {
		struct lf_poisoned v;
		if (read_slot(&table[i], 0, &v) && v.page >= first && v.page < last) {
			delete_slot(&table[i], v.page);
			if (n < 64)
				keep[n++] = v;
			else
				atomic_fetch_add_explicit(&unrecorded, 1, memory_order_relaxed);
		}
	}
	for (size_t i = 0; i < n; i++) {
		keep[i].page = keep[i].page - old + new_addr;
		keep[i].base = keep[i].base - old + new_addr;
		insert(keep[i].page, &keep[i]);
	}
}

uint64_t lf_poisoned_unrecorded(void) { return atomic_load_explicit(&unrecorded, memory_order_relaxed); }
