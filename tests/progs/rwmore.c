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
#include <sys/uio.h>

#include "rw_util.h"

/* glibc's fortified entry points (bits/unistd.h, bits/socket2.h, bits/stdio2.h) */
extern ssize_t __read_chk(int, void *, size_t, size_t);
extern ssize_t __pread_chk(int, void *, size_t, off_t, size_t);
extern ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);
extern ssize_t __recv_chk(int, void *, size_t, size_t, int);
extern ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
extern size_t __fread_chk(void *, size_t, size_t, size_t, FILE *);
extern size_t __fread_unlocked_chk(void *, size_t, size_t, size_t, FILE *);

#define DATA (256 * KiB)
#define REGION (160 * MiB)

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint8_t *data = malloc(DATA);
	fill_pat(data, DATA, 0, 77);
	int fd = tmpfile_fd("lf-rwmore-data", data, DATA);
	region_map(REGION);
	uint8_t *b;
	long n;

	/* stdio, unlocked */
	FILE *f = fdopen(dup(fd), "r");
	b = fresh(DATA, 0);
	n = (long)fread_unlocked(b, 1, DATA, f);
	check(n == DATA && !memcmp(b, data, DATA), "fread_unlocked into untouched buffer: %s", res(n));
	fclose(f);
	int wfd = tmpfile_fd("lf-rwmore-w", NULL, 0);
	FILE *fo = fdopen(dup(wfd), "w");
	b = fresh(200 * KiB, 0);
	n = (long)fwrite_unlocked(b, 1, 200 * KiB, fo);
	fclose(fo);
	check(n == 200 * KiB && file_is(wfd, NULL, 200 * KiB), "fwrite_unlocked from untouched buffer: %s", res(n));

	/* the 64-bit-offset names */
	b = fresh(64 * KiB, 0);
	n = pread64(fd, b, 64 * KiB, 300);
	check(n == 64 * KiB && !memcmp(b, data + 300, 64 * KiB), "pread64 into untouched buffer: %s", res(n));
	b = fresh(64 * KiB, 0);
	int wfd64 = tmpfile_fd("lf-rwmore-w64", NULL, 0);
	n = pwrite64(wfd64, b, 64 * KiB, 0);
	check(n == 64 * KiB && file_is(wfd64, NULL, 64 * KiB), "pwrite64 from untouched buffer: %s", res(n));
	b = fresh(64 * KiB, 0);
	struct iovec iv64 = {b, 64 * KiB};
	n = preadv64(fd, &iv64, 1, 400);
	check(n == 64 * KiB && !memcmp(b, data + 400, 64 * KiB), "preadv64 into untouched buffer: %s", res(n));
	b = fresh(64 * KiB, 0);
	struct iovec ov64 = {b, 64 * KiB};
	int wfdv64 = tmpfile_fd("lf-rwmore-wv64", NULL, 0);
	n = pwritev64(wfdv64, &ov64, 1, 0);
	check(n == 64 * KiB && file_is(wfdv64, NULL, 64 * KiB), "pwritev64 from untouched buffer: %s", res(n));
	b = fresh(64 * KiB, 0);
	struct iovec ov2 = {b, 64 * KiB};
	int wfdv2 = tmpfile_fd("lf-rwmore-wv2", NULL, 0);
	n = pwritev2(wfdv2, &ov2, 1, 0, 0);
	check(n == 64 * KiB && file_is(wfdv2, NULL, 64 * KiB), "pwritev2 from untouched buffer: %s", res(n));

	/* the 64-bit-offset v2 vector calls */
	b = fresh(64 * KiB, 0);
	struct iovec iv = {b, 64 * KiB};
	n = preadv64v2(fd, &iv, 1, 4096, 0);
	check(n == 64 * KiB && !memcmp(b, data + 4096, 64 * KiB), "preadv64v2 into untouched buffer: %s", res(n));
	b = fresh(64 * KiB, 0);
	struct iovec ov = {b, 64 * KiB};
	int wfd2 = tmpfile_fd("lf-rwmore-w2", NULL, 0);
	n = pwritev64v2(wfd2, &ov, 1, 0, 0);
	check(n == 64 * KiB && file_is(wfd2, NULL, 64 * KiB), "pwritev64v2 from untouched buffer: %s", res(n));

	/* fortified entry points */
	b = fresh(64 * KiB, 0);
	lseek(fd, 0, SEEK_SET);
	n = __read_chk(fd, b, 64 * KiB, 64 * KiB);
	check(n == 64 * KiB && !memcmp(b, data, 64 * KiB), "__read_chk into untouched buffer: %s", res(n));
	b = fresh(64 * KiB, 0);
	n = __pread_chk(fd, b, 64 * KiB, 100, 64 * KiB);
	check(n == 64 * KiB && !memcmp(b, data + 100, 64 * KiB), "__pread_chk into untouched buffer: %s", res(n));
	b = fresh(64 * KiB, 0);
	n = __pread64_chk(fd, b, 64 * KiB, 200, 64 * KiB);
	check(n == 64 * KiB && !memcmp(b, data + 200, 64 * KiB), "__pread64_chk into untouched buffer: %s", res(n));
	f = fdopen(dup(fd), "r");
	fseek(f, 0, SEEK_SET);
	b = fresh(DATA, 0);
	n = (long)__fread_chk(b, DATA, 1, DATA, f);
	check(n == DATA && !memcmp(b, data, DATA), "__fread_chk into untouched buffer: %s", res(n));
	fseek(f, 0, SEEK_SET);
	b = fresh(DATA, 0);
	n = (long)__fread_unlocked_chk(b, DATA, 1, DATA, f);
	check(n == DATA && !memcmp(b, data, DATA), "__fread_unlocked_chk into untouched buffer: %s", res(n));
	fclose(f);
	int sv[2];
	pair(sv);
	if (write(sv[0], data, 16 * KiB) != 16 * KiB)
		die("write");
	b = fresh(16 * KiB, 0);
	n = __recv_chk(sv[1], b, 16 * KiB, 16 * KiB, MSG_WAITALL);
	check(n == 16 * KiB && !memcmp(b, data, 16 * KiB), "__recv_chk into untouched buffer: %s", res(n));
	pair(sv);
	if (write(sv[0], data, 16 * KiB) != 16 * KiB)
		die("write");
	b = fresh(16 * KiB, 0);
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
	struct sockaddr_in *from = (struct sockaddr_in *)fresh(sizeof *from, 0);
	socklen_t *fl = (socklen_t *)fresh(sizeof *fl, 0);
	char got[100];
	*fl = sizeof *from; /* an input too: the program writes it first */
	n = recvfrom(u, got, sizeof got, 0, (struct sockaddr *)from, fl);
	check(n == sizeof msg && *fl == sizeof *from && from->sin_port == me.sin_port,
	      "recvfrom: source address into an untouched buffer: %s", res(n));
	if (sendto(u, msg, sizeof msg, 0, (struct sockaddr *)&me, sizeof me) != sizeof msg)
		die("sendto");
	from = (struct sockaddr_in *)fresh(sizeof *from, 0);
	socklen_t fl2 = sizeof *from;
	n = __recvfrom_chk(u, got, sizeof got, sizeof got, 0, (struct sockaddr *)from, &fl2);
	check(n == sizeof msg && fl2 == sizeof *from && from->sin_port == me.sin_port,
	      "__recvfrom_chk: source address into an untouched buffer: %s", res(n));
	if (sendto(u, msg, sizeof msg, 0, (struct sockaddr *)&me, sizeof me) != sizeof msg)
		die("sendto");
	struct sockaddr_in *name = (struct sockaddr_in *)fresh(sizeof *name, 0);
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
	uint8_t *cbuf = fresh(CMSG_SPACE(sizeof(int)), 0);
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
