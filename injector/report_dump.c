/* `lazyfault report --dump`: a trace as JSON lines, one object per line:
 * the trace itself, its rules, its regions (with their files and
 * allocation sites, symbolized), then its events in the order of the file.
 * What the tests read a trace back with, and a way to feed other tools. */
#include "report.h"

#include <inttypes.h>

#include "symbolize.h"

static const char *src_name(unsigned src)
{
	static const char *const names[] = {"zero", "file", "shmem", "bad"};
	return src < 4 ? names[src] : "?";
}

static void field_u(FILE *out, const char *name, uint64_t v)
{
	fprintf(out, ", \"%s\": %" PRIu64, name, v);
}

static void field_s(FILE *out, const char *name, const char *s)
{
	fprintf(out, ", \"%s\": ", name);
	if (s)
		lf_put_json_string(out, s);
	else
		fputs("null", out);
}

static void field_b(FILE *out, const char *name, bool v)
{
	fprintf(out, ", \"%s\": %s", name, v ? "true" : "false");
}

static void dump_head(const struct lf_trace *t, FILE *out)
{
	const struct lf_trace_header *h = &t->h;
	fputs("{\"type\": \"trace\"", out);
	field_s(out, "path", t->path);
	field_u(out, "version", h->version);
	field_u(out, "pid", h->pid);
	field_u(out, "ppid", h->ppid);
	field_u(out, "page_size", h->page_size);
	field_u(out, "start_real_ns", h->start_real_ns);
	field_b(out, "forked", h->flags & LF_TRACE_F_FORKED);
	field_b(out, "ended", h->flags & LF_TRACE_F_ENDED);
	field_u(out, "end_ns", h->end_ns);
	field_u(out, "end_signal", (uint64_t)(int64_t)h->end_signal);
	field_u(out, "claimed", t->claimed);
	field_u(out, "capacity", h->capacity);
	field_u(out, "dropped", h->dropped);
	field_u(out, "torn", t->torn);
	field_u(out, "unknown", t->unknown);
	field_s(out, "exe", t->exe);
	field_s(out, "argv", t->argv);
	fputs("}\n", out);
	for (size_t i = 0; i < t->nrules; i++) {
		static const char *const actions[] = {"zero", "load", "poison", "fail"};
		fprintf(out, "{\"type\": \"rule\", \"index\": %zu", i);
		field_s(out, "name", t->rule[i].name);
		field_s(out, "action", actions[t->rule[i].action & 3]);
		field_s(out, "match", lf_trace_match_name(t->rule[i].match));
		field_u(out, "readahead", t->rule[i].readahead);
		field_u(out, "delay_ns", t->rule[i].delay_ns);
		fputs("}\n", out);
	}
}

static void dump_region(const struct lf_trace *t, const struct lf_tr_region *r, FILE *out)
{
	fprintf(out, "{\"type\": \"region\", \"id\": %u, \"number\": %u", r->id, r->number);
	field_s(out, "rule", lf_trace_rule_name(t, r->rule));
	field_s(out, "match", lf_trace_match_name(r->match));
	field_s(out, "src", src_name(r->src));
	field_b(out, "inherited", r->inherited);
	field_u(out, "tid", r->tid);
	field_u(out, "t", r->t_taken);
	field_u(out, "start", r->start);
	field_u(out, "len", r->len);
	field_u(out, "offset", r->offset);
	field_u(out, "prot", r->prot);
	field_s(out, "file", r->file);
	if (r->has_file) {
		field_u(out, "dev", r->dev);
		field_u(out, "ino", r->ino);
		field_u(out, "file_size", r->file_size);
		field_u(out, "mtime_ns", r->mtime_ns);
	}
	fputs(", \"site\": [", out);
	for (int f = 0; f < r->nframes; f++) {
		const struct lf_tr_object *o = lf_trace_object(t, (uint32_t)(r->frame[f] >> 48));
		uint64_t off = r->frame[f] & ((UINT64_C(1) << 48) - 1);
		char name[1024] = "";
		if (o && o->path)
			lf_symbolize(NULL, o->path, off, name, sizeof name);
		fprintf(out, "%s{\"object\": ", f ? ", " : "");
		lf_put_json_string(out, o && o->path ? o->path : "?");
		field_u(out, "offset", off);
		field_s(out, "name", name);
		fputs("}", out);
	}
	fputs("]}\n", out);
}

