/* What the two files of the fault trace share: trace.c writes the file,
 * trace_events.c makes the records.  Nothing else includes it. */
#ifndef LF_TRACE_WRITE_H
#define LF_TRACE_WRITE_H

#include "trace_format.h"

struct lf_trace_header *lf_trace_hdr(void);          /* NULL: no trace */
uint64_t lf_trace_since_start(uint64_t ns);
uint32_t lf_trace_tid(void);
/* n consecutive records, or NULL (counted as dropped). */
struct lf_trace_rec *lf_trace_claim(struct lf_trace_header *h, uint64_t n);
/* Store r in slot, its type last: a reader never sees half a record. */
void lf_trace_store(struct lf_trace_rec *slot, const struct lf_trace_rec *r);
void lf_trace_emit(const struct lf_trace_rec *r);
uint64_t lf_trace_string_records(size_t len);
void lf_trace_store_string(struct lf_trace_rec *slot, unsigned kind, uint32_t owner,
			   const char *s, size_t len);
/* A record followed by a string of its own (len 0: none). */
void lf_trace_emit_named(const struct lf_trace_rec *r, unsigned kind, uint32_t owner,
			 const char *s, size_t len);
/* A program thread: more room, the pages ahead of the cursor writable. */
void lf_trace_make_room(void);
size_t lf_trace_exe_path(char *buf, size_t len);
void lf_trace_events_init(void);
void lf_trace_events_fork_child(void);
void lf_trace_inherited(void);

#endif
