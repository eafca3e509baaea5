/* Reading a statistics file: see statsfile.h. */
#include "statsfile.h"

#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const counter_names[LF_STAT_NCOUNTERS] = {
	[LF_STAT_REGIONS] = "regions", [LF_STAT_BYTES_REGISTERED] = "bytes_registered",
	[LF_STAT_FAULTS] = "faults", [LF_STAT_PAGES_ZEROED] = "pages_zeroed",
	[LF_STAT_PAGES_LOADED] = "pages_loaded", [LF_STAT_BYTES_READ] = "bytes_read",
	[LF_STAT_PAGES_POISONED] = "pages_poisoned", [LF_STAT_HANDOFFS] = "handoffs",
	[LF_STAT_BYTES_HANDED_OFF] = "bytes_handed_off", [LF_STAT_SEED] = "seed",
	[LF_STAT_FAULT_NS_P50] = "fault_ns_p50", [LF_STAT_FAULT_NS_P99] = "fault_ns_p99",
	[LF_STAT_READ_ERRORS] = "read_errors", [LF_STAT_READS_CUT] = "reads_cut",
	[LF_STAT_CALLS_EFAULT] = "calls_efault", [LF_STAT_CALLS_SHORT] = "calls_short",
};

static const char *const process_names[LF_STAT_NPROCESS] = {
	[LF_STAT_WALL_NS] = "wall_ns", [LF_STAT_BLOCKED_NS] = "blocked_ns",
	[LF_STAT_TRACE_RECORDS] = "trace_records", [LF_STAT_TRACE_DROPPED] = "trace_dropped",
};

const char *lf_stats_counter_name(enum lf_stat_counter c)
{
	return c < LF_STAT_NCOUNTERS ? counter_names[c] : "?";
}

