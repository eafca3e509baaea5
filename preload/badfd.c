/* Reads of files with bad pages (a rule with file_pages and io_error): the
 * read family on a descriptor of such a file fails the way a block that
 * cannot be read fails.  A read returns the bytes before the first bad
 * page it would reach (a short read); the next one, which starts in it,
 * fails with EIO and moves nothing.  The wrappers of the read family
 * (wrap_io_table.h's `reads` column, wrap_filechange.c, wrap_stdio.c) ask
 * here before the call.
 *
 * Which descriptors are on such a file is decided at their first read, by
 * fstat and the path the kernel gives for them (/proc/self/fd), against the
 * rules (lf_file_pages_rule), and kept per descriptor number: descriptors
 * inherited across exec are decided the same way, and a child of fork
 * inherits what its parent knew with the descriptors themselves.  What is
 * kept is forgotten when the program closes the number or gets it again
 * (close, dup2, open, fopen, fclose...: lf_badfd_forget); a number closed
 * and reused behind the wrappers' back (raw system calls) could keep a
 * stale answer, so a descriptor kept as one of a bad file is checked
 * again (its device and inode) at every read, which also gives the file's
 * size.  With no rule that has io_error, nothing here runs: lf_badfd_on
 * is false and every wrapper skips it after one test.
 *
 * Runs in program threads only (helpers read with raw system calls). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "badpages.h"
#include "lf.h"

#undef fread_unlocked /* stdio.h may make it a macro: the function is meant */

bool lf_badfd_on;

#define MAX_FD (1 << 16)
enum { FD_UNKNOWN = 0, FD_GOOD = 1 }; /* else: the rule's index + 2 */

struct fdinfo {
	_Atomic int32_t state;
	uint64_t dev, ino;              /* the file, when its state names a rule */
};
static struct fdinfo *fds;              /* a private mapping of ours: no malloc */

void lf_badfd_init(void)
{
	bool any = false;
	for (size_t i = 0; i < lf.rules.nrules; i++)
		any |= lf.rules.rule[i].io_error && (lf.rules.rule[i].given & LF_KEY_FILE_PAGES);
	if (!any)
		return;
	void *p = lf_real_mmap(NULL, MAX_FD * sizeof *fds, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	fds = p == MAP_FAILED ? NULL : p;
	lf_badfd_on = fds != NULL;
}

void lf_badfd_forget_slow(unsigned first, unsigned last)
{
	for (unsigned fd = first; fd <= last && fd < MAX_FD; fd++)
		if (atomic_load_explicit(&fds[fd].state, memory_order_relaxed) != FD_UNKNOWN)
			atomic_store_explicit(&fds[fd].state, FD_UNKNOWN, memory_order_release);
}

/* The path of fd, as the kernel names it ("" when it cannot). */
static void path_of(int fd, char *path, size_t len)
{
	char link[32];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, len - 1);
	path[n > 0 ? n : 0] = 0;
}

/* The rule with io_error whose bad pages fd's file has, or -1; *known:
 * the answer may be kept (fstat worked). */
static int decide(int fd, const struct stat *st, bool *known)
{
	char path[4096];
	*known = true;
	if (!S_ISREG(st->st_mode))
		return -1;
	path_of(fd, path, sizeof path);
	int rule = path[0] == '/' ? lf_file_pages_rule(&lf.rules, path) : -1;
	*known = path[0] == '/';
	return rule >= 0 && lf.rules.rule[rule].io_error ? rule : -1;
}

/* The rule of fd's file, with its fstat in *st when there is one. */
static int lookup(int fd, struct stat *st)
{
	if (!lf_badfd_on || lf_busy || fd < 0)
		return -1;
	struct fdinfo *f = fd < MAX_FD ? &fds[fd] : NULL;
	int32_t s = f ? atomic_load_explicit(&f->state, memory_order_acquire) : FD_UNKNOWN;
	if (s == FD_GOOD)
		return -1;
	if (fstat(fd, st) < 0)
		return -1;
	if (s >= 2 && f->dev == st->st_dev && f->ino == st->st_ino)
		return s - 2;
	bool known;
	int rule = decide(fd, st, &known);
	if (f && known) {
		/* Two threads deciding at once decide the same; a reader of
		 * a half-written entry finds another file, and decides again. */
		atomic_store_explicit(&f->state, FD_UNKNOWN, memory_order_relaxed);
		f->dev = st->st_dev;
		f->ino = st->st_ino;
		atomic_store_explicit(&f->state, rule >= 0 ? rule + 2 : FD_GOOD, memory_order_release);
	}
	return rule;
}

int lf_badfd_rule(int fd)
{
	struct stat st;
	return lookup(fd, &st);
}

/* A read of *n bytes at pos of fd (file of rule `rule`, fstat st): cut
 * before the first bad page it reaches below the end of the file (counted
 * and logged when `cut_counts`), or failed when it starts in one. */
