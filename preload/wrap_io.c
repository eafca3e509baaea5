/* The read/write family, wrapped for user-mode-only mode: there the kernel
 * cannot ask us to fill a page that a system call touches (the call fails
 * with EFAULT or comes short), so each wrapper fills the call's buffers
 * first (lf_prefault, prefault.c), then calls the next definition.  In full
 * mode, and inside the library (lf_busy), each is a straight call.
 *
 * After a call that writes a file, the private mappings of that file are
 * brought up to date before it returns (the `changes` column).  A read of
 * a file with bad pages (a rule with io_error) is cut before them, or
 * fails with EIO, before the call (the `reads` column, badfd.c).
 *
 * The wrappers are the rows of wrap_io_table.h, expanded here twice: once
 * into the wrappers themselves, once into the look-up of every next
 * definition when the library loads.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "badpages.h"
#include "filemap.h"
#include "lf.h"
#include "signals.h"
#include "poisoned.h"

/* stdio.h may make these macros; the table defines them as functions */
#undef fread_unlocked
#undef fwrite_unlocked

static inline bool want_prefault(void)
{
#ifdef LF_TEST_NO_PREFAULT
	/* A build for the test suite only (test_usermode.py), which shows
	 * that every check of the read/write family needs the prefault. */
	return false;
#endif
	return !lf_busy && lf_user_mode();
}

/* ---- what a row's `buffers` column names ---------------------------- */

/* The column is expanded twice in each wrapper: before the call with
 * lf_check NULL, to fill the buffers (user-mode-only mode); after it with
 * lf_check set, to look for a poisoned page where the call stopped
 * (efault.c). */
#define BUF(p, len) on_buf(lf_check, p, len);
#define BUF_CAP(p, n, cap) on_buf(lf_check, p, (n) < (cap) ? (n) : (cap));
#define ITEMS(p, size, n) on_items(lf_check, p, size, n, SIZE_MAX);
#define ITEMS_CAP(p, cap, size, n) on_items(lf_check, p, size, n, cap);
#define IOV(iov, count) on_iov(lf_check, iov, count);
#define MSG(msg) on_msg(lf_check, msg);
#define ADDR_OUT(sa, lenp) on_addr_out(lf_check, sa, lenp);

static void on_buf(struct lf_met *m, const void *p, size_t len)
{
	if (m)
		lf_met_range(m, p, len);
	else
		lf_prefault(p, len);
}

/* size * n bytes (stdio), at most cap, or none when that overflows (the
 * call fails then) */
static void on_items(struct lf_met *m, const void *p, size_t size, size_t n, size_t cap)
{
	if (m) {
		lf_met_items(m, p, size, n);
		return;
	}
	if (!size || n > SIZE_MAX / size)
		return;
	lf_prefault(p, size * n < cap ? size * n : cap);
}

static void on_iov(struct lf_met *m, const struct iovec *iov, int n)
{
	for (int i = 0; iov && i < n; i++)
		on_buf(m, iov[i].iov_base, iov[i].iov_len);
}

/* Everything of a msghdr the kernel reads or writes; after the call, its
 * data alone. */
static void on_msg(struct lf_met *m, const struct msghdr *msg)
{
	if (!msg)
		return;
	if (m) {
		on_iov(m, msg->msg_iov, (int)msg->msg_iovlen);
		return;
	}
	lf_prefault(msg, sizeof *msg);
	on_iov(m, msg->msg_iov, (int)msg->msg_iovlen);
	lf_prefault(msg->msg_iov, msg->msg_iovlen * sizeof *msg->msg_iov);
	lf_prefault(msg->msg_name, msg->msg_namelen);
	lf_prefault(msg->msg_control, msg->msg_controllen);
}

/* The length is read before the address is written: fill it first.
 * Nothing to look at after the call: the data came first. */
static void on_addr_out(struct lf_met *m, const struct sockaddr *sa, const socklen_t *len)
{
	if (m || !sa || !len)
		return;
	lf_prefault(len, sizeof *len);
	lf_prefault(sa, *len);
}

/* The call's descriptor (its first parameter, when an int) and stream (its
 * last, when a FILE *), for the report. */
#define FIRST_(a, ...) a
#define FIRST(args) FIRST_ args
#define NARGS_(_1, _2, _3, _4, _5, _6, _7, n, ...) n
#define NARGS(...) NARGS_(__VA_ARGS__, 7, 6, 5, 4, 3, 2, 1, 0)
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define LAST(...) CAT(LAST_, NARGS(__VA_ARGS__))(__VA_ARGS__)
#define LAST_3(a, b, c) c
#define LAST_4(a, b, c, d) d
#define LAST_5(a, b, c, d, e) e
#define LAST_6(a, b, c, d, e, f) f
#define LAST_7(a, b, c, d, e, f, g) g
#define FD_OF(args) _Generic((FIRST(args)), int: (FIRST(args)), default: -1)
#define STREAM_OF(args) _Generic((LAST args), FILE *: (LAST args), default: (FILE *)NULL)

