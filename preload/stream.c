/* Zero-fill streams served with 2 MiB pages.  The kernel's own first touch
 * of a 4 KiB page costs more than a helper needs to zero 2 MiB in one go
 * and move it in: a helper populates a huge page in a scratch area of its
 * own (MADV_HUGEPAGE, MADV_POPULATE_WRITE) and UFFDIO_MOVEs it, page table
 * entry and all, into the 2 MiB aligned chunk of the stream's window; the
 * region then ends THP-backed, as the kernel's own THP would leave it.
 * What MOVE needs: both ranges private anonymous, writable, the same
 * protection and mlock state, the destination registered and empty, 2 MiB
 * aligned for a PMD move.  Anything else fails and the chunk is copied.
 *
 * The scratch (LF_SLOTS huge pages) is mapped once at initialisation, in a
 * program thread: a helper that mapped it later could take address space
 * the program is about to grow into.  Only fault service uses it, under
 * `busy`, a try-lock nobody waits for (I1: a fault that finds it taken
 * copies).  It is never memory the library serves: MOVE's source is ours.
 * MADV_WIPEONFORK: a child of fork finds it empty, not shared with us
 * (MOVE refuses pages shared copy-on-write). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "stream.h"
#include "uffd_compat.h"

/* The huge pages of one largest window ahead: all its chunks but the
 * faulting one's. */
#define LF_SLOTS (LF_WINDOW_HUGE_MAX / LF_HUGE - 1)

bool lf_stream_on;
static uintptr_t scratch;     /* LF_SLOTS * LF_HUGE, LF_HUGE aligned */
static bool ready[LF_SLOTS];  /* the slot holds a populated page (under busy) */
static _Atomic int busy;

/* `never` in the THP setting: no huge page for anyone. */
static bool thp_never(void)
{
	char buf[128] = "";
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/sys/kernel/mm/transparent_hugepage/enabled",
			      O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	long n = syscall(SYS_read, fd, buf, sizeof buf - 1);
	lf_real_close(fd);
	return n <= 0 || strstr(buf, "[never]") != NULL;
}

static int advise(uintptr_t at, size_t len)
{
	if (syscall(SYS_madvise, at, len, MADV_HUGEPAGE) < 0)
		return -1;
	return (int)syscall(SYS_madvise, at, len, MADV_WIPEONFORK);
}

void lf_stream_init(void)
{
	if (!(lf.features & UFFD_FEATURE_MOVE) || thp_never())
		return;
	size_t len = LF_SLOTS * LF_HUGE;
	char *p = lf_real_mmap(NULL, len + LF_HUGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;
	uintptr_t at = ((uintptr_t)p + LF_HUGE - 1) & ~(LF_HUGE - 1);
	if (at > (uintptr_t)p)
		lf_real_munmap(p, at - (uintptr_t)p);
	if ((uintptr_t)p + LF_HUGE > at)
		lf_real_munmap((void *)(at + len), (uintptr_t)p + LF_HUGE - at);
	if (advise(at, len) < 0) {
		lf_real_munmap((void *)at, len);
		return;
	}
	scratch = at;
	lf_stream_on = true;
}

void lf_stream_fork_child(void)
{
	/* WIPEONFORK emptied the child's scratch; busy may have been taken
	 * by a parent's helper that does not exist here. */
	for (size_t i = 0; i < LF_SLOTS; i++)
		ready[i] = false;
	atomic_store(&busy, 0);
}

bool lf_stream_wanted(const struct lf_region *r)
{
	return lf_stream_on && r->src == LF_SRC_ZERO && r->kind != LF_MATCH_FILE &&
	       r->prot == (PROT_READ | PROT_WRITE) && !r->thp_no;
}

/* A fresh huge page in the slot: the kernel allocates and zeroes it. */
static bool populate(size_t slot)
{
	if (!ready[slot])
		ready[slot] = syscall(SYS_madvise, scratch + slot * LF_HUGE, LF_HUGE,
				      MADV_POPULATE_WRITE) == 0;
	return ready[slot];
}

/* A slot whose MOVE failed keeps a page table that would make every later
 * populate 4 KiB:
 * map it afresh, which frees it.  The range is ours: no address space of
 * the program's is taken. */
static void renew(size_t slot)
{
	uintptr_t at = scratch + slot * LF_HUGE;
	ready[slot] = false;
	if (lf_real_mmap((void *)at, LF_HUGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED ||
	    advise(at, LF_HUGE) < 0) {
		lf_stream_on = false; /* should not happen: copy from now on */
		lf_warn("stream: the scratch area cannot be renewed: zero streams are copied");
	}
}

/* COPY of zeros in pieces the zero buffer holds. */
static long copy(uintptr_t dst, size_t len, const void *zeros)
{
	long total = 0;
	for (size_t off = 0; off < len; off += LF_HUGE) {
		size_t n = len - off < LF_HUGE ? len - off : LF_HUGE;
		long got = lf_uffd_fill(LF_OP_COPY, dst + off, n, zeros);
		if (got < 0)
			return total ? total : -1;
		total += got;
	}
	return total;
}

long lf_stream_zero(uintptr_t addr, uintptr_t from, size_t len, const void *zeros)
{
	uintptr_t end = from + len, a = (from + LF_HUGE - 1) & ~(LF_HUGE - 1);
	/* The faulting page's chunk has a page table (the kernel made one
	 * before it asked us): a move there would split the huge page, and
	 * leave the slot making 4 KiB pages. */
	if (a <= addr && addr < a + LF_HUGE)
		a += LF_HUGE;
	if (!lf_stream_on || a + LF_HUGE > end || atomic_exchange(&busy, 1))
		return -1;
	long total = copy(from, a - from, zeros);
	for (size_t slot = 0; a + LF_HUGE <= end; a += LF_HUGE, slot = (slot + 1) % LF_SLOTS) {
		long n = populate(slot) ? lf_uffd_move(a, scratch + slot * LF_HUGE, LF_HUGE) : -1;
		ready[slot] = false;
		if (n == (long)LF_HUGE) {
			total += n;
			continue;
		}
		/* Part moved, or none: the rest of the chunk is copied (EEXIST
		 * skips what is there), and the slot starts afresh. */
		if (n < 0)
			n = 0;
		lf_debug("stream: UFFDIO_MOVE to %#lx moved %ld of %lu bytes", (unsigned long)a, n,
			 LF_HUGE);
		renew(slot);
		long c = copy(a + (uintptr_t)n, LF_HUGE - (size_t)n, zeros);
		total += n + (c > 0 ? c : 0);
	}
	long c = copy(a, end - a, zeros);
	total += c > 0 ? c : 0;
	atomic_store(&busy, 0);
	return total;
}

void lf_stream_refill(void)
{
	if (!lf_stream_on || atomic_exchange(&busy, 1))
		return;
	for (size_t slot = 0; slot < LF_SLOTS; slot++)
		populate(slot);
	atomic_store(&busy, 0);
}
