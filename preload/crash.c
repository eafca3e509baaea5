/* The crash report: what a process that dies of a signal was doing, kept
 * for the statistics file (stats.c writes it on the way out).
 *
 * lf_crash_record() is called just before a fatal signal takes its
 * default action (the exit path's handler, exitpath.c, and the signal
 * dispatcher of signals.c), in the thread the signal was delivered to, on
 * whatever stack it has: async-signal-safe only.  It records the signal,
 * its code, the faulting address (for the signals that have one), the
 * instruction pointer and the thread's stack, into static memory; the
 * first thread to die records, a second one racing it records nothing.
 *
 * The stack: glibc's backtrace() (libgcc's unwinder, which crosses the
 * signal frame; primed at initialisation, lf_crash_init, since its first
 * call loads libgcc_s, which must not happen in a handler), from the frame
 * of the interrupted instruction on.  Each frame is named by the object it
 * falls in and its offset from the object's base, read from
 * /proc/self/maps with plain system calls (dladdr takes the loader's lock,
 * which the dying thread may hold).  When the address is in a page the
 * library poisoned (poisoned.c): its rule, region and page, and where the
 * region was allocated (sites.c). */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "lf.h"
#include "poisoned.h"
#include "sites.h"
#include "stats_out.h"

#define FRAMES 32
#define OBJECTS 16

static struct {
	_Atomic int state;                /* 0: nothing, 1: being recorded, 2: recorded */
	int sig, code;
	bool has_addr;
	uintptr_t addr, ip;
	uint64_t tid;
	int n;
	uintptr_t pc[FRAMES];             /* the interrupted instruction, then calls (- 1) */
	int obj[FRAMES];                  /* index in objects, -1: none found */
	uint64_t off[FRAMES];
	bool poisoned;
	struct lf_poisoned page;
	int nalloc;
	uint64_t alloc[LF_SITE_FRAMES];
} crash;
static char objects[OBJECTS][1024];
static int nobjects;
static _Atomic bool primed;

void lf_crash_init(void)
{
	lf_sites_init();
	atomic_store(&primed, true);
}

static uintptr_t ip_of(void *uctx)
{
	if (!uctx)
		return 0;
#if defined(__x86_64__)
	return (uintptr_t)((ucontext_t *)uctx)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	return (uintptr_t)((ucontext_t *)uctx)->uc_mcontext.pc;
#else
	return 0;
#endif
}

