/* The read/write family beyond its plain entry points, on memory never
 * touched, as real Debian programs call it:
 *  - fread_unlocked / fwrite_unlocked (coreutils: sort, ...);
 *  - the 64-bit-offset names pread64, pwrite64, preadv64, pwritev64 (what
 *    a program built with _FILE_OFFSET_BITS=64 calls), preadv64v2 /
 *    pwritev64v2 (python3's os.preadv / os.pwritev), and pwritev2;
 *  - the _FORTIFY_SOURCE entry points that fortified programs call instead
 *    of read, pread, recv, recvfrom, fread (git calls __fread_chk);
 *  - the other buffers of recvfrom / __recvfrom_chk / recvmsg: the source
 *    address, and the control data (SCM_RIGHTS), which the kernel writes.
 * Every result must be the native one.  (tests/progs/rwfamily.c covers the
 * plain entry points.)
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lftest.h"

/* glibc's fortified entry points (bits/unistd.h, bits/socket2.h, bits/stdio2.h) */
extern ssize_t __read_chk(int, void *, size_t, size_t);
extern ssize_t __pread_chk(int, void *, size_t, off_t, size_t);
extern ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);
extern ssize_t __recv_chk(int, void *, size_t, size_t, int);
extern ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
extern size_t __fread_chk(void *, size_t, size_t, size_t, FILE *);
extern size_t __fread_unlocked_chk(void *, size_t, size_t, size_t, FILE *);

#define DATA (256 * KiB)
#define FRESH_GAP (4 * MiB + 64 * KiB)
#define REGION (160 * MiB)

static uint8_t *region;
static size_t next_off;

/* A fresh range: far (more than the library's largest readahead window)
 * from everything touched before, so that nothing filled it in advance. */
static uint8_t *fresh(size_t n)
{
	uint8_t *b = region + next_off;
	next_off += lf_round_up(n) + FRESH_GAP;
	if (next_off > REGION)
		die("region too small");
	return b;
}

static const char *res(long n)
{
	static char b[64];
	if (n < 0)
		snprintf(b, sizeof b, "-1 (%s)", strerror(errno));
	else
		snprintf(b, sizeof b, "%ld", n);
	return b;
}

static int data_file(const uint8_t *data, const char *name)
{
	const char *t = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/%s", t && *t ? t : "/tmp", name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open %s", path);
	unlink(path);
	if (data && pwrite(fd, data, DATA, 0) != (ssize_t)DATA)
		die("pwrite");
	return fd;
}

/* A connected pair of stream sockets of its own for one check: a call
 * that fails leaves nothing behind for the next one. */
static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
}

