/* Descriptors that file regions load through.  A file region loads through
 * a descriptor of its own (a dup of the program's, which the program may
 * close), shared by the pieces the region is split into: counted here,
 * closed with the last piece.  Memory loaded from a rule's `source` uses
 * the rule's descriptor, which lives as long as the process.
 *
 * Hold and release run under the table lock (regions.c): no other lock,
 * and the close is a raw system call, never the library's own close()
 * wrapper (which would keep the descriptor open: it is ours). */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"

#define MAX_FD (1 << 16)
static uint32_t *refs;  /* a private mapping of ours: no malloc */
static int top = -1;    /* the highest descriptor ever held */

int lf_fdrefs_top(void) { return __atomic_load_n(&top, __ATOMIC_RELAXED); }

void lf_fdrefs_hold(int fd)
{
	if (fd < 0 || fd >= MAX_FD)
		return;
	if (!refs) {
		void *p = lf_real_mmap(NULL, MAX_FD * sizeof *refs, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		refs = p == MAP_FAILED ? NULL : p;
	}
	if (refs)
		refs[fd]++;
	if (fd > top)
		__atomic_store_n(&top, fd, __ATOMIC_RELAXED);
}

void lf_fdrefs_release(int fd)
{
	if (fd >= 0 && fd < MAX_FD && refs && refs[fd] && --refs[fd] == 0)
		lf_real_close(fd);
}

void lf_fdrefs_move(int from, int to)
{
	if (refs && from >= 0 && from < MAX_FD && to >= 0 && to < MAX_FD) {
		refs[to] = refs[from];
		refs[from] = 0;
		if (to > top)
			__atomic_store_n(&top, to, __ATOMIC_RELAXED);
	}
}

bool lf_fdrefs_in_use(int fd)
{
	return fd >= 0 && fd < MAX_FD && refs && __atomic_load_n(&refs[fd], __ATOMIC_RELAXED);
}
