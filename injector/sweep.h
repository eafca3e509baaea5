/* `lazyfault sweep`: one run of the program per candidate fault of the poison
 * rules, each classified against a reference run without poison.
 *
 * sweep.c: options, the reference run, the candidates, running the runs in
 * parallel under a timeout; sweep_classify.c: outcomes and output
 * comparison; sweep_report.c: the files of the sweep's directory (the plan
 * sweep.json, one result file per run, summary.json/csv) and the table. */
#ifndef LAZYFAULT_SWEEP_H
#define LAZYFAULT_SWEEP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rules.h"

enum lf_outcome {
	LF_SURVIVED, LF_ERROR_EXIT, LF_WRONG_OUTPUT, LF_CRASH, LF_HANG, LF_NOUTCOMES
};
enum lf_compare { LF_COMPARE_BOTH, LF_COMPARE_STDOUT, LF_COMPARE_STATUS };

/* One run: its candidate, then (done) its result. */
struct lf_sweep_run {
	unsigned index;             /* from 1; its files are DIR/run-NNNN.* */
	char *rule;                 /* the poison rule it poisons */
	bool by_seed;               /* the candidate is a seed, not a fault */
	uint64_t fault;             /* exactly this fault of the rule is poisoned */
	uint64_t seed;              /* --seeds: the rule as written, with this seed */

	bool done;
	enum lf_outcome outcome;
	int status;                 /* exit status, or -1 when a signal ended it */
	int sig;                    /* the signal that ended it, or 0 */
	double duration;            /* seconds */
	bool have_stats;            /* the library wrote the main process's statistics */
	uint64_t faults, poisoned;  /* of the rule, in the main process */
	uint64_t out_len;
	uint32_t out_crc;           /* CRC-32 of its standard output */
};

/* What the reference run found for one poison rule. */
struct lf_sweep_rule {
	char *name;
	uint64_t after, every;      /* the rule's, which number the candidates */
	uint64_t faults;            /* faults it served in the reference run */
	uint64_t candidates;        /* n > after with (n - after) % every == 0 */
};

struct lf_sweep {
	char self[PATH_MAX];        /* this command, absolute: for replays */
	char rules[PATH_MAX];       /* the user's rule file, absolute */
	char prog[PATH_MAX];        /* PROGRAM as found */
	char lib[PATH_MAX];         /* liblazyfault.so */
	char cwd[PATH_MAX];         /* where every run starts */
	char dir[PATH_MAX];         /* the sweep's directory, absolute */
	char stdin_path[PATH_MAX];  /* standard input of every run; "" = /dev/null */
	char **argv;                /* PROGRAM ARGS..., NULL-terminated */
	struct lf_defines defs;     /* -D: applied to the rules (the run files hold them) */
	int argc;
	enum lf_compare compare;
	double timeout;             /* seconds for each run */

	int ref_status;
	double ref_duration;
	uint64_t ref_len;
	uint32_t ref_crc;
	struct lf_sweep_rule *rule;
	size_t nrules;

	struct lf_sweep_run *run;
	size_t nruns;
};

/* sweep_classify.c */
const char *lf_outcome_name(enum lf_outcome o);
const char *lf_compare_name(enum lf_compare c);
int lf_compare_parse(const char *s, enum lf_compare *out);
/* The outcome of a run that ended with wait status ws (or was killed at its
 * timeout), against the reference's exit status; same_output says whether
 * its standard output is the reference's byte for byte. */
enum lf_outcome lf_classify(enum lf_compare cmp, int ref_status, bool timed_out, int ws,
			    bool same_output);
/* CRC-32 and length of a file.  Returns 0 or -1 (errno set). */
int lf_file_crc(const char *path, uint32_t *crc, uint64_t *len);
/* 1 when both files hold the same bytes, 0 when not, -1 on error. */
int lf_files_equal(const char *a, const char *b);
/* "SIGBUS", or "signal N". */
void lf_signal_name(int sig, char *buf, size_t len);

/* sweep_report.c */
/* DIR/NAME into out (PATH_MAX + 64 bytes). */
void lf_sweep_path(const struct lf_sweep *s, const char *name, char *out);
/* run-NNNN plus suffix (".ini", ".out", ...). */
void lf_sweep_run_path(const struct lf_sweep *s, const struct lf_sweep_run *r,
		       const char *suffix, char *out);
/* The command line that replays run r (shell-quoted), into a malloc'd string. */
char *lf_sweep_replay(const struct lf_sweep *s, const struct lf_sweep_run *r);
/* The command line that runs run r of a plan, malloc'd. */
char *lf_sweep_plan_line(const struct lf_sweep *s, const struct lf_sweep_run *r);
/* DIR/sweep.json: everything a run or a later --collect needs. */
int lf_sweep_save(const struct lf_sweep *s);
int lf_sweep_load(const char *dir, struct lf_sweep *s);
/* DIR/run-NNNN.result.json */
int lf_sweep_save_result(const struct lf_sweep *s, const struct lf_sweep_run *r);
/* Returns 0, 1 when the run has no result file yet, -1 on error. */
int lf_sweep_load_result(const struct lf_sweep *s, struct lf_sweep_run *r);
/* summary.json, summary.csv, and the table on out. */
int lf_sweep_summary(const struct lf_sweep *s, FILE *out);
void lf_sweep_free(struct lf_sweep *s);

#endif
