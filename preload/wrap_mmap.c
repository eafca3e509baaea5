/* The mmap family, as the program calls it through the PLT.  A mapping that
 * a rule takes is registered with the userfaultfd and entered in the region
 * table; munmap, mremap and madvise keep the table true (regions.c says why
 * we do not use the kernel's events for that).
 *
 * A private file mapping cannot be registered for missing faults (only
 * anonymous, shmem and hugetlb memory can), so a `file` rule emulates it: an
 * anonymous private mapping at the same place, with the same protection,
 * whose pages are loaded from the file on first touch, exactly as the
 * kernel would show them (fill.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "badpages.h"
#include "filemap.h"
#include "invisible.h"
#include "lf.h"
#include "fail.h"
#include "record.h"
#include "uffd_compat.h"

static bool any_rule(enum lf_match kind)
{
	for (size_t i = 0; i < lf.rules.nrules; i++)
		if (lf.rules.rule[i].match == kind)
			return true;
	return false;
}

/* Flags that keep their meaning on the anonymous mapping we put in place. */
#define KEEP_FLAGS (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_NORESERVE | MAP_32BIT)

static void *map_anon(void *addr, size_t len, int prot, int flags)
{
	return lf_real_mmap(addr, len, prot, (flags & KEEP_FLAGS) | MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
}

/* A tmpfs or memfd file under a plain `load` rule, with a kernel that
 * serves minor faults on shmem. */
static bool shmem_file(int fd, int rule)
{
	struct statfs fs;
	return lf.rules.rule[rule].action == LF_ACTION_LOAD &&
	       (lf.features & UFFD_FEATURE_MINOR_SHMEM) && fstatfs(fd, &fs) == 0 &&
	       fs.f_type == TMPFS_MAGIC;
}

/* What a rule takes, decided before anything is mapped. */
struct choice {
	int rule;                       /* -1: the kernel's */
	uint64_t number;                /* the region's number in the rule */
	int own;                        /* file rules: our dup of the descriptor */
	bool shmem;                     /* a shmem file: served with CONTINUE */
	bool shared;                    /* MAP_SHARED of a file with bad pages (shared.c) */
	struct stat st;
	char path[4096];
};

static bool choose_file(size_t len, int flags, int fd, struct choice *c)
{
	char link[64];
	if (!any_rule(LF_MATCH_FILE) || fstat(fd, &c->st) < 0 || !S_ISREG(c->st.st_mode))
		return false;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, c->path, sizeof c->path - 1);
	if (n <= 0)
		return false;
	c->path[n] = 0;
	bool shared = (flags & MAP_TYPE) != MAP_PRIVATE;
	c->rule = lf_match_region(LF_MATCH_FILE, len, c->path, shared, &c->number);
	if (c->rule < 0)
		return false;
	/* The program may close its descriptor: load through our own. */
	c->own = lf_fd_dup(fd);
	if (c->own < 0)
		return false;
	c->shmem = shmem_file(fd, c->rule);
	c->shared = shared;
	return true;
}

static bool choose(size_t len, int flags, int fd, struct choice *c)
{
	c->rule = -1;
	/* Memory whose behaviour we cannot reproduce stays the kernel's. */
	if (flags & (MAP_HUGETLB | MAP_GROWSDOWN | MAP_STACK))
		return false;
	if (!(flags & MAP_ANONYMOUS))
		return fd >= 0 && choose_file(len, flags, fd, c);
	c->rule = lf_match_region(LF_MATCH_ANON, len, NULL, (flags & MAP_TYPE) != MAP_PRIVATE,
				  &c->number);
	return c->rule >= 0;
}

/* A file mapping a rule takes (mm lock held). */
static void *map_file(void *addr, size_t len, int prot, int flags, int fd, off_t off,
		      struct choice *c)
{
	const char *name = lf.rules.rule[c->rule].name;
	if (c->shmem) {
		/* A shmem file's pages are in memory already: map the file for
		 * real and map its page-cache pages on first touch (CONTINUE),
		 * no copy, and the kernel's own semantics for everything else. */
		void *p = lf_real_mmap(addr, len, prot, flags, fd, off);
		if (p == MAP_FAILED || !lf_take_region((uintptr_t)p, len, c->rule, c->number,
						      LF_MATCH_FILE, LF_SRC_SHMEM, c->own,
						      (uint64_t)off, &c->st, prot))
			close(c->own);
		else
			lf_info("rule '%s': %s (shmem) mapped at %#lx+%zu, offset %lld: its "
				"page-cache pages are mapped on first touch (CONTINUE)",
				name, c->path, (unsigned long)p, len, (long long)off);
		return p;
	}
	/* The kernel checks the request first (offset, access mode, file
	 * system, noexec): map the file for real, then put the anonymous
	 * memory over it. */
	void *p = lf_real_mmap(addr, len, prot, flags & ~(MAP_POPULATE | MAP_LOCKED), fd, off);
	if (p != MAP_FAILED &&
	    map_anon(p, len, prot, (flags & ~MAP_FIXED_NOREPLACE) | MAP_FIXED) == MAP_FAILED) {
		int e = errno;
		lf_real_munmap(p, len);
		errno = e;
		p = MAP_FAILED;
	}
	if (p == MAP_FAILED) {
		close(c->own);
		return p;
	}
	if (!lf_take_region((uintptr_t)p, len, c->rule, c->number, LF_MATCH_FILE, LF_SRC_FILE,
			    c->own, (uint64_t)off, &c->st, prot)) {
		close(c->own);
		/* Put the real file mapping where the emulation would have been. */
		return lf_real_mmap(p, len, prot, (flags & ~MAP_FIXED_NOREPLACE) | MAP_FIXED, fd, off);
	}
	/* Locked pages are all faulted in: through us.  This is our own mlock
	 * (wrap_protect.c), which also keeps the region from a handoff. */
	if (flags & MAP_LOCKED)
		mlock(p, len);
	lf_info("rule '%s': %s mapped at %#lx+%zu, offset %lld", name, c->path, (unsigned long)p,
		len, (long long)off);
	return p;
}

