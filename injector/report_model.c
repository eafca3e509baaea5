/* What a trace adds up to: per region, rule, thread and allocation site,
 * the service time histogram, and the pages present in each rule's regions
 * over time.
 *
 * "Present" means made present by the library and not emptied since: a
 * fault's window adds its pages; MADV_DONTNEED/MADV_FREE (DROP), release
 * and handoff take them away.  Pages are kept as 512-page bitmaps in a hash
 * table keyed by (region, chunk), so that memory follows what was touched,
 * not the size of the regions. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "symbolize.h"

#define CHUNK 512 /* pages per bitmap */

struct chunk {
	uint64_t key;                   /* region id << 32 | chunk index, + 1; 0: free */
	uint64_t bits[CHUNK / 64];
};
struct pageset {
	struct chunk *slot;
	size_t cap, used;
};

static uint64_t hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static struct chunk *find(struct pageset *s, uint64_t key, bool make)
{
	if (make && (s->used + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct chunk *n = calloc(cap, sizeof *n);
		if (!n)
			return NULL;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i].key)
				continue;
			size_t j = hash(s->slot[i].key) & (cap - 1);
			while (n[j].key)
				j = (j + 1) & (cap - 1);
			n[j] = s->slot[i];
		}
		free(s->slot);
		s->slot = n;
		s->cap = cap;
	}
	if (!s->cap)
		return NULL;
	size_t j = hash(key) & (s->cap - 1);
	while (s->slot[j].key && s->slot[j].key != key)
		j = (j + 1) & (s->cap - 1);
	if (s->slot[j].key == key)
		return &s->slot[j];
	if (!make)
		return NULL;
	s->slot[j].key = key;
	s->used++;
	return &s->slot[j];
}

/* Set (on) or clear pages [lo, hi) of a region; how many changed. */
static uint64_t mark(struct pageset *s, uint32_t region, uint64_t lo, uint64_t hi, bool on)
{
	uint64_t changed = 0;
	for (uint64_t p = lo; p < hi;) {
		uint64_t c = p / CHUNK, end = (c + 1) * CHUNK < hi ? (c + 1) * CHUNK : hi;
		struct chunk *ch = find(s, ((uint64_t)region << 32 | c) + 1, on);
		if (!ch) {
			p = end;
			continue;
		}
		for (; p < end; p++) {
			uint64_t *w = &ch->bits[(p % CHUNK) / 64], bit = UINT64_C(1) << (p % 64);
			if (!!(*w & bit) != on) {
				*w ^= bit;
				changed++;
			}
		}
	}
	return changed;
}

unsigned lf_hist_bin(uint64_t ns)
{
	if (ns < 1000)
		return 0;
	unsigned b = 1 + (63 - (unsigned)__builtin_clzll(ns / 1000));
	return b < LF_HIST_BINS ? b : LF_HIST_BINS - 1;
}

uint64_t lf_hist_low(unsigned bin) { return bin ? (UINT64_C(1000) << (bin - 1)) : 0; }

struct build {
	struct lf_model *m;
	struct pageset present;
	uint64_t *rule_pages;
	size_t scap, tcap;
};

static bool sample(struct build *b, uint64_t t, uint32_t rule)
{
	struct lf_model *m = b->m;
	if (!lf_grow(&m->sample, &b->scap, m->nsamples, sizeof *m->sample))
		return false;
	m->sample[m->nsamples++] = (struct lf_tr_sample){t, rule, b->rule_pages[rule]};
	return true;
}

/* Pages [from, to) of the address space, in region r: its page range. */
static bool pages_of(const struct lf_tr_region *r, uint64_t from, uint64_t to, uint64_t *lo,
		     uint64_t *hi)
{
	uint64_t end = r->base + r->len;
	if (to <= r->base || from >= end)
		return false;
	*lo = ((from > r->base ? from : r->base) - r->base) / 4096;
	*hi = ((to < end ? to : end) - r->base + 4095) / 4096;
	return *lo < *hi;
}

static bool change(struct build *b, struct lf_tr_region *r, uint64_t lo, uint64_t hi, bool on,
		   uint64_t t)
{
	uint64_t n = mark(&b->present, r->id, lo, hi, on);
	if (!n || r->rule >= b->m->t->nrules)
		return true;
	if (on) {
		b->rule_pages[r->rule] += n;
		r->pages += n;
		b->m->pages += n;
	} else {
		b->rule_pages[r->rule] -= n;
	}
	return sample(b, t, r->rule);
}

static struct lf_tr_thread *thread_of(struct build *b, uint32_t tid)
{
	struct lf_model *m = b->m;
	for (size_t i = 0; i < m->nthreads; i++)
		if (m->thread[i].tid == tid)
			return &m->thread[i];
	if (!lf_grow(&m->thread, &b->tcap, m->nthreads, sizeof *m->thread))
		return NULL;
	m->thread[m->nthreads] = (struct lf_tr_thread){.tid = tid};
	return &m->thread[m->nthreads++];
}

static bool on_fault(struct build *b, const struct lf_trace_rec *r)
{
	struct lf_model *m = b->m;
	struct lf_tr_region *reg = lf_trace_region(m->t, (uint32_t)r->u[0]);
	struct lf_tr_thread *th = thread_of(b, r->a32);
	if (!th)
		return false;
	m->faults++;
	m->service_ns += r->u[5];
	m->hist[lf_hist_bin(r->u[5])]++;
	th->faults++;
	th->service_ns += r->u[5];
	if (!reg)
		return true;
	reg->faults++;
	reg->service_ns += r->u[5];
	reg->base = r->u[1] - r->u[2] * 4096; /* follows mremap */
	uint64_t lo, hi;
	if ((r->flags & 15) != LF_TRACE_FILL_POISON && pages_of(reg, r->u[3], r->u[3] + r->u[4], &lo, &hi))
		return change(b, reg, lo, hi, true, r->t);
	return true;
}

