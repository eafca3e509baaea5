/* A file that shrinks while mapped: the kernel drops the pages past the new
 * end from every mapping, private copies included, and their next touch
 * raises SIGBUS; when it grows again, those pages read the file again.  Our
 * emulated file mappings are anonymous memory the kernel does not connect to
 * the file, so when the program truncates a file we serve, we empty the
 * pages between the old and the new end ourselves, before truncate returns:
 * their next touch is a fault that sees the file as it is (fill.c).  A
 * truncation by another process is seen only by pages not yet loaded
 * (README "Limits"). */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"

static void after_truncate(int rc, const struct stat *st, off_t len)
{
	if (rc != 0 || !st || lf_regions_empty())
		return;
	/* The mm lock: no munmap may hand these ranges to another mapping
	 * while we empty them. */
	lf_mm_lock();
	lf_regions_file_resized(st->st_dev, st->st_ino, (uint64_t)st->st_size, (uint64_t)len);
	lf_mm_unlock();
}

static bool serving(void)
{
	return atomic_load_explicit(&lf.state, memory_order_acquire) == LF_ON && !lf_regions_empty();
}

LF_API int ftruncate(int fd, off_t len)
{
	struct stat st;
	bool watch = serving() && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	int rc = (int)syscall(SYS_ftruncate, fd, len);
	after_truncate(rc, watch ? &st : NULL, len);
	return rc;
}
LF_API int ftruncate64(int fd, off_t len) __attribute__((alias("ftruncate")));

LF_API int truncate(const char *path, off_t len)
{
	struct stat st;
	bool watch = serving() && stat(path, &st) == 0 && S_ISREG(st.st_mode);
	int rc = (int)syscall(SYS_truncate, path, len);
	after_truncate(rc, watch ? &st : NULL, len);
	return rc;
}
LF_API int truncate64(const char *path, off_t len) __attribute__((alias("truncate")));
