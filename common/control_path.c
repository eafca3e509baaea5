/* Where the control socket of a process is: control_path.h.  Linked into
 * the library too: no global state, no stdio streams, errno left as it
 * was. */
#include "control_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* fd is a directory of uid's that only uid may use. */
static bool private_dir(int fd, unsigned uid, struct stat *st)
{
	return fstat(fd, st) == 0 && S_ISDIR(st->st_mode) && st->st_uid == uid &&
	       (st->st_mode & 077) == 0;
}

void lf_control_tmp_dir(unsigned uid, char *out, size_t n)
{
	snprintf(out, n, "/tmp/lazyfault-%u", uid);
}

void lf_control_dir(const char *runtime_dir, unsigned uid, char *out, size_t n)
{
	int saved = errno;
	struct stat st = { 0 };
	int fd = runtime_dir && runtime_dir[0] == '/'
		 ? open(runtime_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	bool ok = fd >= 0 && private_dir(fd, uid, &st);
	if (fd >= 0)
		close(fd);
	if (ok && (size_t)snprintf(out, n, "%s/lazyfault", runtime_dir) < n)
		goto out;
	lf_control_tmp_dir(uid, out, n);
out:
	errno = saved;
}

int lf_control_dir_open(const char *dir, unsigned uid, bool create, char *why, size_t whylen)
{
	int saved = errno;
	struct stat st = { 0 };
	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, whylen, "%s: cannot create: %s", dir, strerror(errno));
		errno = saved;
		return -1;
	}
	/* O_NOFOLLOW: a symlink put there by someone else is not followed. */
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", dir,
			 errno == ELOOP || errno == ENOTDIR ? "not a directory (a symlink?): refused"
							    : strerror(errno));
	} else if (!private_dir(fd, uid, &st)) {
		snprintf(why, whylen, "%s: not a directory of user %u's that only they may use "
			 "(owner %u, mode %03o): refused", dir, uid, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 0777));
		close(fd);
		fd = -1;
	}
	errno = saved;
	return fd;
}

int lf_control_socket_path(const char *dir, int pid, char *out, size_t n)
{
	size_t room = sizeof(((struct sockaddr_un *)0)->sun_path);
	int len = snprintf(out, n, "%s/%d.sock", dir, pid);
	return len > 0 && (size_t)len < n && (size_t)len < room ? 0 : -1;
}
