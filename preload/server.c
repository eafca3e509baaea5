/* The helper threads, the delay queue, and the dispatch of each fault
 * message to fault.c.  Each worker blocks in read(2) on the userfaultfd and
 * serves the faults it reads.  Started lazily, at the first registration,
 * because a second thread changes the program (unshare(CLONE_NEWUSER) fails
 * in a multi-threaded process); started with every signal blocked so that
 * the program's handlers never run on them; never stopped, because
 * destructors and atexit handlers may still touch lazy pages.  What they
 * may and may not do is invariant I1 (lf.h): they reach the kernel with
 * syscall(2), never through the library's own wrappers. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/syscall.h>

#include "invisible.h"
#include "lf.h"
#include "signals.h"
#include "uffd_compat.h"

static _Atomic int started;
static bool has_delay; /* some rule has a delay: set before the helpers start */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- delayed faults ------------------------------------------------
 * A rule's `delay` holds each of its faults that long.  The worker does not
 * sleep (that would stall faults of other rules): it queues the fault for
 * the delay thread, which serves each when it falls due.  The queue's lock
 * and condition are taken by helper threads only (I1). */
#define DELAYED 4096
struct delayed {
	uintptr_t addr;
	uint64_t t0, due;
	uint32_t tid;
	bool write;
};
static struct delayed queue[DELAYED];

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
	while (syscall(SYS_nanosleep, &ts, &ts) < 0 && errno == EINTR)
		;
}
static size_t queued;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond;
static bool delay_thread_running;

static void *delay_thread(void *arg)
{
	lf_busy = 1;
	lf_signals_blocked = true;
	lf_fill_thread_init(arg);
	pthread_mutex_lock(&queue_lock);
	for (;;) {
		if (!queued) {
			pthread_cond_wait(&queue_cond, &queue_lock);
			continue;
		}
		size_t first = 0;
		for (size_t i = 1; i < queued; i++)
			if (queue[i].due < queue[first].due)
				first = i;
		uint64_t now = lf_now_ns();
		if (queue[first].due > now) {
			struct timespec until = {(time_t)(queue[first].due / 1000000000u),
						 (long)(queue[first].due % 1000000000u)};
			pthread_cond_timedwait(&queue_cond, &queue_lock, &until);
			continue;
		}
		struct delayed d = queue[first];
		queue[first] = queue[--queued];
		pthread_mutex_unlock(&queue_lock);
		lf_fault_serve(d.addr, d.write, d.tid, d.t0);
		pthread_mutex_lock(&queue_lock);
	}
	return arg;
}

static void serve_later(uintptr_t addr, bool write, uint32_t tid, uint64_t t0, uint64_t delay)
{
	pthread_mutex_lock(&queue_lock);
	if (queued < DELAYED && delay_thread_running) {
		queue[queued++] = (struct delayed){addr, t0, t0 + delay, tid, write};
		pthread_cond_signal(&queue_cond);
		pthread_mutex_unlock(&queue_lock);
		return;
	}
	pthread_mutex_unlock(&queue_lock);
	/* No room: hold this worker rather than serve early. */
	sleep_ns(delay);
	lf_fault_serve(addr, write, tid, t0);
}

static bool any_delay(void)
{
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (lf.rules.rule[i].delay_ns)
			return true;
	return false;
}

/* The rule of the region that holds addr, or NULL. */
static const struct lf_rule *rule_at(uintptr_t addr)
{
	struct lf_region r;
	return lf_regions_lookup(addr, &r) ? lf.rt[r.rule].rule : NULL;
}

void lf_serve_fault(uintptr_t addr, bool write, uint32_t tid)
{
	uint64_t t0 = lf_now_ns();
	if (has_delay) {
		const struct lf_rule *rule = rule_at(addr);
		if (rule && rule->delay_ns) {
			serve_later(addr, write, tid, t0, rule->delay_ns);
			return;
		}
	}
	lf_fault_serve(addr, write, tid, t0);
}

uintptr_t lf_serve_fault_sync(uintptr_t addr, bool write, uint32_t tid)
{
	uint64_t t0 = lf_now_ns();
	const struct lf_rule *rule = has_delay ? rule_at(addr) : NULL;
	if (rule && rule->delay_ns)
		sleep_ns(rule->delay_ns);
	return lf_fault_serve(addr, write, tid, t0);
}

static void *worker(void *arg)
{
	struct uffd_msg msg[16];
	/* One worker takes messages in batches; several take one at a time so
	 * that none sits on faults another could serve. */
	size_t batch = lf.workers > 1 ? 1 : 16;
	lf_busy = 1; /* anything this thread calls goes straight through */
	lf_signals_blocked = true;
	lf_fill_thread_init(arg);
	for (;;) {
		ssize_t n = syscall(SYS_read, lf.uffd, msg, batch * sizeof msg[0]);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* Never stop serving: log once, and try again. */
			static _Atomic int said;
			if (!atomic_exchange(&said, 1))
				lf_error("helper: reading the userfaultfd failed (errno %d); retrying",
					 errno);
			sleep_ns(1000000);
			continue;
		}
		for (size_t i = 0; i < (size_t)n / sizeof msg[0]; i++) {
			if (msg[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			lf_serve_fault(msg[i].arg.pagefault.address,
				       msg[i].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE,
				       msg[i].arg.pagefault.feat.ptid);
		}
	}
	return NULL;
}

int lf_server_spawn(void *(*fn)(void *), void *arg, const char *name)
{
	if (lf_in_vfork_child())
		return EAGAIN; /* its thread would die with the child: vfork.c */
	sigset_t all, old;
	sigfillset(&all);
	lf_busy++; /* what pthread_create allocates goes straight to glibc */
	lf_real_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 << 10);
	pthread_t t;
	int e = pthread_create(&t, &attr, fn, arg);
	if (!e) {
		lf_thread_uncount(); /* the program's last pthread_exit ends it */
		pthread_setname_np(t, name);
	}
	pthread_attr_destroy(&attr);
	lf_real_sigmask(SIG_SETMASK, &old, NULL);
	lf_busy--;
	return e;
}

int lf_server_start(void)
{
	if (atomic_load(&started))
		return 0;
	if (lf_serve_by_signal) {
		/* No fault message ever comes (signals.h): no helper; the
		 * faulting thread sleeps its rule's delay itself. */
		has_delay = any_delay();
		return 0;
	}
	int rc = 0;
	lf_busy++;
	pthread_mutex_lock(&start_lock);
	if (!atomic_load(&started)) {
		has_delay = any_delay();
		if (has_delay) {
			pthread_condattr_t ca;
			pthread_condattr_init(&ca);
			pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
			pthread_cond_init(&queue_cond, &ca);
			delay_thread_running =
				lf_server_spawn(delay_thread, lf_fill_new_bounce(), "lazyfault-delay") == 0;
		}
		for (unsigned i = 0; i < lf.workers; i++) {
			int e = lf_server_spawn(worker, lf_fill_new_bounce(), "lazyfault");
			if (e) {
				lf_error("cannot start a helper thread: %s", strerror(e));
				rc = i ? 0 : -1;
				break;
			}
		}
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
	queue_lock = fresh;
	queued = 0; /* the parent's delayed faults are the parent's */
	delay_thread_running = false;
	atomic_store(&started, 0);
}
