/* The helper threads: each blocks in read(2) on the userfaultfd and serves
 * the faults it reads.  Started lazily, at the first registration, because a
 * second thread changes the program (unshare(CLONE_NEWUSER) fails in a
 * multi-threaded process); started with every signal blocked so that the
 * program's handlers never run on them; never stopped, because destructors
 * and atexit handlers may still touch lazy pages.  What they may and may not
 * do is invariant I1 (lf.h); they make system calls with syscall(2), not
 * through the wrappers, whose first call would take the loader's lock. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <sys/syscall.h>

#include "lf.h"
#include "uffd_compat.h"

static _Atomic int started;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

void lf_serve_fault(uintptr_t addr, bool write, uint32_t tid)
{
	uint64_t t0 = lf_now_ns();
	struct lf_fault_plan plan;
	addr = lf_page_down(addr);
	lf_inflight_begin();
	if (!lf_regions_plan(addr, &plan)) {
		lf_inflight_end();
		/* Registered but unknown: a range that changed behind our back
		 * (a raw system call).  Hand the page back to the kernel. */
		lf_debug("fault at %#lx outside every region: handed back to the kernel",
			 (unsigned long)addr);
		lf_uffd_unregister(addr, LF_PAGE);
		lf_uffd_wake(addr, LF_PAGE);
		return;
	}
	lf_fill(&plan, write, tid);
	lf_inflight_end();
	/* Count before waking: the woken thread may end the process. */
	lf_stats_fault(&lf.rt[plan.r.rule], lf_now_ns() - t0);
	lf_uffd_wake(plan.from, plan.len);
}

static void *worker(void *arg)
{
	struct uffd_msg msg[16];
	/* One worker takes messages in batches; several take one at a time so
	 * that none sits on faults another could serve. */
	size_t batch = lf.workers > 1 ? 1 : 16;
	lf_busy = 1; /* anything this thread calls goes straight through */
	for (;;) {
		ssize_t n = syscall(SYS_read, lf.uffd, msg, batch * sizeof msg[0]);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			lf_debug("helper: read: %s: stopping", strerror(errno));
			return NULL;
		}
		for (size_t i = 0; i < (size_t)n / sizeof msg[0]; i++) {
			if (msg[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			lf_serve_fault(msg[i].arg.pagefault.address,
				       msg[i].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE,
				       msg[i].arg.pagefault.feat.ptid);
		}
	}
	return arg;
}

int lf_server_start(void)
{
	if (atomic_load(&started))
		return 0;
	int rc = 0;
	lf_busy++;
	pthread_mutex_lock(&start_lock);
	if (!atomic_load(&started)) {
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 << 10);
		for (unsigned i = 0; i < lf.workers; i++) {
			pthread_t t;
			int e = pthread_create(&t, &attr, worker, NULL);
			if (e) {
				lf_error("cannot start a helper thread: %s", strerror(e));
				rc = i ? 0 : -1;
				break;
			}
			pthread_setname_np(t, "lazyfault");
		}
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc == 0)
			atomic_store(&started, 1);
	}
	pthread_mutex_unlock(&start_lock);
	lf_busy--;
	return rc;
}

void lf_server_fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	start_lock = fresh;
	atomic_store(&started, 0);
}
