/* `lazyfault report`: reading fault traces (report_read.c), what they add
 * up to (report_model.c), and the outputs: records as JSON lines
 * (report_dump.c), an HTML page (report_html.c), a Chrome trace event file
 * for Perfetto (report_perfetto.c).  The format: common/trace_format.h,
 * lazyfault-trace(5). */
#ifndef LAZYFAULT_REPORT_H
#define LAZYFAULT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace_format.h"

/* The largest trace read: the library's own largest is 1 GiB by default. */
#define LF_TRACE_READ_MAX (UINT64_C(16) << 30)

struct lf_tr_rule {
	char *name;
	unsigned action, match;         /* enum lf_action, enum lf_match */
	uint64_t readahead, delay_ns;
};

struct lf_tr_object {
	uint32_t id;
	uint64_t base;
	char *path;
};

struct lf_tr_region {
	uint32_t id, number;            /* number: among its rule's regions, from 1 */
	uint16_t rule;
	uint8_t match, src;
	bool inherited;
	uint32_t tid;                   /* the thread that took it */
	uint64_t t_taken;
	uint64_t start, len, offset, prot;
	bool has_file;
	uint64_t dev, ino, file_size, mtime_ns;
	char *file;                     /* NULL: none */
	int nframes;
	uint64_t frame[LF_TRACE_SITE_FRAMES]; /* (object id << 48) | offset */
	/* Filled by the model (report_model.c). */
	uint64_t t_released;            /* UINT64_MAX: never all released */
	uint64_t released_bytes;
	uint64_t faults, pages, poisoned, service_ns;
	uint64_t base;                  /* where its page 0 is now (mremap moves it) */
	bool handed_off;
};

/* One trace, as read. */
struct lf_trace {
	char *path;
	struct lf_trace_header h;
	uint64_t claimed;               /* records claimed (the cursor) */
	uint64_t slots;                 /* records in the file, written or not */
	uint64_t torn;                  /* claimed but never written: the process died */
	uint64_t unknown;               /* of types this reader does not know */
	char *exe;                      /* "" when absent */
	char *argv;                     /* the arguments, joined by spaces */
	struct lf_tr_rule *rule;
	size_t nrules;
	struct lf_tr_region *region;    /* sorted by id */
	size_t nregions;
	struct lf_tr_object *object;
	size_t nobjects;
	/* Every record but PROCESS, RULE, REGION*, SITE, OBJECT and STRING, in
	 * the order of the file; text[i]: the string that belongs to rec[i]
	 * (a poisoning's reason), else NULL. */
	struct lf_trace_rec *rec;
	char **text;
	size_t nrec;
};

/* report_read.c: read the trace at path.  0, or -1 with err naming the file
 * and what is wrong with it. */
int lf_trace_read(const char *path, struct lf_trace *t, char *err, size_t errlen);
void lf_trace_free(struct lf_trace *t);
struct lf_tr_region *lf_trace_region(const struct lf_trace *t, uint32_t id);
const char *lf_trace_rule_name(const struct lf_trace *t, unsigned rule);
const struct lf_tr_object *lf_trace_object(const struct lf_trace *t, uint32_t id);
const char *lf_trace_fill_name(unsigned fill);   /* "zero", "copy", ... */
const char *lf_trace_match_name(unsigned match);

/* report_model.c: what a trace adds up to. */
#define LF_HIST_BINS 24                 /* service times: < 1 us, then powers of 2 */
struct lf_tr_sample {                   /* pages present in a rule's regions */
	uint64_t t;
	uint32_t rule;
	uint64_t pages;
};
struct lf_tr_thread {
	uint32_t tid;
	uint64_t faults, service_ns;
};
struct lf_tr_site {
	uint64_t frame[LF_TRACE_SITE_FRAMES];
	int nframes;
	char *name;                     /* symbolized, frames joined by " < " */
	uint64_t regions, faults, pages, bytes;
};
struct lf_model {
	const struct lf_trace *t;
	uint64_t end_ns;                /* when it ended, or its last record */
	uint64_t faults, pages, service_ns, poisoned, handoffs;
	uint64_t hist[LF_HIST_BINS];
	struct lf_tr_sample *sample;    /* in time order */
	size_t nsamples;
	struct lf_tr_thread *thread;    /* by first fault */
	size_t nthreads;
	struct lf_tr_site *site;
	size_t nsites;
	size_t *order;                  /* indexes of t->rec in time order */
};
/* Fills the regions' figures too (the trace is changed). */
int lf_model_build(struct lf_trace *t, struct lf_model *m);
void lf_model_free(struct lf_model *m);
unsigned lf_hist_bin(uint64_t ns);
uint64_t lf_hist_low(unsigned bin);     /* the bin's lower bound in ns */

/* report_util.c */
void lf_put_json_string(FILE *out, const char *s);
void lf_put_html(FILE *out, const char *s);
void lf_fmt_ns(uint64_t ns, char *out, size_t len);
void lf_fmt_bytes(uint64_t b, char *out, size_t len);
const char *lf_basename(const char *path);
/* Room for element n of *array (a pointer to a realloc'd array of *cap
 * elements of size bytes): doubled when full; false when memory runs out. */
bool lf_grow(void *array, size_t *cap, size_t n, size_t size);

/* The outputs; 0 or -1 after a message. */
int lf_report_dump(struct lf_trace *const *t, size_t n, FILE *out);
int lf_report_html(struct lf_model *const *m, size_t n, FILE *out);
int lf_report_perfetto(struct lf_model *const *m, size_t n, FILE *out);

#endif
