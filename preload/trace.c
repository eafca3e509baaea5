/* The fault trace (`trace = PATH`, LAZYFAULT_TRACE): every region taken and
 * released and every fault served, as fixed-size records in a file the
 * library maps MAP_SHARED (common/trace_format.h, lazyfault-trace(5)).
 *
 * Why a shared file mapping: a record is in the page cache the moment it
 * is stored, so the trace survives any death of the process, SIGKILL
 * included, and nobody has to flush it.  Writers claim records by a
 * compare-and-swap on the header's cursor and store the record's type
 * last; a record that does not fit is dropped and counted in the header.
 * This file writes the file; trace_events.c makes the records.
 *
 * Invariants:
 *  - The helpers (and the program threads that serve in user-mode-only
 *    mode) only claim and store (I1): no allocation, no lock, no system
 *    call but clock_gettime through the vDSO, no wait for the disk.  The
 *    file's blocks are allocated beforehand (posix_fallocate), so a store
 *    never needs a block the disk may not have: a page of a shared file
 *    mapping that the file system cannot back raises SIGBUS.
 *  - Only program threads make the file grow, in the take and madvise
 *    hooks (both under the mm lock, so one at a time), by reopening the
 *    file by name and checking it is still ours (no descriptor of ours
 *    stays open while the program runs).  The whole largest size is
 *    reserved as address space at the start, so growing never moves the
 *    mapping: `capacity` only says how far of it the file now covers.
 *    They also fault in, writable, the pages ahead of the cursor
 *    (MADV_POPULATE_WRITE), so that a helper's store does not take the
 *    file system's write fault (which updates the file's time, a journal
 *    entry on ext4) except on a page that writeback has cleaned since.
 *  - The mapping is MADV_DONTFORK: a child never writes into its parent's
 *    trace; it opens its own (with %p in the name) or traces nothing.
 *  - Allocation sites are taken outside every lock of the library
 *    (lf_trace_site, from match.c): backtrace() and dladdr() take the
 *    loader's locks, which a thread inside dlopen may hold while it calls
 *    malloc, and so the mm lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lf.h"
#include "trace.h"
#include "trace_format.h"
#include "trace_write.h"

#define DEFAULT_MAX (UINT64_C(1) << 30)  /* LAZYFAULT_TRACE_SIZE's default */
#define FIRST_SIZE (UINT64_C(1) << 20)   /* allocated at the start */
#define AHEAD (UINT64_C(4) << 10)        /* records made writable ahead of the cursor */
#define CUT_OVER (UINT64_C(32) << 10)    /* unused records worth giving back at the end */
#define SMALLEST (UINT64_C(64) << 10)    /* below this, no trace */

static struct lf_trace_header *hdr;      /* NULL: no trace in this process */
static struct lf_trace_rec *recs;
static size_t map_len;
static char tmpl[4096];                  /* the path, absolute, %p not expanded */
static char path[4200];                  /* this process's file */
static uint64_t file_dev, file_ino;
static uint64_t max_bytes = DEFAULT_MAX;
static _Atomic int ended_pid;
static _Atomic int growing;
static uint64_t populated;               /* records made writable so far */

struct lf_trace_header *lf_trace_hdr(void) { return __atomic_load_n(&hdr, __ATOMIC_ACQUIRE); }
bool lf_trace_on(void) { return lf_trace_hdr() != NULL; }

uint64_t lf_trace_since_start(uint64_t ns)
{
	uint64_t s = hdr->start_ns;
	return ns > s ? ns - s : 0;
}

uint32_t lf_trace_tid(void) { return (uint32_t)syscall(SYS_gettid); }

/* ---- claiming and storing records ---------------------------------- */

/* n consecutive records, or NULL (counted as dropped) when they do not
 * fit or the trace is closed. */