static bool has_address(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

/* ---- /proc/self/maps, read without the loader ------------------------ */

static const char *hex(const char *p, uintptr_t *v)
{
	*v = 0;
	for (;; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		if (d < 0)
			return p;
		*v = *v << 4 | (uintptr_t)d;
	}
}

static int object_index(const char *path)
{
	for (int i = 0; i < nobjects; i++)
		if (!strcmp(objects[i], path))
			return i;
	if (nobjects == OBJECTS)
		return -1;
	size_t n = strlen(path);
	if (n >= sizeof objects[0])
		n = sizeof objects[0] - 1;
	memcpy(objects[nobjects], path, n);
	objects[nobjects][n] = 0;
	return nobjects++;
}

/* One line, "start-end perms offset dev inode path": the frames in it are
 * named by its path, from the start of the path's line at offset 0. */
static void one_line(char *line, char *base_path, uintptr_t *base)
{
	uintptr_t start, end, offset, ignored;
	const char *p = hex(line, &start);
	if (*p++ != '-')
		return;
	p = hex(p, &end);
	while (*p == ' ')
		p++;
	while (*p && *p != ' ')
		p++; /* perms */
	while (*p == ' ')
		p++;
	p = hex(p, &offset);
	for (int field = 0; field < 2; field++) { /* dev, inode */
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
	}
	while (*p == ' ')
		p++;
	(void)ignored;
	if (!*p)
		return;
	if (offset == 0 || strcmp(base_path, p)) {
		size_t n = strlen(p) < 1023 ? strlen(p) : 1023;
		memcpy(base_path, p, n);
		base_path[n] = 0;
		*base = start - offset;
	}
	for (int i = 0; i < crash.n; i++)
		if (crash.obj[i] < 0 && crash.pc[i] >= start && crash.pc[i] < end) {
			crash.obj[i] = object_index(p);
			crash.off[i] = crash.pc[i] - *base;
		}
}

static void name_frames(void)
{
	static char buf[8192], base_path[1024];
	uintptr_t base = 0;
	for (int i = 0; i < crash.n; i++)
		crash.obj[i] = -1;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size_t len = 0;
	for (;;) {
		long r = syscall(SYS_read, fd, buf + len, sizeof buf - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = 0;
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = 0;
			one_line(line, base_path, &base);
			line = nl + 1;
		}
		len = (size_t)(buf + len - line);
		memmove(buf, line, len);
		if (len == sizeof buf - 1)
			len = 0; /* a line longer than the buffer: dropped */
	}
	syscall(SYS_close, fd);
}

/* ---- recording --------------------------------------------------------- */

static void take_stack(uintptr_t ip)
{
	void *pcs[FRAMES + 16];
	int n = atomic_load(&primed) ? backtrace(pcs, FRAMES + 16) : 0, from = -1;
	for (int i = 0; i < n && from < 0; i++)
		if ((uintptr_t)pcs[i] == ip)
			from = i;
	crash.pc[0] = ip;
	crash.n = 1;
	for (int i = from < 0 ? n : from + 1; i < n && crash.n < FRAMES; i++)
		crash.pc[crash.n++] = (uintptr_t)pcs[i] - 1; /* a return address: inside the call */
}

void lf_crash_record(int sig, siginfo_t *info, void *uctx)
{
	int expect = 0;
	if (!atomic_compare_exchange_strong(&crash.state, &expect, 1))
		return;
	int saved = errno;
	crash.sig = sig;
	crash.code = info ? info->si_code : 0;
	crash.has_addr = info && has_address(sig);
	crash.addr = crash.has_addr ? (uintptr_t)info->si_addr : 0;
	crash.ip = ip_of(uctx);
	crash.tid = (uint64_t)syscall(SYS_gettid);
	take_stack(crash.ip);
	name_frames();
	if (crash.has_addr && lf_poisoned_find(crash.addr, crash.addr + 1, &crash.page)) {
		crash.poisoned = true;
		crash.nalloc = lf_sites_of(crash.page.rule, crash.page.region, crash.alloc);
	}
	atomic_store(&crash.state, 2);
	errno = saved;
}

/* ---- the statistics' sections ----------------------------------------- */

static void put_frame(struct lf_stats_out *o, const char *object, uint64_t offset, bool first)
{
	lf_out_put(o, first ? "{\"object\": " : ", {\"object\": ");
	lf_out_str(o, object);
	lf_out_field(o, "offset", offset);
	lf_out_put(o, "}");
}

/* Frames of sites.c: object ids and offsets. */
static void put_site(struct lf_stats_out *o, const char *key, const uint64_t *frame, int n)
{
	lf_out_put(o, ", \"");
	lf_out_put(o, key);
	lf_out_put(o, "\": [");
	for (int i = 0, k = 0; i < n; i++) {
		const char *name = lf_site_object(LF_SITE_OBJECT(frame[i]), NULL);
		if (name)
			put_frame(o, name, LF_SITE_OFFSET(frame[i]), k++ == 0);
	}
	lf_out_put(o, "]");
}

static void put_crash(struct lf_stats_out *o)
{
	lf_out_put(o, ",\n \"crash\": {");
	lf_out_put(o, "\"signal\": ");
	lf_out_u64(o, (uint64_t)crash.sig);
	lf_out_put(o, crash.code < 0 ? ", \"code\": -" : ", \"code\": ");
	lf_out_u64(o, (uint64_t)(crash.code < 0 ? -(int64_t)crash.code : crash.code));
	if (crash.has_addr)
		lf_out_field(o, "address", crash.addr);
	lf_out_field(o, "ip", crash.ip);
	lf_out_field(o, "thread", crash.tid);
	lf_out_put(o, ", \"frames\": [");
	for (int i = 0, k = 0; i < crash.n; i++)
		if (crash.obj[i] >= 0)
			put_frame(o, objects[crash.obj[i]], crash.off[i], k++ == 0);
	lf_out_put(o, "]");
	if (crash.poisoned) {
		const struct lf_poisoned *p = &crash.page;
		lf_out_put(o, ", \"poisoned\": {\"rule\": ");
		lf_out_str(o, p->rule < lf.rules.nrules ? lf.rules.rule[p->rule].name : "?");
		lf_out_field(o, "region", p->region);
		lf_out_field(o, "page", p->index);
		lf_out_field(o, "page_address", p->page);
		put_site(o, "allocated", crash.alloc, crash.nalloc);
		lf_out_put(o, "}");
	}
	lf_out_put(o, "}");
}

void lf_crash_put(struct lf_stats_out *o)
{
	if (atomic_load(&crash.state) == 2)
		put_crash(o);
	/* Where the regions with a poisoned page were allocated. */
	uint64_t frame[LF_SITE_FRAMES], number;
	uint32_t rule;
	int n;
	lf_out_put(o, ",\n \"allocation_sites\": [");
	for (uint32_t i = 0, k = 0; (n = lf_sites_pinned(i, &rule, &number, frame)) >= 0; i++) {
		if (!n || rule >= lf.rules.nrules)
			continue;
		lf_out_put(o, k++ ? ", {\"rule\": " : "{\"rule\": ");
		lf_out_str(o, lf.rules.rule[rule].name);
		lf_out_field(o, "region", number);
		put_site(o, "frames", frame, n);
		lf_out_put(o, "}");
	}
	lf_out_put(o, "]");
}