/* The whole file into a NUL-terminated buffer, or NULL with err set. */
static char *slurp(const char *path, size_t *len, enum lf_stats_status *st,
		   char *err, size_t errlen)
{
	/* O_NOFOLLOW: a symlink planted where a statistics file is expected is
	 * not followed; O_NONBLOCK: opening a FIFO does not wait for a writer. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		*st = e == ENOENT ? LF_STATS_MISSING : LF_STATS_REFUSED;
		if (e == ELOOP)
			snprintf(err, errlen, "%s: is a symbolic link: not read", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return NULL;
	}
	*st = LF_STATS_REFUSED;
	char *buf = NULL;
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file: not read", path);
		goto fail;
	}
	if (sb.st_size > (off_t)LF_STATSFILE_MAX) {
		snprintf(err, errlen, "%s: %lld bytes, more than a statistics file can be "
			 "(%u MiB): not read", path, (long long)sb.st_size, LF_STATSFILE_MAX >> 20);
		goto fail;
	}
	/* The size may change while we read (a writer still at work): read to
	 * the end, never past the bound. */
	size_t cap = (size_t)sb.st_size + 1, n = 0;
	buf = malloc(cap + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (;;) {
		if (n == cap) {
			if (cap > LF_STATSFILE_MAX) {
				snprintf(err, errlen, "%s: grew past %u MiB while read: not read",
					 path, LF_STATSFILE_MAX >> 20);
				goto fail;
			}
			char *nb = realloc(buf, 2 * cap + 1);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	*st = LF_STATS_OK;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static char *dup_string(json_object *obj, const char *key)
{
	json_object *v;
	const char *s = "";
	if (json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string))
		s = json_object_get_string(v);
	return strdup(s);
}

/* A non-negative integer, up to UINT64_MAX. */
static bool get_u64(json_object *obj, const char *key, uint64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	if (json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

/* A number (an integer or not), 0 when absent. */
static double get_double(json_object *obj, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return 0;
	return json_object_get_double(v);
}

/* "argv": an array of strings (anything else in it is skipped). */
static int read_argv(json_object *doc, struct lf_stats *out)
{
	json_object *a;
	if (!json_object_object_get_ex(doc, "argv", &a) || !json_object_is_type(a, json_type_array))
		return 0;
	size_t n = json_object_array_length(a);
	out->argv = calloc(n ? n : 1, sizeof *out->argv);
	if (!out->argv)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string))
			continue;
		if (!(out->argv[out->argc] = strdup(json_object_get_string(v))))
			return -1;
		out->argc++;
	}
	return 0;
}

/* An array of {"object": PATH, "offset": N}; what is not one is skipped. */
static int read_frames(json_object *obj, const char *key, struct lf_stats_frame **out,
		       size_t *n)
{
	json_object *a;
	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(obj, key, &a) || !json_object_is_type(a, json_type_array))
		return 0;
	size_t len = json_object_array_length(a);
	if (!(*out = calloc(len ? len : 1, sizeof **out)))
		return -1;
	for (size_t i = 0; i < len; i++) {
		json_object *f = json_object_array_get_idx(a, i), *o;
		uint64_t off;
		if (!json_object_is_type(f, json_type_object) ||
		    !json_object_object_get_ex(f, "object", &o) || !json_object_is_type(o, json_type_string) ||
		    !get_u64(f, "offset", &off))
			continue;
		if (!((*out)[*n].object = strdup(json_object_get_string(o))))
			return -1;
		(*out)[(*n)++].offset = off;
	}
	return 0;
}

/* "crash": {"signal", "code", "address", "ip", "thread", "frames",
 * "poisoned": {"rule", "region", "page", "allocated"}} */
static int read_crash(json_object *doc, struct lf_stats_crash *c)
{
	json_object *jc, *jp, *v;
	uint64_t x;
	if (!json_object_object_get_ex(doc, "crash", &jc) || !json_object_is_type(jc, json_type_object))
		return 0;
	c->present = true;
	c->sig = get_u64(jc, "signal", &x) ? (int)x : 0;
	if (json_object_object_get_ex(jc, "code", &v) && json_object_is_type(v, json_type_int))
		c->code = (int)json_object_get_int64(v);
	c->has_addr = get_u64(jc, "address", &c->addr);
	get_u64(jc, "ip", &c->ip);
	get_u64(jc, "thread", &c->tid);
	if (read_frames(jc, "frames", &c->frames, &c->nframes) != 0)
		return -1;
	if (!json_object_object_get_ex(jc, "poisoned", &jp) || !json_object_is_type(jp, json_type_object))
		return 0;
	c->poisoned = true;
	get_u64(jp, "region", &c->region);
	get_u64(jp, "page", &c->page);
	if (!(c->rule = dup_string(jp, "rule")))
		return -1;
	return read_frames(jp, "allocated", &c->alloc, &c->nalloc);
}

static int read_sites(json_object *doc, struct lf_stats *out)
{
	json_object *a;
	if (!json_object_object_get_ex(doc, "allocation_sites", &a) ||
	    !json_object_is_type(a, json_type_array))
		return 0;
	size_t len = json_object_array_length(a);
	if (!(out->sites = calloc(len ? len : 1, sizeof *out->sites)))
		return -1;
	for (size_t i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(a, i);
		if (!json_object_is_type(o, json_type_object))
			continue;
		struct lf_stats_site *site = &out->sites[out->nsites++];
		get_u64(o, "region", &site->region);
		if (!(site->rule = dup_string(o, "rule")) ||
		    read_frames(o, "frames", &site->frames, &site->nframes) != 0)
			return -1;
	}
	return 0;
}

static void free_frames(struct lf_stats_frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].object);
	free(f);
}

static int read_rule(json_object *jr, struct lf_stats_rule *r)
{
	memset(r, 0, sizeof *r);
	r->name = dup_string(jr, "name");
	r->action = dup_string(jr, "action");
	if (!r->name || !r->action)
		return -1;
	for (int c = 0; c < LF_STAT_NCOUNTERS; c++)
		if (get_u64(jr, counter_names[c], &r->value[c]))
			r->present |= 1u << c;
	return 0;
}

