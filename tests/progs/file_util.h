/* Helpers of the file_*.c test programs (private file mappings, emulated by
 * liblazyfault under a `match = file` rule).
 *
 * Each program creates its data files itself, in the directory it is given,
 * filled with the pattern of lftest.h: file byte O of a file made with seed S
 * is pat_byte(O, S) (never zero), so what a mapping must show is known
 * without reading the file, and a page of zeros where file bytes belong, or
 * file bytes where zeros belong, is seen at once.
 *
 * probe() touches one byte and reports the signal it raised (SIGBUS past the
 * end of a file, SIGSEGV on a protection), with si_addr, so that a program
 * survives the accesses it expects to fail.  A watchdog (alarm) turns a hang
 * into a FAIL line and exit status 3: a fault nobody serves still runs the
 * thread's signal handlers.
 */
#ifndef FILE_UTIL_H
#define FILE_UTIL_H

#include <setjmp.h>
#include <signal.h>

#include "lftest.h"

/* ---- data files ----------------------------------------------------- */

/* Create (or truncate) DIR/NAME with `size` bytes of pattern `seed`;
 * returns a read-write descriptor; *path gets the file's path. */
static inline int make_file(const char *dir, const char *name, size_t size, unsigned seed,
			    char *path, size_t pathlen)
{
	snprintf(path, pathlen, "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create %s", path);
	size_t chunk = 1 * MiB;
	uint8_t *buf = malloc(chunk);
	if (!buf)
		die("malloc");
	for (size_t at = 0; at < size; at += chunk) {
		size_t n = size - at < chunk ? size - at : chunk;
		fill_pat(buf, n, at, seed);
		if (pwrite(fd, buf, n, (off_t)at) != (ssize_t)n)
			die("write %s", path);
	}
	free(buf);
	return fd;
}

/* First index in [0, n) where mapping bytes p[] differ from what a mapping
 * of a file of `fsize` bytes of pattern `seed` at file offset `foff` shows:
 * file bytes below the end of the file, zeros after it.  -1: none. */
static inline size_t find_file_mismatch(const uint8_t *p, size_t n, uint64_t foff, uint64_t fsize,
					unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t o = foff + i;
		uint8_t want = o < fsize ? pat_byte(o, seed) : 0;
		if (p[i] != want)
			return i;
	}
	return NOMISMATCH;
}

/* Check a range of a mapping against the file; prints the first mismatch. */
static inline bool check_file_range(const uint8_t *p, size_t n, uint64_t foff, uint64_t fsize,
				    unsigned seed, const char *what)
{
	size_t m = find_file_mismatch(p, n, foff, fsize, seed);
	bool ok = check(m == NOMISMATCH, "%s", what);
	if (!ok) {
		uint64_t o = foff + m;
		printf("   first mismatch at mapping byte %zu (file offset %llu): got %u, want %u\n", m,
		       (unsigned long long)o, p[m], o < fsize ? pat_byte(o, seed) : 0);
	}
	return ok;
}

/* The file on disk still holds exactly `size` bytes of pattern `seed`
 * (read with pread into a buffer of our own, not through a mapping). */
static inline bool file_unchanged(int fd, size_t size, unsigned seed)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != size)
		return false;
	uint8_t *buf = malloc(1 * MiB);
	bool same = true;
	for (size_t at = 0; same && at < size; at += MiB) {
		size_t n = size - at < MiB ? size - at : MiB;
		if (pread(fd, buf, n, (off_t)at) != (ssize_t)n ||
		    find_pat_mismatch(buf, n, at, seed) != NOMISMATCH)
			same = false;
	}
	free(buf);
	return same;
}

static inline void *map_file(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED)
		die("mmap file len %zu off %lld", len, (long long)off);
	return p;
}

/* ---- touching what may fault ---------------------------------------- */

static sigjmp_buf probe_jb;
static volatile sig_atomic_t probe_sig;
static void *volatile probe_addr;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	probe_sig = sig;
	probe_addr = si->si_addr;
	siglongjmp(probe_jb, 1);
}

/* A probe that has not returned after this long is a hang: the SIGALRM
 * handler jumps out of it (a thread blocked in a fault runs its handlers),
 * it is reported, and the program goes on with its other checks. */
#define PROBE_TIMEOUT 2

