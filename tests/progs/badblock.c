/* A file with bad pages, reached every way a program can: each way prints
 * the pages it found bad ("bad pages by WAY: 3,7,8" or "none"), so that the
 * test compares them with the rule's and with each other; a page that is
 * not bad must hold the file's bytes, and a bad one must fail the way a
 * block that cannot be read does: SIGBUS with si_addr in the page for a
 * mapping, a short read up to the page and then EIO for the read family,
 * the error indicator and EIO for stdio.
 *
 *   badblock DIR NPAGES ways     every way of reading (DIR/bad.dat)
 *   badblock DIR NPAGES shared   a MAP_SHARED mapping: writes to good pages
 *                                seen by other processes, fork, mremap,
 *                                madvise, mprotect, munmap
 *   badblock DIR NPAGES fds      descriptors: dup, dup2, fork, exec, and a
 *                                number reused for another file
 *
 * The file is NPAGES pages less 1000 bytes (its last page is partial), of
 * pattern SEED; natively no page is bad.
 */
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "file_util.h"

#define SEED 61
#define PG 4096UL

static char path[4200], dir[4096];
static size_t npages, fsize;

/* ---- a list of pages -------------------------------------------------- */

static void print_list(const char *way, const bool *bad)
{
	printf("bad pages by %s: ", way);
	bool any = false;
	for (size_t p = 0; p < npages; p++)
		if (bad[p]) {
			printf("%s%zu", any ? "," : "", p);
			any = true;
		}
	printf("%s\n", any ? "" : "none");
	fflush(stdout);
}

static size_t page_len(size_t p) { return p + 1 < npages ? PG : fsize - p * PG; }

/* buf holds file bytes [off, off + n): they are the file's. */
static bool bytes_ok(const uint8_t *buf, size_t n, uint64_t off)
{
	return find_pat_mismatch(buf, n, off, SEED) == NOMISMATCH;
}

/* ---- mappings --------------------------------------------------------- */

/* Touch every page of a mapping of the file at file page `first`: bad
 * ones raise SIGBUS in their page, the others hold the file's bytes. */
static void probe_mapping(const char *way, volatile uint8_t *m, size_t first, size_t pages,
			  bool *bad)
{
	bool bytes = true, addrs = true;
	for (size_t p = first; p < first + pages; p++) {
		volatile uint8_t *a = m + (p - first) * PG;
		struct probe_result r = probe(a, false, 0);
		if (r.sig == SIGBUS) {
			bad[p] = true;
			addrs &= r.addr_in_page;
		} else if (r.sig) {
			check(false, "%s: page %zu: %s", way, p, sig_name(r.sig));
		} else {
			bytes &= bytes_ok((const uint8_t *)a, page_len(p), p * PG);
		}
	}
	check(bytes, "%s: every good page holds the file's bytes", way);
	check(addrs, "%s: every SIGBUS has si_addr in its page", way);
}

static void way_mapping(const char *way, int flags)
{
	bool bad[npages];
	memset(bad, 0, sizeof bad);
	int fd = open(path, O_RDWR);
	uint8_t *m = map_file(NULL, fsize, PROT_READ | PROT_WRITE, flags, fd, 0);
	close(fd);
	probe_mapping(way, m, 0, npages, bad);
	munmap(m, fsize);
	print_list(way, bad);
}

/* ---- the read family -------------------------------------------------- */

/* A call met a bad page at `pos`: it must be at a page's start (the read
 * before it stopped there) and with EIO; the caller goes on after it. */
static size_t met(int err, uint64_t pos, bool *bad, bool *ok)
{
	*ok &= err == EIO;
	size_t p = (size_t)(pos / PG);
	if (pos % PG != 0 && !bad[p])
		*ok = false; /* the short read before did not stop at the page */
	if (p < npages)
		bad[p] = true;
	return (p + 1) * PG;
}

typedef ssize_t read_fn(int fd, uint8_t *buf, size_t n, uint64_t pos);

