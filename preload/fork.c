/* fork: the lock order across it, and every module's reset in the child.
 *
 * The prepare handler takes every lock of the library in the order of I4
 * (mm, blocks, table), so that no other thread holds one across fork: the
 * child would inherit it held forever.  The child then is single-threaded
 * and starts over (I3): without UFFD_FEATURE_EVENT_FORK (it needs
 * CAP_SYS_PTRACE) the child's copy of every registered range is
 * unregistered, so pages never filled would read zeros, and the descriptor
 * it inherited acts on the parent's memory.  So the child closes it, opens
 * its own, starts its own helpers and registers every region again, all
 * before fork() returns in it.  The handlers are registered at the
 * library's initialisation, so they run early among the program's.
 * Forks that run no atfork handler (raw clone, _Fork) are README "Limits". */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blocks.h"
#include "filemap.h"
#include "invisible.h"
#include "lf.h"
#include "record.h"
#include "signals.h"
#include "trace.h"

static void prepare(void)
{
	lf_mm_lock();
	lf_blocks_fork_prepare();
	lf_table_lock();
}

static void parent(void)
{
	lf_table_unlock();
	lf_blocks_fork_parent();
	lf_mm_unlock();
}

/* Register every region again; the first failure is logged once the table
 * lock is released (formatting needs more stack than the lock allows). */
static void register_again(void)
{
	size_t failed = 0;
	uintptr_t first_start = 0, first_end = 0;
	int first_err = 0;
	lf_table_lock();
	size_t n = lf_regions_count_locked();
	for (size_t i = 0; i < n; i++) {
		const struct lf_region *r = lf_regions_nth_locked(i);
		int rc = lf_uffd_register(r->start, r->end - r->start, lf_region_reg(r), NULL);
		if (rc < 0 && !failed++) {
			first_start = r->start;
			first_end = r->end;
			first_err = -rc;
		}
	}
	lf_table_unlock();
	if (failed)
		lf_error("after fork: cannot register %#lx-%#lx again (%s)%s: pages not yet filled "
			 "read zeros in this process", (unsigned long)first_start,
			 (unsigned long)first_end, strerror(first_err),
			 failed > 1 ? ", nor other regions" : "");
}

static void child(void)
{
	lf_vfork_owner_here(); /* a child of fork: the state is its own now */
	/* Every lock first: nothing below may find one held. */
	lf_blocks_fork_child();
	lf_locks_fork_child();
	lf_epochs_fork_child(); /* the parent's helpers do not exist here */
	for (size_t i = 0; i < lf.rules.nrules; i++)
		lf.rt[i].poison_lock = 0; /* a parent's helper may have held it */
	lf_stats_fork_child();
	lf_trace_fork_child();
	lf_server_fork_child();
	lf_sigbus_fork_child();
	lf_prefetch_fork_child(); /* the record is the parent's; its helper is not here */
	/* The watch's descriptors act on the parent's: closed before any
	 * region leaves the table (a watch removed through the parent's
	 * inotify instance would be the parent's). */
	lf_follow_fds_fork_child();
	lf_files_fork_child();
	lf_watch_fork_child();
	atomic_store(&lf_locked_future, false); /* fork does not pass mlockall on */
	lf_real_close(lf.uffd); /* not through our close(), which keeps it */
	char why[1024];
	enum lf_mode mode = lf.mode;
	uint64_t features;
	lf.uffd = lf_uffd_open(&mode, &features, why, sizeof why);
	if (lf.uffd < 0) {
		char msg[1200];
		snprintf(msg, sizeof msg,
			 "after fork: cannot open a userfaultfd (%s): pages of this process not yet "
			 "filled would read zeros", why);
		lf_setup_failed(msg);
		return;
	}
	/* What the child does not have (DONTFORK) is forgotten, what it has
	 * fresh (WIPEONFORK) reads zeros: before anything is registered. */
	lf_regions_fork_child();
	lf_fill_fork_child();
	/* Helpers before registering: a registered page with nobody to serve
	 * it would hang its first touch. */
	if (!lf_regions_empty() && lf_server_start() < 0) {
		lf_setup_failed("after fork: no helper thread can be started; pages not yet "
				"filled read zeros in this process");
		return;
	}
	register_again();
	/* The child's own watch of the files its regions load from. */
	if (lf_files_any()) {
		lf_mm_lock();
		lf_watch_start();
		lf_mm_unlock();
	}
}

void lf_fork_init(void) { pthread_atfork(prepare, parent, child); }
