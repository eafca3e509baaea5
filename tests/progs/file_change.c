/* A file that changes while it is mapped privately.  The kernel's meaning:
 * a page the program has not written shows the file as it is now (loaded
 * before the change or not), a page it has written keeps its bytes, pages
 * past a new end raise SIGBUS (written ones too), the page that holds the
 * end reads the file's bytes then zeros, and pages a grown file holds again
 * read it.
 *
 *   file_change DIR self     the program changes its files: pwrite, write,
 *                            writev, pwritev, pwritev2, copy_file_range,
 *                            sendfile, splice, fallocate (punch hole),
 *                            open(O_TRUNC) + write, creat, O_APPEND writes,
 *                            ftruncate to a length inside a page and back
 *   file_change DIR other    another process changes them (pwrite, O_TRUNC
 *                            + write as cp does, an append): seen after the
 *                            change, within POLL_S seconds (at once natively)
 *   file_change DIR writer pwrite|cp|append PATH   that other process
 *   file_change DIR race     threads write pages loaded again and again while
 *                            the file is rewritten under them, by the program
 *                            and by another process: no write is ever lost
 *
 * Each scenario maps a fresh file twice (read-write and read-only, both
 * private), touches pages before the change (read: page 1; written: page 2;
 * page 3 untouched), changes file pages 1-3, and checks every byte of the
 * pages involved; the last line of each is a hash of all that the
 * read-write mapping shows, which the native run prints too.
 */
#include <stdatomic.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>

#include "file_util.h"

#define OLD 11 /* the file's pattern before the change */
#define NEW 12 /* what the change writes */
#define PAGES 16
#define POLL_S 10

static size_t pg;
static const char *dir;

/* The bytes of pattern `seed` at file offset `off`, or zeros (seed 0). */
static bool is_pat(const uint8_t *p, size_t n, uint64_t off, unsigned seed)
{
	return seed ? find_pat_mismatch(p, n, off, seed) == NOMISMATCH : find_nonzero(p, n) == NOMISMATCH;
}

static uint64_t hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

struct scene {
	const char *name;
	char path[4096];
	int fd;              /* read-write, the program's own */
	uint8_t *rw, *ro;    /* PAGES pages each, MAP_PRIVATE */
	size_t size;         /* the file's size before the change */
};

/* A fresh file of `size` bytes of OLD, mapped twice; page 1 read, page 2
 * read then written, page 3 untouched, in the read-write mapping; pages 1
 * and 2 read in the read-only one. */
static void scene_open(struct scene *s, const char *name, size_t size)
{
	s->name = name;
	s->size = size;
	s->fd = make_file(dir, name, size, OLD, s->path, sizeof s->path);
	s->rw = map_file(NULL, PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, s->fd, 0);
	s->ro = map_file(NULL, PAGES * pg, PROT_READ, MAP_PRIVATE, s->fd, 0);
	volatile uint8_t *v = s->rw, *r = s->ro;
	(void)v[0];
	(void)v[pg + 5];
	(void)v[2 * pg];
	memset(s->rw + 2 * pg + 100, 0xee, 8);
	(void)r[pg];
	(void)r[2 * pg];
}

/* New bytes in file pages 1-3: the read page shows them, the written page
 * keeps its bytes, the untouched page shows them, page 0 is unchanged; the
 * read-only mapping shows them all. */
static void check_pages_1_3(struct scene *s, unsigned seed)
{
	uint8_t written[4096];
	memcpy(written, s->rw + 2 * pg, pg);
	check(is_pat(s->rw, pg, 0, OLD), "%s: page 0, outside the change: the old bytes", s->name);
	check(is_pat(s->rw + pg, pg, pg, seed), "%s: page 1, read before: the new bytes", s->name);
	check(is_pat(written, 100, 2 * pg, OLD) && written[100] == 0xee && written[107] == 0xee &&
		      is_pat(written + 108, pg - 108, 2 * pg + 108, OLD),
	      "%s: page 2, written before: keeps its bytes", s->name);
	check(is_pat(s->rw + 3 * pg, pg, 3 * pg, seed), "%s: page 3, untouched: the new bytes", s->name);
	check(is_pat(s->ro + pg, 3 * pg, pg, seed), "%s: the read-only mapping: the new bytes in pages 1-3",
	      s->name);
}

