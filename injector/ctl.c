/* `lazyfault ctl PID list | enable RULE | disable RULE | set RULE.KEY=VALUE`:
 * one request to the control socket of a process whose rules say
 * `control = yes` (preload/control.c serves it; common/control_path.h says
 * where it is).  The socket's directory is checked before connecting, as
 * the library checks it before listening: a socket in a directory that
 * someone else could have put there is never used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_path.h"
#include "lazyfault.h"

/* Connect to the socket of pid in dir: the descriptor, or -1 with why. */
static int connect_in(const char *dir, unsigned uid, int pid, char *why, size_t n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int dfd = lf_control_dir_open(dir, uid, false, why, n);
	if (dfd < 0)
		return -1;
	close(dfd);
	if (lf_control_socket_path(dir, pid, a.sun_path, sizeof a.sun_path) < 0) {
		snprintf(why, n, "%s: path too long for a socket", dir);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		snprintf(why, n, "%s: %s", a.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The process's socket: where its user's sessions put it
 * ($XDG_RUNTIME_DIR), else in its user's directory in /tmp. */
static int connect_to(int pid, char *why, size_t n)
{
	char proc[64], dir[PATH_MAX], tmp[PATH_MAX], why2[PATH_MAX + 256];
	struct stat st;
	snprintf(proc, sizeof proc, "/proc/%d", pid);
	if (stat(proc, &st) != 0) {
		snprintf(why, n, "no process %d", pid);
		return -1;
	}
	unsigned uid = (unsigned)st.st_uid;
	lf_control_dir(getenv("XDG_RUNTIME_DIR"), uid, dir, sizeof dir);
	lf_control_tmp_dir(uid, tmp, sizeof tmp);
	int fd = connect_in(dir, uid, pid, why, n);
	if (fd < 0 && strcmp(dir, tmp)) {
		fd = connect_in(tmp, uid, pid, why2, sizeof why2);
		if (fd < 0)
			snprintf(why + strlen(why), n - strlen(why), "; %s", why2);
	}
	if (fd < 0)
		snprintf(why + strlen(why), n - strlen(why),
			 " (is process %d running under lazyfault with control = yes?)", pid);
	return fd;
}

int lf_cmd_ctl(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		lf_usage(stdout);
		return LF_EXIT_OK;
	}
	if (argc < 3)
		return lf_usage_error("ctl: give PID and a request (list, enable RULE, disable RULE, "
				      "set RULE.KEY=VALUE)");
	char *end;
	long pid = strtol(argv[1], &end, 10);
	if (!*argv[1] || *end || pid <= 0 || pid > 0x3fffffff)
		return lf_usage_error("ctl: '%s' is not a process id", argv[1]);
	const char *what = argv[2];
	bool one_arg = !strcmp(what, "enable") || !strcmp(what, "disable") || !strcmp(what, "set");
	if (strcmp(what, "list") && !one_arg)
		return lf_usage_error("ctl: unknown request '%s' (list, enable RULE, disable RULE, "
				      "set RULE.KEY=VALUE)", what);
	if (argc != (one_arg ? 4 : 3))
		return lf_usage_error("ctl: %s takes %s", what, one_arg ? "one argument" : "no argument");
	if (one_arg && strchr(argv[3], '\n'))
		return lf_usage_error("ctl: %s: a line break in the argument", what);

	char why[2 * PATH_MAX + 512];
	int fd = connect_to((int)pid, why, sizeof why);
	if (fd < 0) {
		lf_error("ctl: %s", why);
		return LF_EXIT_USAGE;
	}
	char req[8192];
	int len = snprintf(req, sizeof req, "%s%s%s\n", what, one_arg ? " " : "", one_arg ? argv[3] : "");
	if (len < 0 || (size_t)len >= sizeof req || write(fd, req, (size_t)len) != len) {
		lf_error("ctl: cannot send the request to process %ld: %s", pid, strerror(errno));
		close(fd);
		return LF_EXIT_USAGE;
	}
	shutdown(fd, SHUT_WR);
	FILE *in = fdopen(fd, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = LF_EXIT_USAGE;
	bool first = true;
	while (in && getline(&line, &cap, in) > 0) {
		if (first) {
			first = false;
			if (!strcmp(line, "ok\n")) {
				rc = LF_EXIT_OK;
				continue;
			}
			line[strcspn(line, "\n")] = '\0';
			lf_error("ctl: process %ld: %s", pid, strncmp(line, "error: ", 7) ? line : line + 7);
			continue;
		}
		fputs(line, stdout);
	}
	if (first)
		lf_error("ctl: process %ld closed the connection without a reply", pid);
	free(line);
	if (in)
		fclose(in);
	else
		close(fd);
	return rc;
}
