/* Changes that other processes make to the mapped files: an inotify watch on
 * each file that an emulated mapping loads from (files.c adds and removes
 * them with the regions), read by a thread of the library, which has
 * filechange.c follow each change.  inotify tells that a file changed, not
 * where: the file is looked at whole.  It reports the program's own changes
 * too: those its wrappers followed already (looking again finds little to
 * drop), and those no wrapper sees (stdio writes through glibc's internal
 * calls), which are followed here, a moment later.
 *
 * Clean pages the kernel would not let go (shared with a child of fork
 * that has not exited or exec'd yet, locked) are tried again for a while.
 *
 * The thread starts with the first file region, the way the helpers start
 * (server.c): every signal blocked, never stopped.  It holds to I1 (raw
 * system calls, no malloc, no stdio) and, like a program thread, waits for
 * the mm lock: no thread ever waits for it, and it serves no fault. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "filemap.h"
#include "invisible.h"
#include "lf.h"

#define INOTIFY lf_follow_fd[LF_FD_INOTIFY]
#define BATCH 64 /* distinct files followed per read */

static bool started;  /* mm lock held to change it (take.c, fork.c) */
static int add_error; /* the first inotify_add_watch failure, told outside the lock */

static void pause_a_moment(void)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	syscall(SYS_nanosleep, &ts, NULL);
}

/* The files that a batch of events says changed, each once. */
static size_t changed_files(const char *buf, ssize_t len, int *wd, bool *all)
{
	size_t n = 0;
	for (ssize_t at = 0; at < len;) {
		const struct inotify_event *ev = (const void *)(buf + at);
		at += (ssize_t)(sizeof *ev + ev->len);
		if (ev->mask & IN_Q_OVERFLOW)
			*all = true;
		if (!(ev->mask & IN_MODIFY))
			continue;
		size_t k = 0;
		while (k < n && wd[k] != ev->wd)
			k++;
		if (k == n && n == BATCH)
			*all = true;
		else if (k == n)
			wd[n++] = ev->wd;
	}
	return n;
}

/* While pages are left to try again: wait for events that long at most;
 * false when it is time to try. */
static bool events_within(int ms)
{
	struct pollfd p = {INOTIFY, POLLIN, 0};
	struct timespec ts = {0, ms * 1000L * 1000L};
	return syscall(SYS_ppoll, &p, 1, &ts, NULL, 0) != 0;
}

static void *watch(void *arg)
{
	lf_busy = 1; /* anything this thread calls goes straight through */
	lf_signals_blocked = true;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool again = false;
	for (;;) {
		if (again && !events_within(LF_AGAIN_MS)) {
			again = lf_file_changed_again();
			continue;
		}
		ssize_t len = syscall(SYS_read, INOTIFY, buf, sizeof buf);
		if (len <= 0) {
			if (len < 0 && errno == EINTR)
				continue;
			static _Atomic bool said;
			if (!atomic_exchange(&said, true))
				lf_error("watch: reading inotify failed (errno %d); retrying", errno);
			pause_a_moment();
			continue;
		}
		int wd[BATCH];
		bool all = false;
		size_t n = changed_files(buf, len, wd, &all);
		if (all)
			again = lf_file_changed_watch(-1);
		for (size_t i = 0; !all && i < n; i++)
			again = lf_file_changed_watch(wd[i]);
	}
	return arg;
}

int lf_watch_add(int fd)
{
	/* Static: the table lock is held (files.c), one caller at a time. */
	static char path[32];
	if (INOTIFY < 0)
		return -1;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int wd = (int)syscall(SYS_inotify_add_watch, INOTIFY, path, IN_MODIFY);
	if (wd < 0 && !add_error)
		add_error = errno;
	return wd;
}

void lf_watch_remove(int wd)
{
	if (wd >= 0 && INOTIFY >= 0)
		syscall(SYS_inotify_rm_watch, INOTIFY, wd);
}

/* A file mapping was taken or a child of fork has file regions (mm lock
 * held): watch them, starting the thread on the first call. */
void lf_watch_start(void)
{
	if (started)
		return;
	started = true;
	int fd = (int)syscall(SYS_inotify_init1, IN_CLOEXEC);
	if (fd < 0) {
		lf_warn("changes other processes make to mapped files are not followed: inotify_init1: "
			"%s", strerrordesc_np(errno));
		return;
	}
	INOTIFY = lf_fd_place(fd);
	/* A child of fork has files already: each gets its watch. */
	lf_table_lock();
	for (size_t i = 0, n = lf_files_count_locked(); i < n; i++) {
		struct lf_file *f = lf_files_nth_locked(i);
		int rfd = lf_files_fd_locked(f);
		if (rfd >= 0)
			f->wd = lf_watch_add(rfd);
	}
	lf_table_unlock();
	int e = lf_server_spawn(watch, NULL, "lazyfault-watch");
	if (e)
		lf_warn("changes other processes make to mapped files are not followed: no thread: %s",
			strerrordesc_np(e));
}

void lf_watch_report(void)
{
	static _Atomic bool said;
	if (add_error && !atomic_exchange(&said, true))
		lf_warn("a mapped file cannot be watched (inotify_add_watch: %s; see fs.inotify."
			"max_user_watches): changes other processes make to it are not followed",
			strerrordesc_np(add_error));
}

/* The parent's thread does not exist here, and its inotify instance is
 * the parent's (files.c closes it): fork.c starts the child's own. */
void lf_watch_fork_child(void) { started = false; }
