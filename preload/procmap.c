/* What the kernel has mapped at an address, asked of /proc/self/maps with
 * the PROCMAP_QUERY ioctl (Linux 6.11): one system call, no text to parse,
 * no allocation, so helpers may use it (I1).  Debian 12's headers predate
 * the ioctl: the structure is spelt out here, as the kernel's uapi
 * (linux/fs.h) defines it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "procmap.h"

struct lf_procmap_query {
	uint64_t size, query_flags, query_addr;
	uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
_Static_assert(sizeof(struct lf_procmap_query) == 104, "struct procmap_query is 104 bytes");
#define LF_PROCMAP_QUERY _IOWR('f', 17, struct lf_procmap_query)

int lf_vma_query(uintptr_t addr, struct lf_vma *v)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct lf_procmap_query q = {.size = sizeof q, .query_addr = addr};
	int rc = (int)syscall(SYS_ioctl, fd, LF_PROCMAP_QUERY, &q);
	int e = errno;
	syscall(SYS_close, fd);
	if (rc < 0)
		return -e;
	v->start = (uintptr_t)q.vma_start;
	v->end = (uintptr_t)q.vma_end;
	v->anon = q.inode == 0 && q.dev_major == 0 && q.dev_minor == 0;
	v->prot = (q.vma_flags & 1 ? PROT_READ : 0) | (q.vma_flags & 2 ? PROT_WRITE : 0) |
		  (q.vma_flags & 4 ? PROT_EXEC : 0);
	v->shared = q.vma_flags & 8;
	v->offset = q.vma_offset;
	v->ino = q.inode;
	v->dev = makedev(q.dev_major, q.dev_minor);
	return 0;
}

int lf_vma_at(uintptr_t addr, uintptr_t *start, uintptr_t *end, bool *anon)
{
	struct lf_vma v;
	int rc = lf_vma_query(addr, &v);
	if (rc == 0) {
		*start = v.start;
		*end = v.end;
		*anon = v.anon;
	}
	return rc;
}
