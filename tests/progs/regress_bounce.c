/* Regression (user-mode-only): a thread-specific-data destructor that runs
 * at thread exit after the library freed the thread's bounce buffer reads
 * into an untouched page of a served file mapping: the read works.
 *
 *     regress_bounce FILE       (FILE of at least 1 MiB)
 */
#include <pthread.h>

#include "lftest.h"

static uint8_t *A, *B, *want;
static pthread_key_t k2;
static ssize_t dtor_n = -2, thr_n = -2;

static void dtor(void *x)
{
	(void)x;
	/* runs after the library's own key destructor: read into an
	 * untouched page of B */
	int z = open("/dev/zero", O_RDONLY);
	dtor_n = read(z, B + 8192, 16);
	close(z);
}

static void *thr(void *a)
{
	(void)a;
	int z = open("/dev/zero", O_RDONLY);
	thr_n = read(z, A, 16); /* in this thread: the bounce buffer made */
	close(z);
	pthread_key_create(&k2, dtor);
	pthread_setspecific(k2, (void *)1);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: regress_bounce FILE");
	size_t flen;
	want = slurp(argv[1], &flen);
	if (flen < MiB)
		die("%s is too small", argv[1]);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die("open %s", argv[1]);
	A = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	B = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (A == MAP_FAILED || B == MAP_FAILED)
		die("mmap");
	pthread_t t;
	if (pthread_create(&t, NULL, thr, NULL))
		die("pthread_create");
	pthread_join(t, NULL);
	check(thr_n == 16, "the thread's read into A returned %zd", thr_n);
	check(find_nonzero(A, 16) == NOMISMATCH && !memcmp(A + 16, want + 16, 4096 - 16),
	      "A: zeros read, then the file's bytes");
	check(dtor_n == 16, "the destructor's read into B returned %zd", dtor_n);
	check(find_nonzero(B + 8192, 16) == NOMISMATCH, "B: the destructor read zeros");
	check(!memcmp(B, want, 8192) && !memcmp(B + 8192 + 16, want + 8192 + 16, MiB - 8192 - 16),
	      "B: every other byte is the file's");
	munmap(A, MiB);
	munmap(B, MiB);
	close(fd);
	free(want);
	return finish("regress_bounce");
}
