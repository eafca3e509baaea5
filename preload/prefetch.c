/* `prefetch = PATH`: a region that an earlier run recorded (workset.c) is
 * installed ahead, in the order the earlier run first made its pages
 * present, so that the program finds them there.
 *
 * Matching.  A region taken (take.c) is the recorded one of its rule (by
 * name) and number when it has the same size, kind and fill, and for a
 * region loaded from a file (a file mapping, or a `source`) the same file,
 * unchanged: device, inode, size and modification time.  Anything else is
 * served on demand, with an info line.  Each record serves one region.
 *
 * Installing.  The thread that takes the region installs its first
 * TAKER_PAGES itself, before mmap returns: nobody else knows the address
 * yet, so no fault can be waiting there.  The prefetch helper takes the
 * rest, region after region, in chunks, each within a fill epoch
 * (epochs.c) and against a fresh copy of the region from the table, as a
 * fault does:
 *  - faults go first: no lock a fault needs is held across an install,
 *    and when faults were served since the last chunk the helper yields;
 *  - zeros: the pages the earlier run wrote as real pages (COPY of zeros),
 *    the others the shared zero page (ZEROPAGE); bytes of a file: read into
 *    a buffer of ours, COPY (write-protected where the region's pages are,
 *    fill.c), never past the end of a file mapping's file;
 *  - every ioctl DONTWAKE, one WAKE per batch: a thread that faulted on a
 *    page of the batch meanwhile is woken (a worker that reads its fault
 *    later finds the page present, EEXIST, and wakes it too);
 *  - a page present already (a fault served it, the program wrote it) is
 *    never replaced (mincore skips it, the kernel refuses it: EEXIST);
 *  - a poison rule (`pages` or `file_pages`, never triggers: rules.c) skips
 *    every page it would poison; a bad page of a shared mapping is never
 *    installed.
 * The table's invariants keep it right when the program changes the
 * region meanwhile: munmap and mremap take the range out of the table and
 * wait out the fills in flight (a chunk whose region is no longer the one
 * queued, same rule, number and base, is skipped); MADV_DONTNEED empties
 * pages before the table says what they read as now, so madvise holds the
 * prefetch across both (lf_prefetch_hold) and no chunk lands in between.
 * A fork child does not prefetch: the record is its parent's.
 *
 * The helper keeps I1: its buffers are mapped before it starts, it waits
 * for the table lock only, reaches the kernel with syscall(2), and sleeps
 * on a futex of its own. */
#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "badpages.h"
#include "lf.h"
#include "record.h"
#include "trace.h"
#include "trace_format.h"
#include "trace_write.h"

#define CHUNK_PAGES 256u                /* pages per install and per epoch: 1 MiB */
#define BATCH_PAGES 4096u               /* pages per wake */
#define MAX_FILES 4                     /* distinct `prefetch` files */
#define JOBS 1024                       /* regions queued at most */
#define TAKER_PAGES 4096u               /* installed before mmap returns: 16 MiB */

struct source { const char *path; struct lf_ws ws; };
static struct source files[MAX_FILES];
static size_t nfiles;

struct job {
	const struct lf_ws *ws;
	const struct lf_ws_region *w;
	uintptr_t base;
	uint32_t rule, trace_id;
	uint64_t number;
	size_t run;                     /* where it goes on: its run, */
	uint32_t done;                  /* and the pages of it installed */
};
static struct job jobs[JOBS];
static _Atomic uint32_t queued_n;       /* jobs queued so far (futex word) */
static uint32_t served_n;               /* the helper's: jobs taken so far */
static _Atomic bool running, off;
static _Atomic int holds;               /* madvise calls between drop and table */
static char *buf;                       /* the helper's file bytes */
static char *taker_buf;                 /* the mm lock holder's (lf_prefetch_taken) */
static const char *zeros;               /* never written: a COPY source of zeros */

void lf_prefetch_load(void)
{
	char why[200];
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		const struct lf_rule *r = &lf.rules.rule[i];
		size_t k = 0;
		while (r->prefetch && k < nfiles && strcmp(files[k].path, r->prefetch))
			k++;
		if (!r->prefetch || k < nfiles)
			continue;
		if (nfiles == MAX_FILES) {
			lf_warn("rule '%s': more than %d prefetch files: %s is not read", r->name,
				MAX_FILES, r->prefetch);
			continue;
		}
		if (!lf_ws_read(r->prefetch, &files[nfiles].ws, why, sizeof why)) {
			lf_info("rule '%s': prefetch %s: %s: its regions are served on demand", r->name,
				r->prefetch, why);
			continue;
		}
		lf_info("prefetch: %zu region(s) recorded in %s", files[nfiles].ws.nregions, r->prefetch);
		files[nfiles++].path = r->prefetch;
	}
}

