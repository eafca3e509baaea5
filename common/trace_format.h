/* The fault trace file, format version 1: written by liblazyfault.so
 * (preload/trace.c), read by `lazyfault report` (injector/report_read.c).
 * lazyfault-trace(5) is the description for users; this header is the
 * one definition both sides compile.
 *
 * The file is a header of LF_TRACE_HEADER_SIZE bytes, then fixed-size
 * records in the order they were claimed.  Everything is in the byte order
 * of the machine that wrote it (the magic tells a reader of another).
 * Readers skip record types they do not know: a later version may add
 * types, and fields to the end of the header, but never moves a field.
 *
 * Writers claim records by advancing `cursor` (atomically, from any
 * thread), write the record, and store its `type` last: a record whose
 * type is still 0 was claimed by a process that died before it finished. */
#ifndef LAZYFAULT_TRACE_FORMAT_H
#define LAZYFAULT_TRACE_FORMAT_H

#include <stdint.h>

#define LF_TRACE_MAGIC "LFTRACE"        /* with its NUL: 8 bytes */
#define LF_TRACE_VERSION 1
#define LF_TRACE_HEADER_SIZE 4096
#define LF_TRACE_RECORD_SIZE 64
/* The cursor's top bit: the trace is closed (the process ended), and
 * nothing more is claimed. */
#define LF_TRACE_CLOSED (UINT64_C(1) << 63)

struct lf_trace_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;           /* bytes before the first record */
	uint32_t record_size;
	uint32_t page_size;
	uint32_t pid, ppid;
	uint64_t start_ns;              /* CLOCK_MONOTONIC when the trace began;
					   every record's t counts from here */
	uint64_t start_real_ns;         /* CLOCK_REALTIME at the same moment */
	uint64_t cursor;                /* records claimed (| LF_TRACE_CLOSED) */
	uint64_t capacity;              /* records the file has room for now */
	uint64_t dropped;               /* records that did not fit */
	uint64_t end_ns;                /* when the process ended (after start_ns) */
	int32_t end_signal;             /* the fatal signal it died of, else 0 */
	uint32_t flags;                 /* LF_TRACE_F_* */
	uint64_t max_capacity;          /* the most records it could grow to */
};
#define LF_TRACE_F_ENDED 1u             /* end_ns and end_signal are set */
#define LF_TRACE_F_FORKED 2u            /* a child of a traced process */

/* One record.  type, flags, a16, a32 and t are named for what most types
 * keep there; each type's fields are listed with it below. */
struct lf_trace_rec {
	uint8_t type;                   /* enum lf_trace_type; 0: not written */
	uint8_t flags;
	uint16_t a16;                   /* most types: the rule's index */
	uint32_t a32;                   /* most types: a thread id */
	uint64_t t;                     /* most types: ns after start_ns */
	uint64_t u[6];
};

