/* A mapping a rule takes: register it, then enter it in the table (the
 * caller holds the mm lock: nothing else changes the address space
 * meanwhile).  Shared by the mmap wrappers and the malloc family. */
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "filemap.h"
#include "invisible.h"
#include "lf.h"
#include "record.h"
#include "trace.h"
#include "uffd_compat.h"

void lf_ranges_add(struct lf_ranges *t, uint64_t n)
{
	if (t->n && t->span[t->n - 1].last + 1 == n)
		t->span[t->n - 1].last = n;
	else if (t->n < LF_RANGES)
		t->span[t->n++] = (struct lf_page_span){n, n};
	else
		t->more = true;
}

bool lf_take_region(uintptr_t start, size_t len, int rule, uint64_t number, enum lf_match kind,
		    enum lf_src src, int fd, uint64_t offset, const struct stat *st, int prot)
{
	uint64_t ioctls = 0;
	len = lf_page_up(len);
	if (lf_in_vfork_child())
		return false; /* the parent's state: vfork.c */
	/* Helpers first: a range registered with nobody to serve it would
	 * hang its first touch. */
	if (lf_server_start() < 0) {
		lf_setup_failed("no helper thread can be started");
		return false;
	}
	/* The file's bytes copied into anonymous memory: the library follows
	 * the file's changes, and where the kernel can tell the pages the
	 * program writes, loads them write-protected (filechange.c). */
	bool copies_file = kind == LF_MATCH_FILE && src == LF_SRC_FILE;
	struct lf_region r = {
		.start = start, .end = start + len, .base = start, .base_end = start + len,
		.rule = (uint32_t)rule, .number = number, .kind = (uint8_t)kind, .src = (uint8_t)src,
		.fd = fd, .offset = offset,
		.dev = st ? st->st_dev : 0, .ino = st ? st->st_ino : 0, .prot = prot,
		.handoff_ok = kind == LF_MATCH_FILE && (src == LF_SRC_FILE || src == LF_SRC_SHMEM) &&
			      len >= LF_HANDOFF_MIN && lf.rules.rule[rule].handoff &&
			      !(prot & (PROT_WRITE | PROT_EXEC)),
		.tracked = copies_file && lf_follow_start(),
	};
	/* The pages it writes told apart (written.c); always so when tracked. */
	r.wp = r.tracked || (src != LF_SRC_SHMEM && lf_written_can_track(src));
	/* With THP `always` (or the program's MADV_HUGEPAGE) a write fault in
	 * a registered range with an empty PMD makes the kernel allocate and
	 * zero a huge page, drop it, and only then ask us: several times the
	 * cost of the fault.  COPY installs 4 KiB pages anyway; zero streams
	 * get huge pages moved in (stream.c).  The program's own advice is
	 * kept in the table (regions.c). */
	if (src != LF_SRC_SHMEM)
		lf_real_madvise((void *)start, len, MADV_NOHUGEPAGE);
	int rc = lf_uffd_register(start, len, lf_region_reg(&r), &ioctls);
	if (rc < 0) {
		lf_info("rule '%s': cannot register %#lx+%zu (%s): left to the kernel",
			lf.rules.rule[rule].name, (unsigned long)start, len, strerror(-rc));
		return false;
	}
	r.poison_ok = (ioctls >> _UFFDIO_POISON) & 1;
	r.trace_id = lf_trace_region_id();
	if (lf_regions_add(&r) < 0) {
		lf_uffd_unregister(start, len);
		lf_warn("region table full: %#lx+%zu left to the kernel", (unsigned long)start, len);
		return false;
	}
	if (copies_file) {
		lf_files_report();
		lf_watch_report();
	}
	struct lf_rule_rt *rt = &lf.rt[rule];
	atomic_fetch_add_explicit(&rt->regions, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt->bytes_registered, len, memory_order_relaxed);
	lf_ranges_add(&rt->taken, number);
	lf_trace_region(&r);
	lf_prefetch_taken(&r);
	lf_debug("rule '%s' takes %#lx-%#lx as its region %llu", lf.rules.rule[rule].name,
		 (unsigned long)start, (unsigned long)(start + len), (unsigned long long)number);
	return true;
}
