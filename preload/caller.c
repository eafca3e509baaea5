/* `caller` rules: is a function whose name matches the rule's glob on the
 * allocating call stack?  Names are resolved to address ranges once, at the
 * first question, from the ELF symbol tables of every loaded object
 * (common/elfsyms.c: .symtab, so static functions count; .dynsym when a
 * file is stripped, with a warning).  The stack comes from sites.c
 * (glibc's backtrace(), warmed up at initialisation; the library's own
 * frames left out).  Runs in program threads only (the
 * mmap and malloc wrappers), never on a helper. */
#include <dlfcn.h>
#include <fnmatch.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "elfsyms.h"
#include "lf.h"
#include "sites.h"

struct range {
	uintptr_t lo, hi;
};
struct rule_ranges {
	struct range *r;
	size_t n, cap;
};
static struct rule_ranges *ranges; /* one per rule */
static _Atomic int resolved;

struct walk {
	const char *glob;
	struct rule_ranges *out;
	uintptr_t bias;
};

static int on_symbol(const char *name, uint64_t value, uint64_t size, void *arg)
{
	struct walk *w = arg;
	if (fnmatch(w->glob, name, 0) != 0)
		return 0;
	if (w->out->n == w->out->cap) {
		size_t cap = w->out->cap ? w->out->cap * 2 : 16;
		struct range *r = realloc(w->out->r, cap * sizeof *r);
		if (!r)
			return 1;
		w->out->r = r;
		w->out->cap = cap;
	}
	w->out->r[w->out->n++] = (struct range){w->bias + value, w->bias + value + size};
	return 0;
}

static int on_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
	if (!strncmp(path, "linux-vdso", 10))
		return 0;
	/* This library's own frames never count. */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (uintptr_t)&on_object >= lo &&
		    (uintptr_t)&on_object < lo + ph->p_memsz)
			return 0;
	}
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		const struct lf_rule *rule = &lf.rules.rule[i];
		if (!rule->caller)
			continue;
		struct walk w = {rule->caller, &ranges[i], info->dlpi_addr};
		bool dynsym = false;
		char err[256];
		if (lf_elf_functions(path, on_symbol, &w, &dynsym, err, sizeof err) < 0)
			lf_debug("caller look-up: %s", err);
		else if (dynsym)
			lf_info("rule '%s': %s has no .symtab (stripped): only its exported functions "
				"can match caller = %s", rule->name, path, rule->caller);
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void resolve(void)
{
	ranges = calloc(lf.rules.nrules, sizeof *ranges);
	if (!ranges)
		return;
	dl_iterate_phdr(on_object, NULL);
	for (size_t i = 0; i < lf.rules.nrules; i++) {
		qsort(ranges[i].r, ranges[i].n, sizeof *ranges[i].r, cmp_range);
		if (lf.rules.rule[i].caller && !ranges[i].n)
			lf_warn("rule '%s': no function matches caller = %s in the program or its "
				"libraries", lf.rules.rule[i].name, lf.rules.rule[i].caller);
	}
}

void lf_caller_init(void) { lf_sites_init(); }

static bool in_ranges(const struct rule_ranges *rr, uintptr_t pc)
{
	size_t lo = 0, hi = rr->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (rr->r[mid].hi <= pc)
			lo = mid + 1;
		else if (rr->r[mid].lo > pc)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* The caller's frames, taken once per wrapper call (frames->n < 0: not yet). */
bool lf_caller_matches(size_t rule, struct lf_frames *f)
{
	if (!atomic_load(&resolved)) {
		static _Atomic int once;
		if (!atomic_exchange(&once, 1)) {
			resolve();
			atomic_store(&resolved, 1);
		}
		while (!atomic_load(&resolved))
			;
	}
	if (!ranges)
		return false;
	lf_frames_take(f);
	unsigned depth = lf.rules.rule[rule].caller_depth;
	for (int i = 0; i < f->n && i < (int)depth; i++)
		if (in_ranges(&ranges[rule], f->pc[i]))
			return true;
	return false;
}
