/* Run-time control (`control = yes`, control.c), for the initialisation
 * and the descriptor wrappers. */
#ifndef LF_CONTROL_H
#define LF_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lf_rule_rt;

/* ---- control.c: `control = yes`, the socket of `lazyfault ctl` ------ */
void lf_control_start(void);
bool lf_control_owns(int fd);       /* one of its descriptors */
int lf_control_top(void);           /* its highest descriptor, or -1 */
void lf_control_moved(int from, int to);

#endif
