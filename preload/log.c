/* The log: one line per event, written with write(2) from a stack buffer,
 * so that it is safe in the helper threads and in signal handlers (I1). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/syscall.h>

#include "invisible.h"
#include "lf.h"

static int log_fd = 2;
static enum lf_level log_level = LF_LEVEL_WARN;
static const char *const level_name[] = {"error", "warn", "info", "debug"};



void lf_log_setup(const char *dest, enum lf_level level)
{
	log_level = level;
	if (!dest || !*dest || !strcmp(dest, "stderr")) {
		log_fd = 2;
		return;
	}
	if (!strcmp(dest, "off")) {
		log_fd = -1;
		return;
	}
	char path[4096];
	lf_expand_pid(dest, path, sizeof path);
	/* Never through a link (O_NOFOLLOW), never blocking (a FIFO without a
	 * reader fails at once), and only a regular file of our own with one
	 * name: a file planted by another user, or a hard link to someone
	 * else's, is not appended to. */
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
				    O_NOCTTY, 0644);
	const char *why = fd < 0 ? (errno == ELOOP ? "a symbolic link" : strerror(errno)) : NULL;
	struct stat st;
	if (!why && fstat(fd, &st) != 0)
		why = strerror(errno);
	else if (!why && !S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (!why && st.st_uid != geteuid())
		why = "it belongs to another user";
	else if (!why && st.st_nlink != 1)
		why = "it has other names (hard links)";
	if (why) {
		if (fd >= 0)
			close(fd);
		log_fd = 2;
		lf_warn("cannot use log file %s (%s); logging to stderr", path, why);
		return;
	}
	log_fd = lf_fd_place(fd);
}

int lf_log_fd(void) { return log_fd; }
void lf_log_moved(int fd) { log_fd = fd; }

static bool lf_log_enabled(enum lf_level level) { return log_fd >= 0 && level <= log_level; }

void lf_log(enum lf_level level, const char *fmt, ...)
{
	if (!lf_log_enabled(level))
		return;
	int saved = errno;
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "lazyfault[%d]: %s: ", (int)getpid(), level_name[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	va_end(ap);
	n += m < 0 ? 0 : (m >= (int)(sizeof buf - n - 1) ? (int)(sizeof buf - n - 2) : m);
	buf[n++] = '\n';
	for (ssize_t off = 0; off < n;) {
		ssize_t w = syscall(SYS_write, log_fd, buf + off, n - off);
		if (w <= 0 && errno != EINTR)
			break;
		if (w > 0)
			off += w;
	}
	errno = saved;
}

size_t lf_expand_pid(const char *tmpl, char *out, size_t outlen)
{
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 1 < outlen; p++) {
		if (p[0] == '%' && p[1] == 'p') {
			o += snprintf(out + o, outlen - o, "%d", (int)getpid());
			if (o >= outlen)
				o = outlen - 1;
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = 0;
	return o;
}