/* An anonymous mapping a rule takes (mm lock held). */
static void *map_anon_taken(void *addr, size_t len, int prot, int flags, int rule,
			    uint64_t number)
{
	/* MAP_POPULATE is dropped: pages come from us on first touch, with
	 * the same bytes the kernel would have put there. */
	void *p = lf_real_mmap(addr, len, prot, flags & ~(MAP_POPULATE | MAP_LOCKED), -1, 0);
	if (p == MAP_FAILED)
		return p;
	const struct lf_rule_rt *rt = &lf.rt[rule];
	bool loaded = rt->source_fd >= 0;
	bool taken = lf_take_region((uintptr_t)p, len, rule, number, LF_MATCH_ANON,
				    loaded ? LF_SRC_FILE : LF_SRC_ZERO, rt->source_fd,
				    rt->rule->source_offset, NULL, prot);
	if (!taken && (flags & MAP_POPULATE))
		lf_real_madvise(p, len, MADV_WILLNEED);
	if (flags & MAP_LOCKED) /* locked pages are all faulted in: through us */
		mlock(p, len);
	return p;
}

LF_API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (lf_busy || !lf_active())
		return lf_real_mmap(addr, len, prot, flags, fd, off);
	lf_busy++;
	struct choice c;
	bool taken = choose(len, flags, fd, &c);
	if (taken && lf.rules.rule[c.rule].action == LF_ACTION_FAIL) {
		/* A fail rule's (anonymous only): nothing is mapped or changed. */
		lf_fail_report(c.rule, c.number, "mmap", len);
		lf_busy--;
		return MAP_FAILED;
	}
	/* The mm lock only when the table changes with the address space: a
	 * mapping a rule takes, or one that replaces whatever was there. */
	bool lock = taken || (flags & MAP_FIXED);
	void *p;
	if (lock)
		lf_mm_lock();
	/* A fixed mapping replaces what the table had there: out of the table
	 * first, as munmap does. */
	if (flags & MAP_FIXED) {
		lf_regions_remove((uintptr_t)addr, (uintptr_t)addr + lf_page_up(len));
		lf_shared_forget((uintptr_t)addr, (uintptr_t)addr + lf_page_up(len));
	}
	if (!taken)
		p = lf_real_mmap(addr, len, prot, flags, fd, off);
	else if (flags & MAP_ANONYMOUS)
		p = map_anon_taken(addr, len, prot, flags, c.rule, c.number);
	else if (c.shared)
		p = lf_shared_map(addr, len, prot, flags, fd, off, c.rule, c.number, c.own, &c.st,
				  c.path);
	else
		p = map_file(addr, len, prot, flags, fd, off, &c);
	if (lock)
		lf_mm_unlock();
	lf_busy--;
	return p;
}

LF_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

static bool table_in_use(void)
{
	return atomic_load_explicit(&lf.state, memory_order_acquire) == LF_ON &&
	       !lf_regions_empty();
}

LF_API int munmap(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, e = a + lf_page_up(len);
	if (lf_busy || ((!table_in_use() || !lf_regions_overlap(a, e)) && !lf_shared_overlap(a, e)))
		return lf_real_munmap(addr, len);
	if (a & (LF_PAGE - 1) || len == 0) {
		errno = EINVAL;
		return -1;
	}
	/* The table first, then the kernel: once a range has left the table
	 * no fill can land in it, so nothing the helpers do can reach memory
	 * that another mapping takes at the same place right after. */
	lf_mm_lock();
	lf_regions_remove(a, e);
	lf_shared_forget(a, e);
	int rc = lf_real_munmap(addr, len);
	lf_mm_unlock();
	return rc;
}

static void *move_regions(void *old, size_t oldlen, size_t newlen, int flags, void *want);

