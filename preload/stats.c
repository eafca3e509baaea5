/* Statistics: per-rule counters (relaxed atomics, bumped by the helpers)
 * and a log-linear histogram of fault service times, written as JSON when
 * the process ends, with what says which process it was (pid, parent,
 * program, arguments, start and end, page size, version).
 *
 * The writer is async-signal-safe (it runs in fatal signal handlers): no
 * malloc, no stdio, its own number formatting, its buffers static (one
 * writer per process, and a signal handler may run on a small stack).  It
 * streams through a small buffer into a new file that is renamed over the
 * target at the end (files.c): the file has no size limit and is complete
 * or absent, never half written, never written through a link; a failure
 * (a full disk) is logged.
 *
 * The time threads spent blocked in faults is measured as the sum of the
 * faults' service times (from reading the fault's message to waking its
 * thread): it leaves out the kernel's part, before the message is read
 * and after the wake, and counts a fault that several threads wait on
 * once.  The wall time runs from the library's load into the process (or
 * fork) to the writing of the file. */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include <sys/syscall.h>

#include "files.h"
#include "invisible.h"
#include "lf.h"
#include "poisoned.h"
#include "stats_out.h"
#include "record.h"
#include "signals.h"
#include "trace.h"
#include "tree.h"
#include "text.h"


static uint64_t started_ns;

uint64_t lf_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Bucket of a duration: 8 buckets per power of two (12% wide at most). */
static unsigned bucket(uint64_t ns)
{
	if (ns < 8)
		return (unsigned)ns;
	unsigned e = 63 - (unsigned)__builtin_clzll(ns);
	return e * 8 + (unsigned)((ns >> (e - 3)) & 7);
}

/* The middle of a bucket, as the value reported for it. */
static uint64_t bucket_value(unsigned b)
{
	if (b < 8)
		return b;
	unsigned e = b / 8, sub = b % 8;
	uint64_t lo = (uint64_t)(8 + sub) << (e - 3);
	return lo + ((uint64_t)1 << (e - 3)) / 2;
}

__attribute__((constructor)) static void lf_stats_started(void) { started_ns = lf_now_ns(); }

void lf_stats_fault(struct lf_rule_rt *rt, uint64_t ns)
{
	atomic_fetch_add_explicit(&rt->faults, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt->fault_ns_total, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt->lat_hist[bucket(ns)], 1, memory_order_relaxed);
}

static uint64_t percentile(const struct lf_rule_rt *rt, unsigned pct)
{
	uint64_t total = 0, seen = 0;
	for (unsigned b = 0; b < 64 * 8; b++)
		total += atomic_load_explicit(&rt->lat_hist[b], memory_order_relaxed);
	if (!total)
		return 0;
	uint64_t want = (total * pct + 99) / 100;
	for (unsigned b = 0; b < 64 * 8; b++) {
		seen += atomic_load_explicit(&rt->lat_hist[b], memory_order_relaxed);
		if (seen >= want)
			return bucket_value(b);
	}
	return 0;
}

/* ---- who this process is ---------------------------------------------- */

static struct timespec started;
static int started_ppid;
static int saved_argc;
static char **saved_argv;

void lf_stats_start(void)
{
	clock_gettime(CLOCK_REALTIME, &started);
	started_ppid = (int)getppid();
}

void lf_stats_argv(int argc, char **argv)
{
	saved_argc = argc;
	saved_argv = argv;
}

/* ---- the output: a small buffer, flushed into the new file ---------- */
struct lf_stats_out {
	struct lf_replace *file;
	char buf[4096];
	size_t len;
};

static void flush(struct lf_stats_out *o)
{
	lf_replace_write(o->file, o->buf, o->len);
	o->len = 0;
}

static void put_n(struct lf_stats_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (o->len == sizeof o->buf)
			flush(o);
		o->buf[o->len++] = s[i];
	}
}

static void put(struct lf_stats_out *o, const char *s) { put_n(o, s, strlen(s)); }

static void put_u64(struct lf_stats_out *o, uint64_t v)
{
	char tmp[24];
	int i = sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_n(o, tmp + i, sizeof tmp - (size_t)i);
}

/* A JSON string, always valid UTF-8: rule names are (the parser refuses
 * any other), but a program's path and arguments may hold any bytes.
 * Printable UTF-8 as it is; quotes, backslashes and control characters
 * escaped; a byte that is not UTF-8 becomes U+FFFD. */
