/* Fills in flight.  A fill plans with a copy of its region (fault.c), then
 * installs pages without the table lock; a change that alters what a range
 * must read as (unmapped, moved, now zeros, the file changed) must not be
 * followed by a fill that planned before it.  So each fill records the
 * epoch it began in a slot, and lf_epochs_quiesce() bumps the epoch and
 * waits for every slot that holds an older one.
 *
 * A helper never waits here (a fill may run in a program thread, in
 * user-mode-only mode, and wait for the helper in turn): after a handoff it
 * leaves the wait owed, and the next program thread that takes the mm lock
 * pays it, before anything can be registered where the handoff was. */
#include <sched.h>

#include "lf.h"

#define SLOTS 128
static _Atomic uint64_t epoch = 1;
static _Atomic uint64_t slot[SLOTS];
static __thread int my_slot __attribute__((tls_model("initial-exec"))) = -1;
static _Atomic bool owed;

void lf_epochs_enter(void)
{
	for (;;) {
		for (int i = 0; i < SLOTS; i++) {
			uint64_t zero = 0;
			uint64_t e = atomic_load(&epoch);
			if (atomic_compare_exchange_strong(&slot[i], &zero, e)) {
				my_slot = i;
				return;
			}
		}
		sched_yield();
	}
}

void lf_epochs_leave(void)
{
	atomic_store(&slot[my_slot], 0);
	my_slot = -1;
}

void lf_epochs_quiesce(void)
{
	uint64_t e = atomic_fetch_add(&epoch, 1);
	for (int i = 0; i < SLOTS; i++) {
		if (i == my_slot)
			continue;
		for (;;) {
			uint64_t s = atomic_load(&slot[i]);
			if (s == 0 || s > e)
				break;
			sched_yield();
		}
	}
}

void lf_epochs_owe(void) { atomic_store(&owed, true); }

void lf_epochs_settle(void)
{
	if (atomic_load_explicit(&owed, memory_order_relaxed)) {
		atomic_store(&owed, false);
		lf_epochs_quiesce();
	}
}

/* The parent's helpers do not exist in the child: their slots are free. */
void lf_epochs_fork_child(void)
{
	for (int i = 0; i < SLOTS; i++)
		atomic_store(&slot[i], 0);
}
