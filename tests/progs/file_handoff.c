/* Handoff: under a `load` rule, a long read in order of a read-only private
 * file mapping makes the library map the file itself over its emulation
 * (the kernel then serves the mapping with no copy).  Nothing the program
 * sees may change, before or after, and a mapping whose pages may hold the
 * program's own bytes, or that is locked, must never be handed off:
 *
 *  A. a 32 MiB read-only mapping read in order (handed off): every byte;
 *     MADV_DONTNEED, and the bytes again; a child of fork reads it; mremap
 *     moves it whole; another process truncates the file (a raw system
 *     call, which no wrapper sees): SIGBUS past the new end, the bytes
 *     before it.
 *  B. a 24 MiB read-write private mapping, some pages written, then read in
 *     order: the written bytes stay, the file is unchanged.
 *  C. a 24 MiB read-only mapping made writable with mprotect, written, made
 *     read-only again, then read in order: the written bytes stay.
 *  D. a 24 MiB read-only mapping locked on fault (mlock2 MLOCK_ONFAULT),
 *     then read in order: it is still locked (VmLck) afterwards.
 *  F. a 24 MiB read-only mapping given MADV_DONTFORK, then read in order:
 *     a child of fork still does not have it (SIGSEGV).
 *  G. a 24 MiB read-only mapping whose last 8 MiB are unmapped with a raw
 *     system call (no wrapper sees it) and mapped again, anonymous, with
 *     MAP_FIXED_NOREPLACE, and written; then the first 16 MiB read in
 *     order: the new mapping keeps what was written in it.
 *
 * The test requires exactly one handoff, of A's 32 MiB.  With `threads`,
 * only E: 8 threads read one 32 MiB read-only mapping in order, all at
 * once, so that faults of several threads are pending when it is handed
 * off; every thread sees the file's bytes.
 *
 *   file_handoff DIR [threads]
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "file_util.h"

#define SEED_A 61
#define SEED_B 62
#define SEED_C 63
#define SEED_D 64
#define MARK 0xEE
#define EVERY 97 /* pages between two written bytes */
#define MARKED (2 * MiB) /* written bytes only here: the stream after it is long */

/* Read every page of [p, p+len) in order; the count of pages whose bytes
 * differ from the file's (if `marked`, page k*EVERY of the first MARKED
 * bytes holds MARK at byte 0). */
static size_t read_in_order(const uint8_t *p, size_t len, unsigned seed, bool marked)
{
	size_t pg = (size_t)page_size(), bad = 0;
	for (size_t off = 0; off < len; off += pg) {
		size_t k = off / pg;
		size_t from = 0;
		if (marked && k % EVERY == 0 && off < MARKED) {
			if (p[off] != MARK)
				bad++;
			from = 1;
		}
		if (find_file_mismatch(p + off + from, pg - from, off + from, len, seed) != NOMISMATCH)
			bad++;
	}
	return bad;
}

static void write_marks(uint8_t *p, size_t len)
{
	size_t pg = (size_t)page_size();
	for (size_t off = 0; off < len && off < MARKED; off += EVERY * pg)
		p[off] = MARK;
}

/* After the whole read: the written bytes are all still there. */
static bool marks_kept(const uint8_t *p, size_t len)
{
	size_t pg = (size_t)page_size();
	for (size_t off = 0; off < len && off < MARKED; off += EVERY * pg)
		if (p[off] != MARK)
			return false;
	return true;
}

