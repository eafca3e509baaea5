/* What a fault installs: zeros, bytes of a file, or page-cache pages.
 * Runs on the helper threads (and, in user-mode-only mode, in the thread
 * about to make a system call), so invariant I1 holds here: no malloc, no
 * stdio streams, no lock, the kernel reached by raw system calls, and no
 * read of memory the library serves: file bytes come through a bounce
 * buffer of the library's own, zeros from a mapping nobody writes.  (The
 * messages are formatted with snprintf into stack buffers: glibc's printf
 * family allocates only for wide strings and huge widths, never used here.)
 *
 * Each function says what it installed, and what must be woken, in a
 * struct lf_fill_result: the caller (fault.c) counts, then wakes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "signals.h"
#include "stream.h"

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
	if (zero_buf)
		lf_stream_init();
}

bool lf_fill_rules_load(void)
{
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (lf.rules.rule[i].match == LF_MATCH_FILE || lf.rules.rule[i].source)
			return true;
	return false;
}

/* The helpers' bounce buffers made so far, and how many of them are in use:
 * the child of fork inherits them all and none is in use there (the
 * parent's helpers do not exist in it), so its own helpers take those
 * rather than map new ones, which would take the address space that the
 * child's next mapping gets natively. */
static void *made[LF_MAX_WORKERS + 1];
static size_t nmade, nused;

/* A bounce buffer for a helper about to start, or NULL when no rule loads.
 * Made by the thread that starts the helper, inside the program's own
 * mmap call: a helper that mapped it later, at a moment of its own, could
 * take address space the program is about to grow into (mremap in place).
 * Not populated: the helper's reads fault in the pages a window uses, in
 * the helper's own time (a random load uses one page of the 4 MiB;
 * populating them all cost the program's mmap call milliseconds and the
 * process 4 MiB of memory). */
