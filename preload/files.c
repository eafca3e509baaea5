/* The files that emulated file mappings load from, as the library last knew
 * them, and the descriptors the library follows their changes with.
 *
 * One entry per file (device, inode) that at least one emulated file region
 * loads from: its size when the library last looked (when the file changes,
 * the old end says which pages lay past it), its inotify watch (watch.c),
 * and how many regions load from it.  Regions enter and leave with the table
 * (regions.c calls admit and leave with the table lock held), so the entries
 * are under the table lock too; they live in a private mapping of ours (no
 * malloc).  lf_files_known() reads them without the lock, as a filter only:
 * the wrappers ask it after every write to a regular file, and the answer
 * that counts is taken again under the lock (filechange.c).
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filemap.h"
#include "lf.h"

#define MAX_FILES 16384

static struct lf_file *files;
static _Atomic size_t nfiles;
static bool full_said;

bool lf_files_any(void) { return atomic_load_explicit(&nfiles, memory_order_relaxed) != 0; }

/* A region whose pages are the file's bytes, copied: the kernel does not
 * connect them to the file, so the library follows it. */
static bool copies_file(const struct lf_region *r)
{
	return r->kind == LF_MATCH_FILE && r->src == LF_SRC_FILE;
}

struct lf_file *lf_files_find_locked(uint64_t dev, uint64_t ino)
{
	size_t n = atomic_load_explicit(&nfiles, memory_order_relaxed);
	for (size_t i = 0; i < n; i++)
		if (files[i].ino == ino && files[i].dev == dev)
			return &files[i];
	return NULL;
}

int lf_files_fd_locked(const struct lf_file *f)
{
	for (size_t i = 0, n = lf_regions_count_locked(); i < n; i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		if (copies_file(r) && r->dev == f->dev && r->ino == f->ino)
			return r->fd;
	}
	return -1;
}

size_t lf_files_count_locked(void) { return atomic_load_explicit(&nfiles, memory_order_relaxed); }
struct lf_file *lf_files_nth_locked(size_t i) { return &files[i]; }

bool lf_files_known(uint64_t dev, uint64_t ino)
{
	size_t n = atomic_load_explicit(&nfiles, memory_order_acquire);
	for (size_t i = 0; i < n; i++)
		if (__atomic_load_n(&files[i].ino, __ATOMIC_RELAXED) == ino &&
		    __atomic_load_n(&files[i].dev, __ATOMIC_RELAXED) == dev)
			return true;
	return false;
}

void lf_files_admit(const struct lf_region *r)
{
	if (!copies_file(r))
		return;
	struct lf_file *f = files ? lf_files_find_locked(r->dev, r->ino) : NULL;
	if (f) {
		f->regions++;
		return;
	}
	if (!files) {
		void *p = lf_real_mmap(NULL, MAX_FILES * sizeof *files, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return;
		files = p;
	}
	size_t n = atomic_load_explicit(&nfiles, memory_order_relaxed);
	if (n == MAX_FILES) {
		full_said = true; /* told by lf_files_report(), outside the lock */
		return;
	}
	/* Static, not on the stack: the table lock is held (one user at a
	 * time), and a program thread may run on a small or served stack. */
	static struct stat st;
	f = &files[n];
	f->dev = r->dev;
	f->ino = r->ino;
	f->size = syscall(SYS_fstat, r->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	f->regions = 1;
	f->again = 0;
	f->wd = lf_watch_add(r->fd);
	atomic_store_explicit(&nfiles, n + 1, memory_order_release);
}

void lf_files_leave(const struct lf_region *r)
{
	if (!copies_file(r) || !files)
		return;
	struct lf_file *f = lf_files_find_locked(r->dev, r->ino);
	if (!f || --f->regions)
		return;
	lf_watch_remove(f->wd);
	size_t n = atomic_load_explicit(&nfiles, memory_order_relaxed);
	*f = files[n - 1];
	atomic_store_explicit(&nfiles, n - 1, memory_order_release);
}

void lf_files_report(void)
{
	static _Atomic bool said;
	if (full_said && !atomic_exchange(&said, true))
		lf_warn("more than %d mapped files: changes to the others are not followed", MAX_FILES);
}

/* The child's watch is a new inotify instance (watch.c): no entry has one. */
void lf_files_fork_child(void)
{
	size_t n = atomic_load_explicit(&nfiles, memory_order_relaxed);
	for (size_t i = 0; i < n; i++)
		files[i].wd = -1;
}

/* ---- the descriptors ------------------------------------------------- */

int lf_follow_fd[LF_FOLLOW_FDS] = {-1, -1, -1, -1};

bool lf_follow_owns_fd(int fd)
{
	for (int i = 0; fd >= 0 && i < LF_FOLLOW_FDS; i++)
		if (__atomic_load_n(&lf_follow_fd[i], __ATOMIC_RELAXED) == fd)
			return true;
	return false;
}

int lf_follow_fd_top(void)
{
	int top = -1;
	for (int i = 0; i < LF_FOLLOW_FDS; i++) {
		int fd = __atomic_load_n(&lf_follow_fd[i], __ATOMIC_RELAXED);
		top = fd > top ? fd : top;
	}
	return top;
}

/* The program is about to reuse `from` (dup2 onto it) and ours was copied
 * to `to` (wrap_fd.c): a drop in progress must not go on through the
 * program's descriptor, hence the mm lock, which every drop holds. */
void lf_follow_fd_moved(int from, int to)
{
	lf_mm_lock();
	for (int i = 0; i < LF_FOLLOW_FDS; i++)
		if (lf_follow_fd[i] == from)
			__atomic_store_n(&lf_follow_fd[i], to, __ATOMIC_RELAXED);
	lf_mm_unlock();
}

/* The child's copies act on the parent: its inotify instance and its
 * pipe are shared with the parent, its pagemap describes the parent's
 * memory.  Closed; the child opens its own when it needs them. */
void lf_follow_fds_fork_child(void)
{
	for (int i = 0; i < LF_FOLLOW_FDS; i++)
		if (lf_follow_fd[i] >= 0) {
			lf_real_close(lf_follow_fd[i]);
			lf_follow_fd[i] = -1;
		}
}
