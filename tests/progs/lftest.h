/* Helpers shared by the self-checking test programs of tests/progs/.
 *
 * Every program prints one line per check ("ok: ..." or "FAIL: ...") and
 * exits 0 only when every check held.  The lines never contain addresses,
 * pids or timings, so that the output of a native run and of a run under
 * liblazyfault can be compared byte for byte.
 *
 * Memory that a `load` rule fills from a source file reads as zeros without
 * the library: lf_expect_source() tells the programs which of the two they
 * must expect (the library is preloaded and given rules).
 */
#ifndef LFTEST_H
#define LFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KiB (1024UL)
#define MiB (1024UL * 1024UL)

static int lft_failures;
static long lft_page;

static inline long page_size(void)
{
	if (!lft_page)
		lft_page = sysconf(_SC_PAGESIZE);
	return lft_page;
}

/* One check: prints ok/FAIL and the description; returns cond. */
__attribute__((format(printf, 2, 3), unused)) static bool check(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(cond ? "ok: " : "FAIL: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
	if (!cond)
		lft_failures++;
	return cond;
}

static inline size_t lf_round_up(size_t n)
{
	size_t pg = (size_t)page_size();
	return (n + pg - 1) / pg * pg;
}

static inline int lft_exit_status(void) { return lft_failures ? 1 : 0; }

static inline int finish(const char *name)
{
	printf("%s: %s\n", name, lft_failures ? "FAILED" : "all checks passed");
	fflush(stdout);
	return lft_exit_status();
}

__attribute__((noreturn, format(printf, 1, 2), unused)) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("FATAL: ", stdout);
	vprintf(fmt, ap);
	printf(" (%s)\n", strerror(errno));
	va_end(ap);
	fflush(stdout);
	exit(2);
}

/* fork() with stdout flushed first (so that nothing printed is printed
 * twice), dying if it fails. */
static inline pid_t lft_fork(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	return pid;
}

/* The byte that the pattern `seed` puts at offset `off` (never constant
 * over a page, different for each seed, rarely zero by design of the test:
 * a mismatch against zeros is seen at once). */
static inline uint8_t pat_byte(uint64_t off, unsigned seed)
{
	uint64_t x = off * 0x9E3779B97F4A7C15ULL + seed * 0x632BE59BD9B4E5ULL;
	x ^= x >> 29;
	return (uint8_t)(x | 1);
}

static inline void fill_pat(void *p, size_t n, uint64_t base, unsigned seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = pat_byte(base + i, seed);
}

/* Offset of the first byte that differs from the pattern, or (size_t)-1. */
static inline size_t find_pat_mismatch(const void *p, size_t n, uint64_t base, unsigned seed)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != pat_byte(base + i, seed))
			return i;
	return (size_t)-1;
}

static inline size_t find_nonzero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i = 0;
	for (; i < n && ((uintptr_t)(b + i) & 7); i++)
		if (b[i])
			return i;
	for (; i + 8 <= n; i += 8)
		if (*(const uint64_t *)(b + i))
			break;
	for (; i < n; i++)
		if (b[i])
			return i;
	return (size_t)-1;
}

#define NOMISMATCH ((size_t)-1)

/* Write the pattern to one byte per page only (cheap first touch). */
static inline void touch_pages_write(void *p, size_t n, unsigned seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i += (size_t)page_size())
		b[i] = pat_byte(i, seed);
}

static inline void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap anon %zu", len);
	return p;
}

/* `len` bytes of fresh anonymous memory, each page read (it must be zero),
 * written with its number, and read back; unmapped unless `keep`.  True
 * when every page read right. */
static inline bool lft_touch_anon(size_t len, bool keep)
{
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	bool ok = true;
	for (size_t i = 0; i < len; i += 4096) {
		ok &= p[i] == 0;
		p[i] = (unsigned char)(i >> 12);
	}
	for (size_t i = 0; i < len; i += 4096)
		ok &= p[i] == (unsigned char)(i >> 12);
	if (!keep)
		munmap(p, len);
	return ok;
}

/* fn handles sig (SA_SIGINFO, nothing masked); dies if it cannot. */
static inline void lft_on_signal(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(sig, &sa, NULL) < 0)
		die("sigaction");
}

/* True when this run is under liblazyfault with rules: memory that a load
 * rule takes then holds the source file's bytes, not zeros. */
static inline bool lf_expect_source(void)
{
	const char *pre = getenv("LD_PRELOAD"), *rules = getenv("LAZYFAULT_RULES");
	return pre && strstr(pre, "liblazyfault") && rules && *rules;
}

/* The whole of a file in memory (malloc'd). */
static inline uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		die("fstat %s", path);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		die("malloc");
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			die("read %s", path);
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

/* A source region as a program sees it: region byte X is file byte off+X,
 * zeros past the end of the file (under the library), zeros natively. */
struct source {
	const char *path;
	uint64_t offset;
	uint8_t *data; /* the file */
	size_t len;
	bool expect;   /* file bytes expected */
};

static inline void source_open(struct source *s, const char *path, uint64_t offset)
{
	s->path = path;
	s->offset = offset;
	s->data = slurp(path, &s->len);
	s->expect = lf_expect_source();
}

/* What region byte X of the source region must read as. */
static inline uint8_t source_byte(const struct source *s, uint64_t x)
{
	if (!s->expect)
		return 0;
	uint64_t o = s->offset + x;
	return o < s->len ? s->data[o] : 0;
}

/* First offset in [from, from+n) of region p whose byte is wrong, or -1. */
static inline size_t find_source_mismatch(const struct source *s, const uint8_t *p, uint64_t from,
					  size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[from + i] != source_byte(s, from + i))
			return i;
	return NOMISMATCH;
}

/* The size of the regions that tests' `load` rules take (min = max). */
#define SOURCE_REGION (3 * MiB)

#endif
