/* Run-time control, with `control = yes` in [global]: a socket that only
 * the process's user can reach (common/control_path.h says where, and how
 * its directory is checked), served by one thread that lazyfault ctl
 * talks to, one request per connection:
 *
 *   list                     every rule: its state, counters and the keys
 *                            that may change at run time
 *   enable RULE, disable RULE
 *   set RULE.KEY=VALUE       KEY one of run_time_keys, checked as a -D is
 *
 * The reply is "ok" or "error: WHY" on its first line, then its lines.
 * Nothing of this exists when `control` is off: no thread, no socket.
 *
 * What the control thread may do (I1 where it touches shared state): it
 * reads the rules' counters (atomics), switches `enabled` (an atomic that
 * match.c and poison.c read), and changes a rule's keys only under the
 * rule's lock, which the decisions hold (poison.c, fail.c); it never holds
 * that lock across anything that may wait (no allocation: what a `set`
 * needs is made before the lock and freed after it).  It may allocate
 * (parsing a value), since no fault waits for it: lf_busy sends that to
 * glibc, never to served memory.  It never touches served memory. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control_path.h"
#include "invisible.h"
#include "lf.h"
#include "control.h"
#include "tree.h"
#include "rule_keys.h"

static _Atomic int listen_fd = -1;
static _Atomic int conn_fd = -1;     /* the request being served */
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int sock_pid;                 /* the process that made sock_path */
static bool atfork_done;

/* The keys a `set` may change: those the decisions read under the rule's
 * lock, and nothing else does. */
static const char *const run_time_keys[] = { "probability", "after", "every", "times", "pages" };
#define NRUNTIME (sizeof run_time_keys / sizeof run_time_keys[0])

bool lf_control_owns(int fd)
{
	return fd >= 0 && (fd == atomic_load(&listen_fd) || fd == atomic_load(&conn_fd));
}

int lf_control_top(void)
{
	int l = atomic_load(&listen_fd), c = atomic_load(&conn_fd);
	return l > c ? l : c;
}

void lf_control_moved(int from, int to)
{
	int f = from;
	atomic_compare_exchange_strong(&listen_fd, &f, to);
	f = from;
	atomic_compare_exchange_strong(&conn_fd, &f, to);
}

/* ---- the reply ---------------------------------------------------------- */

static char reply[1 << 16];            /* the control thread's alone */
static size_t reply_len;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(reply + reply_len, sizeof reply - reply_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		reply_len += (size_t)n < sizeof reply - reply_len ? (size_t)n : sizeof reply - reply_len - 1;
}

static int find_rule(const char *name, size_t len)
{
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (strlen(lf.rules.rule[i].name) == len && !memcmp(lf.rules.rule[i].name, name, len))
			return (int)i;
	return -1;
}

static void no_rule(const char *name, size_t len)
{
	say("error: no rule '%.*s' (the rules are", (int)len, name);
	for (size_t i = 0; i < lf.rules.nrules; i++)
		say("%s '%s'", i ? "," : "", lf.rules.rule[i].name);
	say("%s)\n", lf.rules.nrules ? "" : " none");
}

/* ---- the requests ------------------------------------------------------- */

/* " KEY=VALUE" of a run-time key of rule r (the rule's lock held). */
static void say_key(const struct lf_rule *r, const struct lf_key *k)
{
	const void *f = lf_key_field(k, r);
	char b[512];
	switch (k->kind) {
	case LF_KIND_PROBABILITY:
		lf_format_probability(*(const double *)f, b, sizeof b);
		break;
	case LF_KIND_PAGES:
		if (lf_format_pages(f, b, sizeof b) == 0)
			snprintf(b, sizeof b, "none");
		break;
	case LF_KIND_LIMIT:
		snprintf(b, sizeof b, "%lld", (long long)*(const int64_t *)f);
		break;
	default:
		snprintf(b, sizeof b, "%llu", (unsigned long long)*(const uint64_t *)f);
		break;
	}
	say(" %s=%s", k->name, b);
}

