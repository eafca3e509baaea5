/* The files of a sweep's directory, written and read with json-c, and the
 * table on the terminal.
 *
 * DIR/sweep.json   the plan: program, arguments, reference, candidates
 * DIR/run-NNNN.*   one run: .ini (its rules), .out/.err (its output),
 *                  .stats.PID.json (the library's), .result.json (outcome)
 * DIR/summary.json, DIR/summary.csv: every run with its outcome and replay */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash_report.h"
#include "lazyfault.h"
#include "statsfile.h"
#include "sweep.h"

#define SWEEP_FORMAT 1

void lf_sweep_path(const struct lf_sweep *s, const char *name, char *out)
{
	snprintf(out, PATH_MAX + 64, "%s/%s", s->dir, name);
}

void lf_sweep_run_path(const struct lf_sweep *s, const struct lf_sweep_run *r,
		       const char *suffix, char *out)
{
	snprintf(out, PATH_MAX + 64, "%s/run-%04u%s", s->dir, r->index, suffix);
}

/* Characters a shell takes literally: such words are written unquoted. */
static void put_word(FILE *f, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_./:=@%+,-") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (const char *p = w; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

char *lf_sweep_replay(const struct lf_sweep *s, const struct lf_sweep_run *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	char ini[PATH_MAX + 64];
	lf_sweep_run_path(s, r, ".ini", ini);
	put_word(f, s->self);
	fputs(" run -r ", f);
	put_word(f, ini);
	fputs(" --", f);
	for (int i = 0; i < s->argc; i++) {
		fputc(' ', f);
		put_word(f, s->argv[i]);
	}
	fputs(" < ", f);
	put_word(f, *s->stdin_path ? s->stdin_path : "/dev/null");
	fclose(f);
	return buf;
}

char *lf_sweep_plan_line(const struct lf_sweep *s, const struct lf_sweep_run *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	put_word(f, s->self);
	fputs(" sweep -o ", f);
	put_word(f, s->dir);
	fprintf(f, " --one %u", r->index);
	fclose(f);
	return buf;
}

/* ---- writing ------------------------------------------------------------ */

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *jsignal(int sig)
{
	if (!sig)
		return NULL;
	char name[32];
	lf_signal_name(sig, name, sizeof name);
	return json_object_new_string(name);
}

/* Seconds to the millisecond: more digits would be noise. */
static json_object *jseconds(double s)
{
	return json_object_new_double((double)(long long)(s * 1000 + 0.5) / 1000);
}

static json_object *jcrc(uint32_t crc)
{
	char hex[16];
	snprintf(hex, sizeof hex, "%08" PRIx32, crc);
	return json_object_new_string(hex);
}

static int write_json(const char *path, json_object *doc)
{
	int rc = json_object_to_file_ext(path, doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (rc != 0)
		lf_error("cannot write %s: %s", path, json_util_get_last_err());
	json_object_put(doc);
	return rc;
}

static json_object *reference_json(const struct lf_sweep *s)
{
	json_object *ref = json_object_new_object();
	put(ref, "status", json_object_new_int(s->ref_status));
	put(ref, "duration_s", jseconds(s->ref_duration));
	put(ref, "stdout_bytes", json_object_new_uint64(s->ref_len));
	put(ref, "stdout_crc32", jcrc(s->ref_crc));
	char out[PATH_MAX + 64];
	lf_sweep_path(s, "reference.out", out);
	put(ref, "stdout", jstr(out));
	json_object *rules = json_object_new_array();
	for (size_t i = 0; i < s->nrules; i++) {
		const struct lf_sweep_rule *x = &s->rule[i];
		json_object *o = json_object_new_object();
		put(o, "name", jstr(x->name));
		put(o, "after", json_object_new_uint64(x->after));
		put(o, "every", json_object_new_uint64(x->every));
		put(o, "faults", json_object_new_uint64(x->faults));
		put(o, "candidates", json_object_new_uint64(x->candidates));
		json_object_array_add(rules, o);
	}
	put(ref, "rules", rules);
	return ref;
}

static json_object *argv_json(const struct lf_sweep *s)
{
	json_object *a = json_object_new_array();
	for (int i = 0; i < s->argc; i++)
		json_object_array_add(a, jstr(s->argv[i]));
	return a;
}

/* The fields common to sweep.json and summary.json. */
static json_object *sweep_json(const struct lf_sweep *s)
{
	json_object *doc = json_object_new_object();
	put(doc, "format", json_object_new_int(SWEEP_FORMAT));
	put(doc, "lazyfault", jstr(s->self));
	put(doc, "library", jstr(s->lib));
	put(doc, "rules", jstr(s->rules));
	put(doc, "program", jstr(s->prog));
	put(doc, "argv", argv_json(s));
	put(doc, "cwd", jstr(s->cwd));
	put(doc, "dir", jstr(s->dir));
	put(doc, "stdin", *s->stdin_path ? jstr(s->stdin_path) : NULL);
	put(doc, "compare", jstr(lf_compare_name(s->compare)));
	put(doc, "timeout_s", jseconds(s->timeout));
	put(doc, "reference", reference_json(s));
	return doc;
}

static void candidate_json(json_object *o, const struct lf_sweep_run *r)
{
	put(o, "run", json_object_new_int((int)r->index));
	put(o, "rule", jstr(r->rule));
	put(o, "fault", r->by_seed ? NULL : json_object_new_uint64(r->fault));
	put(o, "seed", r->by_seed ? json_object_new_uint64(r->seed) : NULL);
}

int lf_sweep_save(const struct lf_sweep *s)
{
	json_object *doc = sweep_json(s);
	json_object *runs = json_object_new_array();
	for (size_t i = 0; i < s->nruns; i++) {
		json_object *o = json_object_new_object();
		candidate_json(o, &s->run[i]);
		json_object_array_add(runs, o);
	}
	put(doc, "runs", runs);
	char path[PATH_MAX + 64];
	lf_sweep_path(s, "sweep.json", path);
	return write_json(path, doc);
}

static void result_json(json_object *o, const struct lf_sweep_run *r)
{
	put(o, "outcome", jstr(lf_outcome_name(r->outcome)));
	put(o, "status", r->status >= 0 ? json_object_new_int(r->status) : NULL);
	put(o, "signal", jsignal(r->sig));
	put(o, "signal_number", r->sig ? json_object_new_int(r->sig) : NULL);
	put(o, "duration_s", jseconds(r->duration));
	put(o, "faults", r->have_stats ? json_object_new_uint64(r->faults) : NULL);
	put(o, "poisoned", r->have_stats ? json_object_new_uint64(r->poisoned) : NULL);
	put(o, "stdout_bytes", json_object_new_uint64(r->out_len));
	put(o, "stdout_crc32", jcrc(r->out_crc));
}

int lf_sweep_save_result(const struct lf_sweep *s, const struct lf_sweep_run *r)
{
	json_object *o = json_object_new_object();
	candidate_json(o, r);
	result_json(o, r);
	char path[PATH_MAX + 64];
	lf_sweep_run_path(s, r, ".result.json", path);
	return write_json(path, o);
}

/* ---- reading ------------------------------------------------------------ */

static json_object *get(json_object *o, const char *key, json_type t)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static int get_path(json_object *o, const char *key, char *out, bool optional)
{
	json_object *v = get(o, key, json_type_string);
	out[0] = '\0';
	if (!v)
		return optional ? 0 : -1;
	return (size_t)snprintf(out, PATH_MAX, "%s", json_object_get_string(v)) < PATH_MAX ? 0 : -1;
}

static bool get_u64(json_object *o, const char *key, uint64_t *out)
{
	json_object *v = get(o, key, json_type_int);
	if (!v || json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

static double get_double(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

static uint32_t get_crc(json_object *o, const char *key)
{
	json_object *v = get(o, key, json_type_string);
	return v ? (uint32_t)strtoul(json_object_get_string(v), NULL, 16) : 0;
}

static json_object *read_json(const char *path, bool missing_ok, int *missing)
{
	json_object *doc = json_object_from_file(path);
	if (!doc) {
		if (missing_ok && errno == ENOENT) {
			*missing = 1;
			return NULL;
		}
		lf_error("cannot read %s: %s", path, json_util_get_last_err());
	}
	return doc;
}

static int load_candidate(json_object *o, struct lf_sweep_run *r)
{
	json_object *rule = get(o, "rule", json_type_string);
	json_object *run = get(o, "run", json_type_int);
	if (!rule || !run)
		return -1;
	r->index = (unsigned)json_object_get_int(run);
	r->rule = strdup(json_object_get_string(rule));
	r->by_seed = get_u64(o, "seed", &r->seed);
	if (!r->by_seed && !get_u64(o, "fault", &r->fault))
		return -1;
	return r->rule ? 0 : -1;
}

int lf_sweep_load(const char *dir, struct lf_sweep *s)
{
	memset(s, 0, sizeof *s);
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/sweep.json", dir);
	int missing = 0;
	json_object *doc = read_json(path, false, &missing);
	if (!doc)
		return -1;
	int rc = -1;
	json_object *fmt = get(doc, "format", json_type_int);
	json_object *argv = get(doc, "argv", json_type_array);
	json_object *ref = get(doc, "reference", json_type_object);
	json_object *runs = get(doc, "runs", json_type_array);
	json_object *cmp = get(doc, "compare", json_type_string);
	if (!fmt || json_object_get_int(fmt) != SWEEP_FORMAT || !argv || !ref || !runs || !cmp ||
	    get_path(doc, "lazyfault", s->self, false) || get_path(doc, "library", s->lib, false) ||
	    get_path(doc, "rules", s->rules, false) || get_path(doc, "program", s->prog, false) ||
	    get_path(doc, "cwd", s->cwd, false) || get_path(doc, "dir", s->dir, false) ||
	    get_path(doc, "stdin", s->stdin_path, true) ||
	    lf_compare_parse(json_object_get_string(cmp), &s->compare) != 0)
		goto bad;
	s->timeout = get_double(doc, "timeout_s");
	s->argc = (int)json_object_array_length(argv);
	s->argv = calloc((size_t)s->argc + 1, sizeof *s->argv);
	if (!s->argv || s->argc == 0)
		goto bad;
	for (int i = 0; i < s->argc; i++) {
		json_object *a = json_object_array_get_idx(argv, (size_t)i);
		if (!json_object_is_type(a, json_type_string) ||
		    !(s->argv[i] = strdup(json_object_get_string(a))))
			goto bad;
	}
	json_object *st = get(ref, "status", json_type_int), *rr = get(ref, "rules", json_type_array);
	if (!st || !rr || !get_u64(ref, "stdout_bytes", &s->ref_len))
		goto bad;
	s->ref_status = json_object_get_int(st);
	s->ref_duration = get_double(ref, "duration_s");
	s->ref_crc = get_crc(ref, "stdout_crc32");
	size_t n = json_object_array_length(rr);
	s->rule = calloc(n ? n : 1, sizeof *s->rule);
	if (!s->rule)
		goto bad;
	for (size_t i = 0; i < n; i++, s->nrules++) {
		json_object *o = json_object_array_get_idx(rr, i);
		struct lf_sweep_rule *x = &s->rule[i];
		json_object *name = get(o, "name", json_type_string);
		if (!name || !(x->name = strdup(json_object_get_string(name))) ||
		    !get_u64(o, "after", &x->after) || !get_u64(o, "every", &x->every) ||
		    !get_u64(o, "faults", &x->faults) || !get_u64(o, "candidates", &x->candidates))
			goto bad;
	}
	n = json_object_array_length(runs);
	s->run = calloc(n ? n : 1, sizeof *s->run);
	if (!s->run)
		goto bad;
	for (size_t i = 0; i < n; i++, s->nruns++)
		if (load_candidate(json_object_array_get_idx(runs, i), &s->run[i]) != 0)
			goto bad;
	rc = 0;
	goto out;
bad:
	lf_error("%s: not a sweep plan written by this version of lazyfault", path);
	lf_sweep_free(s);
out:
	json_object_put(doc);
	return rc;
}

int lf_sweep_load_result(const struct lf_sweep *s, struct lf_sweep_run *r)
{
	char path[PATH_MAX + 64];
	lf_sweep_run_path(s, r, ".result.json", path);
	int missing = 0;
	json_object *o = read_json(path, true, &missing);
	if (!o)
		return missing ? 1 : -1;
	int rc = -1;
	json_object *outcome = get(o, "outcome", json_type_string);
	json_object *run = get(o, "run", json_type_int);
	if (!outcome || !run || (unsigned)json_object_get_int(run) != r->index) {
		lf_error("%s: not the result of run %u", path, r->index);
		goto out;
	}
	r->outcome = LF_NOUTCOMES;
	for (int i = 0; i < LF_NOUTCOMES; i++)
		if (!strcmp(json_object_get_string(outcome), lf_outcome_name((enum lf_outcome)i)))
			r->outcome = (enum lf_outcome)i;
	if (r->outcome == LF_NOUTCOMES) {
		lf_error("%s: unknown outcome '%s'", path, json_object_get_string(outcome));
		goto out;
	}
	json_object *st = get(o, "status", json_type_int), *sig = get(o, "signal_number", json_type_int);
	r->status = st ? json_object_get_int(st) : -1;
	r->sig = sig ? json_object_get_int(sig) : 0;
	r->duration = get_double(o, "duration_s");
	r->have_stats = get_u64(o, "faults", &r->faults) && get_u64(o, "poisoned", &r->poisoned);
	get_u64(o, "stdout_bytes", &r->out_len);
	r->out_crc = get_crc(o, "stdout_crc32");
	r->done = true;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* ---- the summary ---------------------------------------------------------- */

static void csv_field(FILE *f, const char *v, bool last)
{
	if (strpbrk(v, ",\"\n\r")) {
		fputc('"', f);
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else {
		fputs(v, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void csv_u64(FILE *f, bool have, uint64_t v)
{
	char b[24] = "";
	if (have)
		snprintf(b, sizeof b, "%" PRIu64, v);
	csv_field(f, b, false);
}

static int write_csv(const struct lf_sweep *s, char **replay)
{
	char path[PATH_MAX + 64];
	lf_sweep_path(s, "summary.csv", path);
	FILE *f = fopen(path, "w");
	if (!f) {
		lf_error("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	fputs("run,rule,fault,seed,outcome,status,signal,duration_s,faults,poisoned,"
	      "stdout_bytes,stdout_crc32,rules_file,replay\n", f);
	for (size_t i = 0; i < s->nruns; i++) {
		const struct lf_sweep_run *r = &s->run[i];
		if (!r->done)
			continue;
		char b[PATH_MAX + 64];
		csv_u64(f, true, r->index);
		csv_field(f, r->rule, false);
		csv_u64(f, !r->by_seed, r->fault);
		csv_u64(f, r->by_seed, r->seed);
		csv_field(f, lf_outcome_name(r->outcome), false);
		csv_u64(f, r->status >= 0, (uint64_t)r->status);
		b[0] = '\0';
		if (r->sig)
			lf_signal_name(r->sig, b, sizeof b);
		csv_field(f, b, false);
		snprintf(b, sizeof b, "%.3f", r->duration);
		csv_field(f, b, false);
		csv_u64(f, r->have_stats, r->faults);
		csv_u64(f, r->have_stats, r->poisoned);
		csv_u64(f, true, r->out_len);
		snprintf(b, sizeof b, "%08" PRIx32, r->out_crc);
		csv_field(f, b, false);
		b[0] = '\0';
		if (r->outcome != LF_SURVIVED)
			lf_sweep_run_path(s, r, ".ini", b);
		csv_field(f, b, false);
		csv_field(f, r->outcome != LF_SURVIVED && replay[i] ? replay[i] : "", true);
	}
	if (fclose(f) != 0) {
		lf_error("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The crash report of a run that crashed, read from its statistics. */
static bool run_crash(const struct lf_sweep *s, const struct lf_sweep_run *r, struct lf_stats *st)
{
	char pattern[PATH_MAX + 64];
	lf_sweep_run_path(s, r, ".stats.*.json", pattern);
	return r->outcome == LF_CRASH && lf_crash_find(pattern, st);
}

static json_object *frames_json(const struct lf_stats_frame *f, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		char name[2048];
		lf_crash_frame_name(&f[i], NULL, name, sizeof name);
		json_object_array_add(a, jstr(name));
	}
	return a;
}

/* "crash": what the library recorded, symbolized; NULL without one. */
static json_object *crash_json(const struct lf_sweep *s, const struct lf_sweep_run *r)
{
	struct lf_stats st;
	if (!run_crash(s, r, &st))
		return NULL;
	json_object *o = json_object_new_object();
	char head[512];
	lf_crash_headline(&st, head, sizeof head);
	put(o, "report", jstr(head));
	put(o, "address", json_object_new_uint64(st.crash.addr));
	put(o, "touched_in", frames_json(st.crash.frames, st.crash.nframes));
	if (st.crash.poisoned) {
		put(o, "rule", jstr(st.crash.rule));
		put(o, "region", json_object_new_uint64(st.crash.region));
		put(o, "page", json_object_new_uint64(st.crash.page));
		put(o, "allocated_in", frames_json(st.crash.alloc, st.crash.nalloc));
	}
	lf_stats_free(&st);
	return o;
}

static int write_summary_json(const struct lf_sweep *s, char **replay, const size_t *count,
			      size_t missing)
{
	json_object *doc = sweep_json(s);
	json_object *counts = json_object_new_object();
	for (int o = 0; o < LF_NOUTCOMES; o++)
		put(counts, lf_outcome_name((enum lf_outcome)o), json_object_new_uint64(count[o]));
	put(doc, "outcomes", counts);
	put(doc, "missing", json_object_new_uint64(missing));
	json_object *runs = json_object_new_array();
	for (size_t i = 0; i < s->nruns; i++) {
		const struct lf_sweep_run *r = &s->run[i];
		if (!r->done)
			continue;
		json_object *o = json_object_new_object();
		candidate_json(o, r);
		result_json(o, r);
		/* A survived run's files are removed: nothing to replay. */
		char ini[PATH_MAX + 64];
		lf_sweep_run_path(s, r, ".ini", ini);
		bool kept = r->outcome != LF_SURVIVED;
		put(o, "rules_file", kept ? jstr(ini) : NULL);
		put(o, "replay", kept && replay[i] ? jstr(replay[i]) : NULL);
		put(o, "crash", crash_json(s, r));
		json_object_array_add(runs, o);
	}
	put(doc, "runs", runs);
	char path[PATH_MAX + 64];
	lf_sweep_path(s, "summary.json", path);
	return write_json(path, doc);
}

static void describe_end(const struct lf_sweep_run *r, char *buf, size_t len)
{
	if (r->outcome == LF_HANG)
		snprintf(buf, len, "killed after %.1f s", r->duration);
	else if (r->sig)
		lf_signal_name(r->sig, buf, len);
	else
		snprintf(buf, len, "status %d", r->status);
}

/* At most this many runs that did not survive are listed on the terminal;
 * summary.csv has them all. */
#define LISTED 20

static void print_table(const struct lf_sweep *s, char **replay, const size_t *count,
			size_t missing, FILE *out)
{
	size_t done = 0;
	for (int o = 0; o < LF_NOUTCOMES; o++)
		done += count[o];
	fprintf(out, "lazyfault sweep: %zu runs of %s (reference: status %d, %" PRIu64
		" bytes of output, %.2f s)\n", done, s->prog, s->ref_status, s->ref_len,
		s->ref_duration);
	fprintf(out, "  %-16s %8s %10s %6s %8s %10s %12s %6s %5s\n", "rule", "faults",
		"candidates", "runs", "survived", "error-exit", "wrong-output", "crash", "hang");
	for (size_t i = 0; i < s->nrules; i++) {
		const struct lf_sweep_rule *x = &s->rule[i];
		size_t c[LF_NOUTCOMES] = { 0 }, runs = 0;
		for (size_t j = 0; j < s->nruns; j++)
			if (s->run[j].done && !strcmp(s->run[j].rule, x->name)) {
				c[s->run[j].outcome]++;
				runs++;
			}
		fprintf(out, "  %-16.16s %8" PRIu64 " %10" PRIu64 " %6zu %8zu %10zu %12zu %6zu %5zu\n",
			x->name, x->faults, x->candidates, runs, c[LF_SURVIVED], c[LF_ERROR_EXIT],
			c[LF_WRONG_OUTPUT], c[LF_CRASH], c[LF_HANG]);
	}
	if (missing)
		fprintf(out, "  %zu runs have no result yet\n", missing);
	size_t bad = done - count[LF_SURVIVED], listed = 0;
	if (bad)
		fprintf(out, "Did not survive (replay each from %s):\n", s->cwd);
	for (size_t i = 0; i < s->nruns && listed < LISTED; i++) {
		const struct lf_sweep_run *r = &s->run[i];
		if (!r->done || r->outcome == LF_SURVIVED)
			continue;
		char end[64], what[48];
		describe_end(r, end, sizeof end);
		if (r->by_seed)
			snprintf(what, sizeof what, "seed %" PRIu64, r->seed);
		else
			snprintf(what, sizeof what, "fault %" PRIu64, r->fault);
		fprintf(out, "  run %-4u %-12.12s %-12s %-12s %-20s %.2f s\n    %s\n", r->index,
			r->rule, what, lf_outcome_name(r->outcome), end, r->duration,
			replay[i] ? replay[i] : "");
		struct lf_stats st;
		if (run_crash(s, r, &st)) {
			lf_crash_print_short(&st, NULL, "    ", 4, out);
			lf_stats_free(&st);
		}
		listed++;
	}
	if (bad > listed)
		fprintf(out, "  ... and %zu more in %s/summary.csv\n", bad - listed, s->dir);
	fprintf(out, "Results: %s/summary.json, %s/summary.csv\n", s->dir, s->dir);
}

int lf_sweep_summary(const struct lf_sweep *s, FILE *out)
{
	size_t count[LF_NOUTCOMES] = { 0 }, missing = 0;
	char **replay = calloc(s->nruns ? s->nruns : 1, sizeof *replay);
	if (!replay) {
		lf_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->nruns; i++) {
		if (!s->run[i].done) {
			missing++;
			continue;
		}
		count[s->run[i].outcome]++;
		replay[i] = lf_sweep_replay(s, &s->run[i]);
	}
	int rc = write_summary_json(s, replay, count, missing) | write_csv(s, replay);
	print_table(s, replay, count, missing, out);
	for (size_t i = 0; i < s->nruns; i++)
		free(replay[i]);
	free(replay);
	return rc ? -1 : 0;
}

void lf_sweep_free(struct lf_sweep *s)
{
	for (int i = 0; s->argv && i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	for (size_t i = 0; i < s->nrules; i++)
		free(s->rule[i].name);
	free(s->rule);
	for (size_t i = 0; i < s->nruns; i++)
		free(s->run[i].rule);
	free(s->run);
	memset(s, 0, sizeof *s);
}
