/* Allocating call stacks: see sites.h.
 *
 * The objects frames fall in are numbered from 1 in the order first met
 * (the ids of the fault trace's OBJECT records too), in a table of
 * LF_SITES_MAX_OBJECTS slots claimed by compare-and-swap; a name is the
 * loader's own string for the object (dladdr's dli_fname, valid while the
 * object is loaded), so that reading it needs nothing but a load.
 *
 * The sites of the regions of poison rules go into a ring of the latest
 * RING (a region freed long ago has no page to poison), each slot under a
 * sequence number (odd while written: a reader that sees it change reads
 * nothing).  When a page of a region is poisoned its site is copied into
 * the pinned table, PINNED sites for the life of the process: the sites
 * of the first PINNED poisoned regions are kept, later ones are not. */
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "lf.h"
#include "sites.h"

#define RING 1024
#define PINNED 64

static uintptr_t self_lo, self_hi;        /* this library's text */
static _Atomic int primed;

static struct {
	_Atomic uintptr_t base;
	const char *_Atomic name;
} objects[LF_SITES_MAX_OBJECTS];

struct site {
	_Atomic uint64_t seq;                 /* odd: being written */
	uint32_t rule;
	uint64_t number;
	int n;
	uint64_t frame[LF_SITE_FRAMES];
};
static struct site ring[RING];
static _Atomic uint64_t ring_next;
static struct site pinned[PINNED];
static _Atomic uint32_t npinned;          /* claimed; a slot is ready when its seq is 2 */

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (uintptr_t)&find_self >= lo &&
		    (uintptr_t)&find_self < lo + ph->p_memsz) {
			self_lo = lo;
			self_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

void lf_sites_init(void)
{
	if (atomic_exchange(&primed, 1))
		return;
	dl_iterate_phdr(find_self, NULL);
	void *warm[2];
	backtrace(warm, 2);
}

void lf_frames_take(struct lf_frames *f)
{
	if (f->n >= 0)
		return;
	lf_sites_init();
	void *pcs[64 + 16];
	int n = backtrace(pcs, 64 + 16), k = 0;
	for (int i = 0; i < n && k < 64; i++) {
		uintptr_t pc = (uintptr_t)pcs[i];
		if (pc >= self_lo && pc < self_hi)
			continue;
		f->pc[k++] = pc - 1; /* a return address: look inside the call */
	}
	f->n = k;
}

/* The id of the object based at base, named name: a new one when first met. */
static uint32_t object_id(uintptr_t base, const char *name)
{
	for (uint32_t i = 0; i < LF_SITES_MAX_OBJECTS; i++) {
		uintptr_t seen = atomic_load(&objects[i].base);
		if (seen == 0 && atomic_compare_exchange_strong(&objects[i].base, &seen, base)) {
			atomic_store(&objects[i].name, name ? name : "");
			return i + 1;
		}
		if (seen == base)
			return i + 1;
	}
	return 0;
}

int lf_site_encode(const struct lf_frames *f, uint64_t *frame, int max)
{
	int k = 0;
	for (int i = 0; i < f->n && k < max; i++) {
		Dl_info info;
		if (!dladdr((void *)f->pc[i], &info) || !info.dli_fbase)
			continue;
		/* The program itself may be named as it was started (a
		 * relative argv[0]): it is lf.exe then. */
		const char *name = info.dli_fname && info.dli_fname[0] == '/' ? info.dli_fname : "";
		uint32_t id = object_id((uintptr_t)info.dli_fbase, name);
		if (!id)
			continue;
		uint64_t off = (uint64_t)(f->pc[i] - (uintptr_t)info.dli_fbase);
		frame[k++] = (uint64_t)id << 48 | LF_SITE_OFFSET(off);
	}
	return k;
}

const char *lf_site_object(uint32_t id, uintptr_t *base)
{
	if (id == 0 || id > LF_SITES_MAX_OBJECTS)
		return NULL;
	const char *name = atomic_load(&objects[id - 1].name);
	if (!name)
		return NULL;
	if (base)
		*base = atomic_load(&objects[id - 1].base);
	return *name ? name : lf.exe;
}

void lf_sites_keep(uint32_t rule, uint64_t number, struct lf_frames *f)
{
	lf_frames_take(f);
	struct site *s = &ring[atomic_fetch_add(&ring_next, 1) % RING];
	uint64_t seq = atomic_load(&s->seq);
	atomic_store(&s->seq, seq | 1);
	atomic_thread_fence(memory_order_release);
	s->rule = rule;
	s->number = number;
	s->n = lf_site_encode(f, s->frame, LF_SITE_FRAMES);
	atomic_store_explicit(&s->seq, (seq | 1) + 1, memory_order_release);
}

/* A stable copy of s when it is the site of (rule, number). */
static bool read_site(const struct site *s, uint32_t rule, uint64_t number, struct site *out)
{
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	if (!seq || (seq & 1) || s->rule != rule || s->number != number)
		return false;
	out->rule = s->rule;
	out->number = s->number;
	out->n = s->n;
	memcpy(out->frame, s->frame, sizeof out->frame);
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->seq, memory_order_relaxed) == seq && out->n >= 0 &&
	       out->n <= LF_SITE_FRAMES;
}

