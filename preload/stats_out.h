/* The statistics writer's output (stats.c), for the sections other files
 * write into the file: crash.c's crash report and kept allocation sites;
 * and crash.c's entry points.  Async-signal-safe, as the writer. */
#ifndef LF_STATS_OUT_H
#define LF_STATS_OUT_H

#include <signal.h>
#include <stdint.h>

struct lf_stats_out;
void lf_out_put(struct lf_stats_out *o, const char *s);      /* raw text */
void lf_out_str(struct lf_stats_out *o, const char *s);      /* a JSON string */
void lf_out_u64(struct lf_stats_out *o, uint64_t v);
void lf_out_field(struct lf_stats_out *o, const char *name, uint64_t v); /* , "name": v */

/* crash.c: its sections, after the process's fields. */
void lf_crash_put(struct lf_stats_out *o);
/* crash.c: at initialisation, when the statistics are written. */
void lf_crash_init(void);
/* crash.c: sig is about to end the process (async-signal-safe; the first
 * call records, later ones return). */
void lf_crash_record(int sig, siginfo_t *info, void *uctx);

#endif
