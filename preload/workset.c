/* The working sets of an earlier run, read from its fault trace
 * (lazyfault-trace(5)) for `prefetch` (prefetch.c installs them).
 *
 * Why the trace and not a record of its own: the trace already names every
 * region by rule, number and size, with its file's device, inode, size and
 * modification time, and every range the run made present, in the order
 * it did; written.c adds the pages the run wrote (LF_TRACE_WRITTEN).  One
 * file, one format, and `lazyfault report` shows what a prefetch will do.
 *
 * A region's working set is the page of each of its faults, the windows of
 * its sequential streams (and the window that began each: a page a stream
 * brought in was never asked for again, so whether it was touched is not
 * known, and a later run that lacked it would fault there), the pages it
 * wrote, and the pages an earlier prefetch installed; each once, in the
 * order first made present, split into runs of pages all written or all
 * read only.  (The rest of a window served to a random access is left out:
 * see fault().)
 *
 * Read once, at initialisation, in the thread that initialises (it may
 * allocate: qsort); the result lives in mappings of the library's own.
 * Nothing of the file is kept: this run's trace may replace it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "record.h"
#include "trace_format.h"

#define MAX_PAGES (UINT64_C(1) << 34)   /* regions up to 64 TiB are followed */
#define RULES 65536                     /* a record's rule index is 16 bits */