enum lf_trace_type {
	/* The process, first in every trace.  u[0] pid, u[1] ppid, u[2] page
	 * size.  Strings: LF_TRACE_S_EXE, LF_TRACE_S_ARGV (NUL-separated). */
	LF_TRACE_PROCESS = 1,
	/* A rule of the rule file.  a16 its index; flags its action (bits
	 * 0-1, enum lf_action) and match (bits 2-3, enum lf_match); u[0] its
	 * readahead, u[1] its delay in ns.  String: LF_TRACE_S_RULE. */
	LF_TRACE_RULE = 2,
	/* A region taken.  flags: match (bits 0-1), what its pages are filled
	 * from (bits 2-3: 0 zeros, 1 a file, 2 shmem page-cache pages), bit 4
	 * LF_TRACE_INHERITED; a16 rule; a32 the thread that took it; u[0] the
	 * region's id (from 1, unique in the trace); u[1] its number in the
	 * rule (from 1, as `regions` counts them); u[2] start address;
	 * u[3] length; u[4] the file offset of its start (or the rule's
	 * source_offset); u[5] its protection (PROT_*). */
	LF_TRACE_REGION = 3,
	/* The file of a region loaded from one, right after its REGION.
	 * u[0] region id; u[1] device, u[2] inode, u[3] size, u[4] mtime in
	 * ns since the epoch, as fstat(2) gave them when it was taken.
	 * String: LF_TRACE_S_FILE (owner: the region id). */
	LF_TRACE_REGION_FILE = 4,
	/* Where a region was allocated: the innermost frames of the stack of
	 * the mmap or malloc call, the library's own left out.  u[0] region
	 * id; flags the number of frames (up to 5); u[1..5] the frames, each
	 * (object id << 48) | offset: the return address minus 1, as an offset
	 * from the object's base (see OBJECT). */
	LF_TRACE_SITE = 5,
	/* A loaded object (the program or a library) frames point into.
	 * u[0] object id (from 1); u[1] the address of its base (where its
	 * first byte is mapped).  String: LF_TRACE_S_OBJECT. */
	LF_TRACE_OBJECT = 6,
	/* A fault served.  flags: what was installed (bits 0-3, enum
	 * lf_trace_fill), bit 4 LF_TRACE_WRITE (a write fault), bit 5
	 * LF_TRACE_STREAM (a sequential stream); a16 rule; a32 the faulting
	 * thread; t when the fault's message was read; u[0] region id; u[1]
	 * the faulting page's address; u[2] that page's index from the start
	 * of the region as taken; u[3], u[4] the range made present (start,
	 * length in bytes); u[5] the service time in ns (message read to
	 * wake). */
	LF_TRACE_FAULT = 7,
	/* A page poisoned.  flags 0: the rule's decision, 1: the file ended
	 * or failed to read there; a16 rule; a32 thread; u[0] region id; u[1]
	 * page address; u[2] page index; u[3] file offset, or UINT64_MAX.
	 * For flags 1, string LF_TRACE_S_WHY (owner: the region id). */
	LF_TRACE_POISON = 8,
	/* A region handed to the kernel (rule key handoff).  a16 rule; u[0]
	 * region id; u[1] start, u[2] end of the range handed off; u[3] the
	 * service time of the fault that did it; u[4] that fault's page. */
	LF_TRACE_HANDOFF = 9,
	/* A piece of a region released (munmap, free, mmap over it, mremap
	 * shrinking it).  a16 rule; a32 thread; u[0] region id; u[1] start,
	 * u[2] end of the piece. */
	LF_TRACE_RELEASE = 10,
	/* Registered memory emptied by MADV_DONTNEED or MADV_FREE: its pages
	 * fault again.  a32 thread; u[0] start, u[1] end. */
	LF_TRACE_DROP = 11,
	/* The fatal signal the process died of.  a32 thread; u[0] signal;
	 * u[1] si_addr; u[2] si_code. */
	LF_TRACE_SIGNAL = 12,
	/* A piece of text of the record it follows.  flags what it names
	 * (enum lf_trace_string); a16 the piece's index (from 0); a32 the id
	 * of what it names; t the length of the whole string in bytes; u[]
	 * 48 bytes of it. */
	LF_TRACE_STRING = 13,
	/* Pages of a region found written (write-protect tracking, on a kernel
	 * with UFFD_FEATURE_WP_ASYNC and PAGEMAP_SCAN), when they left it
	 * (munmap, MADV_DONTNEED, the process's end).  flags the runs held
	 * (1 or 2); a16 rule; u[0] region id; u[1], u[2] the first run (its
	 * first page's index from the region's start as taken, its pages);
	 * u[3], u[4] the second; u[5] the region's present pages found read
	 * only at the same time, on the first record of each scan, else 0. */
	LF_TRACE_WRITTEN = 14,
	/* Pages of a region installed ahead of their first touch (rule key
	 * prefetch), before any fault there.  flags 1: pages the earlier run
	 * wrote (installed writable); a16 rule; u[0] region id; u[1] the first
	 * page's index from the region's start as taken; u[2] pages. */
	LF_TRACE_PREFETCH = 15,
};

#define LF_TRACE_INHERITED 0x10u        /* REGION: held before fork */
#define LF_TRACE_WRITE 0x10u            /* FAULT */
#define LF_TRACE_STREAM 0x20u           /* FAULT */
#define LF_TRACE_SITE_FRAMES 5
#define LF_TRACE_STRING_CHUNK 48

enum lf_trace_fill {
	LF_TRACE_FILL_ZERO = 1,         /* zeros (COPY or ZEROPAGE) */
	LF_TRACE_FILL_COPY = 2,         /* a file's bytes, copied */
	LF_TRACE_FILL_CONTINUE = 3,     /* page-cache pages mapped (shmem) */
	LF_TRACE_FILL_POISON = 4,       /* a poison marker */
};

enum lf_trace_string {
	LF_TRACE_S_EXE = 1,
	LF_TRACE_S_ARGV = 2,
	LF_TRACE_S_RULE = 3,
	LF_TRACE_S_FILE = 4,
	LF_TRACE_S_OBJECT = 5,
	LF_TRACE_S_WHY = 6,
};

_Static_assert(sizeof(struct lf_trace_rec) == LF_TRACE_RECORD_SIZE, "record size");
_Static_assert(sizeof(struct lf_trace_header) <= LF_TRACE_HEADER_SIZE, "header size");

#endif
