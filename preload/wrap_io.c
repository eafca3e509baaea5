/* The read/write family, wrapped for user-mode-only mode (prefault.c).  In
 * full mode, and inside the library (lf_busy), each is a straight call.
 * SPEC lists the calls; fread and fwrite are here too because glibc's stdio
 * reads into and writes from the caller's buffer with internal calls that
 * these wrappers would not see. */
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lf.h"

static inline bool want_prefault(void) { return !lf_busy && lf_user_mode(); }

static void prefault_iov(const struct iovec *iov, int n)
{
	for (int i = 0; iov && i < n; i++)
		lf_prefault(iov[i].iov_base, iov[i].iov_len);
}

/* The next definition of `name`, found on first use. */
#define REAL(name)                                                \
	static __typeof__(name) *real_##name;                     \
	if (!real_##name)                                         \
		real_##name = (__typeof__(name) *)lf_real_sym(#name)

LF_API ssize_t read(int fd, void *buf, size_t n)
{
	REAL(read);
	if (want_prefault())
		lf_prefault(buf, n);
	return real_read(fd, buf, n);
}

LF_API ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	if (want_prefault())
		lf_prefault(buf, n);
	return real_write(fd, buf, n);
}

LF_API ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	REAL(pread);
	if (want_prefault())
		lf_prefault(buf, n);
	return real_pread(fd, buf, n, off);
}
LF_API ssize_t pread64(int fd, void *buf, size_t n, off_t off) __attribute__((alias("pread")));

LF_API ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	if (want_prefault())
		lf_prefault(buf, n);
	return real_pwrite(fd, buf, n, off);
}
LF_API ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) __attribute__((alias("pwrite")));

LF_API ssize_t readv(int fd, const struct iovec *iov, int n)
{
	REAL(readv);
	if (want_prefault())
		prefault_iov(iov, n);
	return real_readv(fd, iov, n);
}

LF_API ssize_t writev(int fd, const struct iovec *iov, int n)
{
	REAL(writev);
	if (want_prefault())
		prefault_iov(iov, n);
	return real_writev(fd, iov, n);
}

LF_API ssize_t preadv(int fd, const struct iovec *iov, int n, off_t off)
{
	REAL(preadv);
	if (want_prefault())
		prefault_iov(iov, n);
	return real_preadv(fd, iov, n, off);
}
LF_API ssize_t preadv64(int fd, const struct iovec *iov, int n, off_t off) __attribute__((alias("preadv")));

LF_API ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	REAL(pwritev);
	if (want_prefault())
		prefault_iov(iov, n);
	return real_pwritev(fd, iov, n, off);
}
LF_API ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off) __attribute__((alias("pwritev")));

LF_API ssize_t preadv2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	REAL(preadv2);
	if (want_prefault())
		prefault_iov(iov, n);
	return real_preadv2(fd, iov, n, off, flags);
}

LF_API ssize_t preadv64v2(int fd, const struct iovec *iov, int n, off_t off, int flags)
	__attribute__((alias("preadv2")));

LF_API ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	REAL(pwritev2);
	if (want_prefault())
		prefault_iov(iov, n);
	return real_pwritev2(fd, iov, n, off, flags);
}

LF_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	REAL(recv);
	if (want_prefault())
		lf_prefault(buf, n);
	return real_recv(fd, buf, n, flags);
}

LF_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *sl)
{
	REAL(recvfrom);
	if (want_prefault()) {
		lf_prefault(buf, n);
		if (sa && sl) {
			lf_prefault(sl, sizeof *sl);
			lf_prefault(sa, *sl);
		}
	}
	return real_recvfrom(fd, buf, n, flags, sa, sl);
}

/* Everything of a msghdr the kernel reads or writes. */
static void prefault_msg(const struct msghdr *msg)
{
	lf_prefault(msg, sizeof *msg);
	prefault_iov(msg->msg_iov, (int)msg->msg_iovlen);
	lf_prefault(msg->msg_iov, msg->msg_iovlen * sizeof *msg->msg_iov);
	lf_prefault(msg->msg_name, msg->msg_namelen);
	lf_prefault(msg->msg_control, msg->msg_controllen);
}

LF_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	REAL(recvmsg);
	if (want_prefault() && msg)
		prefault_msg(msg);
	return real_recvmsg(fd, msg, flags);
}

