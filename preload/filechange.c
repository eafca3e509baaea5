/* A mapped file changes: what an emulated private file mapping must show
 * afterwards, as the kernel shows a real one.
 *
 * The kernel maps a file's page-cache pages into a private mapping until the
 * program writes one (that page is then the program's own copy), so a change
 * of the file shows in every page the program has not written, and not in
 * those it has.  A file that shrinks loses its pages past the new end, the
 * program's copies too (their next touch raises SIGBUS); the page that holds
 * the new end reads zeros after it, unless the program wrote it; the pages a
 * file that grows holds again show what it holds.
 *
 * An emulated mapping is anonymous memory that the kernel does not connect
 * to the file, so after each change the library
 *  - empties the pages past the end (whatever they hold: the kernel drops
 *    the program's copies there too, and our poison markers gave SIGBUS
 *    where a grown file now has bytes);
 *  - drops the clean pages of the changed range, those the program has not
 *    written since they were loaded, so that their next touch loads the
 *    file as it now is (fill.c).
 * Which pages are clean: fill.c installs them write-protected in a range
 * registered for write-protect faults too (a `tracked` region); with
 * UFFD_FEATURE_WP_ASYNC the kernel resolves the program's first write to a
 * page itself, lifting the protection, and PAGEMAP_SCAN lists the pages
 * still protected.
 *
 * Which clean pages can be dropped without losing a write that races with
 * the drop is cleandrop.c's concern.
 *
 * The watch (watch.c) knows that a file changed, not where: it compares
 * each clean page with the file and drops those that differ, so that a
 * change the program's own wrappers followed already costs no reload.
 *
 * Everything here runs with the mm lock held: no munmap, mremap, mprotect or
 * madvise of the program changes the ranges meanwhile, and the descriptors
 * stay ours (files.c).  The table lock is never held across a call that may
 * wait for a helper.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "filemap.h"
#include "lf.h"
#include "pagemap_compat.h"

/* Empty [start, end) whatever it holds, as the kernel does past a new end. */
static void empty(uintptr_t start, uintptr_t end, struct lf_drop_counts *c)
{
	if (lf_real_madvise((void *)start, end - start, MADV_DONTNEED) < 0)
		lf_real_madvise((void *)start, end - start, 24 /* MADV_DONTNEED_LOCKED */);
	c->emptied += (end - start) / LF_PAGE;
}

struct change {
	uint64_t from, to;              /* the bytes written */
	uint64_t old_size, size;
};

/* Apply `what` to the part of the region that file bytes [a, b) are. */
static void in_region(const struct lf_region *r, uint64_t a, uint64_t b,
		      void (*what)(uintptr_t, uintptr_t, struct lf_drop_counts *), struct lf_drop_counts *c)
{
	uint64_t lo = r->offset, hi = r->offset + (r->end - r->start);
	a = a > lo ? a : lo;
	b = b < hi ? b : hi;
	if (a < b)
		what(r->start + (a - lo), r->start + (b - lo), c);
}

static void follow(const struct lf_region *r, const struct change *ch, struct lf_drop_counts *c)
{
	uint64_t low = ch->old_size < ch->size ? ch->old_size : ch->size;
	uint64_t end = lf_page_up(ch->size);
	if (ch->old_size != ch->size) {
		/* Shrunk: the pages past the new end.  Grown: those past the
		 * old end, which may hold the markers that gave SIGBUS there. */
		in_region(r, lf_page_up(low), ch->size < ch->old_size ? UINT64_MAX : end, empty, c);
		/* The page that holds the lower end: its bytes past that end
		 * change (zeros after a cut, the new bytes after a growth). */
		if (r->tracked)
			in_region(r, lf_page_down(low), lf_page_up(low), lf_clean_drop, c);
	}
	if (r->tracked && ch->from < ch->to)
		in_region(r, lf_page_down(ch->from), ch->to < ch->size ? lf_page_up(ch->to) : end,
			  lf_clean_drop, c);
}

/* The first region from index i on that loads from (dev, ino), copied,
 * its window forgotten (a stream that read the old bytes is over); the
 * index, or SIZE_MAX. */
static size_t next_region_locked(size_t i, uint64_t dev, uint64_t ino, struct lf_region *out)
{
	for (size_t n = lf_regions_count_locked(); i < n; i++) {
		struct lf_region *r = lf_regions_nth_locked(i);
		if (r->kind == LF_MATCH_FILE && r->src == LF_SRC_FILE && r->dev == dev && r->ino == ino) {
			r->win.size = 0;
			*out = *r;
			return i;
		}
	}
	return SIZE_MAX;
}

/* The file (dev, ino) changed: bytes [from, to), and its size is now
 * `size`.  Follow the change in every region of the file; returns the clean
 * pages left in place (shared since a fork, or locked).  mm lock held. */