static void list(void)
{
	say("ok\nprocess %d: %s, at %s in the tree\n", (int)getpid(), lf.exe, lf_tree_position());
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		struct lf_rule_rt *rt = &lf.rt[i];
		const struct lf_rule *r = rt->rule;
		char numbers[LF_RANGES * 44];
		struct lf_page_list taken = {.pages = rt->taken.span, .npages = rt->taken.n};
		lf_format_pages(&taken, numbers, sizeof numbers);
		say("%s: enabled=%s applies=%s action=%s regions=%llu numbered=%llu "
		    "region_numbers=%s%s faults=%llu pages_poisoned=%llu allocations_failed=%llu",
		    r->name, atomic_load(&rt->enabled) ? "yes" : "no", rt->applies ? "yes" : "no",
		    lf_action_name(r->action), (unsigned long long)atomic_load(&rt->regions),
		    (unsigned long long)atomic_load(&rt->numbered), numbers[0] ? numbers : "none",
		    rt->taken.more ? ",..." : "", (unsigned long long)atomic_load(&rt->faults),
		    (unsigned long long)atomic_load(&rt->pages_poisoned),
		    (unsigned long long)atomic_load(&rt->allocations_failed));
		lf_spin_lock(&rt->poison_lock);
		for (size_t j = 0; j < NRUNTIME; j++) {
			int k = lf_key_find(lf_rule_keys, LF_NRULE_KEYS, run_time_keys[j]);
			if (lf_key_applies(&lf_rule_keys[k], r))
				say_key(r, &lf_rule_keys[k]);
		}
		lf_spin_unlock(&rt->poison_lock);
		say("\n");
	}
}

static void enable(const char *name, bool on)
{
	int i = find_rule(name, strlen(name));
	if (i < 0) {
		no_rule(name, strlen(name));
		return;
	}
	atomic_store(&lf.rt[i].enabled, on);
	lf_info("control: rule '%s' %s", name, on ? "enabled" : "disabled");
	say("ok\nrule '%s': %s\n", name, on ? "enabled" : "disabled");
}

/* "set RULE.KEY=VALUE": checked by the rule file's own code (rules.c) on a
 * copy of the rule, then swapped in under the rule's lock. */
static void set(const char *text)
{
	const char *eq = strchr(text, '='), *dot = NULL;
	for (const char *c = text; eq && c < eq; c++)
		if (*c == '.')
			dot = c;
	if (!dot) {
		say("error: set %s: expected RULE.KEY=VALUE\n", text);
		return;
	}
	int i = find_rule(text, (size_t)(dot - text));
	if (i < 0) {
		no_rule(text, (size_t)(dot - text));
		return;
	}
	size_t j = 0, klen = (size_t)(eq - dot - 1);
	while (j < NRUNTIME && (strlen(run_time_keys[j]) != klen || memcmp(run_time_keys[j], dot + 1, klen)))
		j++;
	if (j == NRUNTIME) {
		say("error: set %s: key '%.*s' cannot be changed at run time (only", text, (int)klen,
		    dot + 1);
		for (j = 0; j < NRUNTIME; j++)
			say("%s %s", j ? "," : "", run_time_keys[j]);
		say(")\n");
		return;
	}
	struct lf_rule copy, old = { 0 };
	struct lf_rule *live = &lf.rules.rule[i];
	char err[1024];
	int k;
	if (lf_rule_with_define(&lf.rules, (size_t)i, "set", text, &copy, &k, err, sizeof err) < 0) {
		say("error: %s\n", err);
		return;
	}
	const struct lf_key *key = &lf_rule_keys[k];
	size_t size = lf_key_size(key);
	struct lf_rule_rt *rt = &lf.rt[i];
	lf_spin_lock(&rt->poison_lock);
	memcpy(lf_key_field(key, &old), lf_key_field(key, live), size);
	memcpy(lf_key_field(key, live), lf_key_field(key, &copy), size);
	live->given = copy.given;
	lf_spin_unlock(&rt->poison_lock);
	lf_key_free(key, &old);
	lf_info("control: set %s", text);
	say("ok\nrule '%s': %s\n", live->name, dot + 1);
}

static void handle(char *req)
{
	req[strcspn(req, "\r\n")] = '\0';
	if (!strcmp(req, "list"))
		list();
	else if (!strncmp(req, "enable ", 7))
		enable(req + 7, true);
	else if (!strncmp(req, "disable ", 8))
		enable(req + 8, false);
	else if (!strncmp(req, "set ", 4))
		set(req + 4);
	else
		say("error: unknown request '%s' (list, enable RULE, disable RULE, set RULE.KEY=VALUE)\n",
		    req);
}