static const struct site *find_pinned(uint32_t rule, uint64_t number)
{
	uint32_t n = atomic_load(&npinned);
	for (uint32_t i = 0; i < n && i < PINNED; i++)
		if (atomic_load_explicit(&pinned[i].seq, memory_order_acquire) == 2 &&
		    pinned[i].rule == rule && pinned[i].number == number)
			return &pinned[i];
	return NULL;
}

void lf_sites_pin(uint32_t rule, uint64_t number)
{
	if (find_pinned(rule, number) || atomic_load(&npinned) >= PINNED)
		return;
	struct site copy;
	uint64_t last = atomic_load(&ring_next);
	for (uint64_t k = 0; k < RING && k < last; k++) { /* the latest first */
		if (!read_site(&ring[(last - 1 - k) % RING], rule, number, &copy))
			continue;
		uint32_t i = atomic_fetch_add(&npinned, 1);
		if (i >= PINNED)
			return;
		pinned[i].rule = copy.rule;
		pinned[i].number = copy.number;
		pinned[i].n = copy.n;
		memcpy(pinned[i].frame, copy.frame, sizeof copy.frame);
		atomic_store_explicit(&pinned[i].seq, 2, memory_order_release);
		return;
	}
}

int lf_sites_of(uint32_t rule, uint64_t number, uint64_t *out)
{
	const struct site *s = find_pinned(rule, number);
	if (!s)
		return 0;
	memcpy(out, s->frame, (size_t)s->n * sizeof *out);
	return s->n;
}

int lf_sites_pinned(uint32_t i, uint32_t *rule, uint64_t *number, uint64_t *out)
{
	if (i >= PINNED || i >= atomic_load(&npinned))
		return -1;
	if (atomic_load_explicit(&pinned[i].seq, memory_order_acquire) != 2)
		return 0; /* still being copied */
	*rule = pinned[i].rule;
	*number = pinned[i].number;
	memcpy(out, pinned[i].frame, (size_t)pinned[i].n * sizeof *out);
	return pinned[i].n;
}

void lf_sites_describe(const uint64_t *frame, int n, char *out, size_t len)
{
	size_t at = 0;
	out[0] = 0;
	for (int i = 0; i < n && at + 1 < len; i++) {
		const char *name = lf_site_object(LF_SITE_OBJECT(frame[i]), NULL);
		const char *slash = name ? strrchr(name, '/') : NULL;
		int w = snprintf(out + at, len - at, "%s%s+%#llx", i ? " < " : "",
				 name ? (slash ? slash + 1 : name) : "?",
				 (unsigned long long)LF_SITE_OFFSET(frame[i]));
		if (w < 0)
			break;
		at += (size_t)w;
	}
}