static struct lf_ws_region *recorded(const struct lf_ws *ws, uint32_t rule, uint64_t number)
{
	size_t lo = 0, hi = ws->nregions;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct lf_ws_region *w = &ws->region[mid];
		if (w->rule < rule || (w->rule == rule && w->number < number))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ws->nregions && ws->region[lo].rule == rule && ws->region[lo].number == number
		? &ws->region[lo] : NULL;
}

/* What differs between the region and its record, or NULL. */
static const char *changed(const struct lf_region *r, const struct lf_ws_region *w)
{
	if (w->size != r->base_end - r->base)
		return "another size";
	if (w->kind != r->kind || w->src != r->src)
		return "another kind of memory";
	if (r->fd < 0)
		return w->has_file ? "a file no more" : NULL;
	struct stat st;
	if (!w->has_file || fstat(r->fd, &st) != 0)
		return "another file";
	uint64_t mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	if ((uint64_t)st.st_dev != w->dev || (uint64_t)st.st_ino != w->ino)
		return "another file";
	if ((uint64_t)st.st_size != w->fsize || mtime != w->mtime_ns)
		return "its file changed";
	return NULL;
}

static void *helper(void *arg);
static bool serve(struct job *j, size_t budget, char *buf, bool helper_side);

/* The helper and the buffers, at the first region to prefetch (mm lock
 * held: one thread at a time). */