static void *map(size_t bytes)
{
	void *p = lf_real_mmap(NULL, bytes ? bytes : LF_PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void unmap(void *p, size_t bytes)
{
	if (p)
		lf_real_munmap(p, bytes ? bytes : LF_PAGE);
}

/* What the reader keeps of a region while it reads. */
struct building {
	struct lf_ws_region *out;
	uint8_t *touched, *written;    /* a bit per page */
	uint64_t pages;
	uint64_t pend_first, pend_pages; /* the last window out of a stream */
};
/* A range made present, in record order (region, first page, pages). */
struct seen {
	uint32_t region;
	uint32_t pages;
	uint64_t first;
};

struct reader {
	const struct lf_trace_rec *rec;
	uint64_t n;
	int *rule_of;                  /* the recorded rule's index here, or -1 */
	struct building *b;
	uint32_t *of_id;               /* region id -> index in b, + 1 */
	uint64_t max_id;
	struct seen *seen;
	size_t nseen, seen_cap;
};

static bool bit(const uint8_t *m, uint64_t i) { return m[i / 8] >> (i % 8) & 1; }
static void set_bit(uint8_t *m, uint64_t i) { m[i / 8] |= (uint8_t)(1u << (i % 8)); }

/* The whole string of kind that follows record i, into buf. */
static size_t string_at(const struct reader *rd, uint64_t i, unsigned kind, char *buf, size_t cap)
{
	size_t len = 0;
	for (uint64_t k = i + 1; k < rd->n && rd->rec[k].type == LF_TRACE_STRING &&
				 rd->rec[k].flags == kind; k++) {
		const struct lf_trace_rec *s = &rd->rec[k];
		size_t at = (size_t)s->a16 * LF_TRACE_STRING_CHUNK, piece = LF_TRACE_STRING_CHUNK;
		if (at + piece > s->t)
			piece = s->t > at ? s->t - at : 0;
		if (at + piece >= cap)
			return 0;
		memcpy(buf + at, s->u, piece);
		len = s->t < cap ? s->t : 0;
	}
	buf[len] = 0;
	return len;
}

static struct building *region_of(struct reader *rd, uint64_t id)
{
	return id && id <= rd->max_id && rd->of_id[id] ? &rd->b[rd->of_id[id] - 1] : NULL;
}

/* Pages [first, first+pages) of region id were made present. */
static void present(struct reader *rd, uint64_t id, uint64_t first, uint64_t pages)
{
	struct building *b = region_of(rd, id);
	if (!b || first >= b->pages)
		return;
	if (pages > b->pages - first)
		pages = b->pages - first;
	for (uint64_t i = first; i < first + pages;) {
		if (bit(b->touched, i)) {
			i++;
			continue;
		}
		uint64_t from = i;
		while (i < first + pages && !bit(b->touched, i) && i - from < UINT32_MAX)
			set_bit(b->touched, i++);
		if (rd->nseen == rd->seen_cap)
			return; /* out of room: the rest is served on demand */
		rd->seen[rd->nseen++] = (struct seen){(uint32_t)(b - rd->b), (uint32_t)(i - from), from};
	}
}

static void written(struct reader *rd, uint64_t id, uint64_t first, uint64_t pages)
{
	struct building *b = region_of(rd, id);
	for (uint64_t i = first; b && i < first + pages && i < b->pages; i++)
		set_bit(b->written, i);
}

/* A fault: its own page; and the window served with it if the access was
 * sequential: a stream's window, and the window before the stream's first
 * fault (the one that began it).  A window out of a stream stays out: the
 * program asked for one page of it (a random access), and the rest would
 * cost a copy each (file bytes) or an ioctl each (the zero page) for
 * nothing the fault would not give again. */
static void fault(struct reader *rd, const struct lf_trace_rec *r)
{
	struct building *b = region_of(rd, r->u[0]);
	if (!b)
		return;
	uint64_t first = r->u[2] - (r->u[1] - r->u[3]) / LF_PAGE, pages = r->u[4] / LF_PAGE;
	if (!(r->flags & LF_TRACE_STREAM)) {
		present(rd, r->u[0], r->u[2], 1);
		b->pend_first = first;
		b->pend_pages = pages;
		return;
	}
	if (b->pend_pages)
		present(rd, r->u[0], b->pend_first, b->pend_pages);
	b->pend_pages = 0;
	present(rd, r->u[0], first, pages);
}

static int by_rule_number(const void *a, const void *b)
{
	const struct lf_ws_region *x = a, *y = b;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return x->number < y->number ? -1 : x->number > y->number;
}

/* The regions of rules that prefetch from `path`; false when none. */
static bool take_regions(struct reader *rd, const char *path, struct lf_ws *ws)
{
	size_t count = 0;
	for (uint64_t i = 0; i < rd->n; i++) {
		const struct lf_trace_rec *r = &rd->rec[i];
		if (r->type == LF_TRACE_REGION && r->u[0] > rd->max_id)
			rd->max_id = r->u[0];
		if (r->type == LF_TRACE_REGION)
			count++;
	}
	ws->region = map(count * sizeof *ws->region);
	rd->b = map(count * sizeof *rd->b);
	rd->of_id = map((rd->max_id + 1) * sizeof *rd->of_id);
	if (!ws->region || !rd->b || !rd->of_id)
		return false;
	for (uint64_t i = 0; i < rd->n; i++) {
		const struct lf_trace_rec *r = &rd->rec[i];
		if (r->type == LF_TRACE_REGION_FILE && region_of(rd, r->u[0])) {
			struct lf_ws_region *w = region_of(rd, r->u[0])->out;
			*w = (struct lf_ws_region){.rule = w->rule, .number = w->number, .size = w->size,
						   .kind = w->kind, .src = w->src, .has_file = true,
						   .dev = r->u[1], .ino = r->u[2], .fsize = r->u[3],
						   .mtime_ns = r->u[4]};
		}
		if (r->type != LF_TRACE_REGION || (r->flags & LF_TRACE_INHERITED) ||
		    rd->rule_of[r->a16] < 0)
			continue;
		int rule = rd->rule_of[r->a16];
		if (!lf.rules.rule[rule].prefetch || strcmp(lf.rules.rule[rule].prefetch, path) ||
		    r->u[3] / LF_PAGE > MAX_PAGES || rd->of_id[r->u[0]])
			continue;
		struct building *b = &rd->b[ws->nregions];
		b->out = &ws->region[ws->nregions++];
		*b->out = (struct lf_ws_region){.rule = (uint32_t)rule, .number = r->u[1], .size = r->u[3],
						.kind = r->flags & 3, .src = (r->flags >> 2) & 3};
		b->pages = r->u[3] / LF_PAGE;
		b->touched = map((b->pages + 7) / 8);
		b->written = map((b->pages + 7) / 8);
		if (!b->touched || !b->written)
			return false;
		rd->of_id[r->u[0]] = (uint32_t)ws->nregions;
	}
	return ws->nregions > 0;
}

/* Each region's ranges, in order, cut into runs all written or all not. */
static bool make_runs(struct reader *rd, struct lf_ws *ws)
{
	size_t *start = map(ws->nregions * sizeof *start), cap = 0;
	if (!start)
		return false;
	/* A run per page at most: room enough however the written pages
	 * cut the ranges (reserved, only what is used takes memory). */
	for (size_t i = 0; i < rd->nseen; i++)
		ws->region[rd->seen[i].region].nruns += rd->seen[i].pages;
	for (size_t i = 0; i < ws->nregions; i++) {
		start[i] = cap;
		cap += ws->region[i].nruns;
		ws->region[i].nruns = 0;
	}
	ws->runs = map(cap * sizeof *ws->runs);
	if (!ws->runs)
		return false;
	for (size_t i = 0; i < rd->nseen; i++) {
		const struct seen *s = &rd->seen[i];
		struct lf_ws_region *w = &ws->region[s->region];
		struct building *b = &rd->b[s->region];
		for (uint64_t p = s->first; p < s->first + s->pages;) {
			uint32_t wr = bit(b->written, p), n = 0;
			while (p + n < s->first + s->pages && bit(b->written, p + n) == wr)
				n++;
			size_t slot = start[s->region] + w->nruns;
			struct lf_ws_run *last = w->nruns ? &ws->runs[slot - 1] : NULL;
			if (last && last->written == wr && last->first + last->pages == p) {
				last->pages += n; /* a window that went on where the last one ended */
			} else {
				ws->runs[slot] = (struct lf_ws_run){p, n, wr};
				w->nruns++;
			}
			p += n;
		}
	}
	for (size_t i = 0; i < ws->nregions; i++)
		ws->region[i].run0 = start[i];
	ws->nruns = cap;
	unmap(start, ws->nregions * sizeof *start);
	return true;
}

/* Map the file and check it is a trace this run can use; *h: the mapping. */
static const struct lf_trace_rec *open_trace(const char *path, const struct lf_trace_header **hp,
					     uint64_t *n, size_t *len, const char **why)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	*why = "cannot open it";
	if (fd < 0)
		return NULL;
	const struct lf_trace_header *h = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= LF_TRACE_HEADER_SIZE) {
		void *p = lf_real_mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		h = p == MAP_FAILED ? NULL : p;
		*len = (size_t)st.st_size;
	}
	syscall(SYS_close, fd);
	*why = "not a fault trace of this library";
	if (!h)
		return NULL;
	if (memcmp(h->magic, LF_TRACE_MAGIC, 8) || h->version != LF_TRACE_VERSION ||
	    h->record_size != LF_TRACE_RECORD_SIZE || h->page_size != LF_PAGE ||
	    h->header_size < sizeof *h || h->header_size > *len) {
		lf_real_munmap((void *)h, *len);
		return NULL;
	}
	*hp = h;
	uint64_t used = h->cursor & ~LF_TRACE_CLOSED, fits = (*len - h->header_size) / LF_TRACE_RECORD_SIZE;
	*n = used < fits ? used : fits;
	return (const struct lf_trace_rec *)((const char *)h + h->header_size);
}

