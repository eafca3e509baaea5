/* Where the control socket of a process is (`control = yes`,
 * `lazyfault ctl`): shared by the library, which makes it, and the
 * command, which connects to it, so that both look in the same place.
 *
 * The socket is DIR/PID.sock, DIR a directory of the process's user that
 * nobody else may enter: $XDG_RUNTIME_DIR/lazyfault when XDG_RUNTIME_DIR
 * names a directory of the user's with mode 0700 (as the session manager
 * makes it), else /tmp/lazyfault-UID.  The directory is checked every time
 * it is used: a directory (never followed through a symlink), owned by the
 * user, with no permission for group or others; anything else there is
 * refused, never used. */
#ifndef LAZYFAULT_CONTROL_PATH_H
#define LAZYFAULT_CONTROL_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* DIR for user uid, given the value of XDG_RUNTIME_DIR (or NULL). */
void lf_control_dir(const char *runtime_dir, unsigned uid, char *out, size_t n);
/* The tmp form of DIR, /tmp/lazyfault-UID. */
void lf_control_tmp_dir(unsigned uid, char *out, size_t n);
/* Open DIR (made first, mode 0700, with `create`) and check it as said
 * above: its descriptor, or -1 with why ("DIR: ..."). */
int lf_control_dir_open(const char *dir, unsigned uid, bool create, char *why, size_t whylen);
/* DIR/PID.sock, which must fit a socket address (107 bytes): 0 or -1. */
int lf_control_socket_path(const char *dir, int pid, char *out, size_t n);

#endif
