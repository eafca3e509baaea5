/* A vfork child runs in its parent's memory, on its parent's stack, until
 * it execs or _exits: the library's state there is the parent's.  A helper
 * it started would be a thread of the child (ended by the child's exec or
 * _exit) while the parent's state says helpers run: the parent's next
 * fault would wait for ever.  So a vfork child takes no region (its
 * mappings stay the kernel's) and starts no thread.  It is told by its pid:
 * the library keeps the pid of the process its state belongs to, set at
 * initialisation and by the fork handler in each child; a vfork (or a raw
 * clone, which runs no handler either) does not change it. */
#include <sys/syscall.h>
#include <unistd.h>

#include "invisible.h"
#include "lf.h"

static _Atomic int owner; /* the process the library's state belongs to */

void lf_vfork_owner_here(void) { atomic_store(&owner, (int)syscall(SYS_getpid)); }

bool lf_in_vfork_child(void)
{
	int o = atomic_load(&owner);
	return o && (int)syscall(SYS_getpid) != o;
}
