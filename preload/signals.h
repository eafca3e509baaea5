/* The library's ownership of signals (signals.c: dispositions; sigmask.c:
 * masks; sigbus.c: a fault served in the faulting thread).
 *
 * The program sees its own dispositions and masks exactly as natively
 * (sigaction, signal and its relatives, sigprocmask, pthread_sigmask report
 * what it set), while the kernel holds what the library needs:
 *  - serve = signal (lf_serve_by_signal): the library's SIGBUS handler is
 *    installed for good and SIGBUS is never blocked in the real mask of a
 *    program thread (a synchronous SIGBUS that is blocked or ignored kills
 *    the process: the kernel resets it to SIG_DFL).  A SIGBUS that is a
 *    fault of ours is served in place; every other one goes to the
 *    program's disposition as the kernel would have delivered it: its
 *    handler (SA_SIGINFO, SA_RESETHAND, SA_NODEFER, the handler's mask),
 *    SIG_DFL (death with a core), SIG_IGN or blocked (a synchronous one
 *    kills, as natively; an asynchronous one is dropped, or stays pending
 *    for sigwait and signalfd while the program blocks it).
 *  - the fatal signals (lf_signals_own_fatal): while the program's
 *    disposition is SIG_DFL, a handler of ours records the end (statistics,
 *    trace, lf_crash_record) and then dies of the signal as the default
 *    action would, status and core alike.  A handler the program installs
 *    goes into the kernel as it is (for SIGBUS in signal mode: into our
 *    table, called by our handler).
 *
 * What cannot be followed: raw rt_sigaction/rt_sigprocmask system calls,
 * and glibc's internal calls (posix_spawn's child, system(), the exec
 * calls that do not go through execve, execveat, fexecve): README, CAVEATS. */
#ifndef LF_SIGNALS_H
#define LF_SIGNALS_H

#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

/* serve = signal is in force: set once, at initialisation, before any
 * region is registered (uffd.c asks for UFFD_FEATURE_SIGBUS by it). */
extern bool lf_serve_by_signal;
/* What was asked: the rules' serve, LAZYFAULT_SERVE (state.c); uffd.c decides. */
extern enum lf_serve lf_serve_asked;

/* ---- signals.c ------------------------------------------------------ */
/* Installs the SIGBUS handler of signal mode; at initialisation, after
 * the userfaultfd is open with UFFD_FEATURE_SIGBUS. */
void lf_signals_init(void);
/* For the crash report: called by the library's handler just before a
 * signal takes its fatal default action (the faulting signals SIGSEGV,
 * SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, and the terminating
 * ones the library holds), in the dying thread, on its stack or alternate
 * stack: async-signal-safe only.  signals.c has an empty weak definition;
 * crash.c overrides it. */
void lf_crash_record(int sig, siginfo_t *info, void *uctx);
/* Ask for the library's handler on every fatal signal whose disposition is
 * SIG_DFL now and for as long as the program leaves it so (a signal
 * ignored at start, nohup's SIGHUP, stays ignored).  Idempotent; any
 * module may call it at initialisation (exitpath.c for the statistics,
 * crash.c for the report).  Returns how many signals it holds. */
int lf_signals_own_fatal(void);
/* Around an exec: the kernel gets the program's own dispositions and mask,
 * which the new image inherits (a handler becomes SIG_DFL, SIG_IGN stays,
 * the mask stays); lf_signals_exec_failed() puts the library's back. */
struct lf_sig_exec {
	bool done;
	bool bus_ignored;
	sigset_t mask;
};
void lf_signals_exec_prepare(struct lf_sig_exec *s);
void lf_signals_exec_failed(struct lf_sig_exec *s);
/* posix_spawn: a child that takes its mask from the parent gets the
 * program's (SIGBUS blocked where the program blocks it): attr itself, or
 * a copy in *room with the mask set. */

const posix_spawnattr_t *lf_signals_spawn_attr(const posix_spawnattr_t *attr, posix_spawnattr_t *room);
/* The real sigaction (the next definition), for the library's own use. */
int lf_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* ---- sigmask.c ------------------------------------------------------ */
/* rt_sigprocmask itself: the library's own changes of the real mask. */
int lf_real_sigmask(int how, const sigset_t *set, sigset_t *old);
/* The program believes this thread blocks SIGBUS, for code running at
 * stack pointer sp, or for the code a signal interrupted. */
bool lf_sigmask_bus_blocked(uintptr_t sp);
bool lf_sigmask_bus_blocked_at(void *uctx);
void lf_sigmask_adopt(void);
/* An exec is about to run: SIGBUS must be blocked for the new image. */
bool lf_sigmask_exec_blocks_bus(uintptr_t sp);
/* Our handler is about to call the program's SIGBUS handler: the mask the
 * handler runs with (the interrupted one, its sa_mask, SIGBUS unless
 * SA_NODEFER), SIGBUS kept out of the real mask.  leave: it returned. */
void lf_sigmask_handler_enter(const sigset_t *add, bool bus_too, void *uctx);
void lf_sigmask_handler_leave(void *uctx);
/* A call that waits with a mask of the program's (sigsuspend, ppoll...):
 * the thread's view is that mask while it waits, the kernel gets it
 * without SIGBUS (but for a parked one, which stays pending); *out is what
 * to give the kernel; end puts the view back, given what begin returned. */
bool lf_sigmask_wait_begin(const sigset_t *mask, sigset_t *out, uintptr_t sp);
void lf_sigmask_wait_end(bool was);
/* An asynchronous SIGBUS the program blocks: queued again to this thread
 * and blocked for real until the program takes it or unblocks SIGBUS. */
void lf_sigmask_park(const siginfo_t *info, void *uctx);
/* A read that may have taken a parked SIGBUS from a signalfd. */
extern __thread bool lf_sigbus_parked;
void lf_sigmask_unpark_check(void);

/* ---- fill.c, for sigbus.c -------------------------------------------- */
void *lf_fill_swap_bounce(void *bounce_buffer); /* this thread's; returns the one it had */
bool lf_fill_rules_load(void);                  /* some rule loads file bytes */
extern __thread unsigned long lf_fill_installs; /* fills of this thread that installed pages */

/* ---- sigbus.c ------------------------------------------------------- */
/* The fault at info->si_addr is ours (a registered page of a region not
 * yet filled, nor poisoned by us): served, true; else false. */
bool lf_sigbus_serve(const siginfo_t *info, void *uctx);
/* poison.c installed a marker: from now on a SIGBUS in a region that may
 * hold one is first checked for it. */
void lf_sigbus_poisoned(void);
/* The page holds a poison marker of ours (cheap while none was ever set). */
bool lf_sigbus_marker(uintptr_t page);
void lf_sigbus_init(void);
void lf_sigbus_fork_child(void);        /* this thread's id changed */

#endif