static size_t follow_change(uint64_t dev, uint64_t ino, uint64_t from, uint64_t to, uint64_t size)
{
	struct change ch = {from, to, size, size};
	lf_table_lock();
	struct lf_file *f = lf_files_find_locked(dev, ino);
	if (f) {
		ch.old_size = f->size;
		f->size = size;
	}
	lf_table_unlock();
	if (!f)
		return 0;
	/* Fills that read the file before it changed finish first; a fill
	 * after this reads the file as it is now. */
	lf_epochs_quiesce();
	struct lf_drop_counts c = {0, 0, 0};
	struct lf_region r;
	for (size_t i = 0;; i++) {
		lf_table_lock();
		i = next_region_locked(i, dev, ino, &r);
		lf_table_unlock();
		if (i == SIZE_MAX)
			break;
		follow(&r, &ch, &c);
	}
	lf_debug("mapped file %llu:%llu changed (bytes %llu-%llu, size %llu -> %llu): %zu pages "
		 "emptied past the end, %zu clean pages dropped (loaded again when touched), %zu "
		 "left", (unsigned long long)dev, (unsigned long long)ino, (unsigned long long)from,
		 (unsigned long long)to, (unsigned long long)ch.old_size, (unsigned long long)size,
		 c.emptied, c.dropped, c.kept);
	static _Atomic bool said;
	if (c.kept && !atomic_exchange(&said, true))
		lf_info("%zu clean pages of a changed file cannot be dropped now (the kernel keeps "
			"pages shared with a process forked since they were loaded, and locked pages): "
			"they keep the bytes they had; the watch tries again for a while", c.kept);
	return c.kept;
}

void lf_file_before_move(uintptr_t start, uintptr_t end)
{
	if (!lf_files_any())
		return;
	struct lf_drop_counts c = {0, 0, 0};
	for (uintptr_t at = start; at < end;) {
		struct lf_region r;
		bool found = false;
		lf_table_lock();
		for (size_t i = lf_regions_lower_bound_locked(at), n = lf_regions_count_locked();
		     i < n && !found && lf_regions_nth_locked(i)->start < end; i++) {
			r = *lf_regions_nth_locked(i);
			found = r.tracked;
		}
		lf_table_unlock();
		if (!found)
			return;
		lf_clean_drop(r.start > at ? r.start : at, r.end < end ? r.end : end, &c);
		at = r.end;
	}
}

/* ---- where changes are seen ------------------------------------------ */

/* A file (dev, ino) of ours changed: [from, to) of it, and its size now. */
static void changed(const struct stat *st, uint64_t from, uint64_t to)
{
	if (!S_ISREG(st->st_mode) || !lf_files_known(st->st_dev, st->st_ino))
		return;
	lf_mm_lock();
	follow_change(st->st_dev, st->st_ino, from, to, (uint64_t)st->st_size);
	lf_mm_unlock();
}

static bool watching(void) { return !lf_busy && lf_is_on() && lf_files_any(); }

void lf_file_changed_fd(int fd, uint64_t from, uint64_t to)
{
	if (!watching())
		return;
	int saved = errno;
	struct stat st;
	if (syscall(SYS_fstat, fd, &st) == 0)
		changed(&st, from, to);
	errno = saved;
}

void lf_file_changed_path(const char *path)
{
	if (!watching())
		return;
	int saved = errno;
	struct stat st;
	if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0)
		changed(&st, 0, 0);
	errno = saved;
}

void lf_file_written(int fd, int64_t off, int64_t n)
{
	if (n <= 0 || !watching())
		return;
	int saved = errno;
	struct stat st;
	if (syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    lf_files_known(st.st_dev, st.st_ino)) {
		/* No offset: the bytes end at the position (also with
		 * O_APPEND, where the position is the new end). */
		if (off < 0)
			off = (int64_t)syscall(SYS_lseek, fd, 0, SEEK_CUR) - n;
		/* An append that ignored the offset (O_APPEND, RWF_APPEND) is
		 * in the growth of the file, which is followed anyway. */
		if (off >= 0)
			changed(&st, (uint64_t)off, (uint64_t)(off + n));
	}
	errno = saved;
}

/* ---- the watch's side (watch.c): no lock held on entry --------------- */

#define AGAIN 40 /* tries for pages not dropped, one each LF_AGAIN_MS */

/* From index *i on, the first file wanted (watch `wd`, -1: any; or, with
 * `again`, one with tries left, which uses one), and its size now: fstat
 * of a descriptor a region of it loads through, under the table lock,
 * which a dup2 onto that descriptor takes to move it (wrap_fd.c). */
static bool next_file(size_t *i, int wd, bool again, struct stat *st)
{
	bool found = false;
	lf_table_lock();
	for (size_t n = lf_files_count_locked(); *i < n && !found; (*i)++) {
		struct lf_file *f = lf_files_nth_locked(*i);
		bool wanted = again ? f->again > 0 : wd < 0 || f->wd == wd;
		if (wanted && again)
			f->again--;
		int fd = wanted ? lf_files_fd_locked(f) : -1;
		found = fd >= 0 && syscall(SYS_fstat, fd, st) == 0;
	}
	lf_table_unlock();
	return found;
}

