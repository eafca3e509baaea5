/* Signal masks in signal mode: SIGBUS never blocked in the kernel's mask of
 * a program thread (a served page touched with SIGBUS blocked would kill
 * the process), while the program sees the mask it set, SIGBUS included:
 * each thread keeps its view of SIGBUS in `bus_blocked`.
 *
 * A handler of the program for SIGBUS is called from ours
 * (signals.c forward_bus) with the mask the kernel would have given it;
 * it may return, or leave by siglongjmp, which puts back the real mask
 * through glibc's own system call and not through us.  So the view it ran
 * with is kept on a small stack of frames, each with the stack pointer of
 * the code it interrupted: a frame whose interrupted code is no longer
 * below the caller (or whose alternate stack the caller is not on) was
 * left, and the view is what it was before it.
 *
 * In helper mode every wrapper here is a straight call. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "invisible.h"
#include "lf.h"
#include "signals.h"

#define TLS __attribute__((tls_model("initial-exec")))
static __thread bool bus_blocked TLS;
__thread bool lf_sigbus_parked TLS;

#define FRAMES 16
struct frame {
	uintptr_t sp;           /* of the interrupted code */
	uintptr_t alt_lo, alt_hi;
	bool on_alt;            /* the handler runs on the alternate stack */
	bool saved;             /* the view before the handler */
};
static __thread struct frame frames[FRAMES] TLS;
static __thread unsigned depth TLS;    /* frames in use */
static __thread unsigned deeper TLS;   /* handlers past FRAMES, not kept */

int lf_real_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8) < 0 ? -1 : 0;
}

/* Forget the frames the code at `sp` is no longer inside. */
static void sync_frames(uintptr_t sp)
{
	while (depth) {
		const struct frame *f = &frames[depth - 1];
		bool inside = f->on_alt ? sp >= f->alt_lo && sp < f->alt_hi : sp < f->sp;
		if (inside)
			return;
		bus_blocked = f->saved;
		depth--;
		deeper = 0;
	}
}

static uintptr_t interrupted_sp(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	return (uintptr_t)uc->uc_mcontext.sp;
#else
#error "the stack pointer of a ucontext on this architecture"
#endif
}

bool lf_sigmask_bus_blocked(uintptr_t sp)
{
	sync_frames(sp);
	return bus_blocked;
}

bool lf_sigmask_bus_blocked_at(void *uctx) { return lf_sigmask_bus_blocked(interrupted_sp(uctx)); }