enum lf_stats_status lf_stats_read(const char *path, struct lf_stats *out,
				   char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	enum lf_stats_status st;
	size_t len = 0;
	char *text = slurp(path, &len, &st, err, errlen);
	if (!text)
		return st;

	json_tokener *tok = json_tokener_new();
	if (!tok) {
		free(text);
		snprintf(err, errlen, "%s: out of memory", path);
		return LF_STATS_REFUSED;
	}
	json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	bool trailing = doc && text[end + strspn(text + end, " \t\r\n")] != '\0';
	free(text);
	if (!doc && jerr == json_tokener_continue) {
		snprintf(err, errlen, "%s: is incomplete (the JSON stops after %zu bytes)", path, len);
		return LF_STATS_INCOMPLETE;
	}
	if (!doc || trailing) {
		snprintf(err, errlen, "%s: not JSON: %s", path,
			 doc ? "text after the end" : json_tokener_error_desc(jerr));
		json_object_put(doc);
		return LF_STATS_REFUSED;
	}
	st = LF_STATS_REFUSED;
	json_object *jpid, *jrules;
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "pid", &jpid) || !json_object_is_type(jpid, json_type_int) ||
	    !json_object_object_get_ex(doc, "rules", &jrules) ||
	    !json_object_is_type(jrules, json_type_array)) {
		snprintf(err, errlen, "%s: not a statistics file (no \"pid\" and \"rules\")", path);
		goto out;
	}
	out->pid = json_object_get_int64(jpid);
	out->mode = dup_string(doc, "mode");
	out->version = dup_string(doc, "version");
	out->exe = dup_string(doc, "exe");
	out->poisoned_call = dup_string(doc, "poisoned_call");
	uint64_t ppid;
	out->ppid = get_u64(doc, "ppid", &ppid) ? (long long)ppid : -1;
	if (!get_u64(doc, "page_size", &out->page_size))
		out->page_size = 0;
	out->start_time = get_double(doc, "start_time");
	out->end_time = get_double(doc, "end_time");
	for (int c = 0; c < LF_STAT_NPROCESS; c++)
		if (get_u64(doc, process_names[c], &out->process[c]))
			out->process_present |= 1u << c;
	size_t n = json_object_array_length(jrules);
	out->rule = calloc(n ? n : 1, sizeof *out->rule);
	if (!out->mode || !out->version || !out->exe || !out->rule || !out->poisoned_call ||
	    read_argv(doc, out) != 0 || read_crash(doc, &out->crash) != 0 ||
	    read_sites(doc, out) != 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *jr = json_object_array_get_idx(jrules, i);
		if (!json_object_is_type(jr, json_type_object)) {
			snprintf(err, errlen, "%s: rule %zu is not an object", path, i + 1);
			goto out;
		}
		out->nrules++;
		if (read_rule(jr, &out->rule[i]) != 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	st = LF_STATS_OK;
out:
	json_object_put(doc);
	if (st != LF_STATS_OK)
		lf_stats_free(out);
	return st;
}

void lf_stats_free(struct lf_stats *s)
{
	for (size_t i = 0; i < s->nrules; i++) {
		free(s->rule[i].name);
		free(s->rule[i].action);
	}
	for (size_t i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	free(s->rule);
	free(s->mode);
	free(s->version);
	free(s->exe);
	free(s->poisoned_call);
	free_frames(s->crash.frames, s->crash.nframes);
	free_frames(s->crash.alloc, s->crash.nalloc);
	free(s->crash.rule);
	for (size_t i = 0; i < s->nsites; i++) {
		free(s->sites[i].rule);
		free_frames(s->sites[i].frames, s->sites[i].nframes);
	}
	free(s->sites);
	memset(s, 0, sizeof *s);
}

int lf_stats_copy(const char *from, const char *to, char *err, size_t errlen)
{
	enum lf_stats_status st;
	size_t len = 0;
	char *text = slurp(from, &len, &st, err, errlen);
	if (!text)
		return -1;
	struct lf_replace r;
	if (lf_replace_begin(&r, to, 0600) == 0) {
		lf_replace_write(&r, text, len);
		lf_replace_commit(&r, to);
	}
	free(text);
	if (r.err || r.refused) {
		snprintf(err, errlen, "cannot write %s: %s", to, lf_replace_why(&r));
		return -1;
	}
	return 0;
}

const struct lf_stats_rule *lf_stats_rule(const struct lf_stats *s, const char *name)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (!strcmp(s->rule[i].name, name))
			return &s->rule[i];
	return NULL;
}

bool lf_stats_get(const struct lf_stats_rule *r, enum lf_stat_counter c, uint64_t *out)
{
	if (c >= LF_STAT_NCOUNTERS || !(r->present & (1u << c)))
		return false;
	*out = r->value[c];
	return true;
}