/* In .bss: the library's own memory from the start (no mapping made later
 * takes address space the program would get). */
#define LOOK_CHUNK (LF_SCAN_RUNS * LF_PAGE)
static char file_bytes[LOOK_CHUNK], page_bytes[LOOK_CHUNK];
static struct page_region clean[LF_SCAN_RUNS], later[LF_SCAN_RUNS];

/* [start, end) of region r: its clean pages whose bytes are not the file's
 * (zeros past its end, as the kernel shows them) are dropped.  mm lock held. */
static void drop_differing(const struct lf_region *r, uintptr_t start, uintptr_t end, struct lf_drop_counts *c)
{
	uintptr_t next;
	long n = lf_clean_scan(start, end, 0, clean, &next);
	long ndiff = 0;
	for (long i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)clean[i].start;
		size_t len = clean[i].end - clean[i].start, got = 0;
		uint64_t off = r->offset + (a - r->start);
		for (long k; got < len; got += (size_t)k)
			if ((k = syscall(SYS_pread64, r->fd, file_bytes + got, len - got, off + got)) <= 0)
				break;
		memset(file_bytes + got, 0, len - got);
		/* Not a plain read: process_vm_readv fails where we would fault. */
		struct iovec mine = {page_bytes, len}, theirs = {(void *)a, len};
		long seen = syscall(SYS_process_vm_readv, getpid(), &mine, 1, &theirs, 1, 0);
		for (size_t at = 0; seen > 0 && at + LF_PAGE <= (size_t)seen; at += LF_PAGE) {
			if (!memcmp(file_bytes + at, page_bytes + at, LF_PAGE))
				continue;
			if (ndiff && later[ndiff - 1].end == a + at)
				later[ndiff - 1].end += LF_PAGE;
			else
				later[ndiff++] = (struct page_region){a + at, a + at + LF_PAGE, 0};
		}
	}
	for (long i = 0; i < ndiff; i++)
		lf_clean_drop(later[i].start, later[i].end, c);
}

/* The first region of (dev, ino) that ends after `at`: copied; false when
 * none. */
static bool region_after_locked(uint64_t dev, uint64_t ino, uintptr_t at, struct lf_region *out)
{
	for (size_t i = lf_regions_lower_bound_locked(at), n = lf_regions_count_locked(); i < n; i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		if (r->tracked && r->dev == dev && r->ino == ino) {
			*out = *r;
			return true;
		}
	}
	return false;
}

/* The file looked at whole: its size first (what lies past an end), then
 * its bytes, a chunk at a time, each with the mm lock, so that the program's
 * own calls do not wait for the whole look.  Pages left are tried again
 * (`first`: a new change, which gives new tries). */
static void look(const struct stat *st, bool first)
{
	uint64_t size = (uint64_t)st->st_size;
	lf_mm_lock();
	size_t kept = follow_change(st->st_dev, st->st_ino, 0, 0, size);
	lf_mm_unlock();
	struct lf_drop_counts c = {0, 0, 0};
	for (uintptr_t at = 0;;) {
		struct lf_region r;
		lf_mm_lock();
		lf_table_lock();
		bool found = region_after_locked(st->st_dev, st->st_ino, at, &r);
		lf_table_unlock();
		if (found) {
			uintptr_t a = r.start > at ? r.start : at;
			uintptr_t b = r.end - a > LOOK_CHUNK ? a + LOOK_CHUNK : r.end;
			/* Past the end there is nothing clean left to compare. */
			uint64_t eof = lf_page_up(size), foff = r.offset + (a - r.start);
			if (foff < eof)
				drop_differing(&r, a, eof - foff < b - a ? a + (eof - foff) : b, &c);
			at = foff < eof ? b : r.end;
		}
		lf_mm_unlock();
		if (!found)
			break;
	}
	kept += c.kept;
	if (c.dropped)
		lf_debug("mapped file %llu:%llu changed (seen by the watch): %zu clean pages that "
			 "differ from it dropped, %zu left", (unsigned long long)st->st_dev,
			 (unsigned long long)st->st_ino, c.dropped, c.kept);
	lf_table_lock();
	struct lf_file *f = lf_files_find_locked(st->st_dev, st->st_ino);
	if (f)
		f->again = !kept ? 0 : first ? AGAIN : f->again;
	lf_table_unlock();
}

static bool any_again(void)
{
	bool left = false;
	lf_table_lock();
	for (size_t i = 0, n = lf_files_count_locked(); i < n; i++)
		left |= lf_files_nth_locked(i)->again > 0;
	lf_table_unlock();
	return left;
}

bool lf_file_changed_watch(int wd)
{
	struct stat st;
	for (size_t i = 0; next_file(&i, wd, false, &st);) {
		look(&st, true);
		if (wd >= 0)
			break;
	}
	return any_again();
}

bool lf_file_changed_again(void)
{
	struct stat st;
	for (size_t i = 0; next_file(&i, -1, true, &st);)
		look(&st, false);
	return any_again();
}
