/* sigaltstack: in user-mode-only mode, the alternate signal stack filled
 * before the kernel is told of it.
 *
 * The kernel writes a signal frame onto that stack when it delivers a
 * signal, outside any system call the library wraps; in user-mode-only mode
 * it cannot ask us for a page of a served region there, and the program
 * dies of SIGSEGV at its first signal (a stack from malloc under a malloc
 * rule).  So every page of the stack is served now, in the calling thread,
 * as the prefault of the read/write family does; and the old stack the
 * kernel writes back is a buffer like theirs.  In the full mode the kernel
 * asks a helper for each page, and nothing is done here. */
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "invisible.h"
#include "lf.h"

LF_API int sigaltstack(const stack_t *ss, stack_t *old)
{
	if (!lf_busy && lf_user_mode()) {
		if (ss && !(ss->ss_flags & SS_DISABLE))
			lf_prefault(ss->ss_sp, ss->ss_size);
		if (old)
			lf_prefault(old, sizeof *old);
	}
	return (int)syscall(SYS_sigaltstack, ss, old);
}
