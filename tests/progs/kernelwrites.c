/* System calls outside the read/write family that write into (or read
 * from) a buffer the program never touched: fstat, stat, getcwd, readlink,
 * uname, pipe, getdents64, clock_gettime (the system call), sysinfo,
 * getsockname.  Natively they all succeed; the results are printed without
 * the values that change between runs.  In user-mode-only mode each fails
 * with EFAULT, a limit the README states (test_usermode.py checks both).
 */
#include <dirent.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/un.h>
#include <time.h>

#include "lftest.h"

static uint8_t *region;
static size_t next_off;

static void *fresh(size_t n)
{
	void *b = region + next_off;
	next_off += lf_round_up(n) + (size_t)page_size();
	return b;
}

int main(void)
{
	region = map_anon(16 * MiB);
	int fd = open("/proc/self/exe", O_RDONLY);
	long r;

	struct stat *st = fresh(sizeof *st);
	r = fstat(fd, st);
	check(r == 0 && st->st_size > 0, "fstat into an untouched buffer: %s", r == 0 ? "ok" : strerror(errno));
	st = fresh(sizeof *st);
	r = stat("/", st);
	check(r == 0 && S_ISDIR(st->st_mode), "stat into an untouched buffer: %s", r == 0 ? "ok" : strerror(errno));
	char *cwd = fresh(4096);
	char *c = getcwd(cwd, 4096);
	check(c != NULL && cwd[0] == '/', "getcwd into an untouched buffer: %s", c ? "ok" : strerror(errno));
	char *lnk = fresh(4096);
	ssize_t n = readlink("/proc/self/exe", lnk, 4096);
	check(n > 0 && lnk[0] == '/', "readlink into an untouched buffer: %s", n > 0 ? "ok" : strerror(errno));
	struct utsname *u = fresh(sizeof *u);
	r = uname(u);
	check(r == 0 && u->sysname[0] == 'L', "uname into an untouched buffer: %s", r == 0 ? "ok" : strerror(errno));
	int *fds = fresh(2 * sizeof(int));
	r = pipe(fds);
	check(r == 0 && fds[0] > 2 && fds[1] > 2, "pipe into an untouched array: %s", r == 0 ? "ok" : strerror(errno));
	int dfd = open("/", O_RDONLY | O_DIRECTORY);
	char *dents = fresh(64 * KiB);
	r = syscall(SYS_getdents64, dfd, dents, 64 * KiB);
	check(r > 0, "getdents64 into an untouched buffer: %s", r > 0 ? "ok" : strerror(errno));
	struct timespec *ts = fresh(sizeof *ts);
	r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ts);
	check(r == 0, "clock_gettime (system call) into an untouched buffer: %s", r == 0 ? "ok" : strerror(errno));
	struct sysinfo *si = fresh(sizeof *si);
	r = sysinfo(si);
	check(r == 0 && si->totalram > 0, "sysinfo into an untouched buffer: %s", r == 0 ? "ok" : strerror(errno));
	int sk = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un *sa = fresh(sizeof *sa);
	socklen_t *sl = fresh(sizeof *sl);
	*sl = sizeof *sa; /* the length is an input: touched */
	r = getsockname(sk, (struct sockaddr *)sa, sl);
	check(r == 0, "getsockname into an untouched buffer: %s", r == 0 ? "ok" : strerror(errno));
	return finish("kernelwrites");
}