static long vm_locked_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static void part_a(const char *dir)
{
	size_t len = 32 * MiB, pg = (size_t)page_size();
	char path[4096];
	int fd = make_file(dir, "a.dat", len, SEED_A, path, sizeof path);
	uint8_t *p = map_file(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	check(read_in_order(p, len, SEED_A, false) == 0, "A: read in order, every byte the file's");
	check(madvise(p, len, MADV_DONTNEED) == 0, "A: MADV_DONTNEED");
	check(read_in_order(p, len, SEED_A, false) == 0, "A: after MADV_DONTNEED, the file's bytes again");

	pid_t child = fork();
	if (child == 0)
		_exit(read_in_order(p, len, SEED_A, false) == 0 ? 0 : 1);
	int st = 0;
	waitpid(child, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "A: a child of fork reads the file's bytes");

	/* Move it whole, to a place reserved for it. */
	void *to = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (check(q != MAP_FAILED, "A: mremap moves the whole mapping")) {
		p = q;
		check(read_in_order(p, len, SEED_A, false) == 0, "A: moved, the file's bytes");
	}

	/* Another process cuts the file to 20 MiB + 100 bytes. */
	size_t cut = 20 * MiB + 100;
	child = fork();
	if (child == 0)
		_exit(syscall(SYS_ftruncate, fd, (off_t)cut) == 0 ? 0 : 1);
	waitpid(child, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "A: another process truncates the file");
	check_file_range(p, cut, 0, cut, SEED_A, "A: truncated, the bytes before the new end");
	check_file_range(p + cut, pg - cut % pg, cut, cut, SEED_A,
			 "A: truncated, zeros from the new end to the end of its page");
	check_signal(p + lf_round_up(cut), false, SIGBUS, "A: truncated, the page after the new end");
	check_signal(p + len - pg, false, SIGBUS, "A: truncated, the last page");
	munmap(p, len);
	close(fd);
}

/* Parts B to F: a 24 MiB file of its own, mapped privately with `prot`. */
#define PART_LEN (24 * MiB)
static uint8_t *part_mapping(const char *dir, const char *name, unsigned seed, int prot, int *fd)
{
	char path[4096];
	*fd = make_file(dir, name, PART_LEN, seed, path, sizeof path);
	return map_file(NULL, PART_LEN, prot, MAP_PRIVATE, *fd, 0);
}

static void part_done(uint8_t *p, int fd)
{
	munmap(p, PART_LEN);
	close(fd);
}

static void part_b(const char *dir)
{
	size_t len = PART_LEN;
	int fd;
	uint8_t *p = part_mapping(dir, "b.dat", SEED_B, PROT_READ | PROT_WRITE, &fd);
	write_marks(p, len);
	check(read_in_order(p, len, SEED_B, true) == 0,
	      "B: read-write mapping, written then read in order: the written bytes stay");
	check(marks_kept(p, len), "B: read to the end, the written bytes are still there");
	check(file_unchanged(fd, len, SEED_B), "B: the file is unchanged");
	part_done(p, fd);
}

static void part_c(const char *dir)
{
	size_t len = PART_LEN;
	int fd;
	uint8_t *p = part_mapping(dir, "c.dat", SEED_C, PROT_READ, &fd);
	check(mprotect(p, len, PROT_READ | PROT_WRITE) == 0, "C: mprotect read-write");
	write_marks(p, len);
	check(mprotect(p, len, PROT_READ) == 0, "C: mprotect read-only again");
	check(read_in_order(p, len, SEED_C, true) == 0,
	      "C: written while writable, then read in order: the written bytes stay");
	check(marks_kept(p, len), "C: read to the end, the written bytes are still there");
	part_done(p, fd);
}

static void part_d(const char *dir)
{
	size_t len = PART_LEN;
	int fd;
	uint8_t *p = part_mapping(dir, "d.dat", SEED_D, PROT_READ, &fd);
	long before = vm_locked_kib();
	if (mlock2(p, len, MLOCK_ONFAULT) != 0) {
		printf("D: mlock2 MLOCK_ONFAULT unavailable here (%s): skipped\n", strerror(errno));
	} else {
		check(read_in_order(p, len, SEED_D, false) == 0, "D: locked on fault, read in order");
		long after = vm_locked_kib();
		check(after - before >= (long)(len / KiB),
		      "D: still locked afterwards (VmLck grew by the mapping's size)");
		if (after - before < (long)(len / KiB))
			printf("   VmLck %ld kB before, %ld kB after\n", before, after);
		munlock(p, len);
	}
	part_done(p, fd);
}

#define SEED_E 65
#define THREADS 8
static const uint8_t *e_map;
static const size_t e_len = 32 * MiB;

static void *e_reader(void *arg)
{
	(void)arg;
	size_t pg = (size_t)page_size(), bad = 0;
	for (size_t off = 0; off < e_len; off += pg)
		if (find_file_mismatch(e_map + off, pg, off, e_len, SEED_E) != NOMISMATCH)
			bad++;
	return (void *)(uintptr_t)bad;
}

static void part_e(const char *dir)
{
	char path[4096];
	int fd = make_file(dir, "e.dat", e_len, SEED_E, path, sizeof path);
	e_map = map_file(NULL, e_len, PROT_READ, MAP_PRIVATE, fd, 0);
	pthread_t t[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, e_reader, (void *)i);
	size_t bad = 0;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (size_t)(uintptr_t)r;
	}
	check(bad == 0, "E: %d threads read the mapping in order at once: the file's bytes",
	      THREADS);
	munmap((void *)e_map, e_len);
	close(fd);
}

static void part_f(const char *dir)
{
	size_t len = PART_LEN;
	int fd;
	uint8_t *p = part_mapping(dir, "f.dat", 66, PROT_READ, &fd);
	check(madvise(p, len, MADV_DONTFORK) == 0, "F: MADV_DONTFORK");
	check(read_in_order(p, len, 66, false) == 0, "F: read in order");
	pid_t child = fork();
	if (child == 0) {
		struct probe_result r = probe(p + len / 2, false, 0);
		_exit(r.sig == SIGSEGV ? 0 : 1);
	}
	int st = 0;
	waitpid(child, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "F: a child of fork does not have the mapping (SIGSEGV)");
	part_done(p, fd);
}

static void part_g(const char *dir)
{
	size_t len = PART_LEN, cut = 16 * MiB;
	int fd;
	uint8_t *p = part_mapping(dir, "g.dat", 67, PROT_READ, &fd);
	check(syscall(SYS_munmap, p + cut, len - cut) == 0, "G: raw munmap of the last 8 MiB");
	uint8_t *q = mmap(p + cut, len - cut, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (check(q == p + cut, "G: a new anonymous mapping in its place")) {
		q[100] = 42;
		check(read_in_order(p, cut, 67, false) == 0, "G: the first 16 MiB read in order");
		check(q[100] == 42, "G: the new mapping still holds what was written in it");
		munmap(q, len - cut);
	}
	munmap(p, cut);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: file_handoff DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(60, "file_handoff");
	if (argc > 2 && !strcmp(argv[2], "threads")) {
		part_e(argv[1]);
		watchdog(0, "");
		return finish("file_handoff");
	}
	part_a(argv[1]);
	part_b(argv[1]);
	part_c(argv[1]);
	part_d(argv[1]);
	part_f(argv[1]);
	part_g(argv[1]);
	watchdog(0, "");
	return finish("file_handoff");
}
