/* mprotect and the mlock family, as the program calls them through the PLT.
 * The kernel does the work; the library only notes that a file region may
 * no longer be handed off to the kernel (handoff.c): once writable,
 * its pages may hold the program's own bytes, which a mapping of the file
 * put over them would lose; once locked, the file mapping put over them
 * would not be. */
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filemap.h"
#include "lf.h"

/* Before the kernel acts: a helper must not hand the range off between the
 * kernel's change and our note of it.  Also inside the library (lf_busy): a
 * signal handler that interrupted one of its wrappers is the program's.
 * The table lock is taken with every signal blocked, so a handler never
 * finds it held by its own thread. */
static void note(const void *addr, size_t len)
{
	/* The common case, no region that may be handed off: no lock. */
	if (!lf_is_on() || !lf_handoff_any())
		return;
	uintptr_t a = lf_page_down((uintptr_t)addr), e = lf_page_up((uintptr_t)addr + len);
	if (e > a)
		lf_handoff_forbid(a, e, false);
}

/* While mapped files are followed, a protection change waits for a drop of
 * clean pages in progress, which must find the pages as it left them
 * (filechange.c: the pages it makes dirty again must still be writable). */
static bool follow_lock(void)
{
	bool lock = !lf_busy && lf_is_on() && lf_files_any();
	if (lock)
		lf_mm_lock();
	return lock;
}

LF_API int mprotect(void *addr, size_t len, int prot)
{
	note(addr, len);
	bool locked = follow_lock();
	int rc = (int)syscall(SYS_mprotect, addr, len, prot);
	if (locked)
		lf_mm_unlock();
	return rc;
}

LF_API int pkey_mprotect(void *addr, size_t len, int prot, int pkey)
{
	note(addr, len);
	bool locked = follow_lock();
	int rc = (int)syscall(SYS_pkey_mprotect, addr, len, prot, pkey);
	if (locked)
		lf_mm_unlock();
	return rc;
}

LF_API int mlock(const void *addr, size_t len)
{
	note(addr, len);
	return (int)syscall(SYS_mlock, addr, len);
}

LF_API int mlock2(const void *addr, size_t len, unsigned int flags)
{
	note(addr, len);
	return (int)syscall(SYS_mlock2, addr, len, flags);
}

_Atomic bool lf_locked_future;

/* Each call replaces the last one's future locking, as in the kernel.  The
 * flag is set before the call (no mapping may be taken in between) and
 * corrected after it. */
LF_API int mlockall(int flags)
{
	/* Whatever the library's state: MCL_FUTURE locks mappings not made yet. */
	lf_handoff_forbid(0, 0, true);
	bool was = atomic_load(&lf_locked_future);
	bool future = (flags & MCL_FUTURE) && !(flags & MCL_ONFAULT);
	if (future)
		atomic_store(&lf_locked_future, true);
	int rc = (int)syscall(SYS_mlockall, flags);
	atomic_store(&lf_locked_future, rc == 0 ? future : was);
	return rc;
}

LF_API int munlockall(void)
{
	int rc = (int)syscall(SYS_munlockall);
	if (rc == 0)
		atomic_store(&lf_locked_future, false);
	return rc;
}
