/* liblazyfault internals: file regions beyond one fault.  Long sequential
 * reads handed to the kernel (handoff.c), the files emulated mappings load
 * from (files.c), and what follows a change to those files (cleandrop.c,
 * filechange.c, watch.c).  The rest of what preload/ shares, and the
 * invariants, are in lf.h. */
#ifndef LF_FILEMAP_H
#define LF_FILEMAP_H

#include "lf.h"

/* ---- handoff.c: long sequential reads of a file go to the kernel ---- */
/* The plan is a long stream in a region that may be handed off. */
bool lf_handoff_wanted(const struct lf_fault_plan *p);
/* Map the file itself over the plan's region, wake its threads and forget
 * it; *end: the end of the region.  False when it cannot be done now. */
bool lf_handoff(const struct lf_fault_plan *p, uint64_t t0, uintptr_t *end);
/* Regions that may still be handed off exist (no lock taken). */
bool lf_handoff_any(void);
/* The program made [start, end) writable or locked (or, with everything,
 * mlockall): those file regions are never handed off. */
void lf_handoff_forbid(uintptr_t start, uintptr_t end, bool everything);
/* The table's bookkeeping (table lock held): a region enters or leaves. */
void lf_handoff_admit(struct lf_region *r);
void lf_handoff_leave(struct lf_region *r);

/* ---- files.c: the files that emulated mappings load from ------------ */
struct lf_file {
	uint64_t dev, ino;
	uint64_t size;                  /* as last seen: the old end when it changes */
	int wd;                         /* its inotify watch (watch.c), -1: none */
	uint32_t regions;               /* the file regions that load from it */
	uint32_t again;                 /* tries left for pages not dropped yet */
};
bool lf_files_any(void);                 /* no lock */
bool lf_files_known(uint64_t dev, uint64_t ino); /* no lock: a filter only */
/* With the table lock held (regions.c admits and lets go with the table): */
void lf_files_admit(const struct lf_region *r);
void lf_files_leave(const struct lf_region *r);
struct lf_file *lf_files_find_locked(uint64_t dev, uint64_t ino);
size_t lf_files_count_locked(void);
struct lf_file *lf_files_nth_locked(size_t i);
int lf_files_fd_locked(const struct lf_file *f); /* a descriptor a region of it loads through */
void lf_files_report(void);              /* a full table, told once (no lock) */
void lf_files_fork_child(void);
/* The descriptors that following file changes takes: the inotify instance
 * (watch.c), /proc/self/pagemap and the pipe that pins pages
 * (filechange.c).  The library's own, as wrap_fd.c keeps them. */
enum { LF_FD_INOTIFY, LF_FD_PAGEMAP, LF_FD_PIN_R, LF_FD_PIN_W, LF_FOLLOW_FDS };
extern int lf_follow_fd[LF_FOLLOW_FDS];
bool lf_follow_owns_fd(int fd);
int lf_follow_fd_top(void);
void lf_follow_fd_moved(int from, int to);
void lf_follow_fds_fork_child(void);

/* ---- cleandrop.c: dropping clean pages, never losing a write -------- */
/* A file region is being taken (mm lock held): start following changes;
 * true when the kernel can tell the pages the program writes (the region is
 * then `tracked`). */
bool lf_follow_start(void);
/* The kernel has UFFD_FEATURE_WP_ASYNC and PAGEMAP_SCAN (probed once; mm
 * lock held). */
bool lf_wp_can(void);
struct lf_drop_counts {
	size_t emptied, dropped, kept;
};
#define LF_SCAN_RUNS 256                /* runs of pages per scan */
struct page_region;
/* PAGEMAP_SCAN of /proc/self/pagemap as *a asks (size, vec and vec_len are
 * set here: at most LF_SCAN_RUNS runs into out); the runs, or -1. */
struct pm_scan_arg;
long lf_pagemap_scan(struct pm_scan_arg *a, struct page_region *out);
/* The runs of present clean (never written) pages of [start, end), at most
 * max_pages (0: any number); *next: where the scan stopped.  The number of
 * runs, or -1. */
long lf_clean_scan(uintptr_t start, uintptr_t end, size_t max_pages, struct page_region *out,
		   uintptr_t *next);
/* Drop the clean pages of [start, end) of a tracked region; those that
 * cannot be (shared since a fork, locked) count in c->kept.  mm lock held. */
void lf_clean_drop(uintptr_t start, uintptr_t end, struct lf_drop_counts *c);

/* ---- filechange.c: a mapped file changed ----------------------------- */
/* After a call of the program that changed a file, before it returns (no
 * lock held; errno kept): through descriptor fd, [from, to) of it (to may
 * be UINT64_MAX); by path (its size only); n bytes written at off, or
 * ending at the position.  The file's regions then show what the kernel
 * shows in a private mapping: pages past the end emptied (SIGBUS), the
 * clean pages of the change dropped (their next touch loads the file as it
 * is), written pages kept. */
void lf_file_changed_fd(int fd, uint64_t from, uint64_t to);
void lf_file_changed_path(const char *path);
void lf_file_written(int fd, int64_t off, int64_t n);
/* The watch saw the file of inotify watch `wd` change (-1: any): its clean
 * pages that differ from it are dropped (no lock held; each step takes the
 * mm lock).  Those that could not be are tried again, every LF_AGAIN_MS,
 * by lf_file_changed_again(), for a while: both return true while some
 * are left to try. */
#define LF_AGAIN_MS 50
bool lf_file_changed_watch(int wd);
bool lf_file_changed_again(void);
/* [start, end) may move (mremap), which drops the write protection of its
 * pages: the clean pages of tracked regions there are dropped first, so
 * that what moves is what the program wrote.  mm lock held. */
void lf_file_before_move(uintptr_t start, uintptr_t end);

/* ---- watch.c: changes by other processes ----------------------------- */
void lf_watch_start(void);               /* mm lock held; idempotent */
int lf_watch_add(int fd);                /* table lock held; the watch, or -1 */
void lf_watch_remove(int wd);            /* table lock held */
void lf_watch_report(void);              /* a failure, told once (no lock) */
void lf_watch_fork_child(void);

#endif
