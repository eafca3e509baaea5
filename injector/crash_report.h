/* The crash report of a statistics file (its "crash" section, written by
 * the library's crash.c), symbolized (symbolize.h): what `lazyfault run`
 * and `lazyfault sweep` print for a process that died of a signal. */
#ifndef LAZYFAULT_CRASH_REPORT_H
#define LAZYFAULT_CRASH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "statsfile.h"

/* The whole report, one frame a line:
 *   lazyfault: pid 123 died of SIGBUS at 0x7f..., in page 5 of region 1 of
 *   rule 'table', which the library poisoned
 *     thread 123 was in:
 *       #0 read_entry+0x14 (/path/prog)
 *       ...
 *     region 1 of rule 'table' was allocated in:
 *       #0 make_table+0x3e (/path/prog)
 * Nothing when the file has no crash. */
void lf_crash_print(const struct lf_stats *s, const char *debug_root, FILE *out);

/* The same in at most three lines under `indent`, at most `depth` frames
 * each, frames joined by " < ", objects without their directory (sweep's
 * list of runs). */
void lf_crash_print_short(const struct lf_stats *s, const char *debug_root, const char *indent,
			  int depth, FILE *out);

/* The report's first line, without "lazyfault: pid N ": "died of SIGBUS
 * at 0x..., in page ..." */
void lf_crash_headline(const struct lf_stats *s, char *out, size_t len);

/* "  region 1 of rule 'heap' was allocated in: f+0x1 (obj) < ..." for each
 * allocation site the file has (run -v), at most depth frames each. */
void lf_crash_print_sites(const struct lf_stats *s, const char *debug_root, int depth, FILE *out);

/* The first statistics file matching the glob pattern that has a crash,
 * read into *out (free with lf_stats_free): true, else false. */
bool lf_crash_find(const char *pattern, struct lf_stats *out);

/* Frame i of a list, symbolized and escaped. */
void lf_crash_frame_name(const struct lf_stats_frame *f, const char *debug_root, char *out,
			 size_t len);

#endif
