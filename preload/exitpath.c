/* The statistics file must be complete however the program ends (the
 * figures of a run that crashed are the ones a tester needs most):
 *  - exit() and return from main: our destructor, which runs late (the
 *    preloaded library is finalised after the program);
 *  - _exit() and _Exit(): wrapped;
 *  - a fatal signal whose disposition is the default (the SIGBUS of a
 *    poisoned page above all): signals.c's handler writes the file, puts
 *    the default back and raises the signal again, so the process still
 *    dies of it.  The program never sees that handler: sigaction() and
 *    signal() report SIG_DFL for it, and a handler the program installs
 *    replaces it (the program's handler then decides; if it ends in _exit
 *    we write).
 * SIGKILL cannot be caught: README says so.  Signals ignored at start
 * (nohup, background jobs) are left ignored. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "signals.h"
#include "trace.h"
#include "stats_out.h"

void lf_exitpath_init(void)
{
	if (!lf.stats_path[0] && !lf_trace_on())
		return;
	lf_crash_init();
	lf_signals_own_fatal(); /* its handler calls lf_crash_record() first */
}

LF_API void _exit(int status)
{
	lf_stats_write();
	for (;;)
		syscall(SYS_exit_group, status);
}

LF_API void _Exit(int status) { _exit(status); }

__attribute__((destructor)) static void lf_destructor(void) { lf_stats_write(); }