static void scene_close(struct scene *s, size_t shown)
{
	printf("%s: hash of the read-write mapping's first %zu bytes: %016llx\n", s->name, shown,
	       (unsigned long long)hash(s->rw, shown));
	munmap(s->rw, PAGES * pg);
	munmap(s->ro, PAGES * pg);
	close(s->fd);
	unlink(s->path);
}

static void fill_new(uint8_t *buf, size_t n, uint64_t off) { fill_pat(buf, n, off, NEW); }

static void self_changes(void)
{
	static uint8_t buf[3 * 4096];
	struct scene s;
	char spath[4096];
	/* The source of copy_file_range and sendfile: NEW at every offset. */
	int src = make_file(dir, "source.dat", PAGES * pg, NEW, spath, sizeof spath);

	scene_open(&s, "pwrite", PAGES * pg);
	fill_new(buf, 3 * pg, pg);
	check(pwrite(s.fd, buf, 3 * pg, (off_t)pg) == (ssize_t)(3 * pg), "pwrite: 3 pages at page 1");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "write", PAGES * pg);
	check(lseek(s.fd, (off_t)pg, SEEK_SET) == (off_t)pg && write(s.fd, buf, 3 * pg) == (ssize_t)(3 * pg),
	      "write: 3 pages at the position (page 1)");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "writev", PAGES * pg);
	struct iovec iov[3] = {{buf, pg}, {buf + pg, pg}, {buf + 2 * pg, pg}};
	check(lseek(s.fd, (off_t)pg, SEEK_SET) == (off_t)pg && writev(s.fd, iov, 3) == (ssize_t)(3 * pg),
	      "writev: 3 pages at the position");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "pwritev", PAGES * pg);
	check(pwritev(s.fd, iov, 3, (off_t)pg) == (ssize_t)(3 * pg), "pwritev: 3 pages at page 1");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "pwritev2", PAGES * pg);
	check(lseek(s.fd, (off_t)pg, SEEK_SET) == (off_t)pg && pwritev2(s.fd, iov, 3, -1, 0) == (ssize_t)(3 * pg),
	      "pwritev2: 3 pages at the position (offset -1)");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "copy_file_range", PAGES * pg);
	loff_t in = (loff_t)pg, out = (loff_t)pg;
	check(copy_file_range(src, &in, s.fd, &out, 3 * pg, 0) == (ssize_t)(3 * pg),
	      "copy_file_range: 3 pages into page 1");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "sendfile", PAGES * pg);
	off_t sin = (off_t)pg;
	check(lseek(s.fd, (off_t)pg, SEEK_SET) == (off_t)pg && sendfile(s.fd, src, &sin, 3 * pg) == (ssize_t)(3 * pg),
	      "sendfile: 3 pages at the position");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "splice", PAGES * pg);
	int pp[2];
	if (pipe(pp) < 0 || fcntl(pp[1], F_SETPIPE_SZ, (int)(4 * pg)) < 0 ||
	    write(pp[1], buf, 3 * pg) != (ssize_t)(3 * pg))
		die("pipe for splice");
	loff_t sout = (loff_t)pg;
	check(splice(pp[0], NULL, s.fd, &sout, 3 * pg, 0) == (ssize_t)(3 * pg), "splice: 3 pages into page 1");
	close(pp[0]);
	close(pp[1]);
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "fallocate", PAGES * pg);
	check(fallocate(s.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)pg, (off_t)(3 * pg)) == 0,
	      "fallocate: a hole punched in pages 1-3");
	check_pages_1_3(&s, 0);
	scene_close(&s, PAGES * pg);

	/* Rewritten as cp does: emptied, then written shorter.  Every page
	 * past the new end raises SIGBUS, the written ones too (the kernel
	 * drops private copies of truncated pages); within it, every page
	 * shows the new bytes, the written one too (dropped by the truncation). */
	scene_open(&s, "O_TRUNC", PAGES * pg);
	s.rw[5 * pg] = 0x55;
	int t = open(s.path, O_WRONLY | O_TRUNC);
	fill_new(buf, 3 * pg, 0);
	check(t >= 0 && write(t, buf, 3 * pg) == (ssize_t)(3 * pg) && write(t, buf, 100) == 100,
	      "O_TRUNC: open(O_TRUNC), then 3 pages + 100 bytes written");
	check(is_pat(s.rw, 3 * pg, 0, NEW), "O_TRUNC: pages 0-2 (read, written, untouched): the new bytes");
	check(find_pat_mismatch(s.rw + 3 * pg, 100, 0, NEW) == NOMISMATCH && is_pat(s.rw + 3 * pg + 100, pg - 100, 0, 0),
	      "O_TRUNC: page 3, the new last page: 100 new bytes, then zeros");
	check_signal(s.rw + 4 * pg, false, SIGBUS, "O_TRUNC: page 4, past the new end");
	check_signal(s.rw + 5 * pg, false, SIGBUS, "O_TRUNC: page 5, written before, past the new end");
	check_signal(s.ro + 10 * pg, false, SIGBUS, "O_TRUNC: the read-only mapping's page 10, past the new end");
	close(t);
	scene_close(&s, 3 * pg);

	scene_open(&s, "creat", PAGES * pg);
	t = creat(s.path, 0644);
	check(t >= 0 && write(t, buf, 100) == 100, "creat: the file emptied, 100 bytes written");
	check(find_pat_mismatch(s.rw, 100, 0, NEW) == NOMISMATCH && is_pat(s.rw + 100, pg - 100, 0, 0),
	      "creat: page 0: 100 new bytes, then zeros");
	check_signal(s.rw + pg, false, SIGBUS, "creat: page 1, past the new end");
	close(t);
	scene_close(&s, 100);

	/* Appended to: the old last page (read before) shows the bytes that
	 * follow the old end, pages that raised SIGBUS read the new bytes. */
	scene_open(&s, "append", 4 * pg + 100);
	check(is_pat(s.rw + 4 * pg, 100, 4 * pg, OLD) && is_pat(s.rw + 4 * pg + 100, pg - 100, 0, 0),
	      "append: before: the last page, 100 bytes then zeros");
	check_signal(s.rw + 5 * pg, false, SIGBUS, "append: before: page 5, past the end");
	int ap = open(s.path, O_WRONLY | O_APPEND);
	fill_new(buf, 2 * pg, 4 * pg + 100);
	check(ap >= 0 && write(ap, buf, 2 * pg) == (ssize_t)(2 * pg), "append: 2 pages written with O_APPEND");
	check(is_pat(s.rw + 4 * pg, 100, 4 * pg, OLD) && is_pat(s.rw + 4 * pg + 100, 2 * pg, 4 * pg + 100, NEW),
	      "append: the old last page and page 5: the old bytes, then the new ones");
	check(is_pat(s.rw + 6 * pg + 100, pg - 100, 0, 0), "append: page 6, the new last page: zeros after the end");
	check_signal(s.rw + 7 * pg, false, SIGBUS, "append: page 7, past the new end");
	close(ap);
	scene_close(&s, 7 * pg);

	/* Moved by mremap (which loses what the kernel knew of written pages):
	 * the moved mapping follows the file as the one left in place did. */
	scene_open(&s, "mremap", PAGES * pg);
	uint8_t *to = mmap(NULL, 2 * PAGES * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *moved_to = mremap(s.rw, PAGES * pg, 2 * PAGES * pg, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	check(moved_to == to, "mremap: the read-write mapping moved (and grew past the end)");
	s.rw = moved_to;
	fill_new(buf, 3 * pg, pg);
	check(pwrite(s.fd, buf, 3 * pg, (off_t)pg) == (ssize_t)(3 * pg), "mremap: then 3 pages written at page 1");
	check_pages_1_3(&s, NEW);
	check_signal(s.rw + PAGES * pg, false, SIGBUS, "mremap: its page past the end");
	munmap(s.rw + PAGES * pg, PAGES * pg);
	scene_close(&s, PAGES * pg);

	/* Cut inside a page, then grown back: the page that holds the new end
	 * reads the file's bytes then zeros when the program never wrote it,
	 * and keeps its bytes when it did. */
	scene_open(&s, "ftruncate", PAGES * pg);
	(void)((volatile uint8_t *)s.rw)[8 * pg];
	s.rw[11 * pg + 500] = 0x66;
	check(ftruncate(s.fd, (off_t)(8 * pg + 100)) == 0, "ftruncate: to 8 pages + 100 bytes");
	check(is_pat(s.rw + 8 * pg, 100, 8 * pg, OLD) && is_pat(s.rw + 8 * pg + 100, pg - 100, 0, 0),
	      "ftruncate: page 8, read before: 100 bytes of the file, then zeros");
	check_signal(s.rw + 11 * pg, false, SIGBUS, "ftruncate: page 11, written before, past the new end");
	check(ftruncate(s.fd, (off_t)(12 * pg)) == 0, "ftruncate: back to 12 pages");
	check(is_pat(s.rw + 8 * pg, 100, 8 * pg, OLD) && is_pat(s.rw + 8 * pg + 100, 4 * pg - 100, 0, 0),
	      "ftruncate: pages 8-11: what the file holds now (zeros after byte 100)");
	scene_close(&s, 12 * pg);

	scene_open(&s, "ftruncate-written", PAGES * pg);
	s.rw[8 * pg + 3000] = 0x77;
	check(ftruncate(s.fd, (off_t)(8 * pg + 100)) == 0, "ftruncate-written: to 8 pages + 100 bytes");
	check(is_pat(s.rw + 8 * pg, 3000, 8 * pg, OLD) && s.rw[8 * pg + 3000] == 0x77 &&
		      is_pat(s.rw + 8 * pg + 3001, pg - 3001, 8 * pg + 3001, OLD),
	      "ftruncate-written: page 8, written before: keeps its bytes, past the end too");
	scene_close(&s, 9 * pg);
	close(src);
	unlink(spath);
}

/* ---- another process ------------------------------------------------ */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait until the page shows pattern `seed` at file offset `off` (at once
 * natively; the library follows another process's change a little later). */
static bool shows_soon(const uint8_t *p, size_t n, uint64_t off, unsigned seed)
{
	for (double t0 = now(); now() - t0 < POLL_S; usleep(1000))
		if (is_pat(p, n, off, seed))
			return true;
	return false;
}

static bool sigbus_soon(uint8_t *p)
{
	for (double t0 = now(); now() - t0 < POLL_S; usleep(1000))
		if (probe(p, false, 0).sig == SIGBUS)
			return true;
	return false;
}

/* Another program (this one, run again) makes the change; waited for.  Not
 * a forked child: its copies of the pages would be the parent's, which the
 * kernel does not let go (README "Limits"). */
static const char *self_exe;

static void in_other_process(const char *change, const char *path)
{
	pid_t pid = lft_fork();
	if (pid == 0) {
		execl(self_exe, "file_change", dir, "writer", change, path, (char *)NULL);
		_exit(127);
	}
	int st;
	check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the other process made its change");
}

static void other_pwrite(const char *path)
{
	static uint8_t buf[3 * 4096];
	int fd = open(path, O_WRONLY);
	fill_new(buf, 3 * pg, pg);
	if (fd < 0 || pwrite(fd, buf, 3 * pg, (off_t)pg) != (ssize_t)(3 * pg))
		_exit(1);
}

static void other_cp(const char *path)
{
	static uint8_t buf[4096];
	int fd = open(path, O_WRONLY | O_TRUNC);
	fill_new(buf, pg, 0);
	if (fd < 0 || write(fd, buf, pg) != (ssize_t)pg || write(fd, buf, 100) != 100)
		_exit(1);
}

static void other_append(const char *path)
{
	static uint8_t buf[4096];
	int fd = open(path, O_WRONLY | O_APPEND);
	fill_new(buf, pg, 4 * pg + 100);
	if (fd < 0 || write(fd, buf, pg) != (ssize_t)pg)
		_exit(1);
}

static void other_changes(void)
{
	struct scene s;
	/* A child of fork shares the pages loaded before it: the kernel frees
	 * them only once it is gone. */
	scene_open(&s, "forked-pwrite", PAGES * pg);
	pid_t pid = lft_fork();
	if (pid == 0) {
		other_pwrite(s.path);
		_exit(0);
	}
	int st;
	check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "forked-pwrite: a child of fork made the change, and exited");
	check(shows_soon(s.rw + pg, pg, pg, NEW) && shows_soon(s.ro + pg, 3 * pg, pg, NEW),
	      "forked-pwrite: the change is seen");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "other-pwrite", PAGES * pg);
	in_other_process("pwrite", s.path);
	check(shows_soon(s.rw + pg, pg, pg, NEW) && shows_soon(s.ro + pg, 3 * pg, pg, NEW),
	      "other-pwrite: the change is seen");
	check_pages_1_3(&s, NEW);
	scene_close(&s, PAGES * pg);

	scene_open(&s, "other-cp", PAGES * pg);
	s.rw[5 * pg] = 0x55;
	in_other_process("cp", s.path);
	check(shows_soon(s.rw, pg, 0, NEW) && sigbus_soon(s.rw + 5 * pg) && sigbus_soon(s.ro + 10 * pg),
	      "other-cp: the change is seen");
	check(find_pat_mismatch(s.rw + pg, 100, 0, NEW) == NOMISMATCH && is_pat(s.rw + pg + 100, pg - 100, 0, 0),
	      "other-cp: page 1, read before, the new last page: 100 new bytes, then zeros");
	check_signal(s.rw + 2 * pg, false, SIGBUS, "other-cp: page 2, written before, past the new end");
	check_signal(s.rw + 3 * pg, false, SIGBUS, "other-cp: page 3, past the new end");
	check_signal(s.rw + 5 * pg, false, SIGBUS, "other-cp: page 5, written before, past the new end");
	scene_close(&s, 2 * pg);

	scene_open(&s, "other-append", 4 * pg + 100);
	check_signal(s.rw + 5 * pg, false, SIGBUS, "other-append: before: page 5, past the end");
	in_other_process("append", s.path);
	check(shows_soon(s.rw + 4 * pg + 100, pg, 4 * pg + 100, NEW), "other-append: the change is seen");
	check(is_pat(s.rw + 4 * pg, 100, 4 * pg, OLD) && is_pat(s.rw + 5 * pg, 100, 5 * pg, NEW) &&
		      is_pat(s.rw + 5 * pg + 100, pg - 100, 0, 0),
	      "other-append: the old last page shows what follows it; page 5: new bytes, then zeros");
	check_signal(s.rw + 6 * pg, false, SIGBUS, "other-append: page 6, past the new end");
	scene_close(&s, 6 * pg);
}