struct lf_trace_rec *lf_trace_claim(struct lf_trace_header *h, uint64_t n)
{
	uint64_t c = __atomic_load_n(&h->cursor, __ATOMIC_RELAXED);
	for (;;) {
		uint64_t cap = __atomic_load_n(&h->capacity, __ATOMIC_ACQUIRE);
		if ((c & LF_TRACE_CLOSED) || c + n > cap) {
			__atomic_fetch_add(&h->dropped, n, __ATOMIC_RELAXED);
			return NULL;
		}
		if (__atomic_compare_exchange_n(&h->cursor, &c, c + n, true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return &recs[c];
	}
}

/* Store r in slot, its type last: a reader never sees half a record. */
void lf_trace_store(struct lf_trace_rec *slot, const struct lf_trace_rec *r)
{
	slot->flags = r->flags;
	slot->a16 = r->a16;
	slot->a32 = r->a32;
	slot->t = r->t;
	memcpy(slot->u, r->u, sizeof slot->u);
	__atomic_store_n(&slot->type, r->type, __ATOMIC_RELEASE);
}

void lf_trace_emit(const struct lf_trace_rec *r)
{
	struct lf_trace_header *h = lf_trace_hdr();
	struct lf_trace_rec *slot = h ? lf_trace_claim(h, 1) : NULL;
	if (slot)
		lf_trace_store(slot, r);
}

uint64_t lf_trace_string_records(size_t len) { return (len + LF_TRACE_STRING_CHUNK - 1) / LF_TRACE_STRING_CHUNK; }

/* The pieces of a string naming (kind, owner), into consecutive slots. */
void lf_trace_store_string(struct lf_trace_rec *slot, unsigned kind, uint32_t owner,
			   const char *s, size_t len)
{
	for (uint64_t i = 0; i < lf_trace_string_records(len); i++) {
		struct lf_trace_rec r = {.type = LF_TRACE_STRING, .flags = (uint8_t)kind,
					 .a16 = (uint16_t)i, .a32 = owner, .t = len};
		size_t at = i * LF_TRACE_STRING_CHUNK;
		size_t n = len - at < LF_TRACE_STRING_CHUNK ? len - at : LF_TRACE_STRING_CHUNK;
		memcpy(r.u, s + at, n);
		lf_trace_store(slot + i, &r);
	}
}

/* A record followed by a string of its own (len 0: none). */
void lf_trace_emit_named(const struct lf_trace_rec *r, unsigned kind, uint32_t owner,
			 const char *s, size_t len)
{
	struct lf_trace_header *h = lf_trace_hdr();
	struct lf_trace_rec *slot = h ? lf_trace_claim(h, 1 + lf_trace_string_records(len)) : NULL;
	if (!slot)
		return;
	lf_trace_store(slot, r);
	lf_trace_store_string(slot + 1, kind, owner, s, len);
}

/* ---- the file ------------------------------------------------------ */

/* The one place the trace file is created: exclusively and never through a
 * symbolic link (whatever is at the name, a link or an older trace, is
 * unlinked first: replaced, never written through), close-on-exec, with its
 * blocks allocated.  Returns the descriptor or -errno. */
static int create_file(const char *name, uint64_t *size)
{
	int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(name, flags, 0644);
	if (fd < 0 && errno == EEXIST && unlink(name) == 0)
		fd = open(name, flags, 0644);
	if (fd < 0)
		return -errno;
	/* A smaller start when the disk has not the room. */
	int e;
	while ((e = posix_fallocate(fd, 0, (off_t)*size)) == ENOSPC && *size / 2 >= SMALLEST)
		*size /= 2;
	if (e) {
		syscall(SYS_close, fd);
		unlink(name);
		return -e;
	}
	return fd;
}

/* Reopen the file by name: still the one mapped?  fd or -1. */
static int reopen(void)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != file_dev ||
			(uint64_t)st.st_ino != file_ino)) {
		syscall(SYS_close, fd);
		fd = -1;
	}
	return fd;
}

/* In a program thread: more room once half of it is used (doubled), and
 * the pages ahead of the cursor made writable. */
void lf_trace_make_room(void)
{
	struct lf_trace_header *h = lf_trace_hdr();
	if (!h || atomic_exchange(&growing, 1))
		return;
	uint64_t cap = __atomic_load_n(&h->capacity, __ATOMIC_RELAXED);
	uint64_t used = __atomic_load_n(&h->cursor, __ATOMIC_RELAXED);
	if (!(used & LF_TRACE_CLOSED) && used > cap / 2 && cap < h->max_capacity) {
		uint64_t want = cap * 2 < h->max_capacity ? cap * 2 : h->max_capacity;
		int fd = reopen();
		if (fd >= 0 && posix_fallocate(fd, 0, (off_t)(LF_TRACE_HEADER_SIZE +
							      want * LF_TRACE_RECORD_SIZE)) == 0)
			__atomic_store_n(&h->capacity, cap = want, __ATOMIC_RELEASE);
		if (fd >= 0)
			syscall(SYS_close, fd);
	}
	uint64_t to = used + AHEAD < cap ? used + AHEAD : cap;
	if (!(used & LF_TRACE_CLOSED) && populated < used + AHEAD / 2 && populated < to) {
		uintptr_t from = lf_page_down((uintptr_t)&recs[populated]);
		uintptr_t end = lf_page_down((uintptr_t)&recs[to]);
		if (end > from)
			lf_real_madvise((void *)from, end - from, 23 /* MADV_POPULATE_WRITE */);
		populated = to;
	}
	atomic_store(&growing, 0);
}

