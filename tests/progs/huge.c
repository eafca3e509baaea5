/* Requests the kernel refuses under its default overcommit heuristic (a
 * single mapping larger than memory and swap together) must be refused under
 * the library too: the malloc family returns NULL with ENOMEM, mmap fails
 * with ENOMEM, as glibc and the kernel do natively.  A program that probes
 * its limits, or handles NULL, must not run on into the OOM killer.  A
 * mapping the program asks not to be accounted (MAP_NORESERVE) is made, as
 * natively.
 *
 * Each check also makes a small request afterwards: the library must still
 * serve after a refusal.  The sizes: 200 GiB, far above the memory of the
 * test machines (the integration test checks the machine first).
 *
 *   huge DIR      (DIR: where a sparse file of 200 GiB is made)
 */
#include "file_util.h"

#define HUGE_LEN (200UL << 30)

/* The result of a malloc-family call: NULL with ENOMEM, as natively. */
static bool refused(void *p, int err) { return p == NULL && err == ENOMEM; }

static void small_still_served(const char *after)
{
	uint8_t *p = malloc(2 * MiB);
	bool ok = p != NULL;
	if (ok) {
		memset(p, 0x5a, 2 * MiB);
		ok = p[0] == 0x5a && p[2 * MiB - 1] == 0x5a;
		free(p);
	}
	check(ok, "after %s: malloc(2 MiB) works", after);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: huge DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	errno = 0;
	void *p = malloc(HUGE_LEN);
	check(refused(p, errno), "malloc(200 GiB): NULL, errno ENOMEM");
	small_still_served("malloc");

	errno = 0;
	p = calloc(1, HUGE_LEN);
	check(refused(p, errno), "calloc(1, 200 GiB): NULL, errno ENOMEM");
	errno = 0;
	p = calloc(HUGE_LEN / 4096, 4096);
	check(refused(p, errno), "calloc(200 GiB / 4096, 4096): NULL, errno ENOMEM");
	small_still_served("calloc");

	errno = 0;
	p = realloc(NULL, HUGE_LEN);
	check(refused(p, errno), "realloc(NULL, 200 GiB): NULL, errno ENOMEM");
	/* A block that grows: refused, and the old block is left as it was. */
	uint8_t *b = malloc(4 * MiB);
	if (!b)
		die("malloc 4 MiB");
	memset(b, 0x77, 4 * MiB);
	errno = 0;
	p = realloc(b, HUGE_LEN);
	check(refused(p, errno), "realloc(4 MiB block, 200 GiB): NULL, errno ENOMEM");
	/* A refused realloc leaves the block valid (gcc cannot know). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
	check(p || (b[0] == 0x77 && b[4 * MiB - 1] == 0x77), "the 4 MiB block is intact after the refusal");
	if (!p)
		free(b);
#pragma GCC diagnostic pop
	small_still_served("realloc");

	void *out = (void *)1;
	int rc = posix_memalign(&out, 4096, HUGE_LEN);
	check(rc == ENOMEM && out == (void *)1, "posix_memalign(4096, 200 GiB): ENOMEM, *out untouched");
	rc = posix_memalign(&out, 2 * MiB, HUGE_LEN);
	check(rc == ENOMEM, "posix_memalign(2 MiB, 200 GiB): ENOMEM");
	errno = 0;
	p = aligned_alloc(65536, HUGE_LEN);
	check(refused(p, errno), "aligned_alloc(64 KiB, 200 GiB): NULL, errno ENOMEM");
	errno = 0;
	p = valloc(HUGE_LEN);
	check(refused(p, errno), "valloc(200 GiB): NULL, errno ENOMEM");
	small_still_served("the aligned allocators");

	/* Anonymous memory: accounted unless the program says otherwise. */
	errno = 0;
	p = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p == MAP_FAILED && errno == ENOMEM, "mmap(200 GiB) anonymous, writable: ENOMEM");
	p = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	check(p != MAP_FAILED, "mmap(200 GiB, MAP_NORESERVE) anonymous: mapped, as natively");
	if (p != MAP_FAILED) {
		uint8_t *q = p;
		q[0] = 1;
		q[HUGE_LEN - 1] = 2;
		check(q[0] == 1 && q[HUGE_LEN - 1] == 2 && q[HUGE_LEN / 2] == 0,
		      "its first and last pages take writes, the middle reads zeros");
		munmap(p, HUGE_LEN);
	}

	/* A private writable mapping of a file is accounted as well. */
	char path[4096];
	snprintf(path, sizeof path, "%s/sparse.dat", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)HUGE_LEN) < 0)
		die("sparse file %s", path);
	errno = 0;
	p = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	check(p == MAP_FAILED && errno == ENOMEM, "mmap(200 GiB file, MAP_PRIVATE, writable): ENOMEM");
	p = mmap(NULL, HUGE_LEN, PROT_READ, MAP_PRIVATE, fd, 0);
	check(p != MAP_FAILED, "mmap(200 GiB file, MAP_PRIVATE, read only): mapped, as natively");
	if (p != MAP_FAILED) {
		check(((volatile uint8_t *)p)[HUGE_LEN - 1] == 0, "its last page reads the file (zeros)");
		munmap(p, HUGE_LEN);
	}
	close(fd);
	unlink(path);
	small_still_served("mmap");
	return finish("huge");
}