void *lf_fill_new_bounce(void)
{
	if (!lf_fill_rules_load())
		return NULL;
	if (nused < nmade)
		return made[nused++];
	void *p = lf_real_mmap(NULL, LF_MAX_WINDOW, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (nmade < sizeof made / sizeof made[0]) {
		made[nmade++] = p;
		nused = nmade;
	}
	return p;
}

void lf_fill_fork_child(void)
{
	nused = 0;
	lf_stream_fork_child();
}

void lf_fill_thread_init(void *buffer) { bounce = buffer; }

void *lf_fill_swap_bounce(void *buffer)
{
	void *had = bounce;
	bounce = buffer;
	return had;
}

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

__thread unsigned long lf_fill_installs __attribute__((tls_model("initial-exec")));

static size_t install(enum lf_fill_op op, uintptr_t dst, size_t len, const void *src)
{
	long n = len ? lf_uffd_fill(op, dst, len, src) : 0;
	if (n > 0)
		lf_fill_installs++;
	return n > 0 ? (size_t)n : 0;
}

static void count(_Atomic uint64_t *counter, size_t bytes)
{
	atomic_fetch_add_explicit(counter, bytes / LF_PAGE, memory_order_relaxed);
}

/* Cut [*from, *from + *len) to the pages around addr that are still
 * missing: a window that runs into present pages would read file bytes for
 * nothing and fail page by page with EEXIST.  mincore only looks at the
 * page tables; it faults nothing in. */
static void clip_to_missing(uintptr_t addr, uintptr_t *from, size_t *len)
{
	unsigned char vec[LF_WINDOW_HUGE_MAX / LF_PAGE];
	if (*len <= LF_PAGE || syscall(SYS_mincore, *from, *len, vec) < 0)
		return;
	size_t at = (addr - *from) / LF_PAGE, pages = *len / LF_PAGE, lo = at, hi = at + 1;
	while (lo > 0 && !(vec[lo - 1] & 1))
		lo--;
	while (hi < pages && !(vec[hi] & 1))
		hi++;
	*from += lo * LF_PAGE;
	*len = (hi - lo) * LF_PAGE;
}

/* Zeros: a write fault gets real pages (COPY of zeros); a read fault the
 * shared zero page (ZEROPAGE, no memory).  Outside a stream only the
 * faulting page gets a real page, the rest of the window the zero page once
 * the faulting thread runs again (lf_fill_later), so that memory stays
 * proportional to what the program touches and the thread waits for one
 * page only. */
static void fill_zero(const struct lf_fault_plan *p, bool write, struct lf_fill_result *out)
{
	struct lf_rule_rt *rt = &lf.rt[p->r.rule];
	enum lf_fill_op op = write && zero_buf ? LF_OP_COPY : LF_OP_ZEROPAGE;
	if (p->win.stream || op == LF_OP_ZEROPAGE) {
		clip_to_missing(p->addr, &out->wake_from, &out->wake_len);
		/* A write stream's window goes in writable (no fault per page
		 * for the kernel to record), so its pages count as written;
		 * its 2 MiB chunks as huge pages moved in (stream.c). */
		long moved = op == LF_OP_COPY && lf_stream_wanted(&p->r)
				     ? lf_stream_zero(p->addr, out->wake_from, out->wake_len, zero_buf)
				     : -1;
		if (moved >= 0) {
			count(&rt->pages_zeroed, (size_t)moved);
			out->after_wake = p->win.largest; /* a long stream: its next huge pages */
			return;
		}
		/* A huge-page stream's window may be larger than the zero
		 * buffer: in pieces it holds. */
		for (size_t off = 0; off < out->wake_len; off += LF_MAX_WINDOW) {
			size_t n = out->wake_len - off < LF_MAX_WINDOW ? out->wake_len - off
								       : LF_MAX_WINDOW;
			count(&rt->pages_zeroed, install(op, out->wake_from + off, n, zero_buf));
		}
		return;
	}
	uintptr_t end = out->wake_from + out->wake_len;
	count(&rt->pages_zeroed, install(op, p->addr, LF_PAGE, zero_buf));
	out->wake_len = p->addr + LF_PAGE - out->wake_from;
	out->later_from = p->addr + LF_PAGE;
	out->later_len = end - out->later_from;
}

bool lf_fill_alone(const struct lf_fault_plan *p, bool write)
{
	return write && zero_buf && p->r.src == LF_SRC_ZERO && p->win.len == LF_PAGE &&
	       !p->win.stream;
}

/* Counted before the COPY wakes the thread (which may end the process at
 * once); a COPY that fails installed nothing and woke nobody. */
void lf_fill_zero_woken(const struct lf_fault_plan *p)
{
	_Atomic uint64_t *zeroed = &lf.rt[p->r.rule].pages_zeroed;
	atomic_fetch_add_explicit(zeroed, 1, memory_order_relaxed);
	if (install(LF_OP_COPY_WAKE, p->addr, LF_PAGE, zero_buf) == LF_PAGE)
		return;
	atomic_fetch_sub_explicit(zeroed, 1, memory_order_relaxed);
	lf_uffd_wake(p->addr, LF_PAGE); /* there already (EEXIST), or gone */
}

void lf_fill_later(const struct lf_fault_plan *p, const struct lf_fill_result *done)
{
	uintptr_t from = done->later_from;
	size_t len = done->later_len;
	clip_to_missing(from, &from, &len);
	count(&lf.rt[p->r.rule].pages_zeroed, install(LF_OP_ZEROPAGE, from, len, NULL));
}

/* Read [off, off+len) of fd into buf, as far as the file goes; *err: the
 * read error that stopped it, else 0. */
size_t lf_fill_read_file(int fd, char *buf, size_t len, uint64_t off, int *err)
{
	size_t got = 0;
	*err = 0;
	while (got < len) {
		long n = syscall(SYS_pread64, fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			*err = errno;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* File bytes.  Region byte X is file byte offset + X.  A read that comes
 * short is the end of the file: for a file mapping, the rest of that page
 * reads as zeros and the pages after it raise SIGBUS, as the kernel does;
 * for memory loaded from a `source`, everything past the end is zeros. */
static void fill_load(const struct lf_fault_plan *p, bool write, uint32_t tid,
		      struct lf_fill_result *out)
{
	struct lf_rule_rt *rt = &lf.rt[p->r.rule];
	/* Write-protected, so that the kernel records the program's first
	 * write to each page (filechange.c, written.c); but for a write fault
	 * in a region that does not follow its file: a write stream's pages go
	 * in writable, and count as written, rather than fault once more each. */
	enum lf_fill_op op = p->r.wp && (p->r.tracked || !write) ? LF_OP_COPY_WP : LF_OP_COPY;
	char *buf = bounce_buffer();
	if (!buf)
		return;
	clip_to_missing(p->addr, &out->wake_from, &out->wake_len);
	uintptr_t from = out->wake_from;
	size_t len = out->wake_len;
	int err;
	size_t got = lf_fill_read_file(p->r.fd, buf, len, p->r.offset + (from - p->r.start), &err);
	atomic_fetch_add_explicit(&rt->bytes_read, got, memory_order_relaxed);
	/* Short: the end of the file or a truncation (SIGBUS for a file
	 * mapping, zeros for a source), or a read error (SIGBUS for both). */
	if ((p->r.kind == LF_MATCH_FILE || err) && lf_page_up(got) < len) {
		len = lf_page_up(got);
		if (from + len <= p->addr) {
			char why[160];
			uint64_t at = p->r.offset + (p->addr - p->r.start);
			if (err)
				snprintf(why, sizeof why, "read error at file offset %llu: %s",
					 (unsigned long long)at, strerrordesc_np(err));
			else
				snprintf(why, sizeof why,
					 "file offset %llu is past the end of the file (SIGBUS, as "
					 "the kernel does)", (unsigned long long)at);
			count(&rt->pages_loaded, install(op, from, len, buf));
			lf_poison_install(p, tid, why);
			/* Wake up to the faulting page, whatever was installed. */
			out->wake_len = p->addr + LF_PAGE - from;
			return;
		}
	}
	if (got < len)
		memset(buf + got, 0, len - got);
	count(&rt->pages_loaded, install(op, from, len, buf));
	out->after_wake = p->r.tracked;
}

void lf_fill_after_wake(const struct lf_fault_plan *p)
{
	if (p->r.src == LF_SRC_ZERO) {
		lf_stream_refill();
		return;
	}
	/* The new pages of a tracked load wait in this CPU's LRU batch,
	 * where a drop from another CPU could not take them (filechange.c):
	 * MADV_COLD on a page of ours empties the batch.  After the wake: a
	 * drop in between finds them left clean, and gives such pages a second
	 * pass (filechange.c). */
	if (zero_buf)
		syscall(SYS_madvise, zero_buf, LF_PAGE, MADV_COLD);
}

/* A real private mapping of a shmem file: map its page-cache pages, no
 * copy (mincore would report the page cache, not the page tables, so no
 * clipping: a present page just fails with EEXIST and is skipped). */
static void fill_shmem(const struct lf_fault_plan *p, struct lf_fill_result *out)
{
	struct lf_rule_rt *rt = &lf.rt[p->r.rule];
	size_t n = install(LF_OP_CONTINUE, out->wake_from, out->wake_len, NULL);
	count(&rt->pages_loaded, n);
	atomic_fetch_add_explicit(&rt->bytes_read, n, memory_order_relaxed);
}

void lf_fill(const struct lf_fault_plan *p, bool write, uint32_t tid, struct lf_fill_result *out)
{
	*out = (struct lf_fill_result){.wake_from = p->win.from, .wake_len = p->win.len};
	if (p->r.src == LF_SRC_SHMEM)
		fill_shmem(p, out);
	else if (p->r.src == LF_SRC_FILE)
		fill_load(p, write, tid, out);
	else
		fill_zero(p, write, out);
}
