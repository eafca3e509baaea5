/* The files a user names to lazyfault (files.h). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* From linux/magic.h, which glibc's headers do not pull in. */
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "an unusual file";
}

int lf_open_input(const char *path, bool allow_block, char *why, size_t whylen)
{
	int saved = errno;
	char ebuf[128];
	/* O_NONBLOCK: opening a FIFO returns at once instead of waiting for a
	 * writer; O_NOCTTY: a terminal named here never becomes ours. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror_r(errno, ebuf, sizeof(ebuf)));
		errno = saved;
		return -1;
	}
	struct stat st;
	struct statfs sf;
	const char *bad = NULL, *kind = NULL;
	if (fstat(fd, &st) != 0 || fstatfs(fd, &sf) != 0)
		bad = strerror_r(errno, ebuf, sizeof(ebuf));
	else if (!S_ISREG(st.st_mode) && !(allow_block && S_ISBLK(st.st_mode)))
		kind = kind_of(st.st_mode);
	else if (sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC)
		bad = "a file of /proc or /sys, whose bytes are made as they are read";
	if (!bad && !kind) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
			bad = strerror_r(errno, ebuf, sizeof(ebuf));
	}
	if (kind)
		snprintf(why, whylen, "%s, not a regular file%s", kind,
			 allow_block ? " nor a block device" : "");
	else if (bad)
		snprintf(why, whylen, "%s", bad);
	if (bad || kind) {
		close(fd);
		errno = saved;
		return -1;
	}
	errno = saved;
	return fd;
}

/* ---- replacing a file whole ------------------------------------------ */

static uint64_t random_bits(void)
{
	uint64_t v = 0;
	if (syscall(SYS_getrandom, &v, sizeof v, GRND_NONBLOCK) != (long)sizeof v) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)syscall(SYS_getpid) << 32;
	}
	return v;
}

/* tmp = the target's directory, "/.", its base name, "." and 12 hex digits
 * of v; false when it does not fit. */
static bool temp_name(char *tmp, size_t len, const char *target, uint64_t v)
{
	size_t n = strlen(target), slash = n;
	while (slash > 0 && target[slash - 1] != '/')
		slash--;
	if (n - slash == 0 || n + 16 > len)
		return false;
	size_t o = 0;
	memcpy(tmp, target, slash);
	o = slash;
	tmp[o++] = '.';
	memcpy(tmp + o, target + slash, n - slash);
	o += n - slash;
	tmp[o++] = '.';
	for (int i = 0; i < 12; i++, v >>= 4)
		tmp[o++] = "0123456789abcdef"[v & 15];
	tmp[o] = '\0';
	return true;
}

int lf_replace_begin(struct lf_replace *r, const char *target, mode_t mode)
{
	int saved = errno;
	r->fd = -1;
	r->err = 0;
	r->refused = NULL;
	r->tmp[0] = '\0';
	struct stat st;
	if (fstatat(AT_FDCWD, target, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			r->refused = "it is a directory";
		else if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			r->refused = "it exists and is not a regular file";
		else if (S_ISREG(st.st_mode) && st.st_uid != geteuid())
			r->refused = "it exists and belongs to another user";
	} else if (errno != ENOENT) {
		r->err = errno;
	}
	for (int tries = 0; !r->refused && !r->err && r->fd < 0; tries++) {
		if (!temp_name(r->tmp, sizeof r->tmp, target, random_bits())) {
			r->err = ENAMETOOLONG;
			break;
		}
		r->fd = open(r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (r->fd < 0 && (errno != EEXIST || tries == 8))
			r->err = errno;
	}
	errno = saved;
	return r->fd >= 0 ? 0 : -1;
}

void lf_replace_write(struct lf_replace *r, const void *buf, size_t len)
{
	int saved = errno;
	const char *p = buf;
	while (!r->err && len > 0) {
		long w = syscall(SYS_write, r->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r->err = w < 0 ? errno : EIO;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	errno = saved;
}

int lf_replace_commit(struct lf_replace *r, const char *target)
{
	int saved = errno;
	if (r->fd < 0) {
		errno = saved;
		return -1;
	}
	/* close() reports the write errors some file systems keep until then
	 * (NFS, a full quota). */
	if (syscall(SYS_close, r->fd) != 0 && !r->err)
		r->err = errno;
	r->fd = -1;
	if (!r->err && rename(r->tmp, target) != 0)
		r->err = errno;
	if (r->err)
		unlink(r->tmp);
	errno = saved;
	return r->err ? -1 : 0;
}

const char *lf_replace_why(const struct lf_replace *r)
{
	if (r->refused)
		return r->refused;
	const char *d = strerrordesc_np(r->err);
	return d ? d : "unknown error";
}
