/* mprotect on part of a mapping, then touching around the boundaries:
 * a PROT_READ part reads zeros (and a write there is SIGSEGV), a PROT_NONE
 * part is SIGSEGV for reads and writes (caught with a handler and
 * siglongjmp), and the read-write parts next to them behave normally, also
 * on the pages right at the boundary.  After mprotect back to read-write,
 * everything reads as before and takes writes.
 */
#include <setjmp.h>
#include <signal.h>

#include "lftest.h"

static sigjmp_buf jb;
static volatile sig_atomic_t last_sig;
static void *volatile last_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_sig = sig;
	last_addr = si->si_addr;
	siglongjmp(jb, 1);
}

/* 1 when the access faulted with SIGSEGV at addr, 0 when it worked. */
static int try_read(volatile uint8_t *addr, uint8_t *out)
{
	last_sig = 0;
	if (sigsetjmp(jb, 1))
		return last_sig == SIGSEGV && last_addr == (void *)addr ? 1 : -1;
	*out = *addr;
	return 0;
}

static int try_write(volatile uint8_t *addr, uint8_t v)
{
	last_sig = 0;
	if (sigsetjmp(jb, 1))
		return last_sig == SIGSEGV && last_addr == (void *)addr ? 1 : -1;
	*addr = v;
	return 0;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) < 0)
		die("sigaction");
	size_t pg = (size_t)page_size();

	/* [0,1M) rw, [1M,2M) read-only, [2M,3M) none, [3M,4M) rw; nothing
	 * touched yet except [0,64K) and [3M+64K, 3M+128K). */
	uint8_t *p = map_anon(4 * MiB);
	fill_pat(p, 64 * KiB, 0, 1);
	fill_pat(p + 3 * MiB + 64 * KiB, 64 * KiB, 0, 2);
	check(mprotect(p + MiB, MiB, PROT_READ) == 0, "mprotect [1M,2M) PROT_READ");
	check(mprotect(p + 2 * MiB, MiB, PROT_NONE) == 0, "mprotect [2M,3M) PROT_NONE");

	uint8_t v = 0xff;
	/* The last rw page before the read-only part, then the read-only part. */
	check(try_write(p + MiB - 1, 0x11) == 0 && p[MiB - 1] == 0x11, "write at the last byte before the PROT_READ part");
	check(find_nonzero(p + MiB - pg, pg - 1) == NOMISMATCH, "rest of that page is zeros");
	check(try_read(p + MiB, &v) == 0 && v == 0, "read of the first PROT_READ byte: 0");
	check(find_nonzero(p + MiB, MiB) == NOMISMATCH, "the whole PROT_READ part reads zeros");
	check(try_write(p + MiB + 5 * pg, 1) == 1, "write into the PROT_READ part: SIGSEGV at the address");
	check(try_write(p + 2 * MiB - 1, 1) == 1, "write at the last PROT_READ byte: SIGSEGV");
	/* PROT_NONE: both reads and writes fault, at both ends. */
	check(try_read(p + 2 * MiB, &v) == 1, "read of the first PROT_NONE byte: SIGSEGV");
	check(try_write(p + 2 * MiB + 7 * pg + 3, 1) == 1, "write inside PROT_NONE: SIGSEGV");
	check(try_read(p + 3 * MiB - 1, &v) == 1, "read of the last PROT_NONE byte: SIGSEGV");
	/* The rw part after it, at the boundary. */
	check(try_read(p + 3 * MiB, &v) == 0 && v == 0, "read of the first byte after PROT_NONE: 0");
	check(try_write(p + 3 * MiB + 1, 0x22) == 0 && p[3 * MiB + 1] == 0x22, "write right after PROT_NONE sticks");
	check(find_pat_mismatch(p + 3 * MiB + 64 * KiB, 64 * KiB, 0, 2) == NOMISMATCH,
	      "bytes written before mprotect in the last part kept");
	check(find_pat_mismatch(p, 64 * KiB, 0, 1) == NOMISMATCH, "bytes written before mprotect in the first part kept");
	check(find_nonzero(p + 64 * KiB, MiB - 64 * KiB - pg) == NOMISMATCH,
	      "untouched rw pages of the first part read zeros");
	check(find_nonzero(p + 3 * MiB + 128 * KiB, MiB - 128 * KiB) == NOMISMATCH,
	      "untouched rw pages of the last part read zeros");

	/* A read-only page in the middle of written memory, split 3 ways. */
	uint8_t *q = map_anon(2 * MiB);
	fill_pat(q, 2 * MiB, 0, 3);
	check(mprotect(q + MiB, pg, PROT_READ) == 0, "mprotect one written page PROT_READ");
	check(find_pat_mismatch(q, 2 * MiB, 0, 3) == NOMISMATCH, "all bytes readable and kept");
	check(try_write(q + MiB + 10, 0) == 1, "write into that page: SIGSEGV");
	check(try_write(q + MiB + pg, 0x33) == 0 && q[MiB + pg] == 0x33, "write to the next page works");

	/* Back to read-write: zeros where nothing was written, writes stick. */
	check(mprotect(p, 4 * MiB, PROT_READ | PROT_WRITE) == 0, "mprotect everything back to rw");
	check(find_nonzero(p + MiB, 2 * MiB) == NOMISMATCH, "formerly PROT_READ/PROT_NONE parts read zeros");
	fill_pat(p + MiB, 2 * MiB, 0, 4);
	check(find_pat_mismatch(p + MiB, 2 * MiB, 0, 4) == NOMISMATCH, "and take writes");
	check(p[MiB - 1] == 0x11 && p[3 * MiB + 1] == 0x22, "boundary bytes written earlier kept");

	/* PROT_NONE from the start, opened later. */
	uint8_t *r = mmap(NULL, 2 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		die("mmap none");
	check(try_read(r + 123, &v) == 1, "PROT_NONE mapping: read is SIGSEGV");
	check(mprotect(r + MiB, MiB, PROT_READ | PROT_WRITE) == 0, "open its second half");
	check(find_nonzero(r + MiB, MiB) == NOMISMATCH, "second half reads zeros");
	fill_pat(r + MiB, MiB, 0, 5);
	check(find_pat_mismatch(r + MiB, MiB, 0, 5) == NOMISMATCH, "second half takes writes");
	check(try_read(r + MiB - 1, &v) == 1, "first half still SIGSEGV at its last byte");
	return finish("mprotect");
}
