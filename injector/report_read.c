/* Reading a fault trace (common/trace_format.h) into a struct lf_trace.
 *
 * Only a regular file is read, opened without following a symlink and
 * without blocking on a FIFO, mapped read-only.  A trace whose process was
 * killed is read as far as it goes: claimed records it never finished are
 * counted as torn and skipped. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *lf_trace_fill_name(unsigned fill)
{
	static const char *const names[] = {"?", "zero", "copy", "continue", "poison"};
	return fill < sizeof names / sizeof names[0] ? names[fill] : "?";
}

const char *lf_trace_match_name(unsigned match)
{
	static const char *const names[] = {"anon", "file", "malloc"};
	return match < 3 ? names[match] : "?";
}

/* A string being put together from its pieces. */
struct piece_buf {
	unsigned kind;
	uint32_t owner;
	uint64_t len, have;
	char *s;
};

static int fail(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
	return -1;
}

static int by_id(const void *a, const void *b)
{
	const struct lf_tr_region *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct lf_tr_region *lf_trace_region(const struct lf_trace *t, uint32_t id)
{
	struct lf_tr_region key = {.id = id};
	return bsearch(&key, t->region, t->nregions, sizeof key, by_id);
}

const struct lf_tr_object *lf_trace_object(const struct lf_trace *t, uint32_t id)
{
	for (size_t i = 0; i < t->nobjects; i++)
		if (t->object[i].id == id)
			return &t->object[i];
	return NULL;
}

const char *lf_trace_rule_name(const struct lf_trace *t, unsigned rule)
{
	return rule < t->nrules && t->rule[rule].name ? t->rule[rule].name : "?";
}

/* The region a SITE or REGION_FILE record is about: the last taken, or
 * one inherited of that id. */
static struct lf_tr_region *find_unsorted(struct lf_trace *t, uint32_t id)
{
	for (size_t i = t->nregions; i-- > 0;)
		if (t->region[i].id == id)
			return &t->region[i];
	return NULL;
}

/* A finished string goes to what it names. */
static void attach(struct lf_trace *t, struct piece_buf *b, ssize_t last_poison)
{
	char **dst = NULL;
	switch (b->kind) {
	case LF_TRACE_S_EXE:
		dst = &t->exe;
		break;
	case LF_TRACE_S_ARGV:
		for (uint64_t i = 0; i + 1 < b->len; i++) /* arguments joined by spaces */
			if (!b->s[i])
				b->s[i] = ' ';
		dst = &t->argv;
		break;
	case LF_TRACE_S_RULE:
		if (b->owner < t->nrules)
			dst = &t->rule[b->owner].name;
		break;
	case LF_TRACE_S_FILE: {
		struct lf_tr_region *r = find_unsorted(t, b->owner);
		if (r)
			dst = &r->file;
		break;
	}
	case LF_TRACE_S_OBJECT:
		for (size_t i = 0; i < t->nobjects; i++)
			if (t->object[i].id == b->owner)
				dst = &t->object[i].path;
		break;
	case LF_TRACE_S_WHY:
		if (last_poison >= 0)
			dst = &t->text[last_poison];
		break;
	}
	if (dst && !*dst) {
		*dst = b->s;
		b->s = NULL;
	}
	free(b->s);
	b->s = NULL;
}

/* Take one STRING piece; strings are written piece after piece. */
static void take_piece(struct lf_trace *t, struct piece_buf *b, const struct lf_trace_rec *r,
		       ssize_t last_poison)
{
	if (r->a16 == 0) {
		free(b->s);
		*b = (struct piece_buf){.kind = r->flags, .owner = r->a32, .len = r->t};
		if (r->t > 65536 || !(b->s = calloc(1, r->t + 1)))
			return;
	} else if (!b->s || b->kind != r->flags || b->owner != r->a32 ||
		   b->have != (uint64_t)r->a16 * LF_TRACE_STRING_CHUNK) {
		return; /* a piece of a string whose start is missing */
	}
	uint64_t n = b->len - b->have < LF_TRACE_STRING_CHUNK ? b->len - b->have : LF_TRACE_STRING_CHUNK;
	memcpy(b->s + b->have, r->u, n);
	b->have += n;
	if (b->have == b->len)
		attach(t, b, last_poison);
}

static bool add_region(struct lf_trace *t, size_t *cap, const struct lf_trace_rec *r)
{
	if (!lf_grow((void **)&t->region, cap, t->nregions, sizeof *t->region))
		return false;
	t->region[t->nregions++] = (struct lf_tr_region){
		.id = (uint32_t)r->u[0], .number = (uint32_t)r->u[1], .rule = r->a16,
		.match = r->flags & 3, .src = (r->flags >> 2) & 3,
		.inherited = (r->flags & LF_TRACE_INHERITED) != 0, .tid = r->a32, .t_taken = r->t,
		.start = r->u[2], .len = r->u[3], .offset = r->u[4], .prot = r->u[5],
		.t_released = UINT64_MAX, .base = r->u[2],
	};
	return true;
}

/* Walk the records; false when memory runs out. */
static bool walk(struct lf_trace *t, const struct lf_trace_rec *slots)
{
	size_t rcap = 0, ocap = 0;
	struct piece_buf b = {0};
	ssize_t last_poison = -1;
	t->rec = malloc((t->slots ? t->slots : 1) * sizeof *t->rec);
	t->text = calloc(t->slots ? t->slots : 1, sizeof *t->text);
	if (!t->rec || !t->text)
		return false;
	for (uint64_t i = 0; i < t->slots; i++) {
		const struct lf_trace_rec *r = &slots[i];
		struct lf_tr_region *reg;
		switch (r->type) {
		case 0:
			t->torn++;
			break;
		case LF_TRACE_PROCESS:
			break;
		case LF_TRACE_RULE:
			if (r->a16 >= t->nrules) {
				struct lf_tr_rule *nr = realloc(t->rule, (r->a16 + 1u) * sizeof *nr);
				if (!nr)
					return false;
				memset(nr + t->nrules, 0, (r->a16 + 1u - t->nrules) * sizeof *nr);
				t->rule = nr;
				t->nrules = r->a16 + 1u;
			}
			t->rule[r->a16] = (struct lf_tr_rule){.action = r->flags & 3,
							      .match = (r->flags >> 2) & 3,
							      .readahead = r->u[0], .delay_ns = r->u[1]};
			break;
		case LF_TRACE_REGION:
			if (!add_region(t, &rcap, r))
				return false;
			break;
		case LF_TRACE_REGION_FILE:
			if ((reg = find_unsorted(t, (uint32_t)r->u[0]))) {
				reg->has_file = true;
				reg->dev = r->u[1];
				reg->ino = r->u[2];
				reg->file_size = r->u[3];
				reg->mtime_ns = r->u[4];
			}
			break;
		case LF_TRACE_SITE:
			if ((reg = find_unsorted(t, (uint32_t)r->u[0]))) {
				reg->nframes = r->flags <= LF_TRACE_SITE_FRAMES ? r->flags : LF_TRACE_SITE_FRAMES;
				memcpy(reg->frame, &r->u[1], sizeof reg->frame);
			}
			break;
		case LF_TRACE_OBJECT:
			if (!lf_grow((void **)&t->object, &ocap, t->nobjects, sizeof *t->object))
				return false;
			t->object[t->nobjects++] = (struct lf_tr_object){.id = (uint32_t)r->u[0],
									  .base = r->u[1]};
			break;
		case LF_TRACE_STRING:
			take_piece(t, &b, r, last_poison);
			break;
		case LF_TRACE_FAULT:
		case LF_TRACE_POISON:
		case LF_TRACE_HANDOFF:
		case LF_TRACE_RELEASE:
		case LF_TRACE_DROP:
		case LF_TRACE_SIGNAL:
		case LF_TRACE_WRITTEN:
		case LF_TRACE_PREFETCH:
			if (r->type == LF_TRACE_POISON)
				last_poison = (ssize_t)t->nrec;
			t->rec[t->nrec++] = *r;
			break;
		default:
			t->unknown++;
		}
	}
	free(b.s);
	qsort(t->region, t->nregions, sizeof *t->region, by_id);
	return true;
}

static char *dup_or_empty(char *s) { return s ? s : strdup(""); }

int lf_trace_read(const char *path, struct lf_trace *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, path, errno == ELOOP ? "is a symbolic link: not read"
							     : strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, path, "not a regular file: not read");
	}
	if ((uint64_t)st.st_size > LF_TRACE_READ_MAX) {
		close(fd);
		return fail(err, errlen, path, "larger than any trace the library writes: not read");
	}
	if ((size_t)st.st_size < sizeof(struct lf_trace_header)) {
		close(fd);
		return fail(err, errlen, path, "too short for a fault trace (no header)");
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return fail(err, errlen, path, strerror(errno));
	int rc = -1;
	memcpy(&t->h, map, sizeof t->h);
	const struct lf_trace_header *h = &t->h;
	if (memcmp(h->magic, LF_TRACE_MAGIC, sizeof h->magic) != 0) {
		fail(err, errlen, path, "not a lazyfault fault trace (no LFTRACE magic)");
		goto out;
	}
	if (h->version == 0 || h->version > 0xffff) {
		fail(err, errlen, path, "written on a machine of the other byte order, or damaged");
		goto out;
	}
	if (h->record_size != LF_TRACE_RECORD_SIZE || h->header_size < sizeof *h ||
	    h->header_size > (uint64_t)st.st_size) {
		snprintf(err, errlen, "%s: trace format version %u with %u-byte records: this "
			 "lazyfault reads version %d", path, h->version, h->record_size,
			 LF_TRACE_VERSION);
		goto out;
	}
	t->claimed = h->cursor & ~LF_TRACE_CLOSED;
	uint64_t in_file = ((uint64_t)st.st_size - h->header_size) / LF_TRACE_RECORD_SIZE;
	t->slots = t->claimed < in_file ? t->claimed : in_file;
	if (t->slots > h->capacity)
		t->slots = h->capacity;
	t->path = strdup(path);
	if (!t->path || !walk(t, (const struct lf_trace_rec *)((const char *)map + h->header_size))) {
		fail(err, errlen, path, "out of memory");
		goto out;
	}
	t->exe = dup_or_empty(t->exe);
	t->argv = dup_or_empty(t->argv);
	for (size_t i = 0; i < t->nrules; i++)
		t->rule[i].name = dup_or_empty(t->rule[i].name);
	rc = t->exe && t->argv ? 0 : fail(err, errlen, path, "out of memory");
out:
	munmap(map, (size_t)st.st_size);
	if (rc != 0)
		lf_trace_free(t);
	return rc;
}

void lf_trace_free(struct lf_trace *t)
{
	for (size_t i = 0; i < t->nrules; i++)
		free(t->rule[i].name);
	for (size_t i = 0; i < t->nregions; i++)
		free(t->region[i].file);
	for (size_t i = 0; i < t->nobjects; i++)
		free(t->object[i].path);
	for (size_t i = 0; t->text && i < t->nrec; i++)
		free(t->text[i]);
	free(t->rule);
	free(t->region);
	free(t->object);
	free(t->rec);
	free(t->text);
	free(t->exe);
	free(t->argv);
	free(t->path);
	memset(t, 0, sizeof *t);
}