static void dump_event(const struct lf_trace *t, size_t i, FILE *out)
{
	const struct lf_trace_rec *r = &t->rec[i];
	static const char *const types[] = {
		[LF_TRACE_FAULT] = "fault", [LF_TRACE_POISON] = "poison",
		[LF_TRACE_HANDOFF] = "handoff", [LF_TRACE_RELEASE] = "release",
		[LF_TRACE_DROP] = "drop", [LF_TRACE_SIGNAL] = "signal",
		[LF_TRACE_WRITTEN] = "written", [LF_TRACE_PREFETCH] = "prefetch",
	};
	fprintf(out, "{\"type\": \"%s\"", types[r->type]);
	field_u(out, "t", r->t);
	if (r->type != LF_TRACE_HANDOFF)
		field_u(out, "tid", r->a32);
	if (r->type != LF_TRACE_DROP && r->type != LF_TRACE_SIGNAL) {
		field_s(out, "rule", lf_trace_rule_name(t, r->a16));
		field_u(out, "region", r->u[0]);
	}
	switch (r->type) {
	case LF_TRACE_FAULT:
		field_u(out, "addr", r->u[1]);
		field_u(out, "page", r->u[2]);
		fprintf(out, ", \"window\": [%" PRIu64 ", %" PRIu64 "]", r->u[3], r->u[4]);
		field_u(out, "service_ns", r->u[5]);
		field_s(out, "fill", lf_trace_fill_name(r->flags & 15));
		field_b(out, "write", r->flags & LF_TRACE_WRITE);
		field_b(out, "stream", r->flags & LF_TRACE_STREAM);
		break;
	case LF_TRACE_POISON:
		field_u(out, "addr", r->u[1]);
		field_u(out, "page", r->u[2]);
		if (r->u[3] == UINT64_MAX)
			fputs(", \"file_offset\": null", out);
		else
			field_u(out, "file_offset", r->u[3]);
		field_s(out, "why", r->flags ? (t->text[i] ? t->text[i] : "") : NULL);
		break;
	case LF_TRACE_HANDOFF:
		field_u(out, "start", r->u[1]);
		field_u(out, "end", r->u[2]);
		field_u(out, "service_ns", r->u[3]);
		field_u(out, "addr", r->u[4]);
		break;
	case LF_TRACE_RELEASE:
		field_u(out, "start", r->u[1]);
		field_u(out, "end", r->u[2]);
		break;
	case LF_TRACE_DROP:
		field_u(out, "start", r->u[0]);
		field_u(out, "end", r->u[1]);
		break;
	case LF_TRACE_WRITTEN: /* runs of pages: [first page, pages] */
		fputs(", \"runs\": [", out);
		for (unsigned k = 0; k < r->flags && k < 2; k++)
			fprintf(out, "%s[%" PRIu64 ", %" PRIu64 "]", k ? ", " : "", r->u[1 + 2 * k],
				r->u[2 + 2 * k]);
		fputs("]", out);
		break;
	case LF_TRACE_PREFETCH:
		field_u(out, "page", r->u[1]);
		field_u(out, "pages", r->u[2]);
		field_b(out, "written", r->flags & 1);
		break;
	case LF_TRACE_SIGNAL:
		field_u(out, "signal", r->u[0]);
		field_u(out, "addr", r->u[1]);
		fprintf(out, ", \"code\": %" PRId64, (int64_t)r->u[2]);
		break;
	}
	fputs("}\n", out);
}

int lf_report_dump(struct lf_trace *const *traces, size_t n, FILE *out)
{
	for (size_t k = 0; k < n; k++) {
		const struct lf_trace *t = traces[k];
		dump_head(t, out);
		for (size_t i = 0; i < t->nregions; i++)
			dump_region(t, &t->region[i], out);
		for (size_t i = 0; i < t->nrec; i++)
			dump_event(t, i, out);
	}
	return ferror(out) ? -1 : 0;
}
