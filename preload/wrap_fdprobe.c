/* The library's descriptors look closed to the program: fstat, fcntl,
 * fstatat and statx on the fd itself (AT_EMPTY_PATH) fail with EBADF, as
 * they would without the library.  A program that probes every number up
 * to its limit (CPython's subprocess tests, daemons that check what is
 * left open after closing everything) finds only its own; and since our
 * close() of one of ours pretends to succeed (wrap_fd.c), what the program
 * closed stays closed to it.  A listing of /proc/self/fd still shows them
 * (README, Limits).  Nested calls of the library (lf_busy) see everything. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "invisible.h"
#include "lf.h"

static bool hidden(int fd)
{
	if (lf_busy || !lf_fd_is_ours(fd))
		return false;
	errno = EBADF;
	return true;
}

static bool hidden_at(int fd, const char *path, int flags)
{
	return (flags & AT_EMPTY_PATH) && path && !*path && hidden(fd);
}

#define REAL(name, type) \
	static type real; \
	if (!real) \
		real = (type)lf_real_sym(name)

typedef int (*fstat_fn)(int, struct stat *);
typedef int (*fxstat_fn)(int, int, struct stat *);
typedef int (*fstatat_fn)(int, const char *, struct stat *, int);
typedef int (*statx_fn)(int, const char *, int, unsigned, struct statx *);
typedef int (*fcntl_fn)(int, int, ...);

LF_API int fstat(int fd, struct stat *st)
{
	REAL("fstat", fstat_fn);
	return hidden(fd) ? -1 : real(fd, st);
}

LF_API int fstat64(int fd, struct stat64 *st)
{
	REAL("fstat64", fstat_fn);
	return hidden(fd) ? -1 : real(fd, (struct stat *)st);
}

LF_API int __fxstat(int ver, int fd, struct stat *st)
{
	REAL("__fxstat", fxstat_fn);
	return hidden(fd) ? -1 : real(ver, fd, st);
}

LF_API int __fxstat64(int ver, int fd, struct stat64 *st)
{
	REAL("__fxstat64", fxstat_fn);
	return hidden(fd) ? -1 : real(ver, fd, (struct stat *)st);
}

LF_API int fstatat(int fd, const char *path, struct stat *st, int flags)
{
	REAL("fstatat", fstatat_fn);
	return hidden_at(fd, path, flags) ? -1 : real(fd, path, st, flags);
}

LF_API int fstatat64(int fd, const char *path, struct stat64 *st, int flags)
{
	REAL("fstatat64", fstatat_fn);
	return hidden_at(fd, path, flags) ? -1 : real(fd, path, (struct stat *)st, flags);
}

LF_API int statx(int fd, const char *path, int flags, unsigned mask, struct statx *st)
{
	REAL("statx", statx_fn);
	return hidden_at(fd, path, flags) ? -1 : real(fd, path, flags, mask, st);
}

/* Every command takes at most one argument, an int or a pointer: passed on
 * as a pointer-sized word. */
#define FCNTL(name)                                                       \
	LF_API int name(int fd, int cmd, ...)                             \
	{                                                                 \
		REAL(#name, fcntl_fn);                                    \
		va_list ap;                                               \
		va_start(ap, cmd);                                        \
		void *arg = va_arg(ap, void *);                           \
		va_end(ap);                                               \
		return hidden(fd) ? -1 : real(fd, cmd, arg);              \
	}
FCNTL(fcntl)
FCNTL(fcntl64)