static void put_str(struct lf_stats_out *o, const char *s)
{
	size_t n = strlen(s);
	put(o, "\"");
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = lf_utf8_char(s + i, n - i, &cp);
		if (!len) {
			put(o, "\\ufffd");
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			char e[2] = {'\\', (char)cp};
			put_n(o, e, 2);
		} else if (lf_is_control(cp)) {
			char e[6] = {'\\', 'u', '0', '0', "0123456789abcdef"[cp >> 4],
				     "0123456789abcdef"[cp & 15]};
			put_n(o, e, 6);
		} else {
			put_n(o, s + i, len);
		}
		i += len;
	}
	put(o, "\"");
}

static void put_field(struct lf_stats_out *o, const char *name, uint64_t v)
{
	put(o, ", \"");
	put(o, name);
	put(o, "\": ");
	put_u64(o, v);
}

void lf_out_put(struct lf_stats_out *o, const char *s) { put(o, s); }
void lf_out_str(struct lf_stats_out *o, const char *s) { put_str(o, s); }
void lf_out_u64(struct lf_stats_out *o, uint64_t v) { put_u64(o, v); }
void lf_out_field(struct lf_stats_out *o, const char *name, uint64_t v) { put_field(o, name, v); }

/* ---- which regions a rule took, and the process's place in its tree -- */

static void put_bool(struct lf_stats_out *o, const char *name, bool v)
{
	put(o, ", \"");
	put(o, name);
	put(o, v ? "\": true" : "\": false");
}

static void put_selection(struct lf_stats_out *o, const struct lf_rule_rt *rt)
{
	static char list[LF_RANGES * 44 + 8]; /* static, as the writer's other buffers */
	struct lf_page_list l = {.pages = (struct lf_page_span *)rt->taken.span,
				 .npages = rt->taken.n};
	size_t n = lf_format_pages(&l, list, sizeof list - 4);
	if (rt->taken.more && n < sizeof list - 4)
		memcpy(list + n, ",...", 5);
	put_bool(o, "applies", rt->applies);
	put_bool(o, "enabled", atomic_load(&rt->enabled));
	put_field(o, "regions_numbered", rt->numbered);
	put(o, ", \"region_numbers\": ");
	put_str(o, list);
	put_field(o, "allocations_failed", rt->allocations_failed);
	/* What replays a tree: the rule's seed (`seed` is this process's). */
	if (lf_rule_draws(rt->rule))
		put_field(o, "rule_seed", rt->rule_seed);
}

static void put_tree(struct lf_stats_out *o)
{
	put(o, ", \"tree_position\": ");
	put_str(o, lf_tree_position());
}

/* Seconds since the epoch, to the microsecond: 1733090000.123456. */
static void put_time(struct lf_stats_out *o, const char *name, const struct timespec *t)
{
	char us[7];
	long v = t->tv_nsec / 1000;
	for (int i = 5; i >= 0; i--, v /= 10)
		us[i] = (char)('0' + v % 10);
	us[6] = '\0';
	put(o, ", \"");
	put(o, name);
	put(o, "\": ");
	put_u64(o, (uint64_t)t->tv_sec);
	put(o, ".");
	put(o, us);
}

/* Reads of a rule with io_error (badfd.c): failed with EIO, cut short
 * before a bad page. */
static void put_io_fields(struct lf_stats_out *o, const struct lf_rule_rt *rt)
{
	put_field(o, "read_errors", rt->read_errors);
	put_field(o, "reads_cut", rt->reads_cut);
	/* Calls whose buffer held a page the rule poisoned (efault.c). */
	put_field(o, "calls_efault", rt->calls_efault);
	put_field(o, "calls_short", rt->calls_short);
}

static _Atomic int written_pid, written_done;

/* Fault counters start again; the regions stay counted, since the child
 * has them too. */
static void lf_stats_reset(void)
{
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		struct lf_rule_rt *rt = &lf.rt[i];
		rt->faults = 0;
		rt->pages_zeroed = rt->pages_loaded = rt->bytes_read = rt->pages_poisoned = 0;
		rt->handoffs = rt->bytes_handed_off = rt->fault_ns_total = 0;
		rt->read_errors = rt->reads_cut = 0;
		rt->calls_efault = rt->calls_short = 0;
		rt->pages_written = rt->pages_read_only = rt->pages_prefetched = 0;
		memset((void *)rt->lat_hist, 0, sizeof rt->lat_hist);
	}
}

/* A child counts its own faults into its own file (`%p`); what it
 * inherited in its memory is already filled, and counted by the parent.
 * It starts now, and its parent is the process that forked it. */
void lf_stats_fork_child(void)
{
	lf_stats_reset();
	lf_stats_start();
	started_ns = lf_now_ns();
	atomic_store(&written_pid, 0);
	atomic_store(&written_done, 0);
	lf_met_fork_child();
}

static const char *mode_name(void)
{
	if (lf.uffd < 0)
		return "passthrough";
	return lf.mode == LF_MODE_FULL ? "full" : "user-mode-only";
}

