/* The read/write family as a table: one row per wrapper.  wrap_io.c
 * includes it several times, with LF_IO and LF_IO_ALIAS defined each time
 * to expand a row into one thing (hence no include guard); nothing else
 * includes it.
 *
 *   LF_IO(name, direction, return type, (parameters), (arguments), buffers, changes,
 *         reads)
 *
 * direction  INTO: the call writes its data into the caller's buffers
 *            (the read family); FROM: it only reads them (the write
 *            family).  No expansion acts on it yet; the compiler checks it.
 * buffers    what to fill before the call, one or more of:
 *   BUF(p, len)              len bytes at p
 *   BUF_CAP(p, n, cap)       min(n, cap) bytes: a fortified (_chk) form,
 *                            cap being the size the compiler knew
 *   ITEMS(p, size, n)        size * n bytes (stdio); none if that overflows
 *   ITEMS_CAP(p, cap, size, n)  min(size * n, cap) bytes
 *   IOV(iov, count)          the buffer of each iovec (not the array)
 *   MSG(msg)                 a msghdr: itself, its iovec array and their
 *                            buffers, its name and its control data
 *   ADDR_OUT(sa, lenp)       a socket address the kernel writes back, as
 *                            long as *lenp says, and *lenp itself
 *
 * changes    what the call changes in a file, followed after the call
 *            (filechange.c: a private mapping of the file shows the new
 *            bytes where the program has not written it):
 *   NO_CHANGE                nothing (reads, sockets, stdio: glibc writes
 *                            a stream's file with internal calls)
 *   WRITES_AT_POS(fd)        the bytes written end at fd's position
 *   WRITES_AT(fd, off)       they start at off (-1: at the position)
 *
 * reads      what the call reads from a file, checked before the call
 *            against the file's bad pages (badfd.c: a read that would
 *            reach one is cut before it, one that starts in it fails with
 *            EIO), as a parenthesised list:
 *   (NONE)                   nothing checked (writes, sockets, getrandom)
 *   (AT_POS, fd, n)          n bytes at fd's position
 *   (AT, fd, off, n)         n bytes at off
 *   (IOV, fd, iov, n, off)   the n iovecs' bytes at off (-1: the position)
 *   (STREAM, f, buf, size, n)  n items of size bytes from stream f
 *
 *   LF_IO_ALIAS(alias, name) another exported name for the wrapper `name`
 *                            (it calls the next definition of `name`)
 *
 * A new column is one more argument here and in the expansions of
 * wrap_io.c; the parameters are in scope in the `buffers`, `changes` and
 * `reads` columns, and the call's result, `result`, in `changes`.
 *
 * Every name here, aliases included, must be called by tests/progs/
 * rwfamily.c or rwmore.c on memory the library serves, in a check whose
 * description starts with the name and that fails without the prefault:
 * test_usermode.py reads this file and checks both.
 */

/* ---- plain buffers -------------------------------------------------- */
LF_IO(read, INTO, ssize_t, (int fd, void *buf, size_t n), (fd, buf, n), BUF(buf, n), NO_CHANGE,
      (AT_POS, fd, n))
LF_IO(write, FROM, ssize_t, (int fd, const void *buf, size_t n), (fd, buf, n), BUF(buf, n),
      WRITES_AT_POS(fd), (NONE))
LF_IO(pread, INTO, ssize_t, (int fd, void *buf, size_t n, off_t off), (fd, buf, n, off),
      BUF(buf, n), NO_CHANGE, (AT, fd, off, n))
LF_IO_ALIAS(pread64, pread)
LF_IO(pwrite, FROM, ssize_t, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off),
      BUF(buf, n), WRITES_AT(fd, off), (NONE))
LF_IO_ALIAS(pwrite64, pwrite)
LF_IO(getrandom, INTO, ssize_t, (void *buf, size_t n, unsigned flags), (buf, n, flags),
      BUF(buf, n), NO_CHANGE, (NONE))

/* ---- iovec arrays --------------------------------------------------- */
LF_IO(readv, INTO, ssize_t, (int fd, const struct iovec *iov, int n), (fd, iov, n), IOV(iov, n),
      NO_CHANGE, (IOV, fd, iov, n, -1))
LF_IO(writev, FROM, ssize_t, (int fd, const struct iovec *iov, int n), (fd, iov, n), IOV(iov, n),
      WRITES_AT_POS(fd), (NONE))
LF_IO(preadv, INTO, ssize_t, (int fd, const struct iovec *iov, int n, off_t off),
      (fd, iov, n, off), IOV(iov, n), NO_CHANGE, (IOV, fd, iov, n, off))
LF_IO_ALIAS(preadv64, preadv)
LF_IO(pwritev, FROM, ssize_t, (int fd, const struct iovec *iov, int n, off_t off),
      (fd, iov, n, off), IOV(iov, n), WRITES_AT(fd, off), (NONE))