/* pos: where the file's position is (the calls that use it ignore it) */
static ssize_t do_read(int fd, uint8_t *buf, size_t n, uint64_t pos)
{
	(void)pos;
	return read(fd, buf, n);
}
static ssize_t do_pread(int fd, uint8_t *buf, size_t n, uint64_t pos)
{
	return pread(fd, buf, n, (off_t)pos);
}
/* Uneven iovecs, so that a cut falls inside one. */
static int iovecs(uint8_t *buf, size_t n, struct iovec *v)
{
	size_t sizes[] = {1000, 3000, 5000, 200}, at = 0;
	int k = 0;
	for (; at < n && k < 4; k++) {
		v[k].iov_base = buf + at;
		v[k].iov_len = sizes[k] < n - at ? sizes[k] : n - at;
		at += v[k].iov_len;
	}
	return k;
}
static ssize_t do_readv(int fd, uint8_t *buf, size_t n, uint64_t pos)
{
	(void)pos;
	struct iovec v[4];
	return readv(fd, v, iovecs(buf, n, v));
}
static ssize_t do_preadv(int fd, uint8_t *buf, size_t n, uint64_t pos)
{
	struct iovec v[4];
	return preadv(fd, v, iovecs(buf, n, v), (off_t)pos);
}
static ssize_t do_preadv2(int fd, uint8_t *buf, size_t n, uint64_t pos)
{
	(void)pos;
	struct iovec v[4];
	return preadv2(fd, v, iovecs(buf, n, v), -1, 0); /* -1: at the position */
}

/* Read the whole file with `fn`, chunk bytes a call; on EIO, the position
 * must not have moved, and the read goes on at the next page. */
static void way_read(const char *way, read_fn *fn, size_t chunk, bool positional)
{
	bool bad[npages], bytes = true, errs = true, still = true;
	memset(bad, 0, sizeof bad);
	uint8_t *buf = malloc(chunk);
	int fd = open(path, O_RDONLY);
	for (uint64_t pos = 0; pos < fsize;) {
		ssize_t n = fn(fd, buf, chunk, pos);
		if (n > 0) {
			bytes &= bytes_ok(buf, (size_t)n, pos);
			pos += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			check(false, "%s: end of file at %llu", way, (unsigned long long)pos);
			break;
		}
		int e = errno;
		if (!positional)
			still &= lseek(fd, 0, SEEK_CUR) == (off_t)pos;
		pos = met(e, pos, bad, &errs);
		if (!positional)
			lseek(fd, (off_t)pos, SEEK_SET);
	}
	check(bytes, "%s: the bytes read are the file's", way);
	check(errs, "%s: each bad page fails with EIO, after a read cut at its start", way);
	if (!positional)
		check(still, "%s: a read that fails moves nothing", way);
	close(fd);
	free(buf);
	print_list(way, bad);
}

/* A read across a good page into a bad one returns the good page only. */
static void short_reads(void)
{
	int fd = open(path, O_RDONLY);
	uint8_t buf[2 * PG];
	bool ok = true;
	for (size_t p = 1; p < npages; p++) {
		errno = 0;
		if (pread(fd, buf, PG, (off_t)((p - 1) * PG)) != (ssize_t)PG)
			continue; /* page p - 1 is bad itself */
		bool bad = pread(fd, buf, PG, (off_t)(p * PG)) < 0;
		ssize_t n = pread(fd, buf, 2 * PG, (off_t)((p - 1) * PG));
		size_t want = bad ? PG : PG + page_len(p);
		ok &= n == (ssize_t)want && bytes_ok(buf, want, (p - 1) * PG);
	}
	check(ok, "pread: a read into a bad page returns the bytes before it");
	close(fd);
}

/* ---- stdio ------------------------------------------------------------ */

/* A stream call failed at `pos`: the error indicator and EIO; go on at the
 * next page. */
static void stream_met(FILE *f, bool *bad, bool *errs)
{
	int e = errno;
	*errs &= ferror(f) && !feof(f);
	uint64_t next = met(e, (uint64_t)ftello(f), bad, errs);
	clearerr(f);
	fseeko(f, (off_t)next, SEEK_SET);
}