static bool file_zeros(int fd, size_t len)
{
	uint8_t *b = malloc(len + 1);
	ssize_t n = pread(fd, b, len + 1, 0);
	bool ok = n == (ssize_t)len && find_nonzero(b, len) == NOMISMATCH;
	free(b);
	return ok;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint8_t *data = malloc(DATA);
	fill_pat(data, DATA, 0, 77);
	int fd = data_file(data, "lf-rwmore-data");
	region = map_anon(REGION);
	uint8_t *b;
	long n;

	/* stdio, unlocked */
	FILE *f = fdopen(dup(fd), "r");
	b = fresh(DATA);
	n = (long)fread_unlocked(b, 1, DATA, f);
	check(n == DATA && !memcmp(b, data, DATA), "fread_unlocked into untouched buffer: %s", res(n));
	fclose(f);
	int wfd = data_file(NULL, "lf-rwmore-w");
	FILE *fo = fdopen(dup(wfd), "w");
	b = fresh(200 * KiB);
	n = (long)fwrite_unlocked(b, 1, 200 * KiB, fo);
	fclose(fo);
	check(n == 200 * KiB && file_zeros(wfd, 200 * KiB), "fwrite_unlocked from untouched buffer: %s", res(n));

	/* the 64-bit-offset names */
	b = fresh(64 * KiB);
	n = pread64(fd, b, 64 * KiB, 300);
	check(n == 64 * KiB && !memcmp(b, data + 300, 64 * KiB), "pread64 into untouched buffer: %s", res(n));
	b = fresh(64 * KiB);
	int wfd64 = data_file(NULL, "lf-rwmore-w64");
	n = pwrite64(wfd64, b, 64 * KiB, 0);
	check(n == 64 * KiB && file_zeros(wfd64, 64 * KiB), "pwrite64 from untouched buffer: %s", res(n));
	b = fresh(64 * KiB);
	struct iovec iv64 = {b, 64 * KiB};
	n = preadv64(fd, &iv64, 1, 400);
	check(n == 64 * KiB && !memcmp(b, data + 400, 64 * KiB), "preadv64 into untouched buffer: %s", res(n));
	b = fresh(64 * KiB);
	struct iovec ov64 = {b, 64 * KiB};
	int wfdv64 = data_file(NULL, "lf-rwmore-wv64");
	n = pwritev64(wfdv64, &ov64, 1, 0);
	check(n == 64 * KiB && file_zeros(wfdv64, 64 * KiB), "pwritev64 from untouched buffer: %s", res(n));
	b = fresh(64 * KiB);
	struct iovec ov2 = {b, 64 * KiB};
	int wfdv2 = data_file(NULL, "lf-rwmore-wv2");
	n = pwritev2(wfdv2, &ov2, 1, 0, 0);
	check(n == 64 * KiB && file_zeros(wfdv2, 64 * KiB), "pwritev2 from untouched buffer: %s", res(n));

	/* the 64-bit-offset v2 vector calls */
	b = fresh(64 * KiB);
	struct iovec iv = {b, 64 * KiB};
	n = preadv64v2(fd, &iv, 1, 4096, 0);
	check(n == 64 * KiB && !memcmp(b, data + 4096, 64 * KiB), "preadv64v2 into untouched buffer: %s", res(n));
	b = fresh(64 * KiB);
	struct iovec ov = {b, 64 * KiB};
	int wfd2 = data_file(NULL, "lf-rwmore-w2");
	n = pwritev64v2(wfd2, &ov, 1, 0, 0);
	check(n == 64 * KiB && file_zeros(wfd2, 64 * KiB), "pwritev64v2 from untouched buffer: %s", res(n));

	/* fortified entry points */
	b = fresh(64 * KiB);
	lseek(fd, 0, SEEK_SET);
	n = __read_chk(fd, b, 64 * KiB, 64 * KiB);
	check(n == 64 * KiB && !memcmp(b, data, 64 * KiB), "__read_chk into untouched buffer: %s", res(n));
	b = fresh(64 * KiB);
	n = __pread_chk(fd, b, 64 * KiB, 100, 64 * KiB);
	check(n == 64 * KiB && !memcmp(b, data + 100, 64 * KiB), "__pread_chk into untouched buffer: %s", res(n));
	b = fresh(64 * KiB);
	n = __pread64_chk(fd, b, 64 * KiB, 200, 64 * KiB);
	check(n == 64 * KiB && !memcmp(b, data + 200, 64 * KiB), "__pread64_chk into untouched buffer: %s", res(n));
	f = fdopen(dup(fd), "r");
	fseek(f, 0, SEEK_SET);
	b = fresh(DATA);
	n = (long)__fread_chk(b, DATA, 1, DATA, f);
	check(n == DATA && !memcmp(b, data, DATA), "__fread_chk into untouched buffer: %s", res(n));
	fseek(f, 0, SEEK_SET);
	b = fresh(DATA);
	n = (long)__fread_unlocked_chk(b, DATA, 1, DATA, f);
	check(n == DATA && !memcmp(b, data, DATA), "__fread_unlocked_chk into untouched buffer: %s", res(n));
	fclose(f);
	int sv[2];
	pair(sv);
	if (write(sv[0], data, 16 * KiB) != 16 * KiB)
		die("write");
	b = fresh(16 * KiB);
	n = __recv_chk(sv[1], b, 16 * KiB, 16 * KiB, MSG_WAITALL);
	check(n == 16 * KiB && !memcmp(b, data, 16 * KiB), "__recv_chk into untouched buffer: %s", res(n));
	pair(sv);
	if (write(sv[0], data, 16 * KiB) != 16 * KiB)
		die("write");
	b = fresh(16 * KiB);
	n = __recvfrom_chk(sv[1], b, 16 * KiB, 16 * KiB, MSG_WAITALL, NULL, NULL);
	check(n == 16 * KiB && !memcmp(b, data, 16 * KiB), "__recvfrom_chk into untouched buffer: %s", res(n));

	/* recvfrom / recvmsg: the address the kernel writes back */
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t ml = sizeof me;
	if (u < 0 || bind(u, (struct sockaddr *)&me, sizeof me) < 0 ||
	    getsockname(u, (struct sockaddr *)&me, &ml) < 0)
		die("udp socket");
	char msg[100] = "datagram";
	if (sendto(u, msg, sizeof msg, 0, (struct sockaddr *)&me, sizeof me) != sizeof msg)
		die("sendto");
	struct sockaddr_in *from = (struct sockaddr_in *)fresh(sizeof *from);
	socklen_t *fl = (socklen_t *)fresh(sizeof *fl);
	char got[100];
	*fl = sizeof *from; /* an input too: the program writes it first */
	n = recvfrom(u, got, sizeof got, 0, (struct sockaddr *)from, fl);
	check(n == sizeof msg && *fl == sizeof *from && from->sin_port == me.sin_port,
	      "recvfrom: source address into an untouched buffer: %s", res(n));
	if (sendto(u, msg, sizeof msg, 0, (struct sockaddr *)&me, sizeof me) != sizeof msg)
		die("sendto");
	from = (struct sockaddr_in *)fresh(sizeof *from);
	socklen_t fl2 = sizeof *from;
	n = __recvfrom_chk(u, got, sizeof got, sizeof got, 0, (struct sockaddr *)from, &fl2);
	check(n == sizeof msg && fl2 == sizeof *from && from->sin_port == me.sin_port,
	      "__recvfrom_chk: source address into an untouched buffer: %s", res(n));
	if (sendto(u, msg, sizeof msg, 0, (struct sockaddr *)&me, sizeof me) != sizeof msg)
		die("sendto");
	struct sockaddr_in *name = (struct sockaddr_in *)fresh(sizeof *name);
	struct iovec gv = {got, sizeof got};
	struct msghdr mh = {.msg_name = name, .msg_namelen = sizeof *name, .msg_iov = &gv, .msg_iovlen = 1};
	n = recvmsg(u, &mh, 0);
	check(n == sizeof msg && mh.msg_namelen == sizeof *name && name->sin_port == me.sin_port,
	      "recvmsg: msg_name into an untouched buffer: %s", res(n));

	/* recvmsg: control data (a file descriptor) into an untouched buffer */
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
	ctl.h.cmsg_level = SOL_SOCKET;
	ctl.h.cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(&ctl.h), &fd, sizeof(int));
	struct iovec one = {msg, 1};
	struct msghdr sm = {.msg_iov = &one, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
	pair(sv);
	if (sendmsg(sv[0], &sm, 0) != 1)
		die("sendmsg SCM_RIGHTS");
	uint8_t *cbuf = fresh(CMSG_SPACE(sizeof(int)));
	struct iovec rv = {got, 1};
	struct msghdr rm = {.msg_iov = &rv, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = CMSG_SPACE(sizeof(int))};
	n = recvmsg(sv[1], &rm, 0);
	struct cmsghdr *c = CMSG_FIRSTHDR(&rm);
	bool fd_ok = n == 1 && !(rm.msg_flags & MSG_CTRUNC) && c && c->cmsg_type == SCM_RIGHTS;
	check(fd_ok, "recvmsg: control data (SCM_RIGHTS) into an untouched buffer: %s%s", res(n),
	      (rm.msg_flags & MSG_CTRUNC) ? ", MSG_CTRUNC" : "");
	return finish("rwmore");
}