/* A whole small file of /proc/self into buf (NUL-terminated); its length. */
static size_t read_proc(const char *name, char *buf, size_t len)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	if (fd >= 0)
		syscall(SYS_close, fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (size_t)n : 0;
}

size_t lf_trace_exe_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (size_t)n : 0;
}

/* The process and the rules, first in every trace. */
static void emit_process(void)
{
	char text[4096];
	struct lf_trace_rec r = {.type = LF_TRACE_PROCESS, .a32 = lf_trace_tid(),
				 .u = {(uint64_t)getpid(), (uint64_t)getppid(), LF_PAGE}};
	lf_trace_emit_named(&r, LF_TRACE_S_EXE, 0, text, lf_trace_exe_path(text, sizeof text));
	size_t n = read_proc("/proc/self/cmdline", text, sizeof text);
	struct lf_trace_rec *slot = n ? lf_trace_claim(lf_trace_hdr(), lf_trace_string_records(n)) : NULL;
	if (slot)
		lf_trace_store_string(slot, LF_TRACE_S_ARGV, 0, text, n);
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		const struct lf_rule *rule = &lf.rules.rule[i];
		struct lf_trace_rec rr = {.type = LF_TRACE_RULE,
					  .flags = (uint8_t)(rule->action | rule->match << 2),
					  .a16 = (uint16_t)i, .u = {rule->readahead, rule->delay_ns}};
		lf_trace_emit_named(&rr, LF_TRACE_S_RULE, (uint32_t)i, rule->name, strlen(rule->name));
	}
}

/* Create, map and start this process's trace; false when it cannot be. */
static bool begin(bool forked)
{
	lf_expand_pid(tmpl, path, sizeof path);
	uint64_t size = FIRST_SIZE < max_bytes ? FIRST_SIZE : max_bytes;
	int fd = create_file(path, &size);
	if (fd < 0) {
		lf_error("cannot create the fault trace %s: %s: no trace", path, strerror(-fd));
		return false;
	}
	struct stat st;
	size_t len = lf_page_up(max_bytes);
	void *p = fstat(fd, &st) == 0 ? lf_real_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
						    fd, 0)
				      : MAP_FAILED;
	syscall(SYS_close, fd);
	if (p == MAP_FAILED) {
		lf_error("cannot map the fault trace %s: %s: no trace", path, strerror(errno));
		unlink(path);
		return false;
	}
	lf_real_madvise(p, len, MADV_DONTFORK);
	struct lf_trace_header *h = p;
	memcpy(h->magic, LF_TRACE_MAGIC, sizeof h->magic);
	h->version = LF_TRACE_VERSION;
	h->header_size = LF_TRACE_HEADER_SIZE;
	h->record_size = LF_TRACE_RECORD_SIZE;
	h->page_size = LF_PAGE;
	h->pid = (uint32_t)getpid();
	h->ppid = (uint32_t)getppid();
	struct timespec real;
	clock_gettime(CLOCK_REALTIME, &real);
	h->start_ns = lf_now_ns();
	h->start_real_ns = (uint64_t)real.tv_sec * 1000000000u + (uint64_t)real.tv_nsec;
	h->capacity = (size - LF_TRACE_HEADER_SIZE) / LF_TRACE_RECORD_SIZE;
	h->max_capacity = (len - LF_TRACE_HEADER_SIZE) / LF_TRACE_RECORD_SIZE;
	h->flags = forked ? LF_TRACE_F_FORKED : 0;
	file_dev = (uint64_t)st.st_dev;
	file_ino = (uint64_t)st.st_ino;
	map_len = len;
	recs = (struct lf_trace_rec *)((char *)p + LF_TRACE_HEADER_SIZE);
	__atomic_store_n(&hdr, h, __ATOMIC_RELEASE);
	atomic_store(&ended_pid, 0);
	populated = 0;
	lf_trace_make_room();
	emit_process();
	lf_info("fault trace: %s", path);
	return true;
}