void lf_sigmask_handler_enter(const sigset_t *add, bool bus_too, void *uctx)
{
	ucontext_t *uc = uctx;
	uintptr_t sp = interrupted_sp(uc);
	sync_frames(sp);
	if (depth < FRAMES) {
		struct frame *f = &frames[depth++];
		stack_t ss;
		f->sp = sp;
		f->saved = bus_blocked;
		f->on_alt = syscall(SYS_sigaltstack, NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
		f->alt_lo = (uintptr_t)ss.ss_sp;
		f->alt_hi = (uintptr_t)ss.ss_sp + ss.ss_size;
	} else {
		deeper++;
	}
	bus_blocked = bus_blocked || bus_too || sigismember(add, SIGBUS);
	sigset_t m = uc->uc_sigmask;
	sigorset(&m, &m, add);
	sigdelset(&m, SIGBUS);
	lf_real_sigmask(SIG_SETMASK, &m, NULL);
}

void lf_sigmask_handler_leave(void *uctx)
{
	ucontext_t *uc = uctx;
	if (deeper)
		deeper--;
	else if (depth)
		bus_blocked = frames[--depth].saved;
	/* A handler that blocked SIGBUS for the code it returns to. */
	if (sigismember(&uc->uc_sigmask, SIGBUS)) {
		bus_blocked = true;
		sigdelset(&uc->uc_sigmask, SIGBUS);
	}
}

void lf_sigmask_park(const siginfo_t *info, void *uctx)
{
	ucontext_t *uc = uctx;
	siginfo_t again = *info;
	/* Pending again, and blocked for real once this handler returns (it
	 * is blocked while the handler runs): sigwait and signalfd take it. */
	if (syscall(SYS_rt_tgsigqueueinfo, syscall(SYS_getpid), syscall(SYS_gettid), SIGBUS, &again) < 0)
		return;
	sigaddset(&uc->uc_sigmask, SIGBUS);
	lf_sigbus_parked = true;
}

/* A parked SIGBUS taken (sigwait, a signalfd read), or no longer blocked in
 * the program's view: SIGBUS leaves the real mask again. */
void lf_sigmask_unpark_check(void)
{
	sigset_t pending;
	int e = errno;
	if (lf_sigbus_parked && syscall(SYS_rt_sigpending, &pending, _NSIG / 8) == 0 &&
	    !(sigismember(&pending, SIGBUS) && bus_blocked)) {
		lf_sigbus_parked = false;
		sigset_t bus;
		sigemptyset(&bus);
		sigaddset(&bus, SIGBUS);
		lf_real_sigmask(SIG_UNBLOCK, &bus, NULL);
	}
	errno = e;
}

/* At initialisation: the thread that starts the library may block SIGBUS
 * already; it keeps that view, and SIGBUS leaves its real mask. */
void lf_sigmask_adopt(void)
{
	sigset_t real;
	if (lf_real_sigmask(SIG_BLOCK, NULL, &real) == 0 && sigismember(&real, SIGBUS)) {
		bus_blocked = true;
		sigset_t bus;
		sigemptyset(&bus);
		sigaddset(&bus, SIGBUS);
		lf_real_sigmask(SIG_UNBLOCK, &bus, NULL);
	}
}

/* The vfork child (by pid) that set its mask itself. */
static _Atomic int vfork_masked;

bool lf_sigmask_exec_blocks_bus(uintptr_t sp)
{
	if (lf_in_vfork_child() && atomic_load(&vfork_masked) == (int)syscall(SYS_getpid))
		return false; /* the kernel's mask is the child's own already */
	return lf_sigmask_bus_blocked(sp);
}

/* The program's change of its mask: the view of SIGBUS is ours to keep, the
 * rest goes to the kernel. */
static int change(int how, const sigset_t *set, sigset_t *old, uintptr_t sp)
{
	if (!lf_serve_by_signal || lf_busy)
		return lf_real_sigmask(how, set, old);
	/* A vfork child's mask is its own, its TLS its parent's thread's: it
	 * sets the kernel's mask alone, which its exec keeps. */
	if (lf_in_vfork_child()) {
		atomic_store(&vfork_masked, (int)syscall(SYS_getpid));
		return lf_real_sigmask(how, set, old);
	}
	if (set && how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) {
		errno = EINVAL;
		return -1;
	}
	bool was = lf_sigmask_bus_blocked(sp), now = was;
	sigset_t s;
	if (set) {
		s = *set; /* set and old may be one */
		bool in = sigismember(&s, SIGBUS);
		now = how == SIG_BLOCK ? was || in : how == SIG_UNBLOCK ? was && !in : in;
		if (how != SIG_UNBLOCK)
			sigdelset(&s, SIGBUS);
		if (lf_sigbus_parked && now && how != SIG_UNBLOCK)
			sigaddset(&s, SIGBUS); /* stays pending, as natively */
		if (!now)
			lf_sigbus_parked = false; /* delivered once unblocked */
		bus_blocked = now;
	}
	int rc = lf_real_sigmask(how, set ? &s : NULL, old);
	if (rc < 0) {
		bus_blocked = was;
		return rc;
	}
	if (old) {
		if (was)
			sigaddset(old, SIGBUS);
		else
			sigdelset(old, SIGBUS);
	}
	return 0;
}

#define CALLER_SP ((uintptr_t)__builtin_dwarf_cfa())

LF_API int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return change(how, set, old, CALLER_SP);
}

LF_API int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return change(how, set, old, CALLER_SP) < 0 ? errno : 0;
}

static int one(int how, int sig)
{
	sigset_t s;
	sigemptyset(&s);
	if (sigaddset(&s, sig) < 0)
		return -1;
	return change(how, &s, NULL, CALLER_SP);
}

LF_API int sighold(int sig) { return one(SIG_BLOCK, sig); }
LF_API int sigrelse(int sig) { return one(SIG_UNBLOCK, sig); }

/* The BSD calls: the first 32 signals as bits of an int. */
static int bsd(int how, int mask)
{
	sigset_t s, old;
	sigemptyset(&s);
	for (int sig = 1; sig <= 32 && sig < NSIG; sig++)
		if (mask & (1u << (sig - 1)))
			sigaddset(&s, sig);
	if (change(how, &s, &old, CALLER_SP) < 0)
		return -1;
	int r = 0;
	for (int sig = 1; sig <= 32 && sig < NSIG; sig++)
		if (sigismember(&old, sig) == 1)
			r |= (int)(1u << (sig - 1));
	return r;
}

LF_API int sigblock(int mask) { return bsd(SIG_BLOCK, mask); }
LF_API int sigsetmask(int mask) { return bsd(SIG_SETMASK, mask); }
LF_API int siggetmask(void) { return bsd(SIG_BLOCK, 0); }

bool lf_sigmask_wait_begin(const sigset_t *mask, sigset_t *out, uintptr_t sp)
{
	bool was = lf_sigmask_bus_blocked(sp);
	*out = *mask;
	bus_blocked = sigismember(out, SIGBUS);
	if (!(lf_sigbus_parked && bus_blocked))
		sigdelset(out, SIGBUS);
	return was;
}

void lf_sigmask_wait_end(bool was)
{
	int e = errno;
	bus_blocked = was;
	lf_sigmask_unpark_check();
	errno = e;
}

typedef int (*sigsuspend_fn)(const sigset_t *);
static void *_Atomic next_sigsuspend;