struct probe_result {
	int sig;           /* 0: the access succeeded; SIGALRM: it hung */
	bool addr_in_page; /* si_addr lies in the page of the address touched */
	uint8_t val;       /* what a read gave */
};

/* Read (write == false) or write `val` to *a; returns what happened.
 * Main thread only (one jump buffer). */
static inline struct probe_result probe(volatile uint8_t *a, bool write, uint8_t val)
{
	struct sigaction sa, old_bus, old_segv, old_alrm;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	unsigned left = alarm(0); /* the watchdog's, given back afterwards */
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGALRM, &sa, &old_alrm);
	struct probe_result r = {0, false, 0};
	probe_sig = 0;
	probe_addr = NULL;
	if (sigsetjmp(probe_jb, 1) == 0) {
		alarm(PROBE_TIMEOUT);
		if (write)
			*a = val;
		else
			r.val = *a;
	}
	alarm(0);
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGALRM, &old_alrm, NULL);
	if (left)
		alarm(left);
	r.sig = probe_sig;
	uintptr_t pg = (uintptr_t)page_size();
	r.addr_in_page = r.sig && r.sig != SIGALRM && ((uintptr_t)probe_addr & ~(pg - 1)) == ((uintptr_t)a & ~(pg - 1));
	return r;
}

static inline const char *sig_name(int sig)
{
	return sig == 0	       ? "no signal"
	       : sig == SIGBUS  ? "SIGBUS"
	       : sig == SIGSEGV ? "SIGSEGV"
	       : sig == SIGALRM ? "a hang (the access did not return in PROBE_TIMEOUT s)"
				: "?";
}

/* The access raises `want` (SIGBUS / SIGSEGV) with si_addr in its page. */
static inline bool check_signal(volatile uint8_t *a, bool write, int want, const char *what)
{
	struct probe_result r = probe(a, write, 0x5a);
	bool ok = check(r.sig == want && (want == 0 || r.addr_in_page), "%s: %s%s", what, want ? sig_name(want) : "no signal, it reads",
			want ? " with si_addr in the page" : "");
	if (!ok)
		printf("   got %s%s (read value %u)\n", sig_name(r.sig),
		       r.sig == SIGBUS || r.sig == SIGSEGV
			       ? (r.addr_in_page ? ", si_addr in the page" : ", si_addr elsewhere")
			       : "",
		       r.val);
	return ok;
}

/* A system call that may block on a page (a fault the kernel takes for it):
 * guarded by an alarm that interrupts it after PROBE_TIMEOUT s.  An
 * interrupted fault in a system call makes it fail with EFAULT, which may
 * look right: the caller checks hung_end() as well. */
#include <time.h>
static struct timespec hung_t0;
static unsigned hung_left;
static struct sigaction hung_old;
static void hung_alarm(int sig) { (void)sig; }

static inline void hung_begin(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = hung_alarm; /* no SA_RESTART: the call is interrupted */
	sigemptyset(&sa.sa_mask);
	hung_left = alarm(0);
	sigaction(SIGALRM, &sa, &hung_old);
	clock_gettime(CLOCK_MONOTONIC, &hung_t0);
	alarm(PROBE_TIMEOUT);
}

/* True when the call took PROBE_TIMEOUT s or more (it hung). */
static inline bool hung_end(void)
{
	int e = errno;
	alarm(0);
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sigaction(SIGALRM, &hung_old, NULL);
	if (hung_left)
		alarm(hung_left);
	errno = e;
	double dt = (double)(t1.tv_sec - hung_t0.tv_sec) + (t1.tv_nsec - hung_t0.tv_nsec) * 1e-9;
	return dt >= PROBE_TIMEOUT - 0.1;
}

/* ---- watchdog --------------------------------------------------------- */

static const char *watchdog_what = "?";

static void watchdog_fired(int sig)
{
	(void)sig;
	static const char a[] = "FAIL: watchdog: the program hangs (in ";
	static const char b[] = ")\n";
	ssize_t rc = write(1, a, sizeof a - 1);
	rc = write(1, watchdog_what, strlen(watchdog_what));
	rc = write(1, b, sizeof b - 1);
	(void)rc;
	_exit(3);
}

/* Arm (seconds > 0) or disarm (0) the watchdog; `what` names the step. */
static inline void watchdog(unsigned seconds, const char *what)
{
	watchdog_what = what;
	signal(SIGALRM, watchdog_fired);
	alarm(seconds);
}

#endif
