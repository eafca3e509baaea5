/* liblazyfault internals: bad pages of a file (lazyfault.ini(5), BAD PAGES
 * OF A FILE), the same whichever way they are reached: shared mappings
 * (shared.c; private ones are served as any file region) and the read
 * family and stdio (badfd.c).  Which pages are bad: common/file_pages.c. */
#ifndef LF_BADPAGES_H
#define LF_BADPAGES_H

#include <stdio.h>

#include "file_pages.h"
#include "lf.h"

/* ---- shared.c: shared file mappings with bad pages ------------------ */
/* Page `page` of the file of rule rt (which has file_pages) is bad; the
 * rule's own seed draws it, so every process of a run agrees. */
static inline bool lf_rule_file_page_bad(const struct lf_rule_rt *rt, uint64_t page)
{
	return lf_file_page_bad(rt->rule, rt->rule_seed, page);
}
/* mmap(MAP_SHARED) of a file under a rule with file_pages (mm lock held):
 * the kernel's mapping, each run of bad pages replaced by private memory
 * that poisons every fault.  number: the mapping's number in its rule
 * (`regions`); own: our dup of fd, taken over. */
struct stat;
void *lf_shared_map(void *addr, size_t len, int prot, int flags, int fd, off_t off, int rule,
		    uint64_t number, int own, const struct stat *st, const char *path);
bool lf_shared_overlap(uintptr_t start, uintptr_t end);  /* no lock held */
void lf_shared_forget(uintptr_t start, uintptr_t end);   /* mm lock held: unmapped */
/* mremap of [old, old+old_up), which overlaps such mappings (mm lock
 * held): before it, their bad pages are put back as the file's (the kernel
 * moves or resizes one mapping only); after it (p: what mremap returned),
 * the mappings follow and their bad pages are made again. */
struct lf_remap;
struct lf_remap *lf_shared_before_remap(uintptr_t old, size_t old_up);
void lf_shared_after_remap(struct lf_remap *m, void *p, size_t new_up, int flags);
void lf_shared_relocate_fd(int from, int to);           /* dup2 onto ours */

/* ---- badfd.c: reads of files with bad pages (io_error) --------------- */
/* A rule has io_error: the read family asks; otherwise nothing is done. */
extern bool lf_badfd_on;
void lf_badfd_init(void);
void lf_badfd_forget_slow(unsigned first, unsigned last);
/* Descriptors first..last were closed or are new: what was known of
 * them no longer holds. */
static inline void lf_badfd_forget(unsigned first, unsigned last)
{
	if (__builtin_expect(lf_badfd_on, 0))
		lf_badfd_forget_slow(first, last);
}
/* The rule whose bad pages a read of fd meets (its index), or -1. */
int lf_badfd_rule(int fd);
/* Before `call` reads up to *n bytes of fd at off (-1: at its position):
 * 0 (*n cut to the bytes before a bad page, if one is reached), or -1
 * with errno EIO (the read starts in a bad page); counted and logged. */
int lf_badfd_read(const char *call, int fd, int64_t off, size_t *n);
/* The same for readv and its kin: *iov and *cnt may be replaced by the
 * iovecs up to the bad page, copied into cut[LF_CUT_IOV]. */
#define LF_CUT_IOV 64
struct iovec;
int lf_badfd_readv(const char *call, int fd, int64_t off, const struct iovec **iov, int *cnt,
		   struct iovec *cut);
/* The same for a stream: the bytes `call` may take from f before a bad
 * page (want if none is reached; 0: the next byte is in one, counted and
 * logged); a cut is counted and logged when `cut_counts` (the call would
 * take all it wants: fread). */
size_t lf_badfd_stream(const char *call, FILE *f, size_t want, bool cut_counts);
/* The stream met a bad page: its error indicator set, errno EIO; _fail
 * also counts and logs it (a call that took the bytes before it). */
void lf_badfd_stream_error(FILE *f);
void lf_badfd_stream_fail(const char *call, FILE *f);
/* fread and its kin: before the call, *n cut to the items before a bad
 * page (true: none can be read, the error is set: return 0); after it,
 * the bytes of the item the page cuts taken too, and the error set. */
struct lf_stream_cut {
	bool on;
	size_t rest;                    /* bytes of the cut item before the page */
	const char *call;
};
bool lf_badfd_fread_cut(const char *call, FILE *f, size_t size, size_t *n, struct lf_stream_cut *c);
size_t lf_badfd_fread_rest(FILE *f, void *buf, size_t size, size_t n, size_t got,
			   const struct lf_stream_cut *c);

#endif
