/* What the library did in this process, seen from inside: whether it is
 * loaded, whether the process runs with AT_SECURE (a set-uid copy of this
 * program), the userfaultfd descriptors open, the real dispositions of the
 * fatal signals (asked of the kernel: the library's sigaction() would
 * report SIG_DFL), and memory touched that a poison rule would poison.
 *
 *   secure_probe off   checks the library is loaded and did nothing at all
 *   secure_probe on    checks the library is loaded and at work
 *
 * The memory: 8 MiB of anonymous memory and a 4 MiB malloc block, every
 * page written; under the rules the test gives (poison every page) that
 * is a SIGBUS when the library serves them.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/syscall.h>

#include "lftest.h"

static bool library_mapped(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	bool found = false;
	if (!f)
		die("open /proc/self/maps");
	while (fgets(line, sizeof line, f))
		found |= strstr(line, "liblazyfault") != NULL;
	fclose(f);
	return found;
}

static int uffd_descriptors(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;
	if (!d)
		die("open /proc/self/fd");
	while ((de = readdir(d))) {
		char p[300], target[256];
		snprintf(p, sizeof p, "/proc/self/fd/%s", de->d_name);
		ssize_t len = readlink(p, target, sizeof target - 1);
		if (len > 0) {
			target[len] = '\0';
			n += strstr(target, "userfaultfd") != NULL;
		}
	}
	closedir(d);
	return n;
}

/* The kernel's own record of the handler (struct kernel_sigaction starts
 * with the handler). */
static bool handler_is_default(int sig)
{
	void *k[4] = {0};
	if (syscall(SYS_rt_sigaction, sig, NULL, k, 8) != 0)
		die("rt_sigaction");
	return k[0] == (void *)SIG_DFL;
}

int main(int argc, char **argv)
{
	bool want_on = argc > 1 && !strcmp(argv[1], "on");
	printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
	check(library_mapped(), "the library is loaded");
	if (want_on) {
		check(uffd_descriptors() == 1, "the library opened its userfaultfd");
		check(!handler_is_default(SIGBUS), "the library's SIGBUS handler is installed");
	} else {
		check(uffd_descriptors() == 0, "no userfaultfd is open");
		check(handler_is_default(SIGBUS) && handler_is_default(SIGSEGV) &&
		      handler_is_default(SIGTERM), "no handler was installed");
	}
	fflush(stdout);
	uint8_t *a = map_anon(8 * MiB);
	for (size_t i = 0; i < 8 * MiB; i += page_size())
		a[i] = 1;
	uint8_t *m = malloc(4 * MiB);
	if (!m)
		die("malloc");
	for (size_t i = 0; i < 4 * MiB; i += page_size())
		m[i] = 1;
	check(a[8 * MiB - 1] == 0 && a[0] == 1 && m[0] == 1, "every page touched reads back");
	return finish("secure_probe");
}
