/* The read/write family on registered memory that was never touched: the
 * kernel, not the program, makes the first access.  Every call must return
 * what it returns natively (full counts, no EFAULT), and the bytes must be
 * the native ones.  This is the contract of user-mode-only mode, where the
 * kernel cannot ask the library to fill a page for a system call.
 *
 *   rwfamily [--source FILE OFFSET]
 *
 * Every buffer below is a fresh, untouched range of a big anonymous mapping
 * (each check uses its own range).  With --source, the same is done on a
 * region that a `load` rule fills from FILE.
 */
#include <sys/random.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "rw_util.h"

#define DATA (1 * MiB)
#define REGION (256 * MiB)

/* What was sent or written to the other end, n bytes by now, is zeros
 * (never waits: what a failed call did not send is not waited for). */
static bool drained_zeros(int fd, size_t n)
{
	uint8_t *buf = malloc(n + 1);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl");
	ssize_t got = read(fd, buf, n + 1);
	bool ok = got == (ssize_t)n && find_nonzero(buf, n) == NOMISMATCH;
	free(buf);
	return ok;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	size_t pg = (size_t)page_size();
	struct source src = {0};
	bool have_src = argc > 3 && !strcmp(argv[1], "--source");
	if (have_src)
		source_open(&src, argv[2], strtoull(argv[3], NULL, 0));

	uint8_t *data = malloc(DATA); /* malloc'd: small, not a rule's */
	fill_pat(data, DATA, 0, 42);
	int fd = tmpfile_fd("lf-rw-data", data, DATA);
	region_map(REGION);
	ssize_t n;

	/* read() into an untouched buffer */
	uint8_t *b = fresh(256 * KiB, 0);
	n = read(fd, b, 256 * KiB);
	check(n == 256 * KiB && !memcmp(b, data, 256 * KiB), "read into untouched buffer: %s bytes, content right", res(n));
	/* read() into an unaligned untouched buffer spanning pages */
	b = fresh(3 * pg, 100);
	n = pread(fd, b, 2 * pg + 50, 1000);
	check(n == (ssize_t)(2 * pg + 50) && !memcmp(b, data + 1000, 2 * pg + 50) && find_nonzero(b - 100, 100) == NOMISMATCH &&
		      find_nonzero(b + 2 * pg + 50, pg - 150) == NOMISMATCH,
	      "pread into unaligned untouched buffer: %s bytes, content and zeros around right", res(n));
	/* pread over untouched pages and a touched one after them (touching
	 * fills pages from there up, not below) */
	b = fresh(4 * pg, 0);
	b[4 * pg - 1] = 7;
	n = pread(fd, b, 4 * pg, 8192);
	check(n == (ssize_t)(4 * pg) && !memcmp(b, data + 8192, 4 * pg), "pread over untouched+touched pages: %s bytes", res(n));
	/* readv / preadv / preadv2 into two untouched iovecs */
	uint8_t *v1 = fresh(64 * KiB, 0), *v2 = fresh(64 * KiB, 3);
	struct iovec iov[2] = {{v1, 64 * KiB}, {v2, 64 * KiB - 3}};
	lseek(fd, 4096, SEEK_SET);
	n = readv(fd, iov, 2);
	check(n == (ssize_t)(128 * KiB - 3) && !memcmp(v1, data + 4096, 64 * KiB) && !memcmp(v2, data + 4096 + 64 * KiB, 64 * KiB - 3),
	      "readv into untouched iovecs: %s bytes", res(n));
	v1 = fresh(32 * KiB, 0), v2 = fresh(32 * KiB, 0);
	struct iovec iov2[2] = {{v1, 32 * KiB}, {v2, 32 * KiB}};
	n = preadv(fd, iov2, 2, 12345);
	check(n == 64 * KiB && !memcmp(v1, data + 12345, 32 * KiB) && !memcmp(v2, data + 12345 + 32 * KiB, 32 * KiB),
	      "preadv into untouched iovecs: %s bytes", res(n));
	v1 = fresh(16 * KiB, 0);
	struct iovec iov3[1] = {{v1, 16 * KiB}};
	n = preadv2(fd, iov3, 1, 777, 0);
	check(n == 16 * KiB && !memcmp(v1, data + 777, 16 * KiB), "preadv2 into untouched iovec: %s bytes", res(n));

	/* write() / pwrite() / writev() / pwritev() from untouched buffers */
	int out = tmpfile_fd("lf-rw-out", NULL, 0);
	b = fresh(200 * KiB, 0);
	n = write(out, b, 200 * KiB);
	check(n == 200 * KiB && file_is(out, NULL, 200 * KiB), "write from untouched buffer: %s bytes, all zeros", res(n));
	b = fresh(100 * KiB, 11);
	n = pwrite(out, b, 100 * KiB, 0);
	check(n == 100 * KiB && file_is(out, NULL, 200 * KiB), "pwrite from untouched buffer: %s bytes", res(n));
	int out2 = tmpfile_fd("lf-rw-out2", NULL, 0);
	v1 = fresh(40 * KiB, 0), v2 = fresh(40 * KiB, 0);
	struct iovec wv[2] = {{v1, 40 * KiB}, {v2, 40 * KiB}};
	n = writev(out2, wv, 2);
	check(n == 80 * KiB && file_is(out2, NULL, 80 * KiB), "writev from untouched iovecs: %s bytes, all zeros", res(n));
	v1 = fresh(40 * KiB, 0);
	struct iovec wv2[1] = {{v1, 40 * KiB}};
	n = pwritev(out2, wv2, 1, 80 * KiB);
	check(n == 40 * KiB && file_is(out2, NULL, 120 * KiB), "pwritev from untouched iovec: %s bytes", res(n));

	/* sockets: send/sendto/sendmsg from untouched, recv/recvfrom/recvmsg
	 * into untouched; a pair of sockets for each, so that a call that
	 * fails leaves nothing behind that the next one would wait for */
	int sv[2];
	pair(sv);
	b = fresh(32 * KiB, 0);
	n = send(sv[0], b, 32 * KiB, 0);
	check(n == 32 * KiB && drained_zeros(sv[1], 32 * KiB), "send from untouched buffer: %s bytes, zeros sent", res(n));
	pair(sv);
	if (write(sv[0], data, 32 * KiB) != 32 * KiB)
		die("write sock");
	b = fresh(32 * KiB, 0);
	b[32 * KiB - 1] = 0x55; /* touch the last page only */
	n = recv(sv[1], b, 32 * KiB, MSG_WAITALL);
	check(n == 32 * KiB && !memcmp(b, data, 32 * KiB), "recv into (mostly) untouched buffer: %s bytes, content right", res(n));
	pair(sv);
	if (write(sv[0], data, 20 * KiB) != 20 * KiB)
		die("write sock");
	b = fresh(20 * KiB, 0);
	n = recvfrom(sv[1], b, 20 * KiB, MSG_WAITALL, NULL, NULL);
	check(n == 20 * KiB && !memcmp(b, data, 20 * KiB), "recvfrom into untouched buffer: %s bytes, content right", res(n));
	pair(sv);
	b = fresh(8 * KiB, 0);
	n = sendto(sv[0], b, 8 * KiB, 0, NULL, 0);
	check(n == 8 * KiB && drained_zeros(sv[1], 8 * KiB), "sendto from untouched buffer: %s bytes, zeros sent", res(n));
	pair(sv);
	if (write(sv[0], data, 8 * KiB) != 8 * KiB)
		die("write sock");
	v1 = fresh(4 * KiB, 0), v2 = fresh(4 * KiB, 0);
	struct iovec rv[2] = {{v1, 4 * KiB}, {v2, 4 * KiB}};
	struct msghdr mh = {.msg_iov = rv, .msg_iovlen = 2};
	n = recvmsg(sv[1], &mh, MSG_WAITALL);
	check(n == 8 * KiB && !memcmp(v1, data, 4 * KiB) && !memcmp(v2, data + 4 * KiB, 4 * KiB),
	      "recvmsg into untouched iovecs: %s bytes, content right", res(n));
	pair(sv);
	v1 = fresh(6 * KiB, 0);
	struct iovec sv1[1] = {{v1, 6 * KiB}};
	struct msghdr mh2 = {.msg_iov = sv1, .msg_iovlen = 1};
	n = sendmsg(sv[0], &mh2, 0);
	check(n == 6 * KiB && drained_zeros(sv[1], 6 * KiB), "sendmsg from untouched iovec: %s bytes, zeros sent", res(n));

	/* pipe: write from untouched, read into untouched (a pipe each) */
	int pp[2];
	if (pipe(pp) < 0)
		die("pipe");
	b = fresh(16 * KiB, 0);
	n = write(pp[1], b, 16 * KiB);
	check(n == 16 * KiB && drained_zeros(pp[0], 16 * KiB), "write to a pipe from untouched buffer: %s bytes, zeros sent", res(n));
	if (pipe(pp) < 0)
		die("pipe");
	if (write(pp[1], data, 16 * KiB) != 16 * KiB)
		die("write pipe");
	b = fresh(16 * KiB, 5);
	n = read(pp[0], b, 16 * KiB);
	check(n == 16 * KiB && !memcmp(b, data, 16 * KiB) && find_nonzero(b - 5, 5) == NOMISMATCH,
	      "read from a pipe into untouched buffer: %s bytes, content right", res(n));

	/* stdio: fread of more than its buffer goes straight into ours */
	int fd2 = dup(fd);
	FILE *f = fdopen(fd2, "r");
	fseek(f, 0, SEEK_SET);
	b = fresh(512 * KiB, 0);
	size_t got = fread(b, 1, 512 * KiB, f);
	check(got == 512 * KiB && !memcmp(b, data, 512 * KiB), "fread into untouched buffer: %zu bytes, content right", got);
	b = fresh(100, 0);
	got = fread(b, 1, 100, f);
	check(got == 100 && !memcmp(b, data + 512 * KiB, 100), "small fread into untouched buffer: %zu bytes", got);
	fclose(f);
	int fd3 = tmpfile_fd("lf-rw-fwrite", NULL, 0);
	FILE *fo = fdopen(dup(fd3), "w");
	b = fresh(300 * KiB, 0);
	got = fwrite(b, 1, 300 * KiB, fo);
	fclose(fo);
	check(got == 300 * KiB && file_is(fd3, NULL, 300 * KiB), "fwrite from untouched buffer: %zu bytes, all zeros", got);

	/* getrandom into untouched memory: the full count */
	b = fresh(64, 0);
	n = getrandom(b, 64, 0);
	check(n == 64, "getrandom into untouched buffer: %s bytes", res(n));

	/* large read spanning many pages */
	b = fresh(DATA, 0);
	n = pread(fd, b, DATA, 0);
	check(n == DATA && !memcmp(b, data, DATA), "1 MiB pread into untouched buffer: %s bytes, content right", res(n));

	/* a child process does the same after fork */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		b = fresh(128 * KiB, 0);
		ssize_t cn = pread(fd, b, 128 * KiB, 0);
		check(cn == 128 * KiB && !memcmp(b, data, 128 * KiB), "child: pread into untouched buffer: %s bytes", res(cn));
		b = fresh(64 * KiB, 0);
		cn = write(out, b, 64 * KiB);
		check(cn == 64 * KiB, "child: write from untouched buffer: %s bytes", res(cn));
		exit(lft_exit_status());
	}
	int st;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exited 0");

	if (have_src) {
		uint8_t *s = map_anon(SOURCE_REGION);
		/* write() from untouched pages of the source region */
		int so = tmpfile_fd("lf-rw-src", NULL, 0);
		n = write(so, s + 64 * KiB, 256 * KiB);
		uint8_t *want = malloc(256 * KiB);
		for (size_t i = 0; i < 256 * KiB; i++)
			want[i] = source_byte(&src, 64 * KiB + i);
		check(n == 256 * KiB && file_is(so, want, 256 * KiB), "write from untouched source pages: %s bytes, the expected bytes", res(n));
		/* read() of 100 bytes into the middle of an untouched source
		 * page: the rest of the page keeps the source's bytes */
		size_t at = 512 * KiB + 1000;
		n = pread(fd, s + at, 100, 0);
		bool around = true;
		for (size_t i = 512 * KiB; i < 512 * KiB + pg; i++) {
			uint8_t w = (i >= at && i < at + 100) ? data[i - at] : source_byte(&src, i);
			if (s[i] != w)
				around = false;
		}
		check(n == 100 && around, "pread into an untouched source page: %s bytes, rest of page as expected", res(n));
		/* send() from the part past the end of the file (zeros) */
		size_t tail = SOURCE_REGION - 64 * KiB;
		pair(sv);
		n = send(sv[0], s + tail, 32 * KiB, 0);
		uint8_t *rb = malloc(32 * KiB);
		ssize_t rn = recv(sv[1], rb, 32 * KiB, MSG_DONTWAIT);
		bool same = rn == 32 * KiB;
		for (size_t i = 0; same && i < 32 * KiB; i++)
			same = rb[i] == source_byte(&src, tail + i);
		check(n == 32 * KiB && same, "send from untouched source tail: %s bytes, the expected bytes", res(n));
	}
	return finish("rwfamily");
}