/* ---- writes racing with changes ---------------------------------------- */

/* Each writer owns a page of a 16-page range that is rewritten without a
 * pause, and goes round: empty the page (MADV_DONTNEED: its next touch
 * loads the file again, a clean page), read it, write a stamp into it,
 * check the stamp.  Every first write of a freshly loaded page races with
 * the drops of the rewritten range's clean pages: a drop that took the
 * page after the write would show the file's bytes where the stamp was. */
#define RACE_PAGES 16
#define WRITERS 3
#define ROUNDS 4000
static uint8_t *race_map;
static _Atomic size_t race_lost;

static void *race_writer(void *arg)
{
	uintptr_t w = (uintptr_t)arg;
	volatile uint8_t *p = race_map + (2 + 5 * w) * pg;
	for (uint64_t round = 1; round <= ROUNDS; round++) {
		madvise((void *)p, pg, MADV_DONTNEED);
		(void)p[17];
		uint64_t stamp = 0x5354414d50000000ULL | (w << 20) | round, seen;
		memcpy((void *)(p + 8), &stamp, sizeof stamp);
		for (int look = 0; look < 3; look++) {
			memcpy(&seen, (const void *)(p + 8), sizeof seen);
			if (seen != stamp) {
				atomic_fetch_add(&race_lost, 1);
				break;
			}
			sched_yield();
		}
	}
	return NULL;
}

