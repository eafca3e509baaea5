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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"

void lf_file_resized(uint64_t dev, uint64_t ino, uint64_t old_size, uint64_t size)
{
	/* Shrunk: the pages past the new end.  Grown: the pages past the old
	 * end, which may hold the poison markers that gave SIGBUS there. */
	uint64_t lo = lf_page_up(size < old_size ? size : old_size);
	uint64_t hi = size < old_size ? UINT64_MAX : lf_page_up(size);
	if (lf_regions_empty() || lo >= hi)
		return;
	/* Fills that read the file before it changed finish first; any fill
	 * after this reads the file as it is now. */
	lf_epochs_quiesce();
	size_t emptied = 0;
	lf_table_lock();
	size_t n = lf_regions_count_locked();
	for (size_t i = 0; i < n; i++) {
		struct lf_region *r = lf_regions_nth_locked(i);
		/* A real shmem mapping is the kernel's to follow. */
		if (r->kind != LF_MATCH_FILE || r->src == LF_SRC_SHMEM || r->dev != dev ||
		    r->ino != ino)
			continue;
		uint64_t a = r->offset, b = r->offset + (r->end - r->start);
		a = a > lo ? a : lo;
		b = b < hi ? b : hi;
		if (a >= b)
			continue;
		uintptr_t from = r->start + (a - r->offset), to = r->start + (b - r->offset);
		/* DONTNEED faults nothing in: safe under the table lock. */
		lf_real_madvise((void *)from, to - from, MADV_DONTNEED);
		r->win.size = 0;
		emptied += to - from;
	}
	lf_table_unlock();
	/* Logged after the lock: formatting needs more stack than we touched. */
	if (emptied)
		lf_info("a mapped file changed size from %llu to %llu bytes: %zu bytes of its "
			"mappings emptied, their next touch sees the file as it is now",
			(unsigned long long)old_size, (unsigned long long)size, emptied);
}

static void after_truncate(int rc, const struct stat *st, off_t len)
{
	if (rc != 0 || !st || lf_regions_empty())
		return;
	/* The mm lock: no munmap may hand these ranges to another mapping
	 * while we empty them. */
	lf_mm_lock();
	lf_file_resized(st->st_dev, st->st_ino, (uint64_t)st->st_size, (uint64_t)len);
	lf_mm_unlock();
}

static bool serving(void) { return lf_is_on() && !lf_regions_empty(); }

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
