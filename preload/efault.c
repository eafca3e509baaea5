/* A call that met a page the library poisoned: the kernel fails a system
 * call whose buffer holds such a page with EFAULT, or stops a copy there
 * and returns what it moved so far.  A program that takes EFAULT for the
 * end of its input (sqlite3 reading SQL from standard input) then goes on
 * silently; so the wrappers of the read/write family (wrap_io.c) and of
 * stdio (wrap_stdio.c) look, after such a call, for a poisoned page where
 * the call stopped (poisoned.c), and say so at warn:
 *
 *   read(0, 0x7f.., 4096): EFAULT: the buffer holds page 0x7f..., poisoned
 *   by rule 'heap' (page 0 of region 5)
 *
 * and count it in the rule's statistics (calls_efault, calls_short).
 *
 * Where it stopped: a failed call, anywhere in its buffers; a short one
 * (it moved some bytes, fewer than asked), the page of the first byte it
 * did not move or the next one (the kernel's copy may stop a little before
 * the page).  A read that comes back short at a page boundary for want of
 * data, just before a poisoned page of its buffer, is reported too: the
 * program would have met that page itself.  A call that moved nothing and
 * did not fail (the end of a file) is not looked at.
 *
 * Runs in program threads, after the call; errno is the caller's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lf.h"
#include "poisoned.h"

static char first[400];
static _Atomic int first_taken;

const char *lf_met_first(void) { return atomic_load(&first_taken) == 2 ? first : ""; }

void lf_met_fork_child(void)
{
	first[0] = 0;
	atomic_store(&first_taken, 0);
}

/* "page 0x... poisoned by rule 'x' (page 17 of region 3)" */
static void describe(const struct lf_poisoned *pp, char *out, size_t len)
{
	const char *name = pp->rule < lf.rules.nrules ? lf.rules.rule[pp->rule].name : "?";
	snprintf(out, len, "page %#lx, poisoned by rule '%s' (page %llu of region %llu)",
		 (unsigned long)pp->page, name, (unsigned long long)pp->index,
		 (unsigned long long)pp->region);
}

static void report(const char *what, const char *how, const char *whose,
		   const struct lf_poisoned *pp, bool failed)
{
	char page[300], line[sizeof first];
	describe(pp, page, sizeof page);
	snprintf(line, sizeof line, "%s: %s: %s holds %s", what, how, whose, page);
	lf_warn("%s", line);
	if (pp->rule < lf.rules.nrules) {
		struct lf_rule_rt *rt = &lf.rt[pp->rule];
		atomic_fetch_add_explicit(failed ? &rt->calls_efault : &rt->calls_short, 1,
					  memory_order_relaxed);
	}
	int expect = 0;
	if (atomic_compare_exchange_strong(&first_taken, &expect, 1)) {
		memcpy(first, line, sizeof first);
		atomic_store(&first_taken, 2);
	}
}

bool lf_met_begin(struct lf_met *m, const char *call, int fd, void *stream, long long result,
		  int err)
{
	if (!lf_poisoned_any() || lf_busy)
		return false;
	*m = (struct lf_met){.call = call, .fd = fd, .stream = stream};
	if (stream) { /* stdio: the items decide (lf_met_items) */
		m->left = (uint64_t)result;
		return true;
	}
	m->failed = result < 0 && err == EFAULT;
	m->left = result > 0 ? (uint64_t)result : 0;
	return m->failed || result > 0;
}

/* "read(0, 0x7f.., 4096)" */
static void name_call(const struct lf_met *m, const void *p, size_t len, char *out, size_t n)
{
	if (m->fd >= 0)
		snprintf(out, n, "%s(%d, %p, %zu)", m->call, m->fd, p, len);
	else
		snprintf(out, n, "%s(%p, %zu)", m->call, p, len);
}

void lf_met_range(struct lf_met *m, const void *p, size_t len)
{
	if (m->done || !p || !len)
		return;
	uintptr_t a = (uintptr_t)p, end = a + len;
	struct lf_poisoned pp;
	char what[200];
	if (m->failed) {
		if (lf_poisoned_find(a, end, &pp)) {
			name_call(m, p, len, what, sizeof what);
			report(what, "EFAULT", "the buffer", &pp, true);
			m->done = true;
		}
		return;
	}
	if (m->left >= len) {
		m->left -= len;
		return;
	}
	m->done = true; /* it stopped in this buffer */
	uintptr_t stop = a + m->left, to = lf_page_down(stop) + 2 * LF_PAGE;
	if (lf_poisoned_find(stop, to < end ? to : end, &pp)) {
		char how[64];
		name_call(m, p, len, what, sizeof what);
		snprintf(how, sizeof how, "cut short after %llu bytes", (unsigned long long)m->left);
		report(what, how, "the buffer", &pp, false);
	}
}

/* The stream's buffer, between glibc's base and end pointers. */
static bool stream_buffer(FILE *f, uintptr_t *a, size_t *len)
{
	if (!f || !f->_IO_buf_base || f->_IO_buf_end <= f->_IO_buf_base)
		return false;
	*a = (uintptr_t)f->_IO_buf_base;
	*len = (size_t)(f->_IO_buf_end - f->_IO_buf_base);
	return true;
}

void lf_met_stream(const char *call, void *stream)
{
	FILE *f = stream;
	int saved = errno;
	uintptr_t a;
	size_t len;
	struct lf_poisoned pp;
	if (lf_poisoned_any() && !lf_busy && saved == EFAULT && f && ferror_unlocked(f) &&
	    stream_buffer(f, &a, &len) && lf_poisoned_find(a, a + len, &pp)) {
		char what[200];
		snprintf(what, sizeof what, "read(%d, %p, %zu) in %s", fileno_unlocked(f), (void *)a,
			 len, call);
		report(what, "EFAULT", "the stream's buffer", &pp, true);
	}
	errno = saved;
}

void lf_met_items(struct lf_met *m, const void *p, size_t size, size_t n)
{
	FILE *f = m->stream;
	size_t items = (size_t)m->left;
	if (m->done || !f || !size || items >= n || n > SIZE_MAX / size || !ferror_unlocked(f) ||
	    errno != EFAULT)
		return;
	m->done = true;
	/* glibc reads a large request straight into the caller's buffer, a
	 * small one into the stream's, with internal calls. */
	struct lf_poisoned pp;
	uintptr_t a = (uintptr_t)p;
	if (lf_poisoned_find(a + items * size, a + n * size, &pp)) {
		char what[200];
		snprintf(what, sizeof what, "%s(%p, %zu, %zu, fd %d)", m->call, p, size, n,
			 fileno_unlocked(f));
		report(what, "EFAULT", "the buffer", &pp, true);
	} else {
		lf_met_stream(m->call, f);
	}
}