static int limit(const char *call, int fd, int rule, const struct stat *st, uint64_t pos, size_t *n,
		 bool cut_counts)
{
	struct lf_rule_rt *rt = &lf.rt[rule];
	uint64_t size = (uint64_t)st->st_size, end = pos + *n;
	if (pos >= size || *n == 0)
		return 0;                       /* the end of the file: no block to read */
	if (end > size || end < pos)
		end = size;
	uint64_t first = pos / LF_FILE_PAGE, last = (end - 1) / LF_FILE_PAGE + 1;
	uint64_t bad = lf_file_bad_next(rt->rule, rt->rule_seed, first, last);
	if (bad == last)
		return 0;
	uint64_t at = bad * LF_FILE_PAGE;
	char path[4096], bytes[32] = "";
	path_of(fd, path, sizeof path);
	if (*n != SIZE_MAX) /* a line has no length before it is read */
		snprintf(bytes, sizeof bytes, ", %zu bytes", *n);
	if (at <= pos) {
		atomic_fetch_add_explicit(&rt->read_errors, 1, memory_order_relaxed);
		lf_warn("rule '%s': %s(fd %d, %s, offset %llu%s): EIO: page %llu of the file is bad",
			rt->rule->name, call, fd, path, (unsigned long long)pos, bytes,
			(unsigned long long)bad);
		errno = EIO;
		return -1;
	}
	*n = (size_t)(at - pos);
	if (!cut_counts)
		return 0;
	atomic_fetch_add_explicit(&rt->reads_cut, 1, memory_order_relaxed);
	lf_info("rule '%s': %s(fd %d, %s, offset %llu%s): cut to %zu bytes, up to bad page %llu",
		rt->rule->name, call, fd, path, (unsigned long long)pos, bytes, *n,
		(unsigned long long)bad);
	return 0;
}

int lf_badfd_read(const char *call, int fd, int64_t off, size_t *n)
{
	struct stat st;
	int rule = lookup(fd, &st);
	if (rule < 0)
		return 0;
	int saved = errno;
	int64_t pos = off >= 0 ? off : lseek(fd, 0, SEEK_CUR);
	errno = saved;
	return pos < 0 ? 0 : limit(call, fd, rule, &st, (uint64_t)pos, n, true);
}

int lf_badfd_readv(const char *call, int fd, int64_t off, const struct iovec **iov, int *cnt,
		   struct iovec *cut)
{
	/* The iovecs are looked at only for a bad file's descriptor, and only
	 * as many as the kernel takes: it says what is wrong with the rest. */
	if (lf_badfd_rule(fd) < 0 || !*iov || *cnt < 0 || *cnt > IOV_MAX)
		return 0;
	size_t total = 0;
	for (int i = 0; i < *cnt; i++)
		if (__builtin_add_overflow(total, (*iov)[i].iov_len, &total))
			return 0;       /* the kernel refuses it (EINVAL) */
	size_t want = total;
	if (lf_badfd_read(call, fd, off, &total) < 0)
		return -1;
	if (total == want)
		return 0;
	/* The iovecs up to the bad page; past LF_CUT_IOV of them, the read is
	 * cut at an iovec's end before it: shorter, still before the page. */
	int k = 0;
	for (size_t left = total; left && k < *cnt && k < LF_CUT_IOV; k++) {
		cut[k] = (*iov)[k];
		if (cut[k].iov_len > left)
			cut[k].iov_len = left;
		left -= cut[k].iov_len;
	}
	*iov = cut;
	*cnt = k;
	return 0;
}

size_t lf_badfd_stream(const char *call, FILE *f, size_t want, bool cut_counts)
{
	struct stat st;
	int fd = f ? fileno(f) : -1;
	int rule = lookup(fd, &st);
	if (rule < 0 || want == 0)
		return want;
	int saved = errno;
	off_t pos = ftello(f);          /* where the program is: the buffer counted */
	errno = saved;
	size_t n = want;
	if (pos < 0)
		return want;
	return limit(call, fd, rule, &st, (uint64_t)pos, &n, cut_counts) < 0 ? 0 : n;
}

void lf_badfd_stream_error(FILE *f)
{
	f->_flags |= _IO_ERR_SEEN;      /* what ferror() reads, as glibc sets it */
	errno = EIO;
}

void lf_badfd_stream_fail(const char *call, FILE *f)
{
	lf_badfd_stream(call, f, 1, false); /* counted and logged, at the page */
	lf_badfd_stream_error(f);
}

bool lf_badfd_fread_cut(const char *call, FILE *f, size_t size, size_t *n, struct lf_stream_cut *c)
{
	size_t want;
	if (size == 0 || __builtin_mul_overflow(size, *n, &want))
		return false;
	size_t ok = lf_badfd_stream(call, f, want, true);
	if (ok == want)
		return false;
	if (ok == 0) {
		lf_badfd_stream_error(f);
		return true;
	}
	*n = ok / size;
	c->rest = ok % size;
	c->call = call;
	c->on = true;
	return false;
}

size_t lf_badfd_fread_rest(FILE *f, void *buf, size_t size, size_t n, size_t got,
			   const struct lf_stream_cut *c)
{
	if (got == n && c->rest) {
		/* The bytes of the item the bad page cuts are taken, as glibc
		 * takes them when its read fails. */
		char *at = (char *)buf + n * size;
		if (lf_user_mode())
			lf_prefault(at, c->rest);
		lf_busy++;
		fread_unlocked(at, 1, c->rest, f);
		lf_busy--;
	}
	if (got == n)
		lf_badfd_stream_fail(c->call, f);
	return got;
}
