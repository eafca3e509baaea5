/* Touches the pages of one region, one after the other, and says which of
 * them raised SIGBUS (a `poison` rule's doing), for tests/integration/
 * test_poison.py.
 *
 *   poison_touch KIND NPAGES [ORDER] [nohandler] [write]
 *
 *   KIND   anon                 a private anonymous mmap of NPAGES pages
 *          malloc               malloc(NPAGES pages) (a `malloc` rule's block)
 *          file:PATH:OFFSET     a private mmap of PATH at OFFSET (a multiple
 *                               of the page size), NPAGES pages long
 *          source:PATH:OFFSET   anonymous, but a `load` fill from PATH at
 *                               OFFSET is expected under the library (region
 *                               byte X is file byte OFFSET+X, zeros past the
 *                               end); natively: zeros
 *   ORDER  seq (default), rev, or a comma list of page indexes (each page is
 *          touched once, in that order; pages not listed are not touched)
 *   nohandler: no SIGBUS handler: the first poisoned page ends the program
 *   write: each first touch is a write of one byte, not a read
 *
 * Each touch is a read (or write) of one byte inside the page (at a varying offset),
 * under sigsetjmp: a SIGBUS is caught by the handler, which records
 * si_addr and the thread, and jumps back.  Then:
 *   - a page that raised SIGBUS must have si_addr inside that very page,
 *     the signal in this thread, and raise SIGBUS again when touched again;
 *   - a page that did not must hold the expected bytes (zeros; the file's
 *     bytes for file and source regions) over the whole page, and take a
 *     write of the pattern.
 * Output: "sigbus pages: I,J,K" (or "none"), "sigbus count: N", one
 * "ok:"/"FAIL:" line per check, and the usual closing line.  No addresses,
 * pids or timings in the output.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>

#include "lftest.h"

static sigjmp_buf jb;
static volatile sig_atomic_t in_touch;
static void *volatile fault_addr;
static volatile pid_t fault_tid;
static volatile int fault_code;

static void on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	fault_addr = si->si_addr;
	fault_tid = (pid_t)syscall(SYS_gettid);
	fault_code = si->si_code;
	if (!in_touch) {
		/* Not ours: die of it, as without a handler. */
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
		return;
	}
	siglongjmp(jb, 1);
}

static bool write_mode;

/* Read one byte at p (write_mode: write *out there); true when that raised
 * SIGBUS (the handler's record is then in fault_addr / fault_tid). */
static bool touch(volatile uint8_t *p, uint8_t *out)
{
	fault_addr = NULL;
	fault_tid = 0;
	if (sigsetjmp(jb, 1)) {
		in_touch = 0;
		return true;
	}
	in_touch = 1;
	if (write_mode)
		*p = *out;
	else
		*out = *p;
	in_touch = 0;
	return false;
}

enum kind { K_ANON, K_MALLOC, K_FILE, K_SOURCE };

static uint8_t *file_data; /* NULL: the region must read as zeros */
static size_t file_len;
static uint64_t file_offset;