static bool start_helper(void)
{
	if (atomic_load(&running))
		return true;
	buf = lf_real_mmap(NULL, 2 * CHUNK_PAGES * LF_PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zeros = lf_real_mmap(NULL, CHUNK_PAGES * LF_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	taker_buf = buf + CHUNK_PAGES * LF_PAGE;
	if (buf == MAP_FAILED || zeros == MAP_FAILED ||
	    lf_server_spawn(helper, NULL, "lazyfault-pref") != 0) {
		lf_warn("prefetch: cannot start its helper: every region is served on demand");
		atomic_store(&off, true);
		return false;
	}
	atomic_store(&running, true);
	return true;
}

void lf_prefetch_taken(const struct lf_region *r)
{
	const struct lf_rule *rule = lf.rt[r->rule].rule;
	if (!nfiles || !rule->prefetch || atomic_load(&off))
		return;
	size_t k = 0;
	while (k < nfiles && strcmp(files[k].path, rule->prefetch))
		k++;
	struct lf_ws_region *w = k < nfiles ? recorded(&files[k].ws, r->rule, r->number) : NULL;
	if (!w || atomic_exchange(&w->used, true)) {
		lf_debug("rule '%s': region %llu is not in %s (or was served already): on demand",
			 rule->name, (unsigned long long)r->number, rule->prefetch);
		return;
	}
	const char *why = changed(r, w);
	if (why) {
		lf_info("rule '%s': region %llu has changed since %s was recorded (%s): served on demand",
			rule->name, (unsigned long long)r->number, rule->prefetch, why);
		return;
	}
	if (!w->nruns || !start_helper())
		return;
	/* The first pages by this thread, before mmap returns: nobody else
	 * knows the address yet, so no fault can be waiting there. */
	struct job j = {&files[k].ws, w, r->base, r->rule, r->trace_id, r->number, 0, 0};
	if (serve(&j, TAKER_PAGES, taker_buf, false))
		return;
	uint32_t n = atomic_load(&queued_n);
	if (n - __atomic_load_n(&served_n, __ATOMIC_ACQUIRE) >= JOBS) {
		lf_debug("prefetch: %d regions queued already: the rest of region %llu of rule '%s' "
			 "on demand", JOBS, (unsigned long long)r->number, rule->name);
		return;
	}
	jobs[n % JOBS] = j;
	atomic_store(&queued_n, n + 1);
	syscall(SYS_futex, &queued_n, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void lf_prefetch_hold(void)
{
	if (!atomic_load(&running))
		return;
	atomic_fetch_add(&holds, 1);
	lf_epochs_quiesce(); /* a chunk that began before the hold lands first */
}

void lf_prefetch_release(void)
{
	if (atomic_load(&running))
		atomic_fetch_sub(&holds, 1);
}

void lf_prefetch_fork_child(void)
{
	atomic_store(&off, true);
	atomic_store(&running, false);
	atomic_store(&holds, 0);
}

/* ---- the helper (I1) ----------------------------------------------- */

static void nap(long ns)
{
	struct timespec ts = {0, ns};
	syscall(SYS_nanosleep, &ts, NULL);
}

/* Faults go first: the helper holds no lock a fault needs across an
 * install, and when faults were served since its last chunk the program is
 * running into pages not installed yet: it gives up the CPU to it first.
 * (The userfaultfd itself cannot be asked: poll needs O_NONBLOCK, which
 * the workers' blocking reads rule out.) */
static void after_faults(void)
{
	static uint64_t seen;
	uint64_t faults = 0;
	for (size_t i = 0; i < lf.rules.nrules; i++)
		faults += atomic_load_explicit(&lf.rt[i].faults, memory_order_relaxed);
	if (faults != seen)
		syscall(SYS_sched_yield);
	seen = faults;
}

static bool poisoned(const struct lf_region *r, uintptr_t page)
{
	struct lf_rule_rt *rt = &lf.rt[r->rule];
	if (r->src == LF_SRC_BAD)
		return true;
	if (rt->rule->action != LF_ACTION_POISON)
		return false;
	if (rt->rule->given & LF_KEY_FILE_PAGES)
		return lf_rule_file_page_bad(rt, (r->offset + (page - r->start)) / LF_PAGE);
	return lf_poison_page_listed(rt->rule, (page - r->base) / LF_PAGE,
				     (r->base_end - r->base) / LF_PAGE - 1);
}

static void trace_run(const struct job *j, uintptr_t from, size_t bytes, bool written)
{
	if (!j->trace_id || !lf_trace_hdr() || !bytes)
		return;
	struct lf_trace_rec rec = {.type = LF_TRACE_PREFETCH, .flags = written ? 1 : 0,
				   .a16 = (uint16_t)j->rule, .a32 = lf_trace_tid(),
				   .t = lf_trace_since_start(lf_now_ns()),
				   .u = {j->trace_id, (from - j->base) / LF_PAGE, bytes / LF_PAGE}};
	lf_trace_emit(&rec);
}

/* Install [from, from+len) of region r (all in it, none poisoned); the
 * bytes installed, or -1 when the process is exiting. */
static long install(const struct job *j, const struct lf_region *r, uintptr_t from, size_t len,
		    bool written, char *buf)
{
	struct lf_rule_rt *rt = &lf.rt[r->rule];
	enum lf_fill_op op;
	const void *src = zeros;
	if (r->src == LF_SRC_SHMEM) {
		op = LF_OP_CONTINUE;
	} else if (r->src == LF_SRC_ZERO) {
		op = written ? LF_OP_COPY : LF_OP_ZEROPAGE;
	} else {
		/* A page the earlier run wrote goes in writable (it counts as
		 * written), but in a region that follows its file's changes,
		 * where an unprotected page would be taken for the program's. */
		op = r->wp && (!written || r->tracked) ? LF_OP_COPY_WP : LF_OP_COPY;
		int e;
		size_t got = lf_fill_read_file(r->fd, buf, len, r->offset + (from - r->start), &e);
		bool err = e != 0;
		atomic_fetch_add_explicit(&rt->bytes_read, got, memory_order_relaxed);
		if (got < len && (r->kind == LF_MATCH_FILE || err))
			len = lf_page_down(got); /* past a file mapping's end, a read error: the fault's */
		else if (got < len)
			memset(buf + got, 0, len - got); /* past a source's end: zeros */
		src = buf;
	}
	long n = len ? lf_uffd_fill(op, from, len, src) : 0;
	/* As fill.c: out of this CPU's LRU batch, where a drop of clean pages
	 * from another CPU could not take them (filechange.c). */
	if (n > 0 && r->tracked)
		syscall(SYS_madvise, zeros, LF_PAGE, MADV_COLD);
	if (n > 0) {
		atomic_fetch_add_explicit(&rt->pages_prefetched, (uint64_t)n / LF_PAGE, memory_order_relaxed);
		trace_run(j, from, (size_t)n, written);
	}
	return n;
}

/* Install the pages of [from, end) of r still missing (mincore reads the
 * page tables only): a range mostly present would fail page by page. */
static long install_missing(const struct job *j, const struct lf_region *r, uintptr_t from,
			    uintptr_t end, bool written, char *buf)
{
	unsigned char vec[CHUNK_PAGES];
	size_t pages = (end - from) / LF_PAGE;
	if (syscall(SYS_mincore, from, end - from, vec) < 0)
		memset(vec, 0, pages);
	long rc = 0;
	for (size_t i = 0; i < pages && rc >= 0;) {
		if (vec[i] & 1) {
			i++;
			continue;
		}
		size_t k = i;
		while (k < pages && !(vec[k] & 1))
			k++;
		rc = install(j, r, from + i * LF_PAGE, (k - i) * LF_PAGE, written, buf);
		i = k;
	}
	return rc;
}

/* One chunk of a run, [from, from + pages), in a fill epoch. */
static long chunk(const struct job *j, uintptr_t from, uint32_t pages, bool written, char *buf)
{
	struct lf_region r;
	for (;;) {
		lf_epochs_enter();
		if (!atomic_load(&holds))
			break;
		lf_epochs_leave();
		nap(50000);
	}
	long rc = 0;
	uintptr_t end = from + (uintptr_t)pages * LF_PAGE;
	for (uintptr_t at = from; at < end && rc >= 0;) {
		/* Over what is not the region queued (any more) in one step: a
		 * hole up to the next region, another region to its end.  They
		 * are served on demand. */
		if (!lf_regions_lookup_from(at, &r))
			break;
		at = r.start > at ? r.start : at;
		if (at >= end)
			break;
		if (r.rule != j->rule || r.number != j->number || r.base != j->base) {
			at = r.end;
			continue;
		}
		uintptr_t stop = end < r.end ? end : r.end, run = at;
		while (run < stop && !poisoned(&r, run))
			run += LF_PAGE;
		if (run > at)
			rc = install_missing(j, &r, at, run, written, buf);
		at = run > at ? run : at + LF_PAGE; /* over a poisoned page */
	}
	lf_epochs_leave();
	return rc;
}

/* Go on with job j for `budget` pages at most; true when it is done (or
 * the process is exiting). */
static bool serve(struct job *j, size_t budget, char *buf, bool helper_side)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	size_t since_wake = 0;
	for (; j->run < j->w->nruns && !atomic_load(&off); j->run++, j->done = 0) {
		const struct lf_ws_run *run = &j->ws->runs[j->w->run0 + j->run];
		while (j->done < run->pages) {
			if (!budget)
				goto out;
			uint32_t n = run->pages - j->done < CHUNK_PAGES ? run->pages - j->done : CHUNK_PAGES;
			if (n > budget)
				n = (uint32_t)budget;
			budget -= n;
			uintptr_t from = j->base + (uintptr_t)(run->first + j->done) * LF_PAGE;
			if (helper_side)
				after_faults();
			if (chunk(j, from, n, run->written, buf) < 0)
				return true; /* the process is exiting */
			lo = from < lo ? from : lo;
			hi = from + (uintptr_t)n * LF_PAGE > hi ? from + (uintptr_t)n * LF_PAGE : hi;
			if ((since_wake += n) >= BATCH_PAGES) {
				lf_uffd_wake(lo, hi - lo);
				lo = UINTPTR_MAX, hi = 0, since_wake = 0;
			}
			j->done += n;
		}
	}
out:
	if (hi > lo)
		lf_uffd_wake(lo, hi - lo);
	return j->run >= j->w->nruns;
}

static void *helper(void *arg)
{
	lf_busy = 1;
	lf_signals_blocked = true;
	for (;;) {
		uint32_t n = atomic_load(&queued_n);
		if (served_n == n) {
			syscall(SYS_futex, &queued_n, FUTEX_WAIT_PRIVATE, n, NULL, NULL, 0);
			continue;
		}
		serve(&jobs[served_n % JOBS], SIZE_MAX, buf, true);
		__atomic_store_n(&served_n, served_n + 1, __ATOMIC_RELEASE);
	}
	return arg;
}