LF_IO_ALIAS(pwritev64, pwritev)
LF_IO(preadv2, INTO, ssize_t, (int fd, const struct iovec *iov, int n, off_t off, int flags),
      (fd, iov, n, off, flags), IOV(iov, n), NO_CHANGE, (IOV, fd, iov, n, off))
LF_IO_ALIAS(preadv64v2, preadv2)
LF_IO(pwritev2, FROM, ssize_t, (int fd, const struct iovec *iov, int n, off_t off, int flags),
      (fd, iov, n, off, flags), IOV(iov, n), WRITES_AT(fd, off), (NONE))
LF_IO_ALIAS(pwritev64v2, pwritev2)

/* ---- sockets -------------------------------------------------------- */
LF_IO(recv, INTO, ssize_t, (int fd, void *buf, size_t n, int flags), (fd, buf, n, flags),
      BUF(buf, n), NO_CHANGE, (NONE))
LF_IO(send, FROM, ssize_t, (int fd, const void *buf, size_t n, int flags), (fd, buf, n, flags),
      BUF(buf, n), NO_CHANGE, (NONE))
LF_IO(recvfrom, INTO, ssize_t,
      (int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *sl),
      (fd, buf, n, flags, sa, sl), BUF(buf, n) ADDR_OUT(sa, sl), NO_CHANGE, (NONE))
LF_IO(sendto, FROM, ssize_t,
      (int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa, socklen_t sl),
      (fd, buf, n, flags, sa, sl), BUF(buf, n) BUF(sa, sl), NO_CHANGE, (NONE))
LF_IO(recvmsg, INTO, ssize_t, (int fd, struct msghdr *msg, int flags), (fd, msg, flags), MSG(msg),
      NO_CHANGE, (NONE))
LF_IO(sendmsg, FROM, ssize_t, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags),
      MSG(msg), NO_CHANGE, (NONE))

/* ---- stdio ---------------------------------------------------------- */
/* glibc reads into and writes from the caller's buffer with internal
 * calls that the wrappers above do not see. */
LF_IO(fread, INTO, size_t, (void *buf, size_t size, size_t n, FILE *f), (buf, size, n, f),
      ITEMS(buf, size, n), NO_CHANGE, (STREAM, f, buf, size, n))
LF_IO(fwrite, FROM, size_t, (const void *buf, size_t size, size_t n, FILE *f), (buf, size, n, f),
      ITEMS(buf, size, n), NO_CHANGE, (NONE))
LF_IO(fread_unlocked, INTO, size_t, (void *buf, size_t size, size_t n, FILE *f),
      (buf, size, n, f), ITEMS(buf, size, n), NO_CHANGE, (STREAM, f, buf, size, n))
LF_IO(fwrite_unlocked, FROM, size_t, (const void *buf, size_t size, size_t n, FILE *f),
      (buf, size, n, f), ITEMS(buf, size, n), NO_CHANGE, (NONE))

/* ---- the fortified entry points ------------------------------------- */
/* What programs built with _FORTIFY_SOURCE (Debian's packages) call instead
 * of the plain ones; the size the compiler knew caps what is written. */
LF_IO(__read_chk, INTO, ssize_t, (int fd, void *buf, size_t n, size_t buflen),
      (fd, buf, n, buflen), BUF_CAP(buf, n, buflen), NO_CHANGE, (AT_POS, fd, n))
LF_IO(__pread_chk, INTO, ssize_t, (int fd, void *buf, size_t n, off_t off, size_t buflen),
      (fd, buf, n, off, buflen), BUF_CAP(buf, n, buflen), NO_CHANGE, (AT, fd, off, n))
LF_IO(__pread64_chk, INTO, ssize_t, (int fd, void *buf, size_t n, off_t off, size_t buflen),
      (fd, buf, n, off, buflen), BUF_CAP(buf, n, buflen), NO_CHANGE, (AT, fd, off, n))
LF_IO(__recv_chk, INTO, ssize_t, (int fd, void *buf, size_t n, size_t buflen, int flags),
      (fd, buf, n, buflen, flags), BUF_CAP(buf, n, buflen), NO_CHANGE, (NONE))
LF_IO(__recvfrom_chk, INTO, ssize_t,
      (int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *sa, socklen_t *sl),
      (fd, buf, n, buflen, flags, sa, sl), BUF_CAP(buf, n, buflen) ADDR_OUT(sa, sl), NO_CHANGE,
      (NONE))
LF_IO(__fread_chk, INTO, size_t, (void *buf, size_t buflen, size_t size, size_t n, FILE *f),
      (buf, buflen, size, n, f), ITEMS_CAP(buf, buflen, size, n), NO_CHANGE,
      (STREAM, f, buf, size, n))
LF_IO(__fread_unlocked_chk, INTO, size_t,
      (void *buf, size_t buflen, size_t size, size_t n, FILE *f), (buf, buflen, size, n, f),
      ITEMS_CAP(buf, buflen, size, n), NO_CHANGE, (STREAM, f, buf, size, n))