/* One connection: only the process's user (or root) is answered; a
 * client that sends nothing is dropped after a while. */
static void serve(int c)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	char req[4096];
	size_t n = 0;
	reply_len = 0;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		say("error: permission denied\n");
	} else {
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		while (n < sizeof req - 1 && !memchr(req, '\n', n)) {
			ssize_t r = syscall(SYS_read, c, req + n, sizeof req - 1 - n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			n += (size_t)r;
		}
		req[n] = '\0';
		handle(req);
	}
	for (size_t off = 0; off < reply_len;) {
		ssize_t w = syscall(SYS_sendto, c, reply + off, reply_len - off, MSG_NOSIGNAL, NULL, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static void *control_thread(void *arg)
{
	lf_busy = 1; /* anything this thread calls goes straight through */
	lf_signals_blocked = true;
	for (;;) {
		int c = lf_fd_place((int)syscall(SYS_accept4, atomic_load(&listen_fd), NULL, NULL,
						   SOCK_CLOEXEC));
		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				struct timespec ts = { 0, 10000000 };
				syscall(SYS_nanosleep, &ts, NULL);
			}
			continue;
		}
		atomic_store(&conn_fd, c);
		serve(c);
		atomic_store(&conn_fd, -1);
		lf_real_close(c);
	}
	return arg;
}

/* ---- starting ----------------------------------------------------------- */

/* The listening socket, DIR/PID.sock: the directory checked, a socket of
 * an earlier process that had this pid replaced, mode 0600. */
static int open_socket(void)
{
	char dir[4096], why[4400], name[32];
	unsigned uid = (unsigned)geteuid();
	int pid = (int)getpid();
	lf_control_dir(getenv("XDG_RUNTIME_DIR"), uid, dir, sizeof dir);
	int dfd = lf_control_dir_open(dir, uid, true, why, sizeof why);
	if (dfd < 0) {
		lf_error("control = yes: %s: no control socket", why);
		return -1;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(name, sizeof name, "%d.sock", pid);
	int fd = -1;
	if (lf_control_socket_path(dir, pid, a.sun_path, sizeof a.sun_path) < 0) {
		lf_error("control = yes: %s/%s is too long for a socket: no control socket", dir, name);
		goto out;
	}
	fd = lf_fd_place(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	unlinkat(dfd, name, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    fchmodat(dfd, name, 0600, 0) != 0 || listen(fd, 8) != 0) {
		lf_error("control = yes: cannot listen on %s: %s", a.sun_path, strerror(errno));
		if (fd >= 0)
			lf_real_close(fd);
		fd = -1;
		goto out;
	}
	memcpy(sock_path, a.sun_path, sizeof sock_path);
	sock_pid = pid;
out:
	lf_real_close(dfd);
	return fd;
}

/* The control thread, started as the library's helpers are
 * (lf_server_spawn: detached, every signal blocked, a small stack). */
static bool start_thread(void)
{
	int e = lf_server_spawn(control_thread, NULL, "lazyfault-ctl");
	if (e) {
		lf_error("control = yes: cannot start the control thread: %s", strerror(e));
		return false;
	}
	return true;
}

/* A forked child has the parent's socket and no thread: it closes the one
 * and gets its own of both. */
static void child(void)
{
	int l = atomic_exchange(&listen_fd, -1), c = atomic_exchange(&conn_fd, -1);
	if (l < 0)
		return;
	lf_real_close(l);
	if (c >= 0)
		lf_real_close(c);
	sock_path[0] = '\0';
	lf_control_start();
}

__attribute__((destructor)) static void remove_socket(void)
{
	if (sock_path[0] && sock_pid == (int)getpid())
		unlink(sock_path);
}

void lf_control_start(void)
{
	lf_busy++;
	if (!atfork_done) {
		pthread_atfork(NULL, NULL, child);
		atfork_done = true;
	}
	int fd = open_socket();
	if (fd >= 0) {
		atomic_store(&listen_fd, fd);
		if (start_thread()) {
			lf_info("control socket %s", sock_path);
		} else {
			lf_real_close(atomic_exchange(&listen_fd, -1));
			unlink(sock_path);
			sock_path[0] = '\0';
		}
	}
	lf_busy--;
}
