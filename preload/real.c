/* The real mmap family.  We call the kernel directly rather than the next
 * symbol: these are thin system calls in glibc, this works before anything
 * is initialised and inside any wrapper (I2), and a dlsym here could
 * allocate.  Other functions (read, write, ...) are found with dlsym. */
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"

void *lf_real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int lf_real_munmap(void *addr, size_t len) { return (int)syscall(SYS_munmap, addr, len); }

void *lf_real_mremap(void *old, size_t oldlen, size_t newlen, int flags, void *newaddr)
{
	return (void *)syscall(SYS_mremap, old, oldlen, newlen, flags, newaddr);
}

int lf_real_madvise(void *addr, size_t len, int advice)
{
	return (int)syscall(SYS_madvise, addr, len, advice);
}

int lf_real_close(int fd) { return (int)syscall(SYS_close, fd); }

void *lf_real_sym(const char *name)
{
	lf_busy++;
	void *p = dlsym(RTLD_NEXT, name);
	lf_busy--;
	return p;
}

__attribute__((noinline)) void *lf_next_lookup(void *_Atomic *slot, const char *name)
{
	int saved = errno;
	void *p = lf_real_sym(name);
	errno = saved;
	atomic_store_explicit(slot, p, memory_order_relaxed);
	return p;
}
