/* What a fault installs: zeros, bytes of a file, or a poison marker.
 * Runs on the helper threads (and, in user-mode-only mode, in the thread
 * about to make a system call), so invariant I1 holds here: no malloc, no
 * stdio, no lock but the rule's own poison spinlock (helpers only), and no
 * read of memory the library serves: file bytes come through a bounce
 * buffer of the library's own, zeros from a mapping nobody writes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"

/* LF_MAX_WINDOW of anonymous memory that is never written: reading it maps
 * the shared zero page, so it costs no memory and is a COPY source of zeros. */
static const void *zero_buf;
/* Each thread that loads file bytes keeps a bounce buffer (never freed:
 * helpers live as long as the process). */
static __thread void *bounce __attribute__((tls_model("initial-exec")));

void lf_fill_init(void)
{
	void *p = lf_real_mmap(NULL, LF_MAX_WINDOW, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zero_buf = p == MAP_FAILED ? NULL : p;
}

static bool rules_load(void)
{
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (lf.rules.rule[i].match == LF_MATCH_FILE || lf.rules.rule[i].source)
			return true;
	return false;
}

/* A bounce buffer for a helper about to start, or NULL when no rule loads.
 * Made by the thread that starts the helper, inside the program's own
 * mmap call: a helper that mapped it later, at a moment of its own, could
 * take address space the program is about to grow into (mremap in place). */
void *lf_fill_new_bounce(void)
{
	if (!rules_load())
		return NULL;
	void *p = lf_real_mmap(NULL, LF_MAX_WINDOW, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void lf_fill_thread_init(void *buffer) { bounce = buffer; }

/* Other threads (user-mode-only prefault) make theirs on first use and
 * give it back when they end (a thread-specific key's destructor). */
static pthread_key_t bounce_key;
static pthread_once_t bounce_once = PTHREAD_ONCE_INIT;

static void bounce_free(void *p)
{
	bounce = NULL; /* a later destructor of this thread may still read() */
	lf_real_munmap(p, LF_MAX_WINDOW);
}
static void bounce_key_init(void) { pthread_key_create(&bounce_key, bounce_free); }

static void *bounce_buffer(void)
{
	if (!bounce) {
		void *p = lf_real_mmap(NULL, LF_MAX_WINDOW, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		bounce = p;
		/* Helpers keep theirs for good; and pthread_setspecific may
		 * allocate, which a helper must never do (I1). */
		if (!lf_signals_blocked) {
			pthread_once(&bounce_once, bounce_key_init);
			pthread_setspecific(bounce_key, p);
		}
	}
	return bounce;
}

static size_t install(enum lf_fill_op op, uintptr_t dst, size_t len, const void *src)
{
	long n = len ? lf_uffd_fill(op, dst, len, src) : 0;
	return n > 0 ? (size_t)n : 0;
}

/* Cut the window to the pages around the faulting one that are still
 * missing: a window that runs into present pages would read file bytes
 * for nothing and fail page by page with EEXIST.  mincore only looks at
 * the page tables; it faults nothing in. */
static void clip_to_missing(struct lf_fault_plan *p)
{
	unsigned char vec[LF_MAX_WINDOW / LF_PAGE];
	if (p->len <= LF_PAGE || mincore((void *)p->from, p->len, vec) < 0)
		return;
	size_t at = (p->addr - p->from) / LF_PAGE, pages = p->len / LF_PAGE, lo = at, hi = at + 1;
	while (lo > 0 && !(vec[lo - 1] & 1))
		lo--;
	while (hi < pages && !(vec[hi] & 1))
		hi++;
	p->from += lo * LF_PAGE;
	p->len = (hi - lo) * LF_PAGE;
}

/* Zeros: a write fault gets real pages (COPY of zeros); a read fault the
 * shared zero page (ZEROPAGE, no memory).  Outside a stream only the
 * faulting page gets a real page, the rest of the window the zero page, so
 * that memory stays proportional to what the program touches. */
static void fill_zero(struct lf_fault_plan *p, bool write, struct lf_rule_rt *rt)
{
	size_t n;
	enum lf_fill_op op = write && zero_buf ? LF_OP_COPY : LF_OP_ZEROPAGE;
	if (p->stream || op == LF_OP_ZEROPAGE) {
		n = install(op, p->from, p->len, zero_buf);
	} else {
		/* The faulting page now; the zero pages of the rest of the
		 * window once its thread runs again (lf_fill_later). */
		uintptr_t end = p->from + p->len;
		n = install(op, p->addr, LF_PAGE, zero_buf);
		p->later_from = p->addr + LF_PAGE;
		p->later_len = end - p->later_from;
		p->len = p->addr + LF_PAGE - p->from;
	}
	atomic_fetch_add_explicit(&rt->pages_zeroed, n / LF_PAGE, memory_order_relaxed);
}

void lf_fill_later(const struct lf_fault_plan *p)
{
	struct lf_fault_plan rest = *p;
	rest.addr = rest.from = p->later_from;
	rest.len = p->later_len;
	clip_to_missing(&rest);
	size_t n = install(LF_OP_ZEROPAGE, rest.from, rest.len, NULL);
	atomic_fetch_add_explicit(&lf.rt[p->r.rule].pages_zeroed, n / LF_PAGE,
				  memory_order_relaxed);
}

static void poison_page(const struct lf_fault_plan *p, struct lf_rule_rt *rt, uint32_t tid,
			const char *why);

/* File bytes.  Region byte X is file byte offset + X.  A read that comes
 * short is the end of the file: for a file mapping, the rest of that page
 * reads as zeros and the pages after it raise SIGBUS, as the kernel does;
 * for memory loaded from a `source`, everything past the end is zeros. */
static void fill_load(struct lf_fault_plan *p, struct lf_rule_rt *rt, uint32_t tid)
{
	char *buf = bounce_buffer();
	if (!buf)
		return;
	uint64_t off = p->r.offset + (p->from - p->r.start);
	size_t got = 0;
	int err = 0;
	while (got < p->len) {
		ssize_t n = syscall(SYS_pread64, p->r.fd, buf + got, p->len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = errno;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	atomic_fetch_add_explicit(&rt->bytes_read, got, memory_order_relaxed);
	size_t len = p->len;
	/* Short: the end of the file or a truncation (SIGBUS for a file
	 * mapping, zeros for a source), or a read error (SIGBUS for both). */
	if ((p->r.kind == LF_MATCH_FILE || err) && lf_page_up(got) < len) {
		len = lf_page_up(got);
		if (p->from + len <= p->addr) {
			char why[160];
			uint64_t at = p->r.offset + (p->addr - p->r.start);
			if (err)
				snprintf(why, sizeof why, "read error at file offset %llu: %s",
					 (unsigned long long)at, strerrordesc_np(err));
			else
				snprintf(why, sizeof why,
					 "file offset %llu is past the end of the file (SIGBUS, as "
					 "the kernel does)", (unsigned long long)at);
			size_t n = install(LF_OP_COPY, p->from, len, buf);
			atomic_fetch_add_explicit(&rt->pages_loaded, n / LF_PAGE, memory_order_relaxed);
			poison_page(p, rt, tid, why);
			/* Wake up to the faulting page, whatever was installed. */
			p->len = p->addr + LF_PAGE - p->from;
			return;
		}
	}
	if (got < len)
		memset(buf + got, 0, len - got);
	size_t n = install(LF_OP_COPY, p->from, len, buf);
	atomic_fetch_add_explicit(&rt->pages_loaded, n / LF_PAGE, memory_order_relaxed);
}

/* A real private mapping of a shmem file: map its page-cache pages, no
 * copy (mincore would report the page cache, not the page tables, so no
 * clipping: a present page just fails with EEXIST and is skipped). */
static void fill_shmem(const struct lf_fault_plan *p, struct lf_rule_rt *rt)
{
	size_t n = install(LF_OP_CONTINUE, p->from, p->len, NULL);
	atomic_fetch_add_explicit(&rt->pages_loaded, n / LF_PAGE, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt->bytes_read, n, memory_order_relaxed);
}

/* ---- poison -------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool page_listed(const struct lf_rule *r, uint64_t index, uint64_t last)
{
	if (r->pages_all)
		return true;
	for (size_t i = 0; i < r->npages; i++) {
		uint64_t a = r->pages[i].first, b = r->pages[i].last;
		if (a == LF_PAGE_LAST)
			a = b = last;
		if (index >= a && index <= b)
			return true;
	}
	return false;
}

/* SPEC's order: a listed page is poisoned; otherwise the triggers decide
 * on the rule's fault number; a rule with neither poisons every page.
 * The counters are the rule's, under its spinlock, so that the numbering
 * is the order in which faults are served. */
static bool decide_poison(struct lf_rule_rt *rt, uint64_t index, uint64_t last)
{
	const struct lf_rule *r = rt->rule;
	const unsigned triggers = LF_KEY_PROBABILITY | LF_KEY_AFTER | LF_KEY_EVERY | LF_KEY_TIMES;
	while (atomic_exchange_explicit(&rt->poison_lock, 1, memory_order_acquire))
		;
	uint64_t n = ++rt->poison_faults;
	bool poison;
	if (page_listed(r, index, last)) {
		poison = true;
	} else if (r->given & triggers) {
		poison = n > r->after && (n - r->after) % r->every == 0 &&
			 (r->times < 0 || rt->poisoned < (uint64_t)r->times);
		if (poison && r->probability < 1)
			poison = (double)(splitmix64(&rt->rng) >> 11) * 0x1.0p-53 < r->probability;
	} else {
		poison = !(r->given & LF_KEY_PAGES);
	}
	if (poison)
		rt->poisoned++;
	atomic_store_explicit(&rt->poison_lock, 0, memory_order_release);
	return poison;
}

static void poison_page(const struct lf_fault_plan *p, struct lf_rule_rt *rt, uint32_t tid,
			const char *why)
{
	const struct lf_region *r = &p->r;
	uint64_t index = (p->addr - r->base) / LF_PAGE;
	char where[512] = "";
	if (r->fd >= 0) {
		char link[64], path[400];
		snprintf(link, sizeof link, "/proc/self/fd/%d", r->fd);
		ssize_t n = readlink(link, path, sizeof path - 1);
		path[n > 0 ? n : 0] = 0;
		snprintf(where, sizeof where, ", %s offset %llu", path,
			 (unsigned long long)(r->offset + (p->addr - r->start)));
	}
	if (!r->poison_ok) {
		if (why && r->kind == LF_MATCH_FILE) {
			/* The end of a file mapping, and no poison marker on this
			 * kernel: put the file's own page there, so that the kernel
			 * raises the SIGBUS itself.  Under the table lock, and only
			 * while the region is still there: the wrappers take a range
			 * out of the table before the kernel unmaps it. */
			lf_regions_lock();
			if (lf_regions_rule_at_locked(p->addr) == (int)r->rule)
				lf_real_mmap((void *)p->addr, LF_PAGE, r->prot, MAP_PRIVATE | MAP_FIXED,
					     r->fd, (off_t)(r->offset + (p->addr - r->start)));
			lf_regions_unlock();
		} else {
			/* Never leave the page empty: its thread would fault forever. */
			lf_error("rule '%s': cannot poison %#lx (no UFFDIO_POISON on this range): "
				 "filled instead", rt->rule->name, (unsigned long)p->addr);
			install(LF_OP_ZEROPAGE, p->addr, LF_PAGE, NULL);
		}
		return;
	}
	if (install(LF_OP_POISON, p->addr, LF_PAGE, NULL) == 0)
		return; /* gone, or present already: its thread retries and sees */
	atomic_fetch_add_explicit(&rt->pages_poisoned, 1, memory_order_relaxed);
	lf_warn("rule '%s': poisoned page %#lx (page %llu of region %#lx-%#lx%s), thread %u%s%s",
		rt->rule->name, (unsigned long)p->addr, (unsigned long long)index,
		(unsigned long)r->base, (unsigned long)r->base_end, where, tid, why ? ": " : "",
		why ? why : "");
}

void lf_fill(struct lf_fault_plan *p, bool write, uint32_t tid)
{
	struct lf_rule_rt *rt = &lf.rt[p->r.rule];
	if (rt->rule->action == LF_ACTION_POISON &&
	    decide_poison(rt, (p->addr - p->r.base) / LF_PAGE,
			  (p->r.base_end - p->r.base) / LF_PAGE - 1)) {
		poison_page(p, rt, tid, NULL);
		return;
	}
	if (p->r.src == LF_SRC_SHMEM) {
		fill_shmem(p, rt);
		return;
	}
	/* A random write of zeros installs just its page now: the clipping
	 * waits until its thread is awake (lf_fill_later). */
	if (p->stream || !write || p->r.src != LF_SRC_ZERO)
		clip_to_missing(p);
	if (p->r.src == LF_SRC_FILE)
		fill_load(p, rt, tid);
	else
		fill_zero(p, write, rt);
}
