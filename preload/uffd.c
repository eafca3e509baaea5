/* The userfaultfd: opening it (/dev/userfaultfd, then userfaultfd(2), then
 * userfaultfd(2) in user-mode-only mode), probing what the kernel offers,
 * registering ranges, and the fill ioctls with every result the kernel can
 * give: EEXIST (present already: skip the page), EAGAIN with progress
 * (partial: go on) or without (a transient race: retry), ENOENT (no VMA or a
 * window across a VMA end), ESRCH (the process is exiting).  Pages of an
 * emulated file mapping are installed write-protected (LF_OP_COPY_WP) in a
 * range registered for write-protect faults too: with WP_ASYNC the kernel
 * resolves the program's first write itself and records it. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "invisible.h"
#include "lf.h"
#include "signals.h"
#include "uffd_compat.h"

/* Features we ask for when the kernel has them.  No events: the library
 * keeps its region table itself through its wrappers (see regions.c), so
 * that no mm operation of the program ever waits for a helper.  WP_ASYNC
 * (Linux 6.7): a write to a page installed write-protected is resolved by
 * the kernel in the writing thread, with no message, and only recorded
 * (filechange.c reads the record). */
#define WANTED_FEATURES (UFFD_FEATURE_POISON | UFFD_FEATURE_THREAD_ID | \
			 UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MISSING_HUGETLBFS | \
			 UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_WP_ASYNC | \
			 UFFD_FEATURE_MOVE /* zero streams of 2 MiB pages (stream.c) */)

/* Every ioctl goes through here: a raw system call, as helpers must (I1). */
static int uffd_ioctl(int fd, unsigned long request, void *arg)
{
	return (int)syscall(SYS_ioctl, fd, request, arg);
}

static int open_dev(int flags)
{
	int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	int fd = (int)syscall(SYS_ioctl, dev, USERFAULTFD_IOC_NEW, flags);
	int e = errno;
	lf_real_close(dev);
	errno = e;
	return fd;
}

static int open_mode(enum lf_mode mode, int *via_dev, char *why, size_t whylen)
{
	int flags = O_CLOEXEC; /* blocking reads: helpers sleep in read(2) */
	int fd;
	*via_dev = 0;
	if (mode == LF_MODE_USER) {
		fd = (int)syscall(SYS_userfaultfd, flags | UFFD_USER_MODE_ONLY);
		if (fd < 0)
			snprintf(why, whylen, "userfaultfd(UFFD_USER_MODE_ONLY): %s", strerror(errno));
		return fd;
	}
	fd = open_dev(flags);
	if (fd >= 0) {
		*via_dev = 1;
		return fd;
	}
	int e1 = errno;
	fd = (int)syscall(SYS_userfaultfd, flags);
	if (fd >= 0)
		return fd;
	snprintf(why, whylen, "/dev/userfaultfd: %s; userfaultfd(2): %s", strerror(e1),
		 strerror(errno));
	return -1;
}

/* UFFDIO_API with features 0 on a throw-away fd tells what the kernel
 * supports; a second UFFDIO_API on one fd is EINVAL, hence two fds. */
static int api(int fd, uint64_t want, uint64_t *got)
{
	struct uffdio_api a = {.api = UFFD_API, .features = want};
	if (uffd_ioctl(fd, UFFDIO_API, &a) < 0)
		return -1;
	*got = a.features;
	return 0;
}

