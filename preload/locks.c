/* The library's two address-space locks (lock order: lf.h I4).
 *
 * The mm lock is held by a program thread across a change of the address
 * space and the table update that goes with it; helpers only try it.  The
 * table lock guards the region table (regions.c) and is held only for
 * short sections that touch no served memory; program threads take it with
 * every signal blocked, so that a signal handler that faults cannot run
 * while its own thread holds it and a helper waits for it. */
#include <pthread.h>
#include <signal.h>

#include "lf.h"
#include "signals.h"

static pthread_mutex_t mm_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread sigset_t mm_mask __attribute__((tls_model("initial-exec")));
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread sigset_t table_mask __attribute__((tls_model("initial-exec")));

#ifdef LF_DEBUG
__thread unsigned lf_locks_held __attribute__((tls_model("initial-exec")));
#endif

/* A program thread may run on a stack the library serves (a coroutine's,
 * or one given to pthread_attr_setstack): a locked section must not fault
 * on it, or the helper would wait for the lock forever.  One page: the
 * locked sections use well under a page of stack, and a thread may have a
 * small stack (PTHREAD_STACK_MIN is 16 KiB). */
__attribute__((noinline)) void lf_touch_stack(void)
{
	volatile char pad[LF_PAGE];
	pad[0] = 0;
	pad[sizeof pad - 1] = 0;
}

static void block_all(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	lf_real_sigmask(SIG_BLOCK, &all, old);
}

void lf_mm_lock(void)
{
	lf_touch_stack();
	block_all(&mm_mask);
	pthread_mutex_lock(&mm_lock);
	LF_LOCK_TAKEN(LF_LOCK_MM);
	lf_epochs_settle();
}

/* For a helper, which must never wait for the mm lock (a program thread may
 * hold it while it touches memory the helper serves): take it only if free. */
bool lf_mm_trylock(void)
{
	sigset_t old;
	lf_touch_stack();
	block_all(&old);
	if (pthread_mutex_trylock(&mm_lock) != 0) {
		lf_real_sigmask(SIG_SETMASK, &old, NULL);
		return false;
	}
	LF_LOCK_TAKEN(LF_LOCK_MM);
	mm_mask = old;
	return true;
}

void lf_mm_unlock(void)
{
	LF_LOCK_DROPPED(LF_LOCK_MM);
	pthread_mutex_unlock(&mm_lock);
	lf_real_sigmask(SIG_SETMASK, &mm_mask, NULL);
}

/* Helpers run with every signal blocked already (lf_signals_blocked): they
 * skip the two sigprocmask calls, a good part of a fault's cost, and the
 * stack touch (their stacks are the library's). */
void lf_table_lock(void)
{
	if (!lf_signals_blocked) {
		lf_touch_stack();
		block_all(&table_mask);
	}
	pthread_mutex_lock(&table_lock);
	LF_LOCK_TAKEN(LF_LOCK_TABLE);
}

void lf_table_unlock(void)
{
	LF_LOCK_DROPPED(LF_LOCK_TABLE);
	pthread_mutex_unlock(&table_lock);
	if (!lf_signals_blocked)
		lf_real_sigmask(SIG_SETMASK, &table_mask, NULL);
}

/* The child of fork is single-threaded, and fork.c's prepare handler held
 * every lock across fork: fresh locks are the right ones.  The mm lock is
 * the outermost (I4), so the mask it saved is the program's own. */
void lf_locks_fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	mm_lock = fresh;
	table_lock = fresh;
#ifdef LF_DEBUG
	lf_locks_held = 0;
#endif
	lf_real_sigmask(SIG_SETMASK, &mm_mask, NULL);
}