static void way_stream(const char *way)
{
	bool bad[npages], bytes = true, errs = true;
	memset(bad, 0, sizeof bad);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	uint8_t buf[8000];
	while (ftello(f) < (off_t)fsize) {
		off_t pos = ftello(f);
		bool failed = false;
		if (!strcmp(way, "fread")) {
			/* items of 700 bytes: the one a bad page cuts is taken too */
			size_t k = fread(buf, 700, 10, f);
			off_t now = ftello(f);
			bytes &= bytes_ok(buf, (size_t)(now - pos), (uint64_t)pos);
			failed = k < 10 && ferror(f);
		} else if (!strcmp(way, "fgets")) {
			char *r = fgets((char *)buf, sizeof buf, f);
			if (r)
				bytes &= bytes_ok(buf, strlen(r), (uint64_t)pos);
			failed = !r && ferror(f);
		} else if (!strcmp(way, "getc")) {
			int c = getc(f);
			if (c != EOF)
				bytes &= (uint8_t)c == pat_byte((uint64_t)pos, SEED);
			failed = c == EOF && ferror(f);
		} else {
			ssize_t n = getline(&line, &cap, f);
			if (n > 0)
				bytes &= bytes_ok((uint8_t *)line, (size_t)n, (uint64_t)pos);
			failed = n < 0 && ferror(f);
		}
		if (failed)
			stream_met(f, bad, &errs);
		else if (feof(f))
			break;
	}
	check(bytes, "%s: the bytes read are the file's", way);
	check(errs, "%s: each bad page sets the stream's error, with EIO", way);
	free(line);
	fclose(f);
	print_list(way, bad);
}

/* ---- sendfile, copy_file_range, splice --------------------------------- */

static void way_copy(const char *way)
{
	bool bad[npages], errs = true, bytes = true;
	memset(bad, 0, sizeof bad);
	char out_path[4200];
	snprintf(out_path, sizeof out_path, "%s/copy.dat", dir);
	int in = open(path, O_RDONLY), out = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int pipe_fd[2];
	if (in < 0 || out < 0 || pipe(pipe_fd) < 0)
		die("%s: open", way);
	uint8_t buf[3 * PG + 100];
	for (loff_t pos = 0; pos < (loff_t)fsize;) {
		loff_t at = pos, out_at = pos;
		ssize_t n;
		if (!strcmp(way, "sendfile")) {
			lseek(out, pos, SEEK_SET);
			off_t o = (off_t)pos;
			n = sendfile(out, in, &o, sizeof buf);
		} else if (!strcmp(way, "copy_file_range")) {
			n = copy_file_range(in, &at, out, &out_at, sizeof buf, 0);
		} else {
			n = splice(in, &at, pipe_fd[1], NULL, sizeof buf, 0);
			if (n > 0 && read(pipe_fd[0], buf, (size_t)n) == n)
				bytes &= bytes_ok(buf, (size_t)n, (uint64_t)pos);
		}
		if (n > 0)
			pos += n;
		else if (n == 0)
			break;
		else
			pos = (loff_t)met(errno, (uint64_t)pos, bad, &errs);
	}
	/* What was copied to the file is the file's bytes, at their offsets. */
	for (size_t p = 0; p < npages && strcmp(way, "splice"); p++)
		if (!bad[p]) {
			ssize_t n = pread(out, buf, page_len(p), (off_t)(p * PG));
			bytes &= n == (ssize_t)page_len(p) && bytes_ok(buf, page_len(p), p * PG);
		}
	check(bytes, "%s: the bytes copied are the file's", way);
	check(errs, "%s: each bad page fails with EIO, after a copy cut at its start", way);
	close(in);
	close(out);
	close(pipe_fd[0]);
	close(pipe_fd[1]);
	print_list(way, bad);
}

