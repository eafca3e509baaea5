/* The calls other than the write family (wrap_io_table.h) that change a
 * file: truncate, ftruncate, open and creat with O_TRUNC, fallocate,
 * copy_file_range, sendfile, splice.  Each calls the next definition, then,
 * when the file is one that emulated mappings load from, has them follow
 * the change before it returns (filechange.c): natively a private mapping
 * shows a changed file at once where the program has not written it.
 * What no wrapper sees (raw system calls, stdio, another process) the
 * watch follows a moment later (watch.c).  copy_file_range, sendfile and
 * splice also read a file: cut before its bad pages, or failed with EIO
 * (badfd.c), as the read family is. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "badpages.h"
#include "filemap.h"
#include "lf.h"

/* The next definition of each, as wrap_io.c finds its own. */
#define NEXT(name, type) ((type)lf_next(&next_##name, #name))
#define SLOT(name) static void *_Atomic next_##name;
#define EACH(X) X(truncate) X(ftruncate) X(open) X(openat) X(creat) X(__open_2) X(__openat_2) \
	X(fallocate) X(copy_file_range) X(sendfile) X(splice)
EACH(SLOT)

/* Looked up when the library loads: no later first call runs dlsym in a
 * signal handler or under a lock the loader wants (wrap_io.c). */
__attribute__((constructor)) static void look_up_all(void)
{
#define LOOK(name) lf_next(&next_##name, #name);
	EACH(LOOK)
#undef LOOK
}

/* The bytes ending at the descriptor's position, or starting at *off as
 * the call left it (advanced by what it moved). */
static void moved(int fd, const loff_t *off, ssize_t n)
{
	lf_file_written(fd, off ? (int64_t)(*off - n) : -1, n);
}

LF_API int ftruncate(int fd, off_t len)
{
	int rc = NEXT(ftruncate, int (*)(int, off_t))(fd, len);
	if (rc == 0)
		lf_file_changed_fd(fd, 0, 0); /* its size */
	return rc;
}
LF_API int ftruncate64(int fd, off_t len) __attribute__((alias("ftruncate")));

LF_API int truncate(const char *path, off_t len)
{
	int rc = NEXT(truncate, int (*)(const char *, off_t))(path, len);
	if (rc == 0)
		lf_file_changed_path(path);
	return rc;
}
LF_API int truncate64(const char *path, off_t len) __attribute__((alias("truncate")));

/* open(O_TRUNC) empties the file, as cp and editors do before they write.
 * A new descriptor is no longer what its number was (badfd.c). */
static int opened(int fd, int flags)
{
	if (fd >= 0)
		lf_badfd_forget((unsigned)fd, (unsigned)fd);
	if (fd >= 0 && (flags & O_TRUNC))
		lf_file_changed_fd(fd, 0, 0);
	return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return __OPEN_NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0;
}

LF_API int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return opened(NEXT(open, int (*)(const char *, int, ...))(path, flags, mode), flags);
}
LF_API int open64(const char *path, int flags, ...) __attribute__((alias("open")));

LF_API int openat(int dir, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return opened(NEXT(openat, int (*)(int, const char *, int, ...))(dir, path, flags, mode), flags);
}
LF_API int openat64(int dir, const char *path, int flags, ...) __attribute__((alias("openat")));

/* What programs built with _FORTIFY_SOURCE call when the flags are not a
 * constant and no mode is given. */
LF_API int __open_2(const char *path, int flags)
{
	return opened(NEXT(__open_2, int (*)(const char *, int))(path, flags), flags);
}
LF_API int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));

LF_API int __openat_2(int dir, const char *path, int flags)
{
	return opened(NEXT(__openat_2, int (*)(int, const char *, int))(dir, path, flags), flags);
}
LF_API int __openat64_2(int dir, const char *path, int flags) __attribute__((alias("__openat_2")));

LF_API int creat(const char *path, mode_t mode)
{
	return opened(NEXT(creat, int (*)(const char *, mode_t))(path, mode), O_TRUNC);
}
LF_API int creat64(const char *path, mode_t mode) __attribute__((alias("creat")));

LF_API int fallocate(int fd, int mode, off_t off, off_t len)
{
	int rc = NEXT(fallocate, int (*)(int, int, off_t, off_t))(fd, mode, off, len);
	/* Collapsing or inserting a range moves every byte after it. */
	bool shifts = mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE);
	if (rc == 0 && off >= 0 && len > 0)
		lf_file_changed_fd(fd, (uint64_t)off, shifts ? UINT64_MAX : (uint64_t)(off + len));
	return rc;
}
LF_API int fallocate64(int fd, int mode, off_t off, off_t len) __attribute__((alias("fallocate")));

/* What a call reads of in, at *off or at in's position, before a bad
 * page of its file: len is cut to it; -1 (EIO) when it starts in one.
 * *off is read only for a bad file's descriptor. */
#define READS(in, off, len)                                                        \
	if (lf_badfd_on && lf_badfd_rule(in) >= 0 &&                               \
	    lf_badfd_read(__func__, in, off ? (int64_t)*off : -1, &len) < 0)      \
		return -1;

LF_API ssize_t copy_file_range(int in, loff_t *in_off, int out, loff_t *out_off, size_t len,
			       unsigned flags)
{
	READS(in, in_off, len)
	ssize_t n = NEXT(copy_file_range, ssize_t (*)(int, loff_t *, int, loff_t *, size_t, unsigned))(
		in, in_off, out, out_off, len, flags);
	moved(out, out_off, n);
	return n;
}

LF_API ssize_t sendfile(int out, int in, off_t *in_off, size_t count)
{
	READS(in, in_off, count)
	ssize_t n = NEXT(sendfile, ssize_t (*)(int, int, off_t *, size_t))(out, in, in_off, count);
	moved(out, NULL, n);
	return n;
}
LF_API ssize_t sendfile64(int out, int in, off_t *in_off, size_t count) __attribute__((alias("sendfile")));

LF_API ssize_t splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t len, unsigned flags)
{
	READS(in, in_off, len)
	ssize_t n = NEXT(splice, ssize_t (*)(int, loff_t *, int, loff_t *, size_t, unsigned))(
		in, in_off, out, out_off, len, flags);
	moved(out, out_off, n);
	return n;
}