LF_API void *mremap(void *old, size_t oldlen, size_t newlen, int flags, ...)
{
	void *want = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	uintptr_t o = (uintptr_t)old, old_up = lf_page_up(oldlen);
	if (lf_busy)
		return lf_real_mremap(old, oldlen, newlen, flags, want);
	bool target = (flags & MREMAP_FIXED) &&
		      lf_regions_overlap((uintptr_t)want, (uintptr_t)want + lf_page_up(newlen));
	/* A shared mapping with bad pages is several VMAs, which the kernel
	 * does not move or resize as one: shared.c puts it together first. */
	bool shared = lf_shared_overlap(o, o + old_up);
	if (!shared && (!table_in_use() || (!lf_regions_overlap(o, o + old_up) && !target)))
		return lf_real_mremap(old, oldlen, newlen, flags, want);
	lf_mm_lock();
	struct lf_remap *pieces = shared ? lf_shared_before_remap(o, old_up) : NULL;
	void *p = move_regions(old, oldlen, newlen, flags, want);
	if (pieces) {
		int e = errno;
		lf_shared_after_remap(pieces, p, lf_page_up(newlen), flags);
		errno = e;
	}
	lf_mm_unlock();
	return p;
}

/* mremap of a range the table knows, and the table following it. */
static void *move_regions(void *old, size_t oldlen, size_t newlen, int flags, void *want)
{
	uintptr_t o = (uintptr_t)old, old_up = lf_page_up(oldlen), new_up = lf_page_up(newlen);
	/* A move drops the write protection that tells a file region's clean
	 * pages: drop those pages first, so that only written ones move. */
	if (flags & (MREMAP_MAYMOVE | MREMAP_FIXED))
		lf_file_before_move(o, o + old_up);
	void *p = lf_real_mremap(old, oldlen, newlen, flags, want);
	if (p == MAP_FAILED)
		return p;
	uintptr_t n = (uintptr_t)p;
	if (n == o) {
		lf_regions_resize(o, oldlen, newlen);
		return p;
	}
	size_t kept = old_up < new_up ? old_up : new_up;
	lf_regions_remove(n, n + new_up); /* MREMAP_FIXED replaced what was there */
	struct lf_region before;
	bool had = lf_regions_lookup(o, &before);
	lf_regions_move(o, kept, n);
	if (old_up > kept) /* the part not moved is unmapped */
		lf_regions_remove(o + kept, o + old_up);
	if (had && new_up > kept &&
	    lf_uffd_register(n + kept, new_up - kept, lf_region_reg(&before), NULL) == 0)
		lf_regions_resize(n, kept, new_up);
	/* MREMAP_DONTUNMAP leaves the old range mapped, registered and empty:
	 * for anonymous memory that means zeros. */
	if ((flags & MREMAP_DONTUNMAP) && had) {
		struct lf_region z = before;
		z.start = z.base = o;
		z.end = z.base_end = o + kept;
		z.src = z.kind == LF_MATCH_FILE ? z.src : LF_SRC_ZERO;
		z.win.size = 0;
		lf_regions_add(&z);
	}
	return p;
}

/* Advice that the VMA or its page tables keep (DONTFORK, DONTDUMP, RANDOM,
 * guard pages, HWPOISON...): a mapping of the file put over the range would
 * lose it, so such a region is never handed off.  The others act on the
 * pages once and are gone. */
static bool kept_with_the_mapping(int advice)
{
	switch (advice) {
	case MADV_DONTNEED:
	case 24: /* MADV_DONTNEED_LOCKED */
	case MADV_FREE:
	case MADV_WILLNEED:
	case MADV_COLD:
	case MADV_PAGEOUT:
	case MADV_POPULATE_READ:
		return false;
	default:
		return true;
	}
}

LF_API int madvise(void *addr, size_t len, int advice)
{
	uintptr_t a = (uintptr_t)addr, e = a + lf_page_up(len);
	if (lf_busy || !table_in_use() || !lf_regions_overlap(a, e))
		return lf_real_madvise(addr, len, advice);
	/* MADV_FREE and MADV_WIPEONFORK are for anonymous memory only: on a
	 * file mapping the kernel refuses them, and so must the emulation. */
	if ((advice == MADV_FREE || advice == MADV_WIPEONFORK) &&
	    lf_regions_has_kind(a, e, LF_MATCH_FILE)) {
		errno = EINVAL;
		return -1;
	}
	if (lf_handoff_any() && kept_with_the_mapping(advice))
		lf_handoff_forbid(a, e, false);
	lf_mm_lock();
	bool drops = advice == MADV_DONTNEED || advice == MADV_FREE || advice == 24 /* MADV_DONTNEED_LOCKED */;
	if (drops) {
		lf_written_before_drop(a, e, advice);
		lf_prefetch_hold();
	}
	int rc = lf_real_madvise(addr, len, advice);
	/* Emptied pages come back as the kernel would refill them: zeros for
	 * anonymous memory (even if it was loaded from a source), the file's
	 * bytes for a file mapping. */
	if (rc == 0 && drops)
		lf_regions_set_zero(a, e);
	if (drops)
		lf_prefetch_release();
	/* What fork will do with the range: the child forgets or wipes it. */
	if (rc == 0 && (advice == MADV_DONTFORK || advice == MADV_DOFORK ||
			advice == MADV_WIPEONFORK || advice == MADV_KEEPONFORK ||
			advice == MADV_HUGEPAGE || advice == MADV_NOHUGEPAGE))
		lf_regions_set_fork(a, e, advice);
	lf_mm_unlock();
	return rc;
}
