/* The events of the fault trace (trace.c writes the file): regions taken
 * and released, their allocation sites, faults, poisonings, handoffs.
 * The fault hooks run on helpers (I1): they only claim and store. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lf.h"
#include "sites.h"
#include "trace.h"
#include "trace_write.h"

static _Atomic uint32_t last_region;     /* region ids given so far */
/* The objects (sites.c's ids) this trace has named in an OBJECT record. */
static _Atomic bool named[LF_SITES_MAX_OBJECTS];

/* Set by lf_trace_poison, read by the lf_trace_fault of the same fault. */
static __thread bool poisoned_here;
/* The site of the region that the next lf_trace_region is about. */
static __thread struct {
	int n;
	uint64_t frame[LF_TRACE_SITE_FRAMES];
} site;

void lf_trace_events_init(void) { lf_sites_init(); }

/* A child's trace is a file of its own: it names its objects again. */
void lf_trace_events_fork_child(void)
{
	for (size_t i = 0; i < LF_SITES_MAX_OBJECTS; i++)
		atomic_store(&named[i], false);
}

uint32_t lf_trace_region_id(void)
{
	return lf_trace_hdr() ? atomic_fetch_add(&last_region, 1) + 1 : 0;
}

/* The OBJECT record of a frame's object, the first time the trace meets it. */
static void name_object(uint32_t id)
{
	uintptr_t base;
	const char *name = lf_site_object(id, &base);
	if (!name || atomic_exchange(&named[id - 1], true))
		return;
	struct lf_trace_rec r = {.type = LF_TRACE_OBJECT, .u = {id, base}};
	lf_trace_emit_named(&r, LF_TRACE_S_OBJECT, id, name, strlen(name));
}

void lf_trace_site(struct lf_frames *f)
{
	site.n = 0;
	if (!lf_trace_hdr())
		return;
	lf_frames_take(f);
	site.n = lf_site_encode(f, site.frame, LF_TRACE_SITE_FRAMES);
	for (int i = 0; i < site.n; i++)
		name_object(LF_SITE_OBJECT(site.frame[i]));
}