static uint8_t expected(size_t x)
{
	if (!file_data)
		return 0;
	return file_offset + x < file_len ? file_data[file_offset + x] : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s KIND NPAGES [ORDER] [nohandler] [write]\n", argv[0]);
		return 2;
	}
	const size_t pg = (size_t)page_size();
	const char *kind_arg = argv[1];
	size_t npages = strtoul(argv[2], NULL, 0);
	const char *order = argc > 3 ? argv[3] : "seq";
	bool handler = true;
	for (int a = 4; a < argc; a++) {
		if (!strcmp(argv[a], "nohandler"))
			handler = false;
		else if (!strcmp(argv[a], "write"))
			write_mode = true;
		else
			die("unknown option %s", argv[a]);
	}
	size_t len = npages * pg;
	if (!npages)
		die("NPAGES must be > 0");

	enum kind kind;
	char path[4096] = "";
	uint64_t offset = 0;
	if (!strcmp(kind_arg, "anon")) {
		kind = K_ANON;
	} else if (!strcmp(kind_arg, "malloc")) {
		kind = K_MALLOC;
	} else if (!strncmp(kind_arg, "file:", 5) || !strncmp(kind_arg, "source:", 7)) {
		kind = kind_arg[0] == 'f' ? K_FILE : K_SOURCE;
		const char *p = strchr(kind_arg, ':') + 1, *colon = strrchr(kind_arg, ':');
		if (colon <= p || (size_t)(colon - p) >= sizeof path)
			die("bad KIND %s", kind_arg);
		memcpy(path, p, (size_t)(colon - p));
		offset = strtoull(colon + 1, NULL, 0);
	} else {
		fprintf(stderr, "unknown KIND %s\n", kind_arg);
		return 2;
	}

	/* What the region must hold: zeros, or the file's bytes (kept as the
	 * file itself: a buffer as big as the region would be a region too). */
	if (kind == K_FILE || (kind == K_SOURCE && lf_expect_source()))
		file_data = slurp(path, &file_len);
	file_offset = offset;

	uint8_t *base;
	if (kind == K_MALLOC) {
		base = malloc(len);
		if (!base)
			die("malloc %zu", len);
	} else if (kind == K_FILE) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			die("open %s", path);
		base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)offset);
		if (base == MAP_FAILED)
			die("mmap %s", path);
		close(fd);
	} else {
		base = map_anon(len);
	}

	/* The touch order. */
	size_t *seq = calloc(npages, sizeof *seq), nseq = 0;
	if (!seq)
		die("calloc");
	if (!strcmp(order, "seq") || !strcmp(order, "rev")) {
		for (size_t i = 0; i < npages; i++)
			seq[nseq++] = order[0] == 's' ? i : npages - 1 - i;
	} else {
		char *copy = strdup(order), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t && nseq < npages;
		     t = strtok_r(NULL, ",", &save)) {
			size_t i = strtoul(t, NULL, 0);
			if (i >= npages)
				die("page %zu is outside the region", i);
			seq[nseq++] = i;
		}
		free(copy);
	}

	if (handler)
		lft_on_signal(SIGBUS, on_bus);

	const pid_t me = (pid_t)syscall(SYS_gettid);
	bool *bus = calloc(npages, sizeof *bus);
	if (!bus)
		die("calloc");
	bool addr_ok = true, tid_ok = true, again_ok = true, bytes_ok = true, write_ok = true;
	size_t nbus = 0;
	for (size_t k = 0; k < nseq; k++) {
		size_t i = seq[k];
		/* A varying offset inside the page, so that si_addr tells the
		 * page and not only the region. */
		size_t in = (i * 131 + 17) % pg;
		uint8_t *p = base + i * pg + in;
		uintptr_t page = (uintptr_t)p & ~(uintptr_t)(pg - 1);
		/* The byte a write puts there (never what was there). */
		const uint8_t w = (uint8_t)(expected(i * pg + in) ^ 0xa5);
		uint8_t v = w;
		if (touch(p, &v)) {
			bus[i] = true;
			nbus++;
			uintptr_t a = (uintptr_t)fault_addr;
			if (a < page || a >= page + pg) {
				addr_ok = false;
				printf("FAIL: page %zu: si_addr is %s the touched page\n", i,
				       a < page ? "below" : "above");
			}
			if (fault_tid != me)
				tid_ok = false;
			/* The poison stays: the same page raises SIGBUS again. */
			v = w;
			if (!touch(p, &v)) {
				again_ok = false;
				printf("FAIL: page %zu: a second touch did not raise SIGBUS\n", i);
			}
			continue;
		}
		if (!write_mode && v != expected(i * pg + in)) {
			bytes_ok = false;
			printf("FAIL: page %zu: byte %zu is %u, expected %u\n", i, in, v,
			       expected(i * pg + in));
			continue;
		}
		/* The whole page (only this page: the others stay untouched). */
		uint8_t *pp = base + i * pg;
		for (size_t x = 0; x < pg; x++) {
			uint8_t *q = pp + x;
			/* Stay inside the page of the touched byte (malloc'd memory
			 * need not be page aligned natively). */
			if (((uintptr_t)q & ~(uintptr_t)(pg - 1)) != page)
				continue;
			uint8_t want = write_mode && x == in ? w : expected(i * pg + x);
			if (*q != want) {
				bytes_ok = false;
				printf("FAIL: page %zu: byte %zu is %u, expected %u\n", i, x, *q, want);
				break;
			}
		}
		/* Writable, and it keeps what was written. */
		*p = (uint8_t)(v ^ 0x5a);
		if (*p != (uint8_t)(v ^ 0x5a))
			write_ok = false;
	}

	printf("sigbus pages: ");
	if (!nbus)
		printf("none");
	for (size_t i = 0, n = 0; i < npages; i++)
		if (bus[i])
			printf("%s%zu", n++ ? "," : "", i);
	printf("\nsigbus count: %zu\n", nbus);
	if (nbus) {
		check(addr_ok, "si_addr lies inside the touched page for every SIGBUS");
		check(tid_ok, "every SIGBUS was delivered to the touching thread");
		check(again_ok, "a poisoned page raises SIGBUS again when touched again");
	}
	check(bytes_ok, "pages without SIGBUS hold the expected bytes");
	check(write_ok, "pages without SIGBUS take writes");
	return finish("poison_touch");
}
