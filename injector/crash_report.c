/* The crash report of a statistics file: see crash_report.h. */
#include "crash_report.h"

#include <glob.h>
#include <inttypes.h>
#include <string.h>

#include "lazyfault.h"
#include "sweep.h"
#include "symbolize.h"
#include "text.h"

void lf_crash_headline(const struct lf_stats *s, char *out, size_t len)
{
	const struct lf_stats_crash *c = &s->crash;
	char sig[32], at[48] = "", rule[256] = "";
	lf_signal_name(c->sig, sig, sizeof sig);
	if (c->has_addr)
		snprintf(at, sizeof at, " at 0x%" PRIx64, c->addr);
	if (c->poisoned) {
		char name[128];
		lf_escape_text(c->rule, name, sizeof name);
		snprintf(rule, sizeof rule, ", in page %" PRIu64 " of region %" PRIu64
			 " of rule '%s', which the library poisoned", c->page, c->region, name);
	}
	snprintf(out, len, "died of %s%s (ip 0x%" PRIx64 ")%s", sig, at, c->ip, rule);
}

void lf_crash_frame_name(const struct lf_stats_frame *f, const char *root, char *out, size_t len)
{
	char raw[2048];
	lf_symbolize(root, f->object, f->offset, raw, sizeof raw);
	lf_escape_text(raw, out, len);
}

static void print_frames(const struct lf_stats_frame *f, size_t n, const char *root, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		char name[2048];
		lf_crash_frame_name(&f[i], root, name, sizeof name);
		fprintf(out, "    #%zu %s\n", i, name);
	}
	if (!n)
		fprintf(out, "    (no frame could be named)\n");
}

void lf_crash_print(const struct lf_stats *s, const char *debug_root, FILE *out)
{
	const struct lf_stats_crash *c = &s->crash;
	if (!c->present)
		return;
	char head[512];
	lf_crash_headline(s, head, sizeof head);
	fprintf(out, "lazyfault: pid %lld %s\n", s->pid, head);
	fprintf(out, "  thread %" PRIu64 " was in:\n", c->tid);
	print_frames(c->frames, c->nframes, debug_root, out);
	if (c->poisoned) {
		char name[128];
		lf_escape_text(c->rule, name, sizeof name);
		fprintf(out, "  region %" PRIu64 " of rule '%s' was allocated in:\n", c->region, name);
		if (c->nalloc)
			print_frames(c->alloc, c->nalloc, debug_root, out);
		else
			fprintf(out, "    (its allocating stack was not kept)\n");
	}
}

/* The directory of the path that starts at path and ends before any of
 * `ends`, left out. */
static void drop_dir_at(char *path, const char *ends)
{
	char *end = path + strcspn(path, ends), *slash = path;
	for (char *c = path; c < end; c++)
		if (*c == '/')
			slash = c + 1;
	memmove(path, slash, strlen(slash) + 1);
}

/* A frame's name with its objects' directories left out: "f+0x1 (prog)",
 * "libc.so.6+0x2a1c0", "x.so+0x10 (x.so: No such file or directory)". */
static void drop_directory(char *name)
{
	if (name[0] == '/')
		drop_dir_at(name, "+");
	char *open = strstr(name, " (/");
	if (open)
		drop_dir_at(open + 2, ":)");
}

/* "f+0x1 (obj) < g+0x2 (obj)": at most depth frames. */
static void join_frames(const struct lf_stats_frame *f, size_t n, int depth, const char *root,
			char *out, size_t len)
{
	size_t at = 0;
	out[0] = 0;
	for (size_t i = 0; i < n && (int)i < depth && at + 1 < len; i++) {
		char name[1024];
		lf_crash_frame_name(&f[i], root, name, sizeof name);
		drop_directory(name);
		int w = snprintf(out + at, len - at, "%s%s", i ? " < " : "", name);
		if (w < 0)
			break;
		at += (size_t)w;
	}
	if (n > (size_t)depth && at + 6 < len)
		snprintf(out + at, len - at, " < ...");
}

void lf_crash_print_short(const struct lf_stats *s, const char *debug_root, const char *indent,
			  int depth, FILE *out)
{
	const struct lf_stats_crash *c = &s->crash;
	if (!c->present)
		return;
	char head[512], frames[4096];
	lf_crash_headline(s, head, sizeof head);
	fprintf(out, "%s%s\n", indent, head);
	join_frames(c->frames, c->nframes, depth, debug_root, frames, sizeof frames);
	fprintf(out, "%s  touched in: %s\n", indent, *frames ? frames : "(no frame could be named)");
	if (c->poisoned) {
		join_frames(c->alloc, c->nalloc, depth, debug_root, frames, sizeof frames);
		fprintf(out, "%s  allocated in: %s\n", indent, *frames ? frames : "(not kept)");
	}
}

bool lf_crash_find(const char *pattern, struct lf_stats *out)
{
	glob_t g;
	bool found = false;
	if (glob(pattern, 0, NULL, &g) != 0)
		return false;
	for (size_t i = 0; i < g.gl_pathc && !found; i++) {
		char err[PATH_MAX + 256];
		if (lf_stats_read(g.gl_pathv[i], out, err, sizeof err) != LF_STATS_OK)
			continue;
		found = out->crash.present;
		if (!found)
			lf_stats_free(out);
	}
	globfree(&g);
	return found;
}

void lf_crash_print_sites(const struct lf_stats *s, const char *debug_root, int depth, FILE *out)
{
	for (size_t i = 0; i < s->nsites; i++) {
		char name[128], frames[4096];
		lf_escape_text(s->sites[i].rule, name, sizeof name);
		join_frames(s->sites[i].frames, s->sites[i].nframes, depth, debug_root, frames,
			    sizeof frames);
		fprintf(out, "  pid %lld, region %" PRIu64 " of rule '%s': %s\n", s->pid,
			s->sites[i].region, name, *frames ? frames : "(no frame could be named)");
	}
}
