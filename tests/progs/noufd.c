/* noufd: run a program where no userfaultfd can be had.
 *
 *   noufd [--keep-uid] [--hide-dev] [--] PROGRAM [ARGS...]
 *
 *  - installs a seccomp filter (plain BPF, PR_SET_NO_NEW_PRIVS first) that
 *    makes userfaultfd(2) fail with EPERM, in all its modes, including
 *    UFFD_USER_MODE_ONLY;
 *  - as root, drops to uid/gid 65534 (nobody/nogroup) with no supplementary
 *    groups, so that /dev/userfaultfd (0600 root) is refused too;
 *    --keep-uid stays root (then /dev/userfaultfd still works, unless
 *    --hide-dev);
 *  - --hide-dev (root only): in a private mount namespace, bind-mounts
 *    /dev/null over /dev/userfaultfd, so opening it works but its ioctl
 *    fails (ENOTTY), another way a device can be "there but not usable";
 *  - then execs PROGRAM with the environment it was given.
 * Exit status 126 when it cannot set this up.
 */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "noufd: %s: %s\n", what, strerror(errno));
	return 126;
}

static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), /* other ABIs: not ours */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_userfaultfd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
	int keep_uid = 0, hide_dev = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--keep-uid"))
			keep_uid = 1;
		else if (!strcmp(argv[i], "--hide-dev"))
			hide_dev = 1;
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "noufd: unknown option %s\n", argv[i]);
			return 126;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: noufd [--keep-uid] [--hide-dev] [--] PROGRAM [ARGS...]\n");
		return 126;
	}
	if (hide_dev) {
		if (unshare(CLONE_NEWNS) < 0)
			return fail("unshare(CLONE_NEWNS)");
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			return fail("mount --make-rprivate /");
		if (mount("/dev/null", "/dev/userfaultfd", NULL, MS_BIND, NULL) < 0)
			return fail("bind /dev/null over /dev/userfaultfd");
	}
	if (install_filter() < 0)
		return fail("seccomp filter");
	if (geteuid() == 0 && !keep_uid) {
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			return fail("drop to uid 65534");
	}
	/* Check that it holds before running anything. */
	if (syscall(__NR_userfaultfd, 0) >= 0 || errno != EPERM) {
		fprintf(stderr, "noufd: userfaultfd(2) is still available\n");
		return 126;
	}
	execvp(argv[i], argv + i);
	return fail(argv[i]);
}
