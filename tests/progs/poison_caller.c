/* `caller` rules: which function allocated a region decides whether a rule
 * takes it (test_poison.py).  Built -O1 -g and not stripped (tests.mk), so
 * its static functions are in .symtab and its frames in .eh_frame.
 *
 *   poison_caller [SIZE_MIB]
 *
 * Six regions of SIZE_MIB (default 2) MiB each, allocated by:
 *   grab_buffer   (static, calls mmap / malloc itself)
 *   other_alloc   (static, calls mmap / malloc itself)
 *   grab_deep     (static, calls raw_alloc, which calls mmap / malloc: the
 *                  matching function is one frame further from the call)
 * each once through mmap and once through malloc.  Then pages 0..3 of each
 * region are read under sigsetjmp, and one line per region says which of
 * them raised SIGBUS:
 *   "grab_buffer/mmap: sigbus pages 1" or "grab_buffer/mmap: sigbus pages none"
 * plus the checks that si_addr lay inside the touched page and that every
 * page without SIGBUS read zeros.
 */
#include <setjmp.h>
#include <signal.h>

#include "lftest.h"

static volatile int via_malloc;
static volatile unsigned allocs;

/* No tail calls: something is done after the allocation, so that these
 * frames are still on the stack when mmap / malloc runs. */
static __attribute__((noinline)) void *grab_buffer(size_t n)
{
	void *p = via_malloc ? malloc(n)
			     : mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || p == MAP_FAILED)
		die("grab_buffer %zu", n);
	allocs++;
	return p;
}

static __attribute__((noinline)) void *other_alloc(size_t n)
{
	void *p = via_malloc ? malloc(n)
			     : mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || p == MAP_FAILED)
		die("other_alloc %zu", n);
	allocs++;
	return p;
}

static __attribute__((noinline)) void *raw_alloc(size_t n)
{
	void *p = via_malloc ? malloc(n)
			     : mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || p == MAP_FAILED)
		die("raw_alloc %zu", n);
	allocs++;
	return p;
}

static __attribute__((noinline)) void *grab_deep(size_t n)
{
	void *p = raw_alloc(n);
	allocs++;
	return p;
}

static sigjmp_buf jb;
static volatile sig_atomic_t in_touch;
static void *volatile fault_addr;

static void on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	fault_addr = si->si_addr;
	if (!in_touch) {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
		return;
	}
	siglongjmp(jb, 1);
}

static bool touch(const volatile uint8_t *p, uint8_t *out)
{
	if (sigsetjmp(jb, 1)) {
		in_touch = 0;
		return true;
	}
	in_touch = 1;
	*out = *p;
	in_touch = 0;
	return false;
}

int main(int argc, char **argv)
{
	size_t size = (argc > 1 ? strtoul(argv[1], NULL, 0) : 2) * MiB, pg = (size_t)page_size();
	lft_on_signal(SIGBUS, on_bus);

	struct {
		const char *name;
		uint8_t *p;
	} r[6];
	via_malloc = 0;
	r[0].name = "grab_buffer/mmap", r[0].p = grab_buffer(size);
	r[1].name = "other_alloc/mmap", r[1].p = other_alloc(size);
	r[2].name = "grab_deep/mmap", r[2].p = grab_deep(size);
	via_malloc = 1;
	r[3].name = "grab_buffer/malloc", r[3].p = grab_buffer(size);
	r[4].name = "other_alloc/malloc", r[4].p = other_alloc(size);
	r[5].name = "grab_deep/malloc", r[5].p = grab_deep(size);

	bool addr_ok = true, zeros_ok = true;
	for (int i = 0; i < 6; i++) {
		char list[64] = "";
		for (size_t k = 0; k < 4; k++) {
			uint8_t *p = r[i].p + k * pg + 64, v;
			uintptr_t page = (uintptr_t)p & ~(uintptr_t)(pg - 1);
			if (touch(p, &v)) {
				uintptr_t a = (uintptr_t)fault_addr;
				if (a < page || a >= page + pg)
					addr_ok = false;
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%zu",
					 *list ? "," : "", k);
			} else if (v != 0) {
				zeros_ok = false;
			}
		}
		printf("%s: sigbus pages %s\n", r[i].name, *list ? list : "none");
	}
	check(allocs == 8, "eight allocations");
	check(addr_ok, "si_addr lies inside the touched page for every SIGBUS");
	check(zeros_ok, "pages without SIGBUS read zeros");
	return finish("poison_caller");
}
