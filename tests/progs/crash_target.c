/* Dies of the SIGBUS of a poisoned page, in functions of known names, for
 * the crash report of tests/integration/test_crash.py (built with symbols,
 * frame pointers and no inlining: tests.mk).
 *
 *   crash_target mmap|malloc|thread|segv
 *
 * make_table() allocates a table of 16 pages (an anonymous mmap, or a
 * malloc block), fill_table() writes its first page, and read_entry() reads
 * page 5: under a rule that poisons page 5 of that table, the process dies
 * there, in read_entry called by sum_entries called by main (in a second
 * thread's start routine, run_sums, with `thread`).  Natively it prints
 * the sum and exits 0.  With `segv` it writes through a null pointer in
 * write_through() instead, natively too (SIGSEGV, no page of ours). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGES 16
static const char *how;

__attribute__((noinline)) static char *make_table(void)
{
	size_t len = PAGES * 4096;
	if (!strcmp(how, "malloc"))
		return malloc(len);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

__attribute__((noinline)) static void fill_table(char *t) { memset(t, 1, 4096); }

__attribute__((noinline)) static int read_entry(const volatile char *t, int page)
{
	return t[page * 4096 + 100];
}

__attribute__((noinline)) static long sum_entries(char *t)
{
	long sum = 0;
	for (int page = 0; page < PAGES; page++)
		sum += read_entry(t, page);
	return sum;
}

__attribute__((noinline)) static void write_through(int *volatile p) { *p = 1; }

static void *run_sums(void *t)
{
	printf("sum %ld\n", sum_entries(t));
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: crash_target mmap|malloc|thread|segv\n");
		return 2;
	}
	how = argv[1];
	char *t = make_table();
	if (!t)
		return 2;
	fill_table(t);
	if (!strcmp(how, "segv")) {
		write_through(NULL);
	} else if (!strcmp(how, "thread")) {
		pthread_t th;
		pthread_create(&th, NULL, run_sums, t);
		pthread_join(th, NULL);
	} else {
		printf("sum %ld\n", sum_entries(t));
	}
	return 0;
}
