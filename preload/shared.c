/* Shared file mappings with bad pages: a rule with `file_pages` names pages
 * of a file bad, and a MAP_SHARED mapping of it stays the kernel's (its
 * pages are the page cache's, coherent with every write by this process
 * and others) except each run of bad pages, which is replaced by private
 * anonymous memory registered with the userfaultfd: a region of the table
 * whose every fault is poisoned (LF_SRC_BAD, fault.c), so that a touch
 * raises SIGBUS in the touching thread, as a block that cannot be read does.
 *
 * The mappings themselves are kept here (not in the region table: they are
 * not registered), so that a mapping that grows (mremap) gets the bad pages
 * of its new part too.  The kernel moves or resizes one mapping (VMA) at a
 * time, and our holes cut a mapping into several: before an mremap the
 * holes are put back as pages of the file (the pieces merge into one VMA
 * again), after it they are made again where the mapping now is.
 *
 * Invariants:
 *  - The table of mappings is under the table lock, and changed only by
 *    program threads holding the mm lock (the wrappers of mmap, munmap and
 *    mremap); helpers never look at it.
 *  - Each mapping holds a reference on its descriptor (fdrefs.c), as each
 *    hole does: a mapping with no hole yet can still make them when it
 *    grows, and a hole can always be put back.
 *  - A hole is in the region table for as long as it is ours; a hole that
 *    cannot be registered is put back as the file's page at once (private
 *    memory that nobody serves would read zeros where the file's bytes
 *    belong).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "badpages.h"
#include "lf.h"
#include "procmap.h"

#define MAX_MAPS 4096

struct shared_map {
	uintptr_t start, end;
	uint64_t offset;                /* file offset of start */
	uint64_t dev, ino;
	int fd;                         /* our descriptor of the file */
	int prot;                       /* as mapped */
	uint32_t rule;
	uint64_t number;                /* its number in the rule (`regions`) */
};

static struct shared_map *maps;         /* a private mapping of ours */
static _Atomic size_t nmaps;
static bool full_said, failed_said;

static uint64_t file_offset(const struct shared_map *m, uintptr_t a) { return m->offset + (a - m->start); }

/* ---- the table (table lock held) ------------------------------------- */

static void hold_fd(int fd)
{
	lf_table_lock();
	lf_fdrefs_hold(fd);
	lf_table_unlock();
}

static void release_fd(int fd)
{
	lf_table_lock();
	lf_fdrefs_release(fd);
	lf_table_unlock();
}

