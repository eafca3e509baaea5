/* The lazyfault command: declarations shared by its source files.
 * One file per concern: main.c (arguments, usage), rulefile.c (reading the
 * user's rule file), defines.c (the -D options), run.c (`run`),
 * check.c (`check`; badpages.c, its -f), ctl.c (`ctl`), sweep*.c (`sweep`: sweep.h), report*.c
 * (`report`: report.h), symbolize.c, progcheck.c (finding and checking PROGRAM),
 * locate.c (finding liblazyfault.so), stats.c (the -v summary), statsfile.c
 * (reading a statistics file). */
#ifndef LAZYFAULT_CMD_H
#define LAZYFAULT_CMD_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "elfsyms.h"
#include "rules.h"

#ifndef LF_VERSION
#define LF_VERSION "unknown"
#endif

/* Exit statuses of the command itself (run passes the program's through). */
#define LF_EXIT_OK 0
#define LF_EXIT_PROBLEM 1   /* check: the program or a caller has a problem */
#define LF_EXIT_USAGE 2     /* usage error, bad rule file, program refused */
#define LF_EXIT_NOEXEC 126  /* run: PROGRAM found but not executable */
#define LF_EXIT_NOTFOUND 127 /* run: PROGRAM not found */

/* main.c */
void lf_usage(FILE *out);
/* Print "lazyfault: MSG" and the usage to stderr; returns LF_EXIT_USAGE. */
int lf_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* run.c, check.c, sweep.c, ctl.c, report.c: argv[0] is the command's name ("run", ...). */
int lf_cmd_run(int argc, char **argv);
int lf_cmd_check(int argc, char **argv);
int lf_cmd_sweep(int argc, char **argv);
int lf_cmd_ctl(int argc, char **argv);
int lf_cmd_report(int argc, char **argv);

/* defines.c: the -D options, in the order given (text points into argv). */
int lf_defines_add(struct lf_defines *d, const char *text);
char *lf_defines_join(const struct lf_defines *d); /* one per line, malloc'd */
void lf_defines_release(struct lf_defines *d);

/* rulefile.c: read the rule file at path into *out with the defines defs
 * (NULL: none) applied, check that every `source` can be read, and print
 * its warnings.  Returns 0, or LF_EXIT_USAGE after the error (then *out is
 * empty). */
struct lf_rules;
int lf_load_rules(const char *path, const struct lf_defines *defs, struct lf_rules *out);

/* run.c */
/* Find PROGRAM (arg), check that the library can go into it and find the
 * library: prog and lib (PATH_MAX each) get their paths.  Returns 0, or the
 * command's exit status after a message. */
int lf_prepare_program(const char *arg, char *prog, char *lib);
/* In a child: set the library's environment (rules, stats when not NULL,
 * the defines, one per line, when not NULL, LD_PRELOAD before any already
 * set; a new tree: LAZYFAULT_TREE unset) and exec prog; never returns
 * (exits 126/127 after a message when exec fails). */
void lf_exec_under_library(const char *prog, char **argv, const char *rules,
			   const char *stats, const char *defines, const char *lib)
	__attribute__((noreturn));

/* progcheck.c */
/* Find PROGRAM as execvp(3) would (PATH when it has no slash).  Returns 0
 * with the path in out, LF_EXIT_NOEXEC or LF_EXIT_NOTFOUND with a message. */
int lf_resolve_program(const char *prog, char *out, size_t outlen,
		       char *err, size_t errlen);

struct lf_progcheck {
	bool have_elf;          /* elf/info describe the ELF image that will run */
	char elf[PATH_MAX];     /* PROGRAM, or the interpreter of a #! script */
	struct lf_elf_info info;
	int scripts;            /* how many #! levels led to elf */
	char env_name[PATH_MAX]; /* "#!/usr/bin/env NAME": NAME, found on PATH; else "" */
	bool native;            /* elf is of our architecture (when have_elf) */
};
/* Check that the program at `path` can run under the library: a dynamically
 * linked ELF executable of our architecture, not set-uid/set-gid, no file
 * capabilities; for a #! script, its interpreter.  Returns 0, or -1 with the
 * reason in err (pc is filled as far as the check got). */
int lf_check_program(const char *path, struct lf_progcheck *pc, char *err, size_t errlen);
/* "ELF 64-bit x86-64" and the like. */
void lf_describe_elf(const struct lf_elf_info *in, char *buf, size_t len);

/* badpages.c: print, for each file, the pages the rules name bad (a rule
 * with file_pages); LF_EXIT_PROBLEM when a file cannot be read. */
struct lf_rules;
int lf_check_files(const struct lf_rules *rs, char *const *files, size_t n);

/* locate.c: the absolute path of liblazyfault.so, or -1 with a message. */
int lf_locate_library(char *out, size_t outlen, char *err, size_t errlen);

/* stats.c: print the crash report of each process that died of a signal
 * and, when verbose, a summary of the statistics files stats.PID.json in
 * dir, written by the processes of a run that started `pid`, which ended
 * with wait status `status` (it tells why a file is missing); then copy them to
 * `keep` (NULL or "": nowhere): with %p one per process, without it the
 * started program's alone (and a warning names the others).  Returns 0, or
 * -1 when the started program's file could not be read, after saying why. */
int lf_stats_summary(const char *dir, pid_t pid, int status, const char *keep, bool verbose,
		     FILE *out);
/* stats.c: the crash report of process pid from its statistics file (the
 * path tmpl, %p its pid), if it has one. */
void lf_stats_crash_report(const char *tmpl, pid_t pid, FILE *out);
/* tmpl with every %p replaced by pid. */
void lf_subst_pid(const char *tmpl, pid_t pid, char *out, size_t outlen);

#endif