/* ---- what a row's `changes` column names ----------------------------- */

/* After the call, before it returns: errno is kept (filechange.c). */
#define NO_CHANGE
#define WRITES_AT_POS(fd) lf_file_written(fd, -1, (int64_t)result);
#define WRITES_AT(fd, off) lf_file_written(fd, (int64_t)(off), (int64_t)result);

/* ---- what a row's `reads` column names ------------------------------- */

/* Before the call: cut it before a bad page of the file, or fail it
 * (badfd.c); after it, what a cut stream read still owes. */
#define LF_READS_BEFORE(kind, ...) BEFORE_##kind(__VA_ARGS__)
#define LF_READS_AFTER(kind, ...) AFTER_##kind(__VA_ARGS__)
#define BEFORE_NONE()
#define AFTER_NONE()
#define BEFORE_AT_POS(fd, n) BEFORE_AT(fd, -1, n)
#define AFTER_AT_POS(fd, n)
#define BEFORE_AT(fd, off, n)                                                      \
	if (lf_badfd_on && lf_badfd_read(__func__, fd, off, &n) < 0)               \
		return -1;
#define AFTER_AT(fd, off, n)
#define BEFORE_IOV(fd, iov, n, off)                                                \
	struct iovec lf_cut[LF_CUT_IOV];                                           \
	if (lf_badfd_on && lf_badfd_readv(__func__, fd, off, &iov, &n, lf_cut) < 0) \
		return -1;
#define AFTER_IOV(fd, iov, n, off)
#define BEFORE_STREAM(f, buf, size, n)                                             \
	struct lf_stream_cut lf_cut = {0};                                         \
	if (lf_badfd_on && lf_badfd_fread_cut(__func__, f, size, &n, &lf_cut))     \
		return 0;
#define AFTER_STREAM(f, buf, size, n)                                              \
	if (lf_cut.on)                                                             \
		result = lf_badfd_fread_rest(f, buf, size, n, result, &lf_cut);

/* ---- the wrappers ----------------------------------------------------- */

enum lf_io_direction { LF_IO_INTO, LF_IO_FROM }; /* checked, used by no hook yet */

/* Per row: the type of the call, a slot for its next definition, and the
 * wrapper.  errno is the caller's until the real call. */
#define LF_IO(name, dir, ret, params, args, buffers, changes, reads)                 \
	typedef ret lf_io_##name##_fn params;                                         \
	static void *_Atomic lf_next_##name;                                          \
	LF_API ret name params                                                        \
	{                                                                             \
		(void)LF_IO_##dir;                                                    \
		lf_io_##name##_fn *next = (lf_io_##name##_fn *)lf_next(&lf_next_##name, #name); \
		LF_READS_BEFORE reads                                                 \
		if (want_prefault()) {                                                \
			int saved_errno = errno;                                      \
			struct lf_met *lf_check = NULL;                               \
			buffers                                                       \
			errno = saved_errno;                                          \
		}                                                                     \
		ret result = next args;                                               \
		if (__builtin_expect(lf_sigbus_parked, 0)) /* a signalfd read */      \
			lf_sigmask_unpark_check();                                    \
		changes                                                               \
		LF_READS_AFTER reads                                                  \
		struct lf_met lf_met;                                                 \
		int lf_err = errno;                                                   \
		if (lf_poisoned_any() && /* one load while nothing is poisoned */     \
		    lf_met_begin(&lf_met, #name, FD_OF(args), STREAM_OF(args),        \
				 (long long)result, lf_err)) {                        \
			struct lf_met *lf_check = &lf_met;                            \
			buffers                                                       \
			errno = lf_err;                                               \
		}                                                                     \
		return result;                                                        \
	}
#define LF_IO_ALIAS(other, name) LF_API lf_io_##name##_fn other __attribute__((alias(#name)));
#include "wrap_io_table.h"
#undef LF_IO
#undef LF_IO_ALIAS

/* Look every next definition up when the library loads, so that no later
 * first call runs dlsym where it is not safe: in a signal handler, or in a
 * thread that holds a lock the loader wants. */
__attribute__((constructor)) static void look_up_all(void)
{
#define LF_IO(name, ...) lf_next(&lf_next_##name, #name);
#define LF_IO_ALIAS(other, name)
#include "wrap_io_table.h"
#undef LF_IO
#undef LF_IO_ALIAS
}
