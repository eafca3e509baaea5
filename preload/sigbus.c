/* serve = signal: the faulting thread fills its own page.  The userfaultfd
 * is opened with UFFD_FEATURE_SIGBUS, so that a touch of a registered page
 * not yet filled raises SIGBUS (BUS_ADRERR) in the touching thread instead
 * of a message to a helper; the library's SIGBUS handler (signals.c) asks
 * here first, and the fault is served by the very code a helper runs
 * (lf_serve_fault_sync: the rule's delay, then fault.c), so that zeros,
 * file bytes, CONTINUE and poison decisions are the helper's.
 *
 * What runs here runs in a signal handler, mid-code, in any thread of the
 * program: only what a helper may do (I1), which is async-signal-safe
 * (raw system calls, atomics, snprintf into stack buffers).  The locks it
 * takes are those a thread never holds where it may fault on served
 * memory: the table lock (held with every signal blocked, SIGBUS included,
 * and across no access to served memory) and a rule's poison lock (the
 * same); the mm lock only by trylock, which fails when this very thread
 * holds it.  No malloc: a thread may fault inside glibc's malloc.
 *
 * A SIGBUS is not ours when it is not BUS_ADRERR (a hardware memory error,
 * BUS_MCEERR_*; alignment), when its page holds a poison marker (on this
 * kernel a poisoned page raises BUS_ADRERR too: the page table says,
 * through /proc/self/pagemap, where a marker is a non-present "swapped"
 * entry and a page never filled has none), or when serving it installed
 * nothing there twice in a row where the kernel may raise a SIGBUS of its
 * own (a real file page past the end of its file, mapped back for the
 * kernel to raise it, poison.c; a shmem file past its end; a handoff). */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "lf.h"
#include "signals.h"

#define TLS __attribute__((tls_model("initial-exec")))

/* Markers this process (or the parent it was forked from: they are copied
 * to the child) may hold; none: no page needs the look. */
static _Atomic uint64_t markers;

void lf_sigbus_poisoned(void) { atomic_fetch_add_explicit(&markers, 1, memory_order_relaxed); }

#define PM_SWAP (1ULL << 62)
#define PM_PRESENT (1ULL << 63)

bool lf_sigbus_marker(uintptr_t page)
{
	if (!atomic_load_explicit(&markers, memory_order_relaxed))
		return false;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	uint64_t e = 0;
	long n = syscall(SYS_pread64, fd, &e, sizeof e, (off_t)(page / LF_PAGE * sizeof e));
	syscall(SYS_close, fd);
	return n == (long)sizeof e && (e & PM_SWAP) && !(e & PM_PRESENT);
}

static bool present(uintptr_t page)
{
	unsigned char v = 0;
	return syscall(SYS_mincore, page, LF_PAGE, &v) == 0 && (v & 1);
}

/* The page fault's error code says whether it was a write (x86); else
 * a write is assumed, which installs a real page for a read too. */
static bool was_write(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return uc->uc_mcontext.gregs[REG_ERR] & 2;
#else
	(void)uc;
	return true;
#endif
}

/* ---- bounce buffers for file bytes ----------------------------------
 * A thread that loads in its handler borrows one of these for the fault
 * (a buffer of its own would outlive it: a thread-specific key's
 * destructor cannot be set from a signal handler, pthread_setspecific may
 * allocate). */
#define POOL 64
static void *_Atomic pool[POOL];
static bool loads; /* some rule loads file bytes */

static void *borrow(void)
{
	for (int i = 0; i < POOL; i++) {
		void *p = atomic_exchange(&pool[i], NULL);
		if (p)
			return p;
	}
	void *p = lf_real_mmap(NULL, LF_MAX_WINDOW, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void give_back(void *p)
{
	for (int i = 0; i < POOL; i++) {
		void *none = NULL;
		if (atomic_compare_exchange_strong(&pool[i], &none, p))
			return;
	}
	lf_real_munmap(p, LF_MAX_WINDOW);
}

/* At initialisation, inside the program's first call: the first buffer
 * is mapped then, not at a moment of the handler's own (it would take
 * address space the program's next mapping gets natively). */
void lf_sigbus_init(void)
{
	loads = lf_fill_rules_load();
	if (loads)
		give_back(borrow());
}

/* A page served with nothing to show for it, where the SIGBUS may be the
 * kernel's own (no region, a shmem file, a file region without markers):
 * if serving it again shows nothing either, it is the program's.  Not at
 * once: a handoff or a page handed back to the kernel shows nothing the
 * first time either, and its next touch is the kernel's. */
static __thread uintptr_t served_empty TLS;
/* The page last served: a fill that installed pages is trusted to have
 * installed the faulting one (no mincore), but not twice in a row. */
static __thread uintptr_t served_last TLS;
static __thread uint32_t tid TLS; /* gettid(), 0: not asked yet */

void lf_sigbus_fork_child(void) { tid = 0; }

bool lf_sigbus_serve(const siginfo_t *info, void *uctx)
{
	if (info->si_code != BUS_ADRERR || !lf_is_on())
		return false;
	uintptr_t page = lf_page_down((uintptr_t)info->si_addr);
	bool second = page == served_empty;
	served_empty = 0;
	if (lf_sigbus_marker(page))
		return false; /* poisoned by us: the program's */
	if (!tid)
		tid = (uint32_t)syscall(SYS_gettid);
	/* Every signal is blocked in this handler (signals.c): the table
	 * lock need not block them again, as on a helper. */
	bool was_blocked = lf_signals_blocked;
	lf_signals_blocked = true;
	lf_busy++;
	struct lf_region r;
	bool known = lf_regions_lookup(page, &r);
	void *own = lf_fill_swap_bounce(NULL), *lent = NULL;
	if (!own && loads)
		lent = borrow();
	lf_fill_swap_bounce(own ? own : lent);
	unsigned long installs = lf_fill_installs;
	lf_serve_fault_sync(page, was_write(uctx), tid);
	bool installed = lf_fill_installs != installs;
	if (lent) {
		lf_fill_swap_bounce(NULL);
		give_back(lent);
	}
	lf_busy--;
	lf_signals_blocked = was_blocked;
	/* mincore says what the page tables hold for anonymous memory only
	 * (every region but a shmem file's, where it reports the page cache:
	 * there only a CONTINUE that mapped pages counts; past the end of the
	 * file it maps nothing, and the kernel's own SIGBUS is the program's). */
	bool again = page == served_last;
	served_last = page;
	bool done = known && ((installed && !again) ||
			      (r.src == LF_SRC_SHMEM ? installed : present(page)));
	if (done)
		return true;
	if (lf_sigbus_marker(page))
		return false; /* this very fault was poisoned */
	/* An anonymous region with poison markers raises no other SIGBUS (only
	 * a file region without them has the file's page mapped back past the
	 * end of the file, poison.c): the page was emptied again meanwhile
	 * (a drop of clean pages, filechange.c); try again. */
	if (known && r.src != LF_SRC_SHMEM && (r.poison_ok || r.kind != LF_MATCH_FILE))
		return true;
	if (second)
		return false; /* twice nothing: the kernel's own SIGBUS */
	served_empty = page;
	return true;
}