void lf_trace_open(void)
{
	const char *want = getenv("LAZYFAULT_TRACE");
	if (!want)
		want = lf.rules.trace;
	if (!want || !*want)
		return;
	char cwd[2048] = "";
	if (want[0] != '/' && !getcwd(cwd, sizeof cwd))
		cwd[0] = 0;
	if ((size_t)snprintf(tmpl, sizeof tmpl, "%s%s%s", cwd, *cwd ? "/" : "", want) >= sizeof tmpl) {
		lf_error("the fault trace's path is too long: no trace");
		tmpl[0] = 0;
		return;
	}
	const char *size = getenv("LAZYFAULT_TRACE_SIZE");
	uint64_t v;
	if (size && *size && (lf_parse_size(size, &v) < 0 || v < SMALLEST + LF_TRACE_HEADER_SIZE))
		lf_warn("LAZYFAULT_TRACE_SIZE=%s is not a size of 68K or more: using 1G", size);
	else if (size && *size)
		max_bytes = v;
	lf_trace_events_init();
	lf_caller_init(); /* backtrace()'s first call loads libgcc_s: now, not in a wrapper */
	begin(false);
}

/* ---- fork and the end ---------------------------------------------- */

void lf_trace_fork_child(void)
{
	/* The parent's mapping is not here (MADV_DONTFORK). */
	__atomic_store_n(&hdr, NULL, __ATOMIC_RELEASE);
	recs = NULL;
	lf_trace_events_fork_child();
	if (!tmpl[0])
		return;
	if (!strstr(tmpl, "%p")) {
		lf_info("the fault trace %s has no %%p: process %d is not traced", tmpl, (int)getpid());
		tmpl[0] = 0; /* nor are its children */
		return;
	}
	if (!begin(true))
		return;
	lf_trace_inherited();
}

uint64_t lf_trace_records(void)
{
	struct lf_trace_header *h = lf_trace_hdr();
	return h ? __atomic_load_n(&h->cursor, __ATOMIC_RELAXED) & ~LF_TRACE_CLOSED : 0;
}

uint64_t lf_trace_dropped(void)
{
	struct lf_trace_header *h = lf_trace_hdr();
	return h ? __atomic_load_n(&h->dropped, __ATOMIC_RELAXED) : 0;
}

/* Async-signal-safe: system calls only.  Closes the trace (later records
 * are dropped and counted), says how the process ended, and gives back
 * the room it did not use. */
void lf_trace_end(int sig, uintptr_t addr, int code)
{
	struct lf_trace_header *h = lf_trace_hdr();
	int pid = (int)getpid();
	/* A vfork child (its own pid, its parent's memory) leaves the
	 * parent's trace alone. */
	if (!h || h->pid != (uint32_t)pid || atomic_exchange(&ended_pid, pid) == pid)
		return;
	if (sig) {
		struct lf_trace_rec rec = {
			.type = LF_TRACE_SIGNAL, .a32 = lf_trace_tid(), .t = lf_trace_since_start(lf_now_ns()),
			.u = {(uint64_t)sig, addr, (uint64_t)(int64_t)code},
		};
		lf_trace_emit(&rec);
	}
	uint64_t used = __atomic_fetch_or(&h->cursor, LF_TRACE_CLOSED, __ATOMIC_ACQ_REL);
	used &= ~LF_TRACE_CLOSED;
	h->end_ns = lf_trace_since_start(lf_now_ns());
	h->end_signal = sig;
	__atomic_fetch_or(&h->flags, LF_TRACE_F_ENDED, __ATOMIC_RELEASE);
	/* A large unused end is given back (a small one is not worth a change
	 * of the file's size, which a busy file system may make us wait for).
	 * Records below `used` may still be in the writing, but they are all
	 * inside what stays of the file. */
	uint64_t cap = __atomic_load_n(&h->capacity, __ATOMIC_RELAXED);
	if (cap - used <= CUT_OVER)
		return;
	__atomic_store_n(&h->capacity, used, __ATOMIC_RELEASE);
	int fd = reopen();
	if (fd >= 0) {
		syscall(SYS_ftruncate, fd, (off_t)(LF_TRACE_HEADER_SIZE + used * LF_TRACE_RECORD_SIZE));
		syscall(SYS_close, fd);
	}
}
