/* The library's threads are not the program's: glibc must not count them.
 *
 * glibc ends a process when its last thread leaves with pthread_exit (from
 * main or from any other thread) by counting threads: pthread_create adds
 * one to __nptl_nthreads before the clone, each thread that ends takes one
 * off, and the one that takes it to zero calls exit(0).  A helper counted
 * there keeps such a process alive for ever, a zombie leader with one
 * thread blocked in read() on the userfaultfd, and its parent waits for it.
 * So each thread the library starts is taken off the count right after
 * pthread_create returns.  The count is glibc's private symbol (exported
 * with the GLIBC_PRIVATE version, 2.34 and later); found at run time, so
 * that a C library without it only loses this.
 *
 * Why no race: the spawning thread is a program thread, counted, and alive
 * until the count is fixed, so no other thread can see it reach zero while
 * the helper's unit is in it.  Helpers never end (server.c): nothing ever
 * gives the unit back.  fork sets the count to one in the child, whose
 * helpers are started again (fork.c) and taken off again here. */
#include <dlfcn.h>
#include <stdatomic.h>

#include "lf.h"

static unsigned int *count;
static _Atomic int looked;

void lf_thread_uncount(void)
{
	/* dlsym once, from a program thread (spawns are), lf_busy set by
	 * lf_server_spawn, so what it allocates goes straight to glibc. */
	if (!atomic_load(&looked)) {
		count = dlsym(RTLD_DEFAULT, "__nptl_nthreads");
		atomic_store(&looked, 1);
		if (!count)
			lf_debug("no __nptl_nthreads in this C library: a process whose last thread "
				 "calls pthread_exit waits for the library's threads");
	}
	if (!count)
		return;
	/* Never below one: the spawner itself is counted. */
	unsigned int n = __atomic_load_n(count, __ATOMIC_SEQ_CST);
	while (n > 1 && !__atomic_compare_exchange_n(count, &n, n - 1, false, __ATOMIC_SEQ_CST,
						     __ATOMIC_SEQ_CST))
		;
}
