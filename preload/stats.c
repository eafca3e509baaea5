/* Statistics: per-rule counters (relaxed atomics, bumped by the helpers)
 * and a log-linear histogram of fault service times, written as JSON when
 * the process ends.  The writer is async-signal-safe (it runs in fatal
 * signal handlers): no malloc, no stdio, its own number formatting.
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
#include <time.h>
#include <unistd.h>

#include <sys/syscall.h>

#include "lf.h"


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

/* ---- an append-only text buffer ------------------------------------ */
struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *s)
{
	while (*s && o->len < o->cap)
		o->buf[o->len++] = *s++;
}

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[24];
	int i = 0;
	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i && o->len < o->cap)
		o->buf[o->len++] = tmp[--i];
}

/* A JSON string: rule names come from the rule file, so escape them. */
static void put_str(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[3] = {'\\', (char)c, 0};
			put(o, e);
		} else if (c < 0x20) {
			char e[7] = "\\u0000";
			e[4] = "0123456789abcdef"[c >> 4];
			e[5] = "0123456789abcdef"[c & 15];
			put(o, e);
		} else {
			char e[2] = {(char)c, 0};
			put(o, e);
		}
	}
	put(o, "\"");
}

static void put_field(struct out *o, const char *name, uint64_t v)
{
	put(o, ", \"");
	put(o, name);
	put(o, "\": ");
	put_u64(o, v);
}

/* Reads of a rule with io_error (badfd.c): failed with EIO, cut short
 * before a bad page. */
static void put_io_fields(struct out *o, const struct lf_rule_rt *rt)
{
	put_field(o, "read_errors", rt->read_errors);
	put_field(o, "reads_cut", rt->reads_cut);
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
		memset((void *)rt->lat_hist, 0, sizeof rt->lat_hist);
	}
}

/* A child counts its own faults into its own file (`%p`); what it
 * inherited in its memory is already filled, and counted by the parent. */
void lf_stats_fork_child(void)
{
	lf_stats_reset();
	started_ns = lf_now_ns();
	atomic_store(&written_pid, 0);
	atomic_store(&written_done, 0);
}

static const char *mode_name(void)
{
	if (lf.uffd < 0)
		return "passthrough";
	return lf.mode == LF_MODE_FULL ? "full" : "user-mode-only";
}

void lf_stats_write(void)
{
	lf_trace_end(0, 0, 0); /* first: its figures go into the file */
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
	char path[4096];
	lf_expand_pid(lf.stats_path, path, sizeof path);
	static char buf[1 << 16]; /* once per process: a static buffer is safe */
	struct out o = {buf, 0, sizeof buf};
	put(&o, "{\"pid\": ");
	put_u64(&o, (uint64_t)pid);
	put(&o, ", \"mode\": \"");
	put(&o, mode_name());
	put(&o, "\"");
	uint64_t blocked = 0;
	for (size_t i = 0; i < lf.rules.nrules; i++)
		blocked += lf.rt[i].fault_ns_total;
	put_field(&o, "wall_ns", lf_now_ns() - started_ns);
	put_field(&o, "blocked_ns", blocked);
	put_field(&o, "trace_records", lf_trace_records());
	put_field(&o, "trace_dropped", lf_trace_dropped());
	put(&o, ", \"rules\": [\n");
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		struct lf_rule_rt *rt = &lf.rt[i];
		put(&o, "  {\"name\": ");
		put_str(&o, rt->rule->name);
		put(&o, ", \"action\": \"");
		put(&o, lf_action_name(rt->rule->action));
		put(&o, "\"");
		put_field(&o, "regions", rt->regions);
		put_field(&o, "bytes_registered", rt->bytes_registered);
		put_field(&o, "faults", rt->faults);
		put_field(&o, "pages_zeroed", rt->pages_zeroed);
		put_field(&o, "pages_loaded", rt->pages_loaded);
		put_field(&o, "bytes_read", rt->bytes_read);
		put_field(&o, "pages_poisoned", rt->pages_poisoned);
		put_field(&o, "handoffs", rt->handoffs);
		put_field(&o, "bytes_handed_off", rt->bytes_handed_off);
		put_field(&o, "fault_ns_total", rt->fault_ns_total);
		put_field(&o, "seed", rt->seed);
		put_field(&o, "fault_ns_p50", percentile(rt, 50));
		put_field(&o, "fault_ns_p99", percentile(rt, 99));
		put_io_fields(&o, rt);
		put(&o, i + 1 < lf.rules.nrules ? "},\n" : "}\n");
	}
	put(&o, "]}\n");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		lf_error("cannot write the statistics file %s", path);
		atomic_store(&written_done, pid);
		return;
	}
	for (size_t off = 0; off < o.len;) {
		ssize_t w = syscall(SYS_write, fd, buf + off, o.len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	atomic_store(&written_done, pid);
}