LF_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	REAL(send);
	if (want_prefault())
		lf_prefault(buf, n);
	return real_send(fd, buf, n, flags);
}

LF_API ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
		      socklen_t sl)
{
	REAL(sendto);
	if (want_prefault()) {
		lf_prefault(buf, n);
		lf_prefault(sa, sl);
	}
	return real_sendto(fd, buf, n, flags, sa, sl);
}

LF_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	REAL(sendmsg);
	if (want_prefault() && msg)
		prefault_msg(msg);
	return real_sendmsg(fd, msg, flags);
}

LF_API ssize_t getrandom(void *buf, size_t n, unsigned flags)
{
	REAL(getrandom);
	if (want_prefault())
		lf_prefault(buf, n);
	return real_getrandom(buf, n, flags);
}

LF_API size_t fread(void *buf, size_t size, size_t n, FILE *f)
{
	REAL(fread);
	if (want_prefault() && size && n <= SIZE_MAX / size)
		lf_prefault(buf, size * n);
	return real_fread(buf, size, n, f);
}

LF_API size_t fwrite(const void *buf, size_t size, size_t n, FILE *f)
{
	REAL(fwrite);
	if (want_prefault() && size && n <= SIZE_MAX / size)
		lf_prefault(buf, size * n);
	return real_fwrite(buf, size, n, f);
}

LF_API ssize_t pwritev64v2(int fd, const struct iovec *iov, int n, off_t off, int flags)
	__attribute__((alias("pwritev2")));

#undef fread_unlocked
#undef fwrite_unlocked

LF_API size_t fread_unlocked(void *buf, size_t size, size_t n, FILE *f)
{
	REAL(fread_unlocked);
	if (want_prefault() && size && n <= SIZE_MAX / size)
		lf_prefault(buf, size * n);
	return real_fread_unlocked(buf, size, n, f);
}

LF_API size_t fwrite_unlocked(const void *buf, size_t size, size_t n, FILE *f)
{
	REAL(fwrite_unlocked);
	if (want_prefault() && size && n <= SIZE_MAX / size)
		lf_prefault(buf, size * n);
	return real_fwrite_unlocked(buf, size, n, f);
}

/* The fortified entry points (_FORTIFY_SOURCE, Debian's default for its
 * packages) that programs call instead of the plain ones. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *sa, socklen_t *sl);
size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *f);
size_t __fread_unlocked_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *f);

LF_API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	REAL(__read_chk);
	if (want_prefault())
		lf_prefault(buf, n < buflen ? n : buflen);
	return real___read_chk(fd, buf, n, buflen);
}

LF_API ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	REAL(__pread_chk);
	if (want_prefault())
		lf_prefault(buf, n < buflen ? n : buflen);
	return real___pread_chk(fd, buf, n, off, buflen);
}

LF_API ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	REAL(__pread64_chk);
	if (want_prefault())
		lf_prefault(buf, n < buflen ? n : buflen);
	return real___pread64_chk(fd, buf, n, off, buflen);
}

LF_API ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	REAL(__recv_chk);
	if (want_prefault())
		lf_prefault(buf, n < buflen ? n : buflen);
	return real___recv_chk(fd, buf, n, buflen, flags);
}

LF_API ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
			      struct sockaddr *sa, socklen_t *sl)
{
	REAL(__recvfrom_chk);
	if (want_prefault()) {
		lf_prefault(buf, n < buflen ? n : buflen);
		if (sa && sl) {
			lf_prefault(sl, sizeof *sl);
			lf_prefault(sa, *sl);
		}
	}
	return real___recvfrom_chk(fd, buf, n, buflen, flags, sa, sl);
}

static size_t chk_len(size_t buflen, size_t size, size_t n)
{
	size_t total = size && n <= SIZE_MAX / size ? size * n : SIZE_MAX;
	return total < buflen ? total : buflen;
}

LF_API size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *f)
{
	REAL(__fread_chk);
	if (want_prefault())
		lf_prefault(buf, chk_len(buflen, size, n));
	return real___fread_chk(buf, buflen, size, n, f);
}

LF_API size_t __fread_unlocked_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *f)
{
	REAL(__fread_unlocked_chk);
	if (want_prefault())
		lf_prefault(buf, chk_len(buflen, size, n));
	return real___fread_unlocked_chk(buf, buflen, size, n, f);
}
