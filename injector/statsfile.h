/* Reading a statistics file written by liblazyfault.so into a struct, and
 * copying one.
 *
 * The file is JSON, parsed with json-c (it keeps unsigned 64-bit integers
 * whole: the library's seeds are below 2^53, but a file written elsewhere
 * may hold larger ones).  Only a regular file is read, opened without
 * following a symlink and without blocking on a FIFO, and at most
 * LF_STATSFILE_MAX bytes of it: every reader of a statistics file in the
 * command goes through here. */
#ifndef LAZYFAULT_STATSFILE_H
#define LAZYFAULT_STATSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LF_STATSFILE_MAX (64u << 20)

/* The counters of one rule, in the order the library writes them; the
 * last two are the reads of a file with bad pages (io_error). */
enum lf_stat_counter {
	LF_STAT_REGIONS, LF_STAT_BYTES_REGISTERED, LF_STAT_FAULTS, LF_STAT_PAGES_ZEROED,
	LF_STAT_PAGES_LOADED, LF_STAT_BYTES_READ, LF_STAT_PAGES_POISONED, LF_STAT_HANDOFFS,
	LF_STAT_BYTES_HANDED_OFF, LF_STAT_SEED, LF_STAT_FAULT_NS_P50, LF_STAT_FAULT_NS_P99,
	LF_STAT_READ_ERRORS, LF_STAT_READS_CUT,
	LF_STAT_CALLS_EFAULT, LF_STAT_CALLS_SHORT, /* calls that met a page it poisoned */
	LF_STAT_NCOUNTERS
};

struct lf_stats_rule {
	char *name;
	char *action;                     /* "zero", "load", "poison"; "" when absent */
	uint64_t value[LF_STAT_NCOUNTERS];
	unsigned present;                 /* bit (1 << counter) when the file had it */
};

/* A code address: the object it falls in and its offset from the
 * object's base (symbolize.h). */
struct lf_stats_frame {
	char *object;
	uint64_t offset;
};

/* How the process died, when a signal killed it ("crash"). */
struct lf_stats_crash {
	bool present;
	int sig, code;
	uint64_t addr, ip, tid;
	bool has_addr;                    /* the signal has a faulting address */
	struct lf_stats_frame *frames;    /* the faulting thread's stack, innermost first */
	size_t nframes;
	bool poisoned;                    /* addr is in a page the library poisoned: */
	char *rule;                       /* its rule, */
	uint64_t region, page;            /* region number and page index */
	struct lf_stats_frame *alloc;     /* where that region was allocated */
	size_t nalloc;
};

/* Where a region with a poisoned page was allocated ("allocation_sites"). */
struct lf_stats_site {
	char *rule;
	uint64_t region;
	struct lf_stats_frame *frames;
	size_t nframes;
};

/* The figures of the whole process, after "mode". */
enum lf_stat_process {
	LF_STAT_WALL_NS, LF_STAT_BLOCKED_NS, LF_STAT_TRACE_RECORDS, LF_STAT_TRACE_DROPPED,
	LF_STAT_NPROCESS
};

struct lf_stats {
	long long pid;
	long long ppid;                   /* -1 when absent */
	char *mode;                       /* "full", "user-mode-only", ...; "" when absent */
	char *version;                    /* the library's; "" when absent */
	char *exe;                        /* the program's path; "" when absent */
	char **argv;                      /* its arguments */
	size_t argc;
	uint64_t page_size;               /* 0 when absent */
	double start_time, end_time;      /* seconds since the epoch; 0 when absent */
	uint64_t process[LF_STAT_NPROCESS];
	unsigned process_present;         /* bit (1 << figure) when the file had it */
	struct lf_stats_rule *rule;
	size_t nrules;
	char *poisoned_call;              /* the first call that met a poisoned page; "" */
	struct lf_stats_crash crash;
	struct lf_stats_site *sites;
	size_t nsites;
};

/* What lf_stats_read returns. */
enum lf_stats_status {
	LF_STATS_OK = 0,
	LF_STATS_MISSING = -1,            /* no such file */
	LF_STATS_INCOMPLETE = -2,         /* not whole JSON (the writer was killed) */
	LF_STATS_REFUSED = -3,            /* unreadable, not a regular file, too big, wrong shape */
};

/* The JSON key of a counter ("faults", "pages_poisoned", ...). */
const char *lf_stats_counter_name(enum lf_stat_counter c);

/* Read the statistics file at path.  On LF_STATS_OK, *out holds it (free
 * with lf_stats_free); otherwise *out is empty and err says why, naming
 * the file. */
enum lf_stats_status lf_stats_read(const char *path, struct lf_stats *out,
				   char *err, size_t errlen);
void lf_stats_free(struct lf_stats *s);

/* Copy the statistics file at from (read as lf_stats_read reads) to the
 * path to, replaced whole (files.h: never through a link, never over
 * another user's file).  0, or -1 with err set. */
int lf_stats_copy(const char *from, const char *to, char *err, size_t errlen);

/* The rule called name, or NULL. */
const struct lf_stats_rule *lf_stats_rule(const struct lf_stats *s, const char *name);
/* A counter of r, and whether the file had it. */
bool lf_stats_get(const struct lf_stats_rule *r, enum lf_stat_counter c, uint64_t *out);

#endif