/* REGION, and for a region loaded from a file its REGION_FILE and path. */
static void emit_region(const struct lf_region *r, uint32_t number, bool inherited, uint32_t tid)
{
	struct lf_trace_header *h = lf_trace_hdr();
	struct stat st;
	char file[4096];
	size_t len = 0;
	bool has_file = r->fd >= 0 && fstat(r->fd, &st) == 0;
	if (has_file) {
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", r->fd);
		ssize_t n = readlink(link, file, sizeof file);
		len = n > 0 ? (size_t)n : 0;
	}
	bool with_site = !inherited && site.n > 0;
	struct lf_trace_rec *slot =
		lf_trace_claim(h, 1 + (has_file ? 1 + lf_trace_string_records(len) : 0) + (with_site ? 1 : 0));
	if (!slot)
		return;
	struct lf_trace_rec rec = {
		.type = LF_TRACE_REGION, .a16 = (uint16_t)r->rule, .a32 = tid,
		.flags = (uint8_t)(r->kind | r->src << 2 | (inherited ? LF_TRACE_INHERITED : 0)),
		.t = lf_trace_since_start(lf_now_ns()),
		.u = {r->trace_id, number, r->start, r->end - r->start, r->offset, (uint64_t)r->prot},
	};
	lf_trace_store(slot++, &rec);
	if (has_file) {
		struct lf_trace_rec fr = {
			.type = LF_TRACE_REGION_FILE, .t = rec.t,
			.u = {r->trace_id, (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
			      (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec},
		};
		lf_trace_store(slot++, &fr);
		lf_trace_store_string(slot, LF_TRACE_S_FILE, r->trace_id, file, len);
		slot += lf_trace_string_records(len);
	}
	if (with_site) {
		struct lf_trace_rec sr = {.type = LF_TRACE_SITE, .flags = (uint8_t)site.n, .t = rec.t,
					  .u = {r->trace_id}};
		memcpy(&sr.u[1], site.frame, (size_t)site.n * sizeof site.frame[0]);
		lf_trace_store(slot, &sr);
	}
}

void lf_trace_region(const struct lf_region *r)
{
	if (!r->trace_id || !lf_trace_hdr())
		return;
	lf_trace_make_room();
	/* The number the statistics, the log and `regions` know it by. */
	emit_region(r, (uint32_t)r->number, false, lf_trace_tid());
	site.n = 0;
}

void lf_trace_released(size_t first, uintptr_t end)
{
	if (!lf_trace_hdr())
		return;
	uint32_t tid = lf_trace_tid();
	uint64_t now = lf_trace_since_start(lf_now_ns());
	for (size_t i = first; i < lf_regions_count_locked(); i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		if (r->start >= end)
			break;
		struct lf_trace_rec rec = {.type = LF_TRACE_RELEASE, .a16 = (uint16_t)r->rule,
					   .a32 = tid, .t = now, .u = {r->trace_id, r->start, r->end}};
		lf_trace_emit(&rec);
	}
}

void lf_trace_drop(uintptr_t start, uintptr_t end)
{
	if (!lf_trace_hdr())
		return;
	lf_trace_make_room();
	struct lf_trace_rec rec = {.type = LF_TRACE_DROP, .a32 = lf_trace_tid(),
				   .t = lf_trace_since_start(lf_now_ns()), .u = {start, end}};
	lf_trace_emit(&rec);
}

/* ---- faults (helpers: I1) ------------------------------------------ */

static uint64_t page_index(const struct lf_fault_plan *p) { return (p->addr - p->r.base) / LF_PAGE; }

void lf_trace_fault(const struct lf_fault_plan *p, const struct lf_fill_result *done, bool write,
		    uint32_t tid, uint64_t t0)
{
	if (!lf_trace_hdr())
		return;
	uint64_t now = lf_now_ns();
	static const uint8_t fill_of_src[] = {[LF_SRC_ZERO] = LF_TRACE_FILL_ZERO,
					      [LF_SRC_FILE] = LF_TRACE_FILL_COPY,
					      [LF_SRC_SHMEM] = LF_TRACE_FILL_CONTINUE,
					      [LF_SRC_BAD] = LF_TRACE_FILL_POISON};
	uint8_t fill = poisoned_here ? LF_TRACE_FILL_POISON : fill_of_src[p->r.src];
	poisoned_here = false;
	struct lf_trace_rec rec = {
		.type = LF_TRACE_FAULT, .a16 = (uint16_t)p->r.rule, .a32 = tid, .t = lf_trace_since_start(t0),
		.flags = (uint8_t)(fill | (write ? LF_TRACE_WRITE : 0) |
				   (p->win.stream ? LF_TRACE_STREAM : 0)),
		.u = {p->r.trace_id, p->addr, page_index(p), done->wake_from,
		      done->wake_len + done->later_len, now > t0 ? now - t0 : 0},
	};
	lf_trace_emit(&rec);
}

void lf_trace_poison(const struct lf_fault_plan *p, uint32_t tid, const char *why)
{
	if (!lf_trace_hdr())
		return;
	poisoned_here = true;
	const struct lf_region *r = &p->r;
	struct lf_trace_rec rec = {
		.type = LF_TRACE_POISON, .flags = why ? 1 : 0, .a16 = (uint16_t)r->rule, .a32 = tid,
		.t = lf_trace_since_start(lf_now_ns()),
		.u = {r->trace_id, p->addr, page_index(p),
		      r->fd >= 0 ? r->offset + (p->addr - r->start) : UINT64_MAX},
	};
	lf_trace_emit_named(&rec, LF_TRACE_S_WHY, r->trace_id, why ? why : "", why ? strlen(why) : 0);
}

void lf_trace_handoff(const struct lf_fault_plan *p, uintptr_t start, uintptr_t end, uint64_t t0)
{
	if (!lf_trace_hdr())
		return;
	uint64_t now = lf_now_ns();
	struct lf_trace_rec rec = {.type = LF_TRACE_HANDOFF, .a16 = (uint16_t)p->r.rule,
				   .t = lf_trace_since_start(t0),
				   .u = {p->r.trace_id, start, end, now > t0 ? now - t0 : 0, p->addr}};
	lf_trace_emit(&rec);
}

/* The regions this process holds from its parent, at the start of a fork
 * child's trace.  No helper runs yet in the child, so the table lock is
 * free and nothing waits for it. */
void lf_trace_inherited(void)
{
	uint32_t tid = lf_trace_tid();
	lf_table_lock();
	for (size_t i = 0; i < lf_regions_count_locked(); i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		if (r->trace_id)
			emit_region(r, 0, true, tid);
	}
	lf_table_unlock();
}
