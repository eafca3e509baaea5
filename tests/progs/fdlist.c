/* What a program sees of its descriptors: only its own, at the numbers it
 * expects.  Every mode first touches 1 MiB of anonymous memory (an anon
 * rule serves it), so that the library has its descriptors open.
 *
 *   fdlist list          the open descriptors (fcntl F_GETFD over the whole
 *                        limit), and the number open() gives next
 *   fdlist exec          a pipe, its read end closed, then exec "list": the
 *                        new program must see 0, 1, 2 and the write end only
 *   fdlist daemon FILE   double fork; the grandchild closes every descriptor,
 *                        opens /dev/null three times (0, 1, 2 expected) and
 *                        a file (3), lists what is open into FILE and ends
 *   fdlist vfork-dup2    a vfork child dup2s onto every descriptor
 *                        /proc/self/fd shows (the library's among them) and
 *                        exits; the parent then touches memory it mapped
 *                        before, and new memory */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lftest.h"

#define AREA (1 << 20)

/* Kept mapped: the library keeps what serves it. */
static bool touch(void) { return lft_touch_anon(AREA, true); }

/* The open descriptors, "0,1,2", into buf. */
static void list(char *buf, size_t len)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	size_t o = 0;
	buf[0] = 0;
	for (int fd = 0; fd < (int)rl.rlim_cur && o + 16 < len; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			o += (size_t)snprintf(buf + o, len - o, "%s%d", o ? "," : "", fd);
}

static int do_list(void)
{
	check(touch(), "memory reads zeros");
	char buf[4096];
	list(buf, sizeof buf);
	printf("fdlist: open: %s\n", buf);
	int fd = open("/dev/null", O_RDONLY);
	printf("fdlist: open() gives %d\n", fd);
	return finish("fdlist");
}

static int do_exec(char *self)
{
	check(touch(), "memory reads zeros");
	int p[2];
	if (pipe(p) < 0)
		return perror("pipe"), 2;
	close(p[0]);
	printf("fdlist: the write end is %d\n", p[1]);
	fflush(stdout);
	execl(self, self, "list", (char *)NULL);
	return perror("exec"), 2;
}

static int do_daemon(const char *out)
{
	check(touch(), "memory reads zeros");
	unlink(out);
	pid_t mid = fork();
	if (mid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		for (int fd = 0; fd < (int)rl.rlim_cur; fd++)
			close(fd);
		int a = open("/dev/null", O_RDWR), b = open("/dev/null", O_RDWR),
		    c = open("/dev/null", O_RDWR);
		char tmp[4200];
		snprintf(tmp, sizeof tmp, "%s.tmp", out);
		int f = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		bool zero = touch();
		char buf[4096];
		list(buf, sizeof buf);
		dprintf(f, "null at %d %d %d, file at %d, memory %s, open: %s\n", a, b, c, f,
			zero ? "zeros" : "WRONG", buf);
		close(f);
		rename(tmp, out);
		_exit(0);
	}
	int st;
	waitpid(mid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the first child ends");
	for (int i = 0; i < 1000 && access(out, F_OK) != 0; i++)
		usleep(10000);
	FILE *f = fopen(out, "r");
	char line[4200] = "";
	if (!f || !fgets(line, sizeof line, f))
		strcpy(line, "(nothing)\n");
	printf("fdlist: the daemon says: %s", line);
	return finish("fdlist");
}

static int vfork_dup2(void)
{
	unsigned char *half = mmap(NULL, 2 * AREA, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (half == MAP_FAILED)
		return perror("mmap"), 2;
	half[0] = 1; /* the library's descriptors are open now */
	int fds[256], n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.' && atoi(e->d_name) > 2 && atoi(e->d_name) != dirfd(d))
			fds[n++] = atoi(e->d_name);
	if (d)
		closedir(d);
	pid_t pid = vfork();
	if (pid == 0) {
		for (int i = 0; i < n; i++)
			dup2(0, fds[i]);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the vfork child ends");
	bool ok = half[0] == 1;
	for (size_t i = 4096; i < 2 * AREA; i += 4096)
		ok &= half[i] == 0;
	check(ok, "memory mapped before the vfork reads right after it");
	check(touch(), "memory mapped after the vfork reads zeros");
	return finish("fdlist");
}

int main(int argc, char **argv)
{
	alarm(60);
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "list"))
		return do_list();
	if (!strcmp(m, "exec"))
		return do_exec(argv[0]);
	if (!strcmp(m, "vfork-dup2"))
		return vfork_dup2();
	if (!strcmp(m, "daemon") && argc > 2)
		return do_daemon(argv[2]);
	fprintf(stderr, "usage: fdlist list|exec|daemon FILE|vfork-dup2\n");
	return 2;
}