/* Pages [from, to) of every region there left (DROP), or of one. */
static bool on_gone(struct build *b, struct lf_tr_region *only, uint64_t from, uint64_t to,
		    uint64_t t)
{
	struct lf_trace *tr = (struct lf_trace *)b->m->t;
	for (size_t i = 0; i < tr->nregions; i++) {
		struct lf_tr_region *r = &tr->region[i];
		uint64_t lo, hi;
		if ((only && r != only) || !pages_of(r, from, to, &lo, &hi))
			continue;
		if (!change(b, r, lo, hi, false, t))
			return false;
	}
	return true;
}

static bool step(struct build *b, const struct lf_trace_rec *r)
{
	struct lf_model *m = b->m;
	struct lf_tr_region *reg = r->type == LF_TRACE_DROP || r->type == LF_TRACE_SIGNAL
					   ? NULL : lf_trace_region(m->t, (uint32_t)r->u[0]);
	switch (r->type) {
	case LF_TRACE_FAULT:
		return on_fault(b, r);
	case LF_TRACE_POISON:
		m->poisoned++;
		if (reg)
			reg->poisoned++;
		return true;
	case LF_TRACE_HANDOFF:
		m->handoffs++;
		if (!reg)
			return true;
		reg->handed_off = true;
		reg->t_released = r->t;
		return on_gone(b, reg, r->u[1], r->u[2], r->t);
	case LF_TRACE_RELEASE:
		if (!reg)
			return true;
		reg->released_bytes += r->u[2] - r->u[1];
		if (reg->released_bytes >= reg->len)
			reg->t_released = r->t;
		return on_gone(b, reg, r->u[1], r->u[2], r->t);
	case LF_TRACE_DROP:
		return on_gone(b, NULL, r->u[0], r->u[1], r->t);
	}
	return true;
}

static const struct lf_trace_rec *sort_recs;

static int by_time(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t tx = sort_recs[x].t, ty = sort_recs[y].t;
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x < y ? -1 : x > y; /* stable: file order */
}

/* Allocation sites: regions with the same frames. */
static bool build_sites(struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	m->site = calloc(t->nregions ? t->nregions : 1, sizeof *m->site);
	if (!m->site)
		return false;
	for (size_t i = 0; i < t->nregions; i++) {
		const struct lf_tr_region *r = &t->region[i];
		if (!r->nframes)
			continue;
		struct lf_tr_site *s = NULL;
		for (size_t k = 0; k < m->nsites && !s; k++)
			if (m->site[k].nframes == r->nframes &&
			    !memcmp(m->site[k].frame, r->frame, sizeof r->frame))
				s = &m->site[k];
		if (!s) {
			s = &m->site[m->nsites++];
			s->nframes = r->nframes;
			memcpy(s->frame, r->frame, sizeof s->frame);
		}
		s->regions++;
		s->faults += r->faults;
		s->pages += r->pages;
		s->bytes += r->len;
	}
	for (size_t k = 0; k < m->nsites; k++) {
		struct lf_tr_site *s = &m->site[k];
		size_t cap = 4096, len = 0;
		s->name = calloc(1, cap);
		if (!s->name)
			return false;
		for (int f = 0; f < s->nframes; f++) {
			const struct lf_tr_object *o = lf_trace_object(t, (uint32_t)(s->frame[f] >> 48));
			uint64_t off = s->frame[f] & ((UINT64_C(1) << 48) - 1);
			char one[1024];
			if (o && o->path)
				lf_symbolize(NULL, o->path, off, one, sizeof one);
			else
				snprintf(one, sizeof one, "?+0x%llx", (unsigned long long)off);
			len += (size_t)snprintf(s->name + len, cap - len, "%s%s", f ? " < " : "", one);
			if (len >= cap)
				len = cap - 1;
		}
	}
	return true;
}

int lf_model_build(struct lf_trace *t, struct lf_model *m)
{
	memset(m, 0, sizeof *m);
	m->t = t;
	struct build b = {.m = m};
	b.rule_pages = calloc(t->nrules ? t->nrules : 1, sizeof *b.rule_pages);
	m->order = malloc((t->nrec ? t->nrec : 1) * sizeof *m->order);
	if (!b.rule_pages || !m->order)
		goto fail;
	for (size_t i = 0; i < t->nrec; i++)
		m->order[i] = i;
	sort_recs = t->rec;
	qsort(m->order, t->nrec, sizeof *m->order, by_time);
	for (size_t i = 0; i < t->nrec; i++) {
		const struct lf_trace_rec *r = &t->rec[m->order[i]];
		if (!step(&b, r))
			goto fail;
		uint64_t end = r->t + (r->type == LF_TRACE_FAULT ? r->u[5] : 0);
		if (end > m->end_ns)
			m->end_ns = end;
	}
	if ((t->h.flags & LF_TRACE_F_ENDED) && t->h.end_ns > m->end_ns)
		m->end_ns = t->h.end_ns;
	if (!build_sites(m))
		goto fail;
	free(b.present.slot);
	free(b.rule_pages);
	return 0;
fail:
	free(b.present.slot);
	free(b.rule_pages);
	lf_model_free(m);
	return -1;
}

void lf_model_free(struct lf_model *m)
{
	for (size_t i = 0; m->site && i < m->nsites; i++)
		free(m->site[i].name);
	free(m->site);
	free(m->sample);
	free(m->thread);
	free(m->order);
	memset(m, 0, sizeof *m);
}
