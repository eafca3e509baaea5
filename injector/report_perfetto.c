/* `lazyfault report --perfetto FILE`: the traces as Chrome trace event
 * JSON, which ui.perfetto.dev and chrome://tracing open: each fault an `X`
 * slice on its thread (from the moment a helper read it to its wake-up),
 * a `C` counter per rule of the pages present in its regions, `i` instants
 * for poisonings, handoffs and the fatal signal, and `M` names for the
 * processes and threads.  Times are microseconds from the start of the
 * earliest trace, so that the processes of one run line up. */
#include "report.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>

struct out {
	FILE *f;
	bool first;
	uint64_t base;                  /* CLOCK_REALTIME ns of time 0 */
};

static void begin_event(struct out *o, const char *ph, const char *name, uint32_t pid, uint32_t tid)
{
	fputs(o->first ? "\n" : ",\n", o->f);
	o->first = false;
	fprintf(o->f, "{\"ph\": \"%s\", \"name\": ", ph);
	lf_put_json_string(o->f, name);
	fprintf(o->f, ", \"pid\": %" PRIu32 ", \"tid\": %" PRIu32, pid, tid);
}

static void ts(struct out *o, const struct lf_trace *t, uint64_t at)
{
	uint64_t abs = t->h.start_real_ns + at - o->base;
	fprintf(o->f, ", \"ts\": %" PRIu64 ".%03" PRIu64, abs / 1000, abs % 1000);
}

static void name_event(struct out *o, const char *what, uint32_t pid, uint32_t tid, const char *name)
{
	begin_event(o, "M", what, pid, tid);
	fputs(", \"args\": {\"name\": ", o->f);
	lf_put_json_string(o->f, name);
	fputs("}}", o->f);
}

static void names(struct out *o, const struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	uint32_t pid = t->h.pid;
	char name[4200];
	snprintf(name, sizeof name, "%s (pid %" PRIu32 ")", *t->exe ? lf_basename(t->exe) : "?", pid);
	name_event(o, "process_name", pid, pid, name);
	bool main_seen = false;
	for (size_t i = 0; i < m->nthreads; i++) {
		uint32_t tid = m->thread[i].tid;
		main_seen |= tid == pid;
		snprintf(name, sizeof name, tid == pid ? "main thread %" PRIu32 : "thread %" PRIu32, tid);
		name_event(o, "thread_name", pid, tid, name);
	}
	if (!main_seen) {
		snprintf(name, sizeof name, "main thread %" PRIu32, pid);
		name_event(o, "thread_name", pid, pid, name);
	}
}

static void fault(struct out *o, const struct lf_trace *t, const struct lf_trace_rec *r)
{
	char name[32];
	snprintf(name, sizeof name, "fault: %s", lf_trace_fill_name(r->flags & 15));
	begin_event(o, "X", name, t->h.pid, r->a32);
	fputs(", \"cat\": \"fault\"", o->f);
	ts(o, t, r->t);
	fprintf(o->f, ", \"dur\": %" PRIu64 ".%03" PRIu64 ", \"args\": {\"rule\": ", r->u[5] / 1000,
		r->u[5] % 1000);
	lf_put_json_string(o->f, lf_trace_rule_name(t, r->a16));
	fprintf(o->f, ", \"region\": %" PRIu64 ", \"page\": %" PRIu64 ", \"addr\": \"0x%" PRIx64
		"\", \"pages_installed\": %" PRIu64 ", \"write\": %s}}",
		r->u[0], r->u[2], r->u[1], r->u[4] / 4096, r->flags & LF_TRACE_WRITE ? "true" : "false");
}

static void instant(struct out *o, const struct lf_trace *t, size_t i)
{
	const struct lf_trace_rec *r = &t->rec[i];
	char name[64];
	if (r->type == LF_TRACE_POISON) {
		begin_event(o, "i", "poison", t->h.pid, r->a32);
		fputs(", \"s\": \"t\", \"cat\": \"poison\"", o->f);
		ts(o, t, r->t);
		fputs(", \"args\": {\"rule\": ", o->f);
		lf_put_json_string(o->f, lf_trace_rule_name(t, r->a16));
		fprintf(o->f, ", \"region\": %" PRIu64 ", \"page\": %" PRIu64 ", \"addr\": \"0x%" PRIx64 "\"",
			r->u[0], r->u[2], r->u[1]);
		if (t->text[i]) {
			fputs(", \"why\": ", o->f);
			lf_put_json_string(o->f, t->text[i]);
		}
		fputs("}}", o->f);
	} else if (r->type == LF_TRACE_HANDOFF) {
		begin_event(o, "i", "handoff", t->h.pid, t->h.pid);
		fputs(", \"s\": \"p\", \"cat\": \"handoff\"", o->f);
		ts(o, t, r->t);
		fputs(", \"args\": {\"rule\": ", o->f);
		lf_put_json_string(o->f, lf_trace_rule_name(t, r->a16));
		fprintf(o->f, ", \"region\": %" PRIu64 ", \"bytes\": %" PRIu64 "}}", r->u[0],
			r->u[2] - r->u[1]);
	} else if (r->type == LF_TRACE_SIGNAL) {
		const char *abbrev = sigabbrev_np((int)r->u[0]);
		snprintf(name, sizeof name, "signal SIG%s", abbrev ? abbrev : "?");
		begin_event(o, "i", name, t->h.pid, r->a32);
		fputs(", \"s\": \"p\", \"cat\": \"signal\"", o->f);
		ts(o, t, r->t);
		fprintf(o->f, ", \"args\": {\"signal\": %" PRIu64 ", \"addr\": \"0x%" PRIx64 "\"}}",
			r->u[0], r->u[1]);
	}
}

static void counters(struct out *o, const struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	for (size_t i = 0; i < m->nsamples; i++) {
		const struct lf_tr_sample *s = &m->sample[i];
		char name[300];
		snprintf(name, sizeof name, "pages present: %s", lf_trace_rule_name(t, s->rule));
		begin_event(o, "C", name, t->h.pid, t->h.pid);
		ts(o, t, s->t);
		fprintf(o->f, ", \"args\": {\"pages\": %" PRIu64 "}}", s->pages);
	}
}

int lf_report_perfetto(struct lf_model *const *m, size_t n, FILE *f)
{
	struct out o = {.f = f, .first = true, .base = UINT64_MAX};
	for (size_t k = 0; k < n; k++)
		if (m[k]->t->h.start_real_ns < o.base)
			o.base = m[k]->t->h.start_real_ns;
	fputs("{\"displayTimeUnit\": \"ns\", \"traceEvents\": [", f);
	for (size_t k = 0; k < n; k++) {
		const struct lf_trace *t = m[k]->t;
		names(&o, m[k]);
		for (size_t i = 0; i < t->nrec; i++) {
			size_t at = m[k]->order[i];
			if (t->rec[at].type == LF_TRACE_FAULT)
				fault(&o, t, &t->rec[at]);
			else
				instant(&o, t, at);
		}
		counters(&o, m[k]);
	}
	fputs("\n]}\n", f);
	return ferror(f) ? -1 : 0;
}
