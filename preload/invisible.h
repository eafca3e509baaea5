/* What keeps the library invisible to the program: its threads not counted
 * by glibc (uncount.c), its descriptors high and close-on-exec (fdplace.c),
 * nothing done in a vfork child (vfork.c), the buffers the kernel writes
 * outside any system call filled first in user-mode-only mode
 * (wrap_stack.c). */
#ifndef LF_INVISIBLE_H
#define LF_INVISIBLE_H

#include <stdbool.h>

/* uncount.c: take the thread pthread_create just started off glibc's count
 * of threads, so that the program's last pthread_exit ends the process. */
void lf_thread_uncount(void);

/* fdplace.c: move a descriptor the library opened to a high number (below
 * RLIMIT_NOFILE, away from those a program uses), close-on-exec; the low one
 * is closed.  Returns the new number, or fd itself when it cannot move
 * (fd < 0 returned as is). */
int lf_fd_place(int fd);
/* A close-on-exec duplicate of fd placed so, or -1 with errno. */
int lf_fd_dup(int fd);

/* wrap_fd.c: fd is one of the library's (the program's calls on it are
 * ours to answer). */
bool lf_fd_is_ours(int fd);

/* vfork.c: the library's state belongs to this process (initialisation, the
 * fork handler's child); true in a vfork child (or a raw clone's), which
 * must take no region and start no thread. */
void lf_vfork_owner_here(void);
bool lf_in_vfork_child(void);

#endif