/* Rewrite the range until the writers are done. */
static void rewrite_until_done(int fd, const _Atomic bool *done)
{
	static uint8_t buf[RACE_PAGES * 4096];
	for (unsigned round = 0; !atomic_load(done); round++) {
		fill_pat(buf, RACE_PAGES * pg, 0, NEW + (round & 1));
		if (pwrite(fd, buf, RACE_PAGES * pg, 0) != (ssize_t)(RACE_PAGES * pg))
			die("pwrite");
	}
}

/* Ends the rewriting when every writer is done. */
static pthread_t writers[WRITERS];
static _Atomic bool *race_stop;

static void *race_joiner(void *arg)
{
	for (int w = 0; w < WRITERS; w++)
		pthread_join(writers[w], NULL);
	atomic_store(race_stop, true);
	return arg;
}

static void race_once(const char *name, bool other)
{
	char path[4096];
	int fd = make_file(dir, "race.dat", RACE_PAGES * pg, OLD, path, sizeof path);
	race_map = map_file(NULL, RACE_PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	_Atomic bool *done = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (done == MAP_FAILED)
		die("mmap shared");
	atomic_store(done, false);
	atomic_store(&race_lost, 0);
	race_stop = done;
	pid_t pid = -1;
	if (other) {
		pid = lft_fork();
		if (pid == 0) {
			rewrite_until_done(fd, done);
			_exit(0);
		}
	}
	for (uintptr_t w = 0; w < WRITERS; w++)
		pthread_create(&writers[w], NULL, race_writer, (void *)w);
	pthread_t stop;
	pthread_create(&stop, NULL, race_joiner, NULL);
	if (!other)
		rewrite_until_done(fd, done); /* in this thread, while the writers run */
	pthread_join(stop, NULL);
	if (other)
		waitpid(pid, NULL, 0);
	check(atomic_load(&race_lost) == 0,
	      "%s: every write of a page loaded again and again while the file changed stays", name);
	munmap(race_map, RACE_PAGES * pg);
	munmap((void *)done, pg);
	close(fd);
	unlink(path);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: file_change DIR self|other|race\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pg = (size_t)page_size();
	dir = argv[1];
	watchdog(120, argv[2]);
	if (!strcmp(argv[2], "self"))
		self_changes();
	else if (!strcmp(argv[2], "other")) {
		self_exe = realpath("/proc/self/exe", NULL);
		other_changes();
	} else if (!strcmp(argv[2], "writer") && argc == 5) {
		void (*change)(const char *) = !strcmp(argv[3], "pwrite") ? other_pwrite
					       : !strcmp(argv[3], "cp")   ? other_cp
									  : other_append;
		change(argv[4]);
		return 0;
	}
	else if (!strcmp(argv[2], "race")) {
		race_once("race, rewritten by the program", false);
		race_once("race, rewritten by another process", true);
	} else {
		fprintf(stderr, "file_change: unknown scenario %s\n", argv[2]);
		return 2;
	}
	watchdog(0, "");
	return finish("file_change");
}
