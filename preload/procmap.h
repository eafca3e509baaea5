/* What the kernel has mapped at an address (procmap.c). */
#ifndef LF_PROCMAP_H
#define LF_PROCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- procmap.c: what the kernel has mapped -------------------------- */
/* The VMA that holds addr: its range, and whether it is anonymous memory;
 * 0 or -errno (ENOTTY before Linux 6.11, ENOENT: nothing mapped there). */
int lf_vma_at(uintptr_t addr, uintptr_t *start, uintptr_t *end, bool *anon);
/* The same, and its protection, sharing and file (offset, inode, device). */
struct lf_vma {
	uintptr_t start, end;
	bool anon, shared;
	int prot;
	uint64_t offset, ino, dev;
};
int lf_vma_query(uintptr_t addr, struct lf_vma *v);

#endif