LF_API int sigsuspend(const sigset_t *mask)
{
	sigsuspend_fn next = (sigsuspend_fn)lf_next(&next_sigsuspend, "sigsuspend");
	if (!lf_serve_by_signal || lf_busy)
		return next(mask);
	sigset_t s;
	bool was = lf_sigmask_wait_begin(mask, &s, CALLER_SP);
	int rc = next(&s);
	lf_sigmask_wait_end(was);
	return rc;
}

/* The sigwait family takes a parked SIGBUS as it takes any pending one. */
typedef int (*sigwait_fn)(const sigset_t *, int *);
typedef int (*sigwaitinfo_fn)(const sigset_t *, siginfo_t *);
typedef int (*sigtimedwait_fn)(const sigset_t *, siginfo_t *, const struct timespec *);
static void *_Atomic next_sigwait, *_Atomic next_sigwaitinfo, *_Atomic next_sigtimedwait;

LF_API int sigwait(const sigset_t *set, int *sig)
{
	int rc = ((sigwait_fn)lf_next(&next_sigwait, "sigwait"))(set, sig);
	lf_sigmask_unpark_check();
	return rc;
}

LF_API int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	int rc = ((sigwaitinfo_fn)lf_next(&next_sigwaitinfo, "sigwaitinfo"))(set, info);
	int e = errno;
	lf_sigmask_unpark_check();
	errno = e;
	return rc;
}

LF_API int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *t)
{
	int rc = ((sigtimedwait_fn)lf_next(&next_sigtimedwait, "sigtimedwait"))(set, info, t);
	int e = errno;
	lf_sigmask_unpark_check();
	errno = e;
	return rc;
}

/* A new thread starts with its creator's mask, natively: its view of SIGBUS
 * too.  The start routine is wrapped for that, with a block of glibc's
 * malloc (never ours: lf_busy), freed as the thread starts. */
struct start {
	void *(*fn)(void *);
	void *arg;
	bool blocked;
};

static void *start_thread(void *p)
{
	struct start s = *(struct start *)p;
	lf_busy++;
	free(p);
	lf_busy--;
	bus_blocked = s.blocked;
	return s.fn(s.arg);
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static void *_Atomic next_pthread_create;

LF_API int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	pthread_create_fn next = (pthread_create_fn)lf_next(&next_pthread_create, "pthread_create");
	if (!lf_serve_by_signal || lf_busy || !lf_sigmask_bus_blocked(CALLER_SP))
		return next(t, attr, fn, arg);
	lf_busy++;
	struct start *s = malloc(sizeof *s);
	lf_busy--;
	if (!s)
		return EAGAIN;
	*s = (struct start){fn, arg, true};
	int e = next(t, attr, start_thread, s);
	if (e) {
		lf_busy++;
		free(s);
		lf_busy--;
	}
	return e;
}

/* ---- leaving a handler by a long jump ------------------------------
 * The frames the jump leaves are those whose interrupted code is deeper
 * than where it lands: the target's stack pointer is in the jmp_buf,
 * mangled by glibc with the thread's pointer guard (x86-64: rotated left
 * by 17 bits after a xor with %fs:0x30).  Elsewhere, the frames are left
 * to sync_frames(). */
#include <setjmp.h>

static void jumping(const struct __jmp_buf_tag *env)
{
#if defined(__x86_64__)
	uintptr_t guard, sp = (uintptr_t)env->__jmpbuf[6];
	__asm__("mov %%fs:0x30, %0" : "=r"(guard));
	sp = ((sp >> 17) | (sp << 47)) ^ guard;
	sync_frames(sp);
#else
	(void)env;
#endif
}

typedef void (*longjmp_fn)(struct __jmp_buf_tag *, int) __attribute__((noreturn));
static void *_Atomic next_longjmp, *_Atomic next_siglongjmp, *_Atomic next__longjmp,
	*_Atomic next_longjmp_chk;

#define JUMP(name, slot)                                                          \
	LF_API __attribute__((noreturn)) void name(struct __jmp_buf_tag env[1], int val) \
	{                                                                         \
		if (depth)                                                        \
			jumping(env);                                             \
		((longjmp_fn)lf_next(&slot, #name))(env, val);                    \
	}
JUMP(longjmp, next_longjmp)
JUMP(siglongjmp, next_siglongjmp)
JUMP(_longjmp, next__longjmp)
JUMP(__longjmp_chk, next_longjmp_chk)

/* Every next definition looked up as the library loads: never by dlsym in
 * a signal handler. */
__attribute__((constructor)) static void look_up(void)
{
	lf_next(&next_sigsuspend, "sigsuspend");
	lf_next(&next_sigwait, "sigwait");
	lf_next(&next_sigwaitinfo, "sigwaitinfo");
	lf_next(&next_sigtimedwait, "sigtimedwait");
	lf_next(&next_pthread_create, "pthread_create");
	lf_next(&next_longjmp, "longjmp");
	lf_next(&next_siglongjmp, "siglongjmp");
	lf_next(&next__longjmp, "_longjmp");
	lf_next(&next_longjmp_chk, "__longjmp_chk");
	struct sigaction a;
	lf_real_sigaction(SIGBUS, NULL, &a);
}
