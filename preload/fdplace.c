/* Where the library's descriptors go: high, close-on-exec.
 *
 * A descriptor the library opens would take the lowest free number, where
 * the program expects its own: a daemon that closed 0-2 and opens
 * /dev/null three times, a child that lists its descriptors after exec
 * (CPython's pass_fds), a program that opens a file just after closing
 * another and reuses the number.  So each is moved to the top of the
 * descriptor table, just below the soft RLIMIT_NOFILE (capped, so that a
 * huge limit does not grow the kernel's table), close-on-exec so that no
 * exec'd program inherits one, and the low number is closed at once. */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "invisible.h"
#include "lf.h"

#define LF_FD_CAP 65536 /* the highest place looked for, whatever the limit */
#define LF_FD_ROOM 64   /* how far below the limit the first one goes */

/* The first number tried: LF_FD_ROOM below the limit, or half of a small
 * limit; never below 3. */
static int place_from(void)
{
	struct rlimit rl;
	long lim = 1024;
	if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0)
		lim = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LF_FD_CAP ? LF_FD_CAP
										  : (long)rl.rlim_cur;
	long from = lim > 2 * LF_FD_ROOM ? lim - LF_FD_ROOM : lim / 2;
	return from > 3 ? (int)from : 3;
}

int lf_fd_place(int fd)
{
	if (fd < 0)
		return fd;
	int from = place_from();
	if (fd >= from) { /* high already: only close-on-exec */
		syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
		return fd;
	}
	int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, from);
	if (high < 0) { /* the top is full: stay low, but close-on-exec */
		syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
		return fd;
	}
	lf_real_close(fd);
	return high;
}

int lf_fd_dup(int fd)
{
	int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, place_from());
	return high >= 0 ? high : (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
}
