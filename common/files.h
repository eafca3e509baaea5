/* The files a user names to lazyfault, read or written with care: a rule
 * file and its `source` files are read only when they are what they claim
 * (regular files, opened without waiting), and the statistics file is
 * replaced whole, never written through a link nor over someone else's
 * file.  Both the library and the command use these. */
#ifndef LAZYFAULT_FILES_H
#define LAZYFAULT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Open path for reading: without blocking (a FIFO would wait for a
 * writer), and only a regular file, or with allow_block also a block
 * device; never a file of /proc or /sys, whose bytes are made up as they
 * are read and whose size says nothing.  Returns the descriptor
 * (close-on-exec, blocking again), or -1 with why set to what is wrong
 * ("No such file or directory", "a FIFO, not a regular file").  errno is
 * left as it was: the library calls this inside the program. */
int lf_open_input(const char *path, bool allow_block, char *why, size_t whylen);

/* Replacing a file whole, so that it is complete or absent, never half
 * written: the bytes go to a new file beside the target, created under a
 * random name with O_EXCL|O_NOFOLLOW (nobody can have planted it), which
 * is renamed over the target at the end.  The target may be absent, a
 * regular file of the same owner, or a symbolic link, which is replaced
 * and never followed; anything else (a device, a FIFO, a directory,
 * another user's file) is refused, and nothing is written.
 *
 * Async-signal-safe (raw system calls, no allocation, errno kept): the
 * library writes its statistics this way from fatal signal handlers. */
struct lf_replace {
	int fd;                 /* the new file, -1 when none */
	int err;                /* the first errno met, 0 while all is well */
	const char *refused;    /* why the target is refused, or NULL */
	char tmp[4096 + 32];    /* the new file's path */
};
/* Returns 0, or -1 with err or refused set (then nothing was created). */
int lf_replace_begin(struct lf_replace *r, const char *target, mode_t mode);
/* Append; after the first failure nothing more is written (err says why). */
void lf_replace_write(struct lf_replace *r, const void *buf, size_t len);
/* Rename the new file over the target; 0, or -1 with err set and the new
 * file removed.  Also removes it after a failed write. */
int lf_replace_commit(struct lf_replace *r, const char *target);
/* What went wrong, as text (a static string). */
const char *lf_replace_why(const struct lf_replace *r);

#endif
