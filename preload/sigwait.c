/* Signal mode: the calls that wait with a temporary mask of the program's
 * (ppoll and its _FORTIFY_SOURCE check, pselect, epoll_pwait, epoll_pwait2;
 * sigsuspend is in sigmask.c).
 * A handler that runs while they wait runs with that mask: SIGBUS in it
 * would be blocked for real, and a served page the handler touches would
 * kill the process.  So the kernel gets the mask without SIGBUS, and the
 * thread's view is the mask while the call waits.  In helper mode, or
 * without a mask, each is a straight call. */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "lf.h"
#include "signals.h"

#define CALLER_SP ((uintptr_t)__builtin_dwarf_cfa())
#define WANTED(mask) ((mask) && lf_serve_by_signal && !lf_busy)

typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
			  const sigset_t *);
typedef int (*epoll_pwait_fn)(int, struct epoll_event *, int, int, const sigset_t *);
typedef int (*epoll_pwait2_fn)(int, struct epoll_event *, int, const struct timespec *,
			       const sigset_t *);
static void *_Atomic next_ppoll, *_Atomic next_pselect, *_Atomic next_epoll_pwait,
	*_Atomic next_epoll_pwait2;

LF_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
	ppoll_fn next = (ppoll_fn)lf_next(&next_ppoll, "ppoll");
	if (!WANTED(mask))
		return next(fds, n, t, mask);
	sigset_t s;
	bool was = lf_sigmask_wait_begin(mask, &s, CALLER_SP);
	int rc = next(fds, n, t, &s);
	lf_sigmask_wait_end(was);
	return rc;
}

/* _FORTIFY_SOURCE's: glibc's checks, then its internal ppoll. */
typedef int (*ppoll_chk_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *,
			    size_t);
static void *_Atomic next_ppoll_chk;

LF_API int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask,
		       size_t fdslen)
{
	ppoll_chk_fn next = (ppoll_chk_fn)lf_next(&next_ppoll_chk, "__ppoll_chk");
	if (!WANTED(mask))
		return next(fds, n, t, mask, fdslen);
	sigset_t s;
	bool was = lf_sigmask_wait_begin(mask, &s, CALLER_SP);
	int rc = next(fds, n, t, &s, fdslen);
	lf_sigmask_wait_end(was);
	return rc;
}

LF_API int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t,
		   const sigset_t *mask)
{
	pselect_fn next = (pselect_fn)lf_next(&next_pselect, "pselect");
	if (!WANTED(mask))
		return next(n, r, w, e, t, mask);
	sigset_t s;
	bool was = lf_sigmask_wait_begin(mask, &s, CALLER_SP);
	int rc = next(n, r, w, e, t, &s);
	lf_sigmask_wait_end(was);
	return rc;
}

LF_API int epoll_pwait(int fd, struct epoll_event *ev, int n, int ms, const sigset_t *mask)
{
	epoll_pwait_fn next = (epoll_pwait_fn)lf_next(&next_epoll_pwait, "epoll_pwait");
	if (!WANTED(mask))
		return next(fd, ev, n, ms, mask);
	sigset_t s;
	bool was = lf_sigmask_wait_begin(mask, &s, CALLER_SP);
	int rc = next(fd, ev, n, ms, &s);
	lf_sigmask_wait_end(was);
	return rc;
}

LF_API int epoll_pwait2(int fd, struct epoll_event *ev, int n, const struct timespec *t,
			const sigset_t *mask)
{
	epoll_pwait2_fn next = (epoll_pwait2_fn)lf_next(&next_epoll_pwait2, "epoll_pwait2");
	if (!WANTED(mask))
		return next(fd, ev, n, t, mask);
	sigset_t s;
	bool was = lf_sigmask_wait_begin(mask, &s, CALLER_SP);
	int rc = next(fd, ev, n, t, &s);
	lf_sigmask_wait_end(was);
	return rc;
}

/* Looked up as the library loads, not at a first call in a handler. */
__attribute__((constructor)) static void look_up(void)
{
	lf_next(&next_ppoll, "ppoll");
	lf_next(&next_ppoll_chk, "__ppoll_chk");
	lf_next(&next_pselect, "pselect");
	lf_next(&next_epoll_pwait, "epoll_pwait");
	lf_next(&next_epoll_pwait2, "epoll_pwait2");
}
