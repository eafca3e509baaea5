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
typedef int (*__ppoll_chk_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *,
			      size_t);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
			  const sigset_t *);
typedef int (*epoll_pwait_fn)(int, struct epoll_event *, int, int, const sigset_t *);
typedef int (*epoll_pwait2_fn)(int, struct epoll_event *, int, const struct timespec *,
			       const sigset_t *);

/* One wrapper of a call whose parameter `mask` is the temporary mask;
 * args(m) is its argument list with m in the mask's place. */
#define MASKED_WAIT(name, params, args)                                          \
	static void *_Atomic next_##name;                                        \
	LF_API int name params                                                   \
	{                                                                        \
		name##_fn next = (name##_fn)lf_next(&next_##name, #name);        \
		if (!WANTED(mask))                                               \
			return next args(mask);                                  \
		sigset_t s;                                                      \
		bool was = lf_sigmask_wait_begin(mask, &s, CALLER_SP);           \
		int rc = next args(&s);                                          \
		lf_sigmask_wait_end(was);                                        \
		return rc;                                                       \
	}

#define PPOLL_ARGS(m) (fds, n, t, m)
#define PPOLL_CHK_ARGS(m) (fds, n, t, m, fdslen)
#define PSELECT_ARGS(m) (n, r, w, e, t, m)
#define EPOLL_PWAIT_ARGS(m) (fd, ev, n, ms, m)
#define EPOLL_PWAIT2_ARGS(m) (fd, ev, n, t, m)

MASKED_WAIT(ppoll, (struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask),
	    PPOLL_ARGS)
/* _FORTIFY_SOURCE's: glibc's checks, then its internal ppoll. */
MASKED_WAIT(__ppoll_chk,
	    (struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask,
	     size_t fdslen),
	    PPOLL_CHK_ARGS)
MASKED_WAIT(pselect,
	    (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t,
	     const sigset_t *mask),
	    PSELECT_ARGS)
MASKED_WAIT(epoll_pwait, (int fd, struct epoll_event *ev, int n, int ms, const sigset_t *mask),
	    EPOLL_PWAIT_ARGS)
MASKED_WAIT(epoll_pwait2,
	    (int fd, struct epoll_event *ev, int n, const struct timespec *t, const sigset_t *mask),
	    EPOLL_PWAIT2_ARGS)

/* Looked up as the library loads, not at a first call in a handler. */
__attribute__((constructor)) static void look_up(void)
{
	lf_next(&next_ppoll, "ppoll");
	lf_next(&next___ppoll_chk, "__ppoll_chk");
	lf_next(&next_pselect, "pselect");
	lf_next(&next_epoll_pwait, "epoll_pwait");
	lf_next(&next_epoll_pwait2, "epoll_pwait2");
}