/* Enter m (its descriptor's reference is taken here); false when full. */
static bool add(const struct shared_map *m)
{
	bool ok = false;
	lf_table_lock();
	if (!maps) {
		void *p = lf_real_mmap(NULL, MAX_MAPS * sizeof *maps, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		maps = p == MAP_FAILED ? NULL : p;
	}
	size_t n = atomic_load_explicit(&nmaps, memory_order_relaxed);
	if (maps && n < MAX_MAPS) {
		maps[n] = *m;
		lf_fdrefs_hold(m->fd);
		atomic_store_explicit(&nmaps, n + 1, memory_order_release);
		ok = true;
	}
	lf_table_unlock();
	if (!ok && !full_said) {
		full_said = true;
		lf_warn("the table of shared mappings with bad pages is full: a mapping that grows "
			"(mremap) gets no new bad pages");
	}
	return ok;
}

/* Take [start, end) out of every mapping, and copy what it held (clipped
 * to the range) into out[0..max), each piece with a reference on its
 * descriptor of its own; the number of pieces copied. */
static size_t cut(uintptr_t start, uintptr_t end, struct shared_map *out, size_t max)
{
	size_t got = 0;
	lf_table_lock();
	size_t n = atomic_load_explicit(&nmaps, memory_order_relaxed);
	for (size_t i = 0; i < n;) {
		struct shared_map *m = &maps[i];
		if (m->end <= start || m->start >= end) {
			i++;
			continue;
		}
		struct shared_map piece = *m;
		piece.start = m->start > start ? m->start : start;
		piece.end = m->end < end ? m->end : end;
		piece.offset = file_offset(m, piece.start);
		if (got < max) {
			out[got++] = piece;
			lf_fdrefs_hold(m->fd);
		}
		if (m->start < start && m->end > end && n < MAX_MAPS) {
			/* The middle goes: the tail is a mapping of its own. */
			maps[n] = *m;
			maps[n].start = end;
			maps[n].offset = file_offset(m, end);
			lf_fdrefs_hold(m->fd);
			atomic_store_explicit(&nmaps, ++n, memory_order_release);
			m->end = start;
		} else if (m->start < start) {
			m->end = start;
		} else if (m->end > end) {
			m->offset = file_offset(m, end);
			m->start = end;
		} else {
			lf_fdrefs_release(m->fd);
			*m = maps[--n];
			atomic_store_explicit(&nmaps, n, memory_order_release);
			continue;
		}
		i++;
	}
	lf_table_unlock();
	return got;
}

bool lf_shared_overlap(uintptr_t start, uintptr_t end)
{
	if (!atomic_load_explicit(&nmaps, memory_order_acquire))
		return false;
	bool hit = false;
	lf_table_lock();
	size_t n = atomic_load_explicit(&nmaps, memory_order_relaxed);
	for (size_t i = 0; i < n && !hit; i++)
		hit = maps[i].start < end && maps[i].end > start;
	lf_table_unlock();
	return hit;
}

void lf_shared_forget(uintptr_t start, uintptr_t end)
{
	if (atomic_load_explicit(&nmaps, memory_order_acquire))
		cut(start, end, NULL, 0);
}

void lf_shared_relocate_fd(int from, int to)
{
	lf_table_lock();
	size_t n = atomic_load_explicit(&nmaps, memory_order_relaxed);
	for (size_t i = 0; i < n; i++)
		if (maps[i].fd == from)
			maps[i].fd = to;
	lf_table_unlock();
}

/* ---- holes ------------------------------------------------------------ */

/* The protection to give a hole at a: `prot`, or with -1 what the
 * mapping has there now (mprotect may have changed it since it was made),
 * else what it was mapped with. */
static int prot_at(const struct shared_map *m, uintptr_t a, int prot)
{
	struct lf_vma v;
	if (prot >= 0)
		return prot;
	return lf_vma_query(a, &v) == 0 ? v.prot : m->prot;
}

/* Put the file's pages [a, a+len) of mapping m back (MAP_SHARED). */
static bool map_file_back(const struct shared_map *m, uintptr_t a, size_t len, int prot)
{
	void *p = lf_real_mmap((void *)a, len, prot, MAP_SHARED | MAP_FIXED, m->fd,
			       (off_t)file_offset(m, a));
	if (p == MAP_FAILED && (prot & PROT_WRITE)) /* a hole made writable: the file may not be */
		p = lf_real_mmap((void *)a, len, prot & ~PROT_WRITE, MAP_SHARED | MAP_FIXED, m->fd,
				 (off_t)file_offset(m, a));
	return p != MAP_FAILED;
}

/* Replace the bad pages of [from, to), a part of mapping m, by holes
 * (with protection `prot`, -1: as the kernel says); the pages made bad. */
static size_t punch(const struct shared_map *m, uintptr_t from, uintptr_t to, int prot_as)
{
	const struct lf_rule_rt *rt = &lf.rt[m->rule];
	struct stat st = {.st_dev = m->dev, .st_ino = m->ino};
	uint64_t first = file_offset(m, from) / LF_PAGE, last = first + (to - from) / LF_PAGE;
	size_t pages = 0;
	for (uint64_t b = lf_file_bad_next(rt->rule, rt->rule_seed, first, last); b < last;
	     b = lf_file_bad_next(rt->rule, rt->rule_seed, b, last)) {
		uint64_t e = lf_file_good_next(rt->rule, rt->rule_seed, b, last);
		uintptr_t a = from + (b - first) * LF_PAGE;
		size_t len = (e - b) * LF_PAGE;
		int prot = prot_at(m, a, prot_as);
		bool made = lf_real_mmap((void *)a, len, prot,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED &&
			    lf_take_region(a, len, (int)m->rule, m->number, LF_MATCH_FILE, LF_SRC_BAD, m->fd,
					   b * LF_PAGE, &st, prot);
		if (!made) {
			/* A failed MAP_FIXED may have unmapped the range already. */
			int err = errno;
			map_file_back(m, a, len, prot);
			if (!failed_said)
				lf_error("rule '%s': cannot make pages %llu-%llu of a shared mapping bad "
					 "(%s): they read the file's bytes", rt->rule->name,
					 (unsigned long long)b, (unsigned long long)e - 1, strerror(err));
			failed_said = true;
		}
		pages += made ? e - b : 0;
		b = e;
	}
	return pages;
}

void *lf_shared_map(void *addr, size_t len, int prot, int flags, int fd, off_t off, int rule,
		    uint64_t number, int own, const struct stat *st, const char *path)
{
	void *p = lf_real_mmap(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED) {
		int e = errno;
		lf_real_close(own);
		errno = e;
		return p;
	}
	struct shared_map m = {
		.start = (uintptr_t)p, .end = (uintptr_t)p + lf_page_up(len), .offset = (uint64_t)off,
		.dev = st->st_dev, .ino = st->st_ino, .fd = own, .prot = prot, .rule = (uint32_t)rule,
		.number = number,
	};
	hold_fd(own); /* while the holes are made, whether the table has room or not */
	add(&m);
	size_t bad = punch(&m, m.start, m.end, prot);
	release_fd(own);
	lf_info("rule '%s': shared mapping of %s at %#lx+%zu, offset %lld: %zu bad page(s) "
		"poisoned, the rest is the kernel's", lf.rules.rule[rule].name, path,
		(unsigned long)p, len, (long long)off, bad);
	return p;
}

/* ---- mremap ----------------------------------------------------------- */

/* The pieces of mappings an mremap takes, as they were before it. */
#define REMAP_PIECES 16
struct lf_remap {
	uintptr_t old;
	size_t old_up;
	size_t n;
	struct shared_map piece[REMAP_PIECES];
};
static struct lf_remap remap; /* under the mm lock, which every caller holds */

/* The mapping piece m still is what the table says (a mapping changed by
 * a call we do not see, or gone in a child of fork under MADV_DONTFORK,
 * is not): a hole of ours at its start, or the file shared there.  An
 * older kernel cannot tell (no PROCMAP_QUERY): the table is trusted. */
static bool still_there(const struct shared_map *m)
{
	struct lf_region r;
	struct lf_vma v;
	if (lf_regions_lookup(m->start, &r))
		return r.src == LF_SRC_BAD && r.ino == m->ino && r.dev == m->dev;
	int rc = lf_vma_query(m->start, &v);
	if (rc < 0)
		return rc != -ENOENT;
	return v.shared && v.ino == m->ino && v.dev == m->dev &&
	       v.offset + (m->start - v.start) == m->offset;
}

/* The first hole that ends after a and starts before end, copied. */
static bool next_hole(uintptr_t a, uintptr_t end, struct lf_region *out)
{
	bool found = false;
	lf_table_lock();
	for (size_t i = lf_regions_lower_bound_locked(a), n = lf_regions_count_locked();
	     i < n && !found; i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		if (r->start >= end)
			break;
		if (r->src == LF_SRC_BAD) {
			*out = *r;
			found = true;
		}
	}
	lf_table_unlock();
	return found;
}

/* The holes of [start, end) out of the table, and the file's pages back. */
static void restore(const struct shared_map *m, uintptr_t start, uintptr_t end)
{
	struct lf_region r;
	for (uintptr_t a = start; a < end && next_hole(a, end, &r);) {
		uintptr_t from = r.start > a ? r.start : a, to = r.end < end ? r.end : end;
		struct lf_vma v;
		int prot = lf_vma_query(from, &v) == 0 ? v.prot : r.prot;
		lf_regions_remove(from, to);
		map_file_back(m, from, to - from, prot);
		a = to;
	}
}

struct lf_remap *lf_shared_before_remap(uintptr_t old, size_t old_up)
{
	struct lf_remap *m = &remap;
	m->old = old;
	m->old_up = old_up;
	m->n = cut(old, old + old_up, m->piece, REMAP_PIECES);
	for (size_t i = 0; i < m->n;) {
		struct shared_map *p = &m->piece[i];
		if (!still_there(p)) {
			release_fd(p->fd);
			*p = m->piece[--m->n];
			continue;
		}
		restore(p, p->start, p->end);
		i++;
	}
	return m;
}

/* Piece p of the old range at its place in [to, to+up) (a moved or
 * resized mapping): entered, and its bad pages made again.  The piece that
 * ended where the old range did takes the growth. */
static void replace(struct lf_remap *m, struct shared_map *p, uintptr_t to, size_t up)
{
	uintptr_t start = to + (p->start - m->old), end = to + (p->end - m->old);
	if (p->end == m->old + m->old_up || end > to + up)
		end = to + up;
	if (start >= end)
		return;
	struct shared_map q = *p;
	q.start = start;
	q.end = end;
	add(&q);
	punch(&q, start, end, -1);
}

void lf_shared_after_remap(struct lf_remap *m, void *res, size_t new_up, int flags)
{
	for (size_t i = 0; i < m->n; i++) {
		struct shared_map *p = &m->piece[i];
		if (res == MAP_FAILED || (flags & MREMAP_DONTUNMAP))
			replace(m, p, m->old, m->old_up); /* still where it was */
		if (res != MAP_FAILED)
			replace(m, p, (uintptr_t)res, new_up);
		release_fd(p->fd); /* the piece's reference: the new entries hold their own */
	}
	m->n = 0;
}
