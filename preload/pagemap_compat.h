/* The PAGEMAP_SCAN ioctl of /proc/PID/pagemap (Linux 6.7), which Debian 12's
 * headers (Linux 6.1) lack: the structures and numbers as the kernel's uapi
 * (linux/fs.h) defines them, each guarded by #ifndef on that very symbol so
 * that newer headers win, and checked against the ABI.  Whether the running
 * kernel has the ioctl is probed at run time (filechange.c), never assumed.
 *
 * One call reports the pages of a range by category, as runs of pages that
 * share the categories asked for: a page matches when
 *   ((categories ^ category_inverted) & category_mask) == category_mask
 * (and, if category_anyof_mask is set, some bit of it is set too). */
#ifndef LF_PAGEMAP_COMPAT_H
#define LF_PAGEMAP_COMPAT_H

#include <linux/fs.h>
#include <linux/types.h>
#include <sys/ioctl.h>

#ifndef PAGE_IS_WPALLOWED
#define PAGE_IS_WPALLOWED (1 << 0)
#endif
/* Not write-protected by userfaultfd: written since it was installed
 * write-protected (UFFDIO_COPY_MODE_WP), or never protected. */
#ifndef PAGE_IS_WRITTEN
#define PAGE_IS_WRITTEN (1 << 1)
#endif
#ifndef PAGE_IS_FILE
#define PAGE_IS_FILE (1 << 2)
#endif
#ifndef PAGE_IS_PRESENT
#define PAGE_IS_PRESENT (1 << 3)
#endif
#ifndef PAGE_IS_SWAPPED
#define PAGE_IS_SWAPPED (1 << 4)
#endif
/* The shared zero page (UFFDIO_ZEROPAGE): read, never written. */
#ifndef PAGE_IS_PFNZERO
#define PAGE_IS_PFNZERO (1 << 5)
#endif

#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif
_Static_assert(sizeof(struct page_region) == 24, "struct page_region ABI");
_Static_assert(sizeof(struct pm_scan_arg) == 96, "struct pm_scan_arg ABI");
_Static_assert(PAGEMAP_SCAN == 0xC0606610u, "PAGEMAP_SCAN number");

#endif