bool lf_ws_read(const char *path, struct lf_ws *ws, char *why, size_t whylen)
{
	static struct reader rd;
	const struct lf_trace_header *h = NULL;
	size_t len = 0;
	const char *reason;
	memset(&rd, 0, sizeof rd);
	memset(ws, 0, sizeof *ws);
	rd.rec = open_trace(path, &h, &rd.n, &len, &reason);
	rd.rule_of = rd.rec ? map(RULES * sizeof *rd.rule_of) : NULL;
	if (!rd.rule_of) {
		if (h)
			lf_real_munmap((void *)h, len);
		snprintf(why, whylen, "%s", rd.rec ? "out of memory" : reason);
		return false;
	}
	char text[4096];
	bool ok = false;
	for (size_t i = 0; i < RULES; i++)
		rd.rule_of[i] = -1;
	reason = "a trace of another program";
	for (uint64_t i = 0; i < rd.n; i++) {
		const struct lf_trace_rec *r = &rd.rec[i];
		if (r->type == LF_TRACE_PROCESS && string_at(&rd, i, LF_TRACE_S_EXE, text, sizeof text))
			ok = strcmp(text, lf.exe) == 0;
		if (r->type == LF_TRACE_RULE && string_at(&rd, i, LF_TRACE_S_RULE, text, sizeof text))
			for (size_t k = 0; k < lf.rules.nrules; k++)
				if (!strcmp(lf.rules.rule[k].name, text))
					rd.rule_of[r->a16] = (int)k;
	}
	if (ok) {
		reason = "no region of these rules in it";
		ok = take_regions(&rd, path, ws);
	}
	if (ok) {
		rd.seen_cap = (size_t)rd.n * 4 + 1024;
		rd.seen = map(rd.seen_cap * sizeof *rd.seen);
		reason = "out of memory";
		ok = rd.seen != NULL;
	}
	for (uint64_t i = 0; ok && i < rd.n; i++) {
		const struct lf_trace_rec *r = &rd.rec[i];
		if (r->type == LF_TRACE_FAULT)
			fault(&rd, r);
		else if (r->type == LF_TRACE_PREFETCH)
			present(&rd, r->u[0], r->u[1], r->u[2]);
		else if (r->type == LF_TRACE_WRITTEN) /* pages written without a fault, too */
			for (unsigned k = 0; k < r->flags && k < 2; k++) {
				present(&rd, r->u[0], r->u[1 + 2 * k], r->u[2 + 2 * k]);
				written(&rd, r->u[0], r->u[1 + 2 * k], r->u[2 + 2 * k]);
			}
	}
	if (ok)
		ok = make_runs(&rd, ws);
	if (ok)
		qsort(ws->region, ws->nregions, sizeof *ws->region, by_rule_number);
	for (size_t i = 0; rd.b && i < ws->nregions; i++) {
		unmap(rd.b[i].touched, (rd.b[i].pages + 7) / 8);
		unmap(rd.b[i].written, (rd.b[i].pages + 7) / 8);
	}
	unmap(rd.b, ws->nregions * sizeof *rd.b);
	unmap(rd.of_id, (rd.max_id + 1) * sizeof *rd.of_id);
	unmap(rd.seen, rd.seen_cap * sizeof *rd.seen);
	unmap(rd.rule_of, RULES * sizeof *rd.rule_of);
	lf_real_munmap((void *)h, len);
	if (!ok)
		snprintf(why, whylen, "%s", reason);
	return ok;
}