static void put_process(struct lf_stats_out *o, int pid)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	put(o, "{\"pid\": ");
	put_u64(o, (uint64_t)pid);
	put_field(o, "ppid", (uint64_t)started_ppid);
	put(o, ", \"mode\": \"");
	put(o, mode_name());
	put(o, "\", \"serve\": \"");
	put(o, lf_serve_by_signal ? "signal" : "helper");
	put(o, "\"");
	put_tree(o);
	put(o, ", \"version\": \"" LF_VERSION "\"");
	put_field(o, "page_size", getauxval(AT_PAGESZ));
	put_time(o, "start_time", &started);
	put_time(o, "end_time", &now);
	uint64_t blocked = 0;
	for (size_t i = 0; i < lf.rules.nrules; i++)
		blocked += lf.rt[i].fault_ns_total;
	put_field(o, "wall_ns", lf_now_ns() - started_ns);
	put_field(o, "blocked_ns", blocked);
	put_field(o, "trace_records", lf_trace_records());
	put_field(o, "trace_dropped", lf_trace_dropped());
	put_field(o, "poisoned_unrecorded", lf_poisoned_unrecorded());
	put(o, ",\n \"poisoned_call\": "); /* the first call that met a poisoned page */
	put_str(o, lf_met_first());
	lf_crash_put(o);
	put(o, ",\n \"exe\": ");
	put_str(o, lf.exe);
	put(o, ",\n \"argv\": [");
	for (int i = 0; saved_argv && i < saved_argc && saved_argv[i]; i++) {
		if (i)
			put(o, ", ");
		put_str(o, saved_argv[i]);
	}
	put(o, "]");
}

static void put_rule(struct lf_stats_out *o, struct lf_rule_rt *rt)
{
	put(o, "  {\"name\": ");
	put_str(o, rt->rule->name);
	put(o, ", \"action\": \"");
	put(o, lf_action_name(rt->rule->action));
	put(o, "\"");
	put_field(o, "regions", rt->regions);
	put_field(o, "bytes_registered", rt->bytes_registered);
	put_field(o, "faults", rt->faults);
	put_field(o, "pages_zeroed", rt->pages_zeroed);
	put_field(o, "pages_loaded", rt->pages_loaded);
	put_field(o, "bytes_read", rt->bytes_read);
	put_field(o, "pages_poisoned", rt->pages_poisoned);
	put_field(o, "handoffs", rt->handoffs);
	put_field(o, "bytes_handed_off", rt->bytes_handed_off);
	put_field(o, "fault_ns_total", rt->fault_ns_total);
	put_field(o, "pages_written", rt->pages_written);
	put_field(o, "pages_read_only", rt->pages_read_only);
	put_field(o, "pages_prefetched", rt->pages_prefetched);
	/* Only a rule that draws has a seed that matters (it replays them). */
	if (lf_rule_draws(rt->rule))
		put_field(o, "seed", rt->seed);
	put_field(o, "fault_ns_p50", percentile(rt, 50));
	put_field(o, "fault_ns_p99", percentile(rt, 99));
	put_selection(o, rt);
	put_io_fields(o, rt);
	put(o, "}");
}

void lf_stats_write(void)
{
	if (lf_in_vfork_child())
		return; /* the figures and the trace are its parent's (vfork.c) */
	lf_written_end(); /* first: the pages still mapped, into the trace and the figures */
	lf_trace_end(0, 0, 0); /* then: its figures go into the file */
	if (!lf.stats_path[0] || !lf.rt)
		return;
	int pid = (int)getpid();
	if (atomic_exchange(&written_pid, pid) == pid) {
		/* Another thread is writing (several threads dying at once):
		 * wait for it, so that the process does not die mid-write. */
		for (int i = 0; i < 100000 && atomic_load(&written_done) != pid; i++)
			sched_yield();
		return;
	}
	static char path[4096];
	static struct lf_replace file;
	static struct lf_stats_out o;
	lf_expand_pid(lf.stats_path, path, sizeof path);
	/* Readable by its owner only: it holds the program's arguments. */
	if (lf_replace_begin(&file, path, 0600) == 0) {
		o.file = &file;
		o.len = 0;
		put_process(&o, pid);
		put(&o, ",\n \"rules\": [\n");
		for (size_t i = 0; i < lf.rules.nrules; i++) {
			put_rule(&o, &lf.rt[i]);
			put(&o, i + 1 < lf.rules.nrules ? ",\n" : "\n");
		}
		put(&o, "]}\n");
		flush(&o);
		lf_replace_commit(&file, path);
	}
	if (file.err || file.refused)
		lf_error("cannot write the statistics file %s: %s", path, lf_replace_why(&file));
	atomic_store(&written_done, pid);
}
