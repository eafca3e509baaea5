/* The events of the fault trace (trace.c writes the file): regions taken
 * and released, their allocation sites, faults, poisonings, handoffs.
 * The fault hooks run on helpers (I1): they only claim and store. */
#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lf.h"
#include "trace.h"
#include "trace_write.h"

#define MAX_OBJECTS 1024

static _Atomic uint32_t last_region;     /* region ids given so far */
static void *self_base;                  /* this library's base: its frames are left out */
static _Atomic uintptr_t objects[MAX_OBJECTS]; /* bases of objects named so far */

/* Set by lf_trace_poison, read by the lf_trace_fault of the same fault. */
static __thread bool poisoned_here;
/* The site of the region that the next lf_trace_region is about. */
static __thread struct {
	int n;
	uint64_t frame[LF_TRACE_SITE_FRAMES];
} site;

void lf_trace_events_init(void)
{
	Dl_info self;
	if (dladdr((void *)lf_trace_events_init, &self))
		self_base = self.dli_fbase;
}

void lf_trace_events_fork_child(void)
{
	for (size_t i = 0; i < MAX_OBJECTS; i++)
		atomic_store(&objects[i], 0);
}


uint32_t lf_trace_region_id(void)
{
	return lf_trace_hdr() ? atomic_fetch_add(&last_region, 1) + 1 : 0;
}

/* The object that holds a frame, named in the trace the first time. */
static uint64_t object_id(const Dl_info *info)
{
	uintptr_t base = (uintptr_t)info->dli_fbase;
	for (size_t i = 0; i < MAX_OBJECTS; i++) {
		uintptr_t seen = atomic_load(&objects[i]);
		if (seen == base)
			return i + 1;
		if (seen == 0 && atomic_compare_exchange_strong(&objects[i], &seen, base)) {
			char exe[4096];
			const char *name = info->dli_fname;
			size_t len = name ? strlen(name) : 0;
			if (!len) { /* the program itself */
				len = lf_trace_exe_path(exe, sizeof exe);
				name = exe;
			}
			struct lf_trace_rec r = {.type = LF_TRACE_OBJECT, .u = {i + 1, base}};
			lf_trace_emit_named(&r, LF_TRACE_S_OBJECT, (uint32_t)(i + 1), name, len);
			return i + 1;
		}
		if (seen == base)
			return i + 1;
	}
	return 0;
}

void lf_trace_site(const struct lf_frames *f)
{
	site.n = 0;
	if (!lf_trace_hdr())
		return;
	void *pcs[32];
	int n;
	if (f->n >= 0) { /* `caller` took the stack already: return addresses - 1 */
		n = f->n < 32 ? f->n : 32;
		for (int i = 0; i < n; i++)
			pcs[i] = (void *)f->pc[i];
	} else {
		n = backtrace(pcs, 32);
		for (int i = 0; i < n; i++)
			pcs[i] = (char *)pcs[i] - 1; /* inside the call, not after it */
	}
	for (int i = 0; i < n && site.n < LF_TRACE_SITE_FRAMES; i++) {
		Dl_info info;
		if (!dladdr(pcs[i], &info) || !info.dli_fbase || info.dli_fbase == self_base)
			continue;
		uint64_t off = (uint64_t)((uintptr_t)pcs[i] - (uintptr_t)info.dli_fbase);
		site.frame[site.n++] = object_id(&info) << 48 | (off & ((UINT64_C(1) << 48) - 1));
	}
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
