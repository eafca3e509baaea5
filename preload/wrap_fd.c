/* The library's own descriptors (the userfaultfd, the `source` files, the
 * dups that file regions load through) must survive a program that closes
 * every descriptor it does not know (daemons, closefrom loops) or dup2s
 * onto their numbers: without them, memory that must be loaded would read
 * zeros or raise SIGBUS.  close() of one of ours pretends to succeed;
 * close_range() and closefrom() step around ours; dup2()/dup3() onto one of
 * ours first moves ours elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "badpages.h"
#include "filemap.h"
#include "invisible.h"
#include "lf.h"
#include "control.h"

static bool is_ours(int fd)
{
	if (fd < 0 || !lf_is_on())
		return false;
	if (fd == lf.uffd || lf_fdrefs_in_use(fd) || (fd > 2 && fd == lf_log_fd()) ||
	    lf_follow_owns_fd(fd) || lf_control_owns(fd))
		return true;
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (lf.rt[i].source_fd == fd)
			return true;
	return false;
}

bool lf_fd_is_ours(int fd) { return is_ours(fd); }

/* Move one of our descriptors off `fd` before the program takes it.  Not
 * in a vfork child (CPython's subprocess dup2s there): its descriptor table
 * is its own but the library's state is its parent's, whose numbers must
 * not change; the child's copy of ours may go, it execs or exits anyway. */
static void move_ours(int fd)
{
	if (lf_in_vfork_child())
		return;
	int to = lf_fd_dup(fd);
	if (to < 0)
		return;
	if (fd == lf.uffd)
		lf.uffd = to;
	if (fd == lf_log_fd())
		lf_log_moved(to);
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (lf.rt[i].source_fd == fd)
			lf.rt[i].source_fd = to;
	lf_regions_relocate_fd(fd, to);
	lf_shared_relocate_fd(fd, to);
	if (lf_follow_owns_fd(fd))
		lf_follow_fd_moved(fd, to);
	lf_control_moved(fd, to);
	lf_epochs_quiesce(); /* fills that planned with the old number finish */
	lf_debug("descriptor %d of the library moved to %d: the program reuses it", fd, to);
}

LF_API int close(int fd)
{
	if (!lf_busy && is_ours(fd)) {
		lf_debug("the program closes descriptor %d, which the library needs: kept open", fd);
		return 0;
	}
	if (fd >= 0)
		lf_badfd_forget((unsigned)fd, (unsigned)fd); /* the number no longer names its file */
	return lf_real_close(fd);
}

LF_API int dup2(int old, int new)
{
	if (old != new && !lf_busy && is_ours(new))
		move_ours(new);
	if (new >= 0)
		lf_badfd_forget((unsigned)new, (unsigned)new);
	return (int)syscall(SYS_dup2, old, new);
}

LF_API int dup3(int old, int new, int flags)
{
	if (old != new && !lf_busy && is_ours(new))
		move_ours(new);
	if (new >= 0)
		lf_badfd_forget((unsigned)new, (unsigned)new);
	return (int)syscall(SYS_dup3, old, new, flags);
}

/* close_range over [first, last] except our descriptors. */
static int close_range_around(unsigned first, unsigned last, int flags)
{
	unsigned from = first;
	for (unsigned fd = first; fd <= last && fd < (1u << 20); fd++) {
		if (!is_ours((int)fd))
			continue;
		if (fd > from && syscall(SYS_close_range, from, fd - 1, flags) < 0)
			return -1;
		from = fd + 1;
		if (fd == last)
			return 0;
	}
	return from <= last ? (int)syscall(SYS_close_range, from, last, flags) : 0;
}

LF_API int close_range(unsigned first, unsigned last, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		lf_badfd_forget(first, last);
	if (lf_busy || !lf_is_on())
		return (int)syscall(SYS_close_range, first, last, flags);
	/* Ours are few (high: fdplace.c): look only up to the highest one. */
	int top = lf.uffd > lf_log_fd() ? lf.uffd : lf_log_fd();
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (lf.rt[i].source_fd > top)
			top = lf.rt[i].source_fd;
	if (lf_fdrefs_top() > top)
		top = lf_fdrefs_top();
	if (lf_follow_fd_top() > top)
		top = lf_follow_fd_top();
	if (lf_control_top() > top)
		top = lf_control_top();
	if (top < (int)first)
		return (int)syscall(SYS_close_range, first, last, flags);
	unsigned upto = last < (unsigned)top ? last : (unsigned)top;
	if (close_range_around(first, upto, flags) < 0)
		return -1;
	return upto < last ? (int)syscall(SYS_close_range, upto + 1, last, flags) : 0;
}

LF_API void closefrom(int low)
{
	close_range((unsigned)(low < 0 ? 0 : low), ~0u, 0);
}