static void ways(void)
{
	way_mapping("shared", MAP_SHARED);
	way_mapping("private", MAP_PRIVATE);
	way_read("read", do_read, 3 * PG + 100, false);
	way_read("pread", do_pread, PG, true);
	short_reads();
	way_read("readv", do_readv, 3 * PG + 100, false);
	way_read("preadv", do_preadv, 2 * PG, true);
	way_read("preadv2", do_preadv2, 3 * PG + 100, false);
	const char *streams[] = {"fread", "fgets", "getc", "getline"};
	for (size_t i = 0; i < 4; i++)
		way_stream(streams[i]);
	const char *copies[] = {"sendfile", "copy_file_range", "splice"};
	for (size_t i = 0; i < 3; i++)
		way_copy(copies[i]);
}

/* ---- a shared mapping ------------------------------------------------- */

static void probe_shared(const char *what, volatile uint8_t *m, size_t first, size_t pages)
{
	bool bad[npages];
	memset(bad, 0, sizeof bad);
	probe_mapping(what, m, first, pages, bad);
	print_list(what, bad);
}

/* In another process: page p of the file, read afresh, holds pattern seed. */
static bool child_sees(size_t p, unsigned seed)
{
	pid_t pid = lft_fork();
	if (pid == 0) {
		uint8_t buf[PG];
		int fd = open(path, O_RDONLY);
		_exit(pread(fd, buf, PG, (off_t)(p * PG)) == (ssize_t)PG &&
		      find_pat_mismatch(buf, PG, 0, seed) == NOMISMATCH ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void shared(void)
{
	int fd = open(path, O_RDWR);
	size_t half = npages / 2;
	uint8_t *m = map_file(NULL, fsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	bool bad[npages];
	memset(bad, 0, sizeof bad);
	probe_mapping("shared", m, 0, npages, bad);
	print_list("shared", bad);

	/* Writes to good pages are the file's, for every other process; a
	 * write to a bad page raises SIGBUS. */
	size_t good = 0, bad_page = npages;
	while (good < npages - 1 && bad[good])
		good++;
	for (size_t p = 0; p < npages; p++)
		if (bad[p])
			bad_page = p;
	fill_pat(m + good * PG, PG, 0, 99);
	check(child_sees(good, 99), "a write through the shared mapping is seen by another process");
	pid_t pid = lft_fork();
	if (pid == 0) {
		uint8_t buf[PG];
		fill_pat(buf, PG, 0, 98);
		int cfd = open(path, O_RDWR);
		_exit(pwrite(cfd, buf, PG, (off_t)(good * PG)) == (ssize_t)PG ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		      find_pat_mismatch(m + good * PG, PG, 0, 98) == NOMISMATCH,
	      "another process's write to the file is in the shared mapping");
	fill_pat(m + good * PG, PG, good * PG, SEED); /* the file as it was */
	if (bad_page < npages)
		check_signal(m + bad_page * PG, true, SIGBUS, "a write to a bad page");

	/* A child of fork has the same mapping, bad pages and all. */
	pid = lft_fork();
	if (pid == 0) {
		probe_shared("shared in a child of fork", m, 0, npages);
		_exit(lft_exit_status());
	}
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child of fork passed its checks");

	/* Emptied pages come back from the file, bad ones bad again. */
	check(madvise(m, fsize, MADV_DONTNEED) == 0, "madvise(MADV_DONTNEED) of the mapping");
	probe_shared("shared after MADV_DONTNEED", m, 0, npages);
	check(mprotect(m, half * PG, PROT_READ) == 0, "mprotect of its first half");
	probe_shared("shared after mprotect", m, 0, npages);
	munmap(m, fsize);

	/* A mapping of the first half that grows: the bad pages of the part
	 * it grows into are bad too; moved, they move with it; shrunk, the
	 * rest stays as it was. */
	m = map_file(NULL, half * PG, PROT_READ, MAP_SHARED, fd, 0);
	probe_shared("shared first half", m, 0, half);
	uint8_t *g = mremap(m, half * PG, fsize, MREMAP_MAYMOVE);
	check(g != MAP_FAILED, "mremap grows the shared mapping");
	if (g != MAP_FAILED)
		probe_shared("shared grown by mremap", g, 0, npages);
	uint8_t *hole = map_file(NULL, fsize + 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *moved = mremap(g, fsize, fsize, MREMAP_MAYMOVE | MREMAP_FIXED, hole + 8 * PG);
	check(moved == hole + 8 * PG, "mremap moves the shared mapping");
	if (moved == hole + 8 * PG)
		probe_shared("shared moved by mremap", moved, 0, npages);
	uint8_t *shrunk = mremap(moved, fsize, half * PG, 0);
	check(shrunk == moved, "mremap shrinks it in place");
	probe_shared("shared shrunk by mremap", shrunk, 0, half);
	check(munmap(shrunk + PG, PG) == 0, "munmap of its second page");
	probe_shared("shared after munmap of page 1", shrunk + 2 * PG, 2, half - 2);
	munmap(hole, fsize + 16 * PG);
	close(fd);
}

/* ---- descriptors ------------------------------------------------------- */

/* Every page read with pread through fd: the bad ones fail with EIO. */
static void probe_fd(const char *way, int fd)
{
	bool bad[npages], bytes = true, errs = true;
	memset(bad, 0, sizeof bad);
	uint8_t buf[PG];
	for (size_t p = 0; p < npages; p++) {
		ssize_t n = pread(fd, buf, page_len(p), (off_t)(p * PG));
		if (n == (ssize_t)page_len(p))
			bytes &= bytes_ok(buf, page_len(p), p * PG);
		else
			met(n < 0 ? errno : 0, p * PG, bad, &errs);
	}
	check(bytes && errs, "%s: good pages read, bad ones fail with EIO", way);
	print_list(way, bad);
}

static void fds(const char *self)
{
	int fd = open(path, O_RDONLY);
	int fd2 = dup(fd);
	probe_fd("dup", fd2);
	check(dup2(fd, 50) == 50, "dup2 onto 50");
	probe_fd("dup2", 50);
	pid_t pid = lft_fork();
	if (pid == 0) {
		probe_fd("a child of fork", fd);
		_exit(lft_exit_status());
	}
	int st;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child of fork passed its checks");
	/* exec: the descriptor (no close-on-exec) is decided afresh there */
	pid = lft_fork();
	if (pid == 0) {
		char arg[32];
		snprintf(arg, sizeof arg, "%d", fd);
		execl(self, self, dir, "0", "exec-child", arg, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the program exec'd passed its checks");

	/* A number closed and given to another file is that file's. */
	char other[4200];
	snprintf(other, sizeof other, "%s/good.dat", dir);
	close(fd2);
	int ofd = open(other, O_RDONLY);
	check(ofd == fd2, "the closed number is reused by open");
	probe_fd("a number reused by open", ofd);
	close(ofd);
	FILE *f = fdopen(dup(fd), "r");
	int ffd = fileno(f);
	fclose(f);
	f = fopen(other, "r");
	check(f && fileno(f) == ffd, "the number fclose closed is reused by fopen");
	probe_fd("a number reused by fopen", fileno(f));
	fclose(f);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: badblock DIR NPAGES ways|shared|fds\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(60, "badblock");
	snprintf(dir, sizeof dir, "%s", argv[1]);
	snprintf(path, sizeof path, "%s/bad.dat", dir);
	if (!strcmp(argv[3], "exec-child")) {
		/* the file exists: it was made by the program that exec'd us */
		struct stat st;
		if (stat(path, &st) < 0)
			die("stat %s", path);
		fsize = (size_t)st.st_size;
		npages = (fsize + PG - 1) / PG;
		probe_fd("a program exec'd", atoi(argv[4]));
		return finish("badblock exec-child");
	}
	npages = (size_t)atol(argv[2]);
	fsize = npages * PG - 1000;
	char p2[4200];
	close(make_file(dir, "bad.dat", fsize, SEED, p2, sizeof p2));
	close(make_file(dir, "good.dat", fsize, SEED, p2, sizeof p2));
	if (!strcmp(argv[3], "ways"))
		ways();
	else if (!strcmp(argv[3], "shared"))
		shared();
	else if (!strcmp(argv[3], "fds"))
		fds(argv[0]);
	else
		die("unknown mode %s", argv[3]);
	return finish("badblock");
}