int lf_uffd_open(enum lf_mode *mode, uint64_t *features, char *why, size_t whylen)
{
	int via_dev;
	enum lf_mode m = *mode;
	int fd = open_mode(m, &via_dev, why, whylen);
	if (fd < 0 && m == LF_MODE_FULL) {
		char first[512];
		snprintf(first, sizeof first, "%s", why);
		m = LF_MODE_USER;
		fd = open_mode(m, &via_dev, why, whylen);
		if (fd < 0) {
			char second[512];
			snprintf(second, sizeof second, "%s", why);
			snprintf(why, whylen, "%s; %s", first, second);
		}
	}
	if (fd < 0)
		return -1;
	uint64_t supported = 0;
	int probe = m == LF_MODE_USER ? (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY)
		    : via_dev ? open_dev(O_CLOEXEC) : (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (probe >= 0) {
		if (api(probe, 0, &supported) < 0)
			supported = 0;
		lf_real_close(probe);
	}
	/* serve = signal (signals.h): every fault raises SIGBUS in the
	 * faulting thread instead of a message; auto: in user-mode-only mode,
	 * where the kernel cannot fill pages for system calls either. */
	bool by_signal = (lf_serve_asked == LF_SERVE_SIGNAL || (lf_serve_asked == LF_SERVE_AUTO && m == LF_MODE_USER)) &&
			 (supported & UFFD_FEATURE_SIGBUS);
	uint64_t want = (supported & WANTED_FEATURES) | (by_signal ? UFFD_FEATURE_SIGBUS : 0);
	if (api(fd, want, features) < 0) {
		snprintf(why, whylen, "UFFDIO_API: %s", strerror(errno));
		lf_real_close(fd);
		return -1;
	}
	lf_serve_by_signal = by_signal;
	*mode = m;
	return lf_fd_place(fd);
}

int lf_uffd_register(uintptr_t start, size_t len, enum lf_reg how, uint64_t *ioctls)
{
	static const uint64_t modes[] = {
		[LF_REG_MISSING] = UFFDIO_REGISTER_MODE_MISSING,
		[LF_REG_MINOR] = UFFDIO_REGISTER_MODE_MINOR,
		[LF_REG_MISSING_WP] = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_register reg = {.range = {.start = start, .len = len}, .mode = modes[how]};
	if (uffd_ioctl(lf.uffd, UFFDIO_REGISTER, &reg) < 0)
		return -errno;
	if (ioctls)
		*ioctls = reg.ioctls;
	return 0;
}

int lf_uffd_unregister(uintptr_t start, size_t len)
{
	struct uffdio_range r = {.start = start, .len = len};
	return uffd_ioctl(lf.uffd, UFFDIO_UNREGISTER, &r) < 0 ? -errno : 0;
}

void lf_uffd_wake(uintptr_t start, size_t len)
{
	if (lf_serve_by_signal)
		return; /* nobody waits: a faulting thread serves itself */
	struct uffdio_range r = {.start = start, .len = len};
	uffd_ioctl(lf.uffd, UFFDIO_WAKE, &r);
}

long lf_uffd_move(uintptr_t dst, uintptr_t src, size_t len)
{
	struct uffdio_move m = {.dst = dst, .src = src, .len = len,
				.mode = UFFDIO_MOVE_MODE_DONTWAKE};
	if (uffd_ioctl(lf.uffd, UFFDIO_MOVE, &m) == 0)
		return (long)len;
	return m.move > 0 ? m.move : -errno;
}

/* The four fill ioctls, never waking (the caller wakes once, after
 * counting).  Each returns 0 when [dst, dst+len) was done, else -1 with
 * errno, and *done = bytes done before the error. */
static int uffd_copy(uintptr_t dst, size_t len, const void *src, bool wp, long *done)
{
	struct uffdio_copy c = {.dst = dst, .src = (uintptr_t)src, .len = len,
				.mode = UFFDIO_COPY_MODE_DONTWAKE | (wp ? UFFDIO_COPY_MODE_WP : 0)};
	int rc = uffd_ioctl(lf.uffd, UFFDIO_COPY, &c);
	*done = c.copy;
	return rc;
}

/* The one COPY that wakes: a fault served by its page alone (fill.c). */
static int uffd_copy_wake(uintptr_t dst, size_t len, const void *src, long *done)
{
	struct uffdio_copy c = {.dst = dst, .src = (uintptr_t)src, .len = len};
	int rc = uffd_ioctl(lf.uffd, UFFDIO_COPY, &c);
	*done = c.copy;
	return rc;
}

static int uffd_zeropage(uintptr_t dst, size_t len, long *done)
{
	struct uffdio_zeropage z = {.range = {.start = dst, .len = len},
				    .mode = UFFDIO_ZEROPAGE_MODE_DONTWAKE};
	int rc = uffd_ioctl(lf.uffd, UFFDIO_ZEROPAGE, &z);
	*done = z.zeropage;
	return rc;
}

static int uffd_continue(uintptr_t dst, size_t len, long *done)
{
	struct uffdio_continue c = {.range = {.start = dst, .len = len},
				    .mode = UFFDIO_CONTINUE_MODE_DONTWAKE};
	int rc = uffd_ioctl(lf.uffd, UFFDIO_CONTINUE, &c);
	*done = c.mapped;
	return rc;
}

static int uffd_poison(uintptr_t dst, size_t len, long *done)
{
	struct uffdio_poison p = {.range = {.start = dst, .len = len},
				  .mode = UFFDIO_POISON_MODE_DONTWAKE};
	int rc = uffd_ioctl(lf.uffd, UFFDIO_POISON, &p);
	*done = p.updated;
	return rc;
}

static int fill_once(enum lf_fill_op op, uintptr_t dst, size_t len, const void *src,
		     long *progress)
{
	int rc;
	*progress = 0;
	switch (op) {
	case LF_OP_COPY: rc = uffd_copy(dst, len, src, false, progress); break;
	case LF_OP_COPY_WP: rc = uffd_copy(dst, len, src, true, progress); break;
	case LF_OP_ZEROPAGE: rc = uffd_zeropage(dst, len, progress); break;
	case LF_OP_CONTINUE: rc = uffd_continue(dst, len, progress); break;
	case LF_OP_COPY_WAKE: rc = uffd_copy_wake(dst, len, src, progress); break;
	default: rc = uffd_poison(dst, len, progress); break;
	}
	if (rc == 0)
		*progress = (long)len;
	return rc;
}

long lf_uffd_fill(enum lf_fill_op op, uintptr_t dst, size_t len, const void *src)
{
	size_t done = 0;
	long installed = 0;
	int again = 0;
	while (done < len) {
		long progress;
		const char *s = src ? (const char *)src + done : NULL; /* COPY only */
		if (fill_once(op, dst + done, len - done, s, &progress) == 0) {
			installed += (long)(len - done);
			break;
		}
		int e = errno;
		if (progress > 0) { /* partial progress (EAGAIN): go on after it */
			done += progress;
			installed += progress;
			continue;
		}
		switch (e) {
		case EEXIST: /* already present: someone else filled it */
			done += LF_PAGE;
			break;
		case EAGAIN: /* transient: retry a bounded number of times */
			if (++again > 1000)
				return installed;
			sched_yield();
			break;
		case EFAULT: /* CONTINUE: no page-cache page here (a hole, past
			      * the end): the kernel serves it when touched */
			if (op == LF_OP_CONTINUE)
				return installed;
			lf_debug("fill ioctl at %#lx+%zu: errno %d", (unsigned long)(dst + done),
				 len - done, e);
			return installed;
		case ENOENT: /* the window crosses a VMA end: serve what is before */
			if (len - done > LF_PAGE) {
				len = done + LF_PAGE;
				break;
			}
			return installed;
		case ESRCH: /* the process is exiting */
			errno = ESRCH;
			return -1;
		case EINVAL: /* COPY_WP in a range not registered for write
			      * protection: a plain COPY (the page then counts
			      * as written, which keeps its bytes: safe) */
			if (op == LF_OP_COPY_WP) {
				op = LF_OP_COPY;
				break;
			}
			lf_debug("fill ioctl at %#lx+%zu: errno %d", (unsigned long)(dst + done),
				 len - done, e);
			return installed;
		default: /* no strerror here: it may take locale locks (I1) */
			lf_debug("fill ioctl at %#lx+%zu: errno %d", (unsigned long)(dst + done),
				 len - done, e);
			return installed;
		}
	}
	return installed;
}
