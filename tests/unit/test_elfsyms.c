/* elfsyms on real files: system binaries, a static binary and a shared
 * object with a static function, compiled here, before and after strip. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfsyms.h"
#include "tmpdir.h"



static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot create %s", path);
	fputs(text, f);
	fclose(f);
}

/* Run a shell command in dir; 0 when it succeeded. */
static int sh(const char *fmt, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cd '%s' && ", dir);
	size_t n = strlen(cmd);
	snprintf(cmd + n, sizeof cmd - n, fmt, arg);
	return system(cmd);
}

/* The symbol walk, collected. */
struct seen {
	int count;
	int limit;             /* stop after this many; 0 = never */
	bool bad_entry;        /* a call with an empty name or size 0 */
	const char *want;      /* a name to look for */
	bool found;
	uint64_t value, size;
};

static int collect(const char *name, uint64_t value, uint64_t size, void *arg)
{
	struct seen *s = arg;
	s->count++;
	if (!name || !*name || size == 0)
		s->bad_entry = true;
	if (s->want && !strcmp(name, s->want)) {
		s->found = true;
		s->value = value;
		s->size = size;
	}
	return s->limit && s->count >= s->limit;
}

static struct seen walk(const char *path, const char *want, bool *dyn)
{
	struct seen s = { .want = want };
	char err[512] = "";
	int rc = lf_elf_functions(path, collect, &s, dyn, err, sizeof err);
	cr_assert_eq(rc, 0, "lf_elf_functions(%s): %s", path, err);
	cr_assert_not(s.bad_entry, "%s: a function with no name or no size", path);
	return s;
}

/* The running libc and where it is loaded. */
static const char *libc_path(uintptr_t *base)
{
	Dl_info di;
	void *fn = dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
	cr_assert_not_null(fn);
	cr_assert(dladdr(fn, &di) && di.dli_fname, "dladdr");
	*base = (uintptr_t)di.dli_fbase;
	return di.dli_fname;
}

Test(elf_info, dynamic_system_binary)
{
	struct lf_elf_info in;
	char err[512] = "";
	cr_assert_eq(lf_elf_info("/bin/true", &in, err, sizeof err), 0, "%s", err);
	cr_assert(in.is_elf);
	cr_assert(in.has_interp, "/bin/true has a PT_INTERP");
	cr_assert(in.has_dynamic);
	cr_assert_geq(in.needed, 1, "/bin/true needs libc at least");
	cr_assert_eq(in.interp[0], '/', "interpreter '%s'", in.interp);
	cr_assert_eq(access(in.interp, X_OK), 0, "interpreter %s exists", in.interp);
	cr_assert(in.type == ET_DYN || in.type == ET_EXEC);
	/* Same architecture as this test, compiled for this machine. */
	struct lf_elf_info self;
	cr_assert_eq(lf_elf_info("/proc/self/exe", &self, err, sizeof err), 0, "%s", err);
	cr_assert_eq(in.machine, self.machine);
	cr_assert_eq(in.elf_class, self.elf_class);
#if defined(__x86_64__) && defined(__LP64__)
	cr_assert_eq(in.machine, EM_X86_64);
	cr_assert_eq(in.elf_class, 64);
	cr_assert_str_eq(in.interp, "/lib64/ld-linux-x86-64.so.2");
#endif
}

Test(elf_info, by_fd_leaves_fd_open)
{
	int fd = open("/bin/true", O_RDONLY);
	cr_assert_geq(fd, 0);
	struct lf_elf_info a, b;
	char err[512] = "";
	cr_assert_eq(lf_elf_info_fd(fd, "/bin/true", &a, err, sizeof err), 0, "%s", err);
	cr_assert_eq(lf_elf_info("/bin/true", &b, err, sizeof err), 0, "%s", err);
	cr_assert(a.is_elf && a.has_interp);
	cr_assert_eq(a.machine, b.machine);
	cr_assert_eq(a.needed, b.needed);
	cr_assert_str_eq(a.interp, b.interp);
	cr_assert_neq(fcntl(fd, F_GETFD), -1, "the fd is still open");
	close(fd);
}

Test(elf_info, not_elf_and_missing, .init = make_dir, .fini = remove_dir)
{
	char p[128];
	snprintf(p, sizeof p, "%s/script", dir);
	write_file(p, "#!/bin/sh\necho hello\n");
	struct lf_elf_info in;
	char err[512] = "";
	cr_assert_eq(lf_elf_info(p, &in, err, sizeof err), 0, "%s", err);
	cr_assert_not(in.is_elf);
	cr_assert_not(in.has_interp);

	err[0] = '\0';
	snprintf(p, sizeof p, "%s/no-such-file", dir);
	cr_assert_eq(lf_elf_info(p, &in, err, sizeof err), -1);
	cr_assert(strstr(err, "no-such-file") != NULL, "message names the file: %s", err);
	cr_assert(strstr(err, "No such file") != NULL, "message says why: %s", err);

	/* A function walk of a non-ELF file is an error, not an empty walk. */
	snprintf(p, sizeof p, "%s/script", dir);
	struct seen s = { 0 };
	err[0] = '\0';
	cr_assert_eq(lf_elf_functions(p, collect, &s, NULL, err, sizeof err), -1);
	cr_assert(strstr(err, "not an ELF") != NULL, "%s", err);
	cr_assert_eq(s.count, 0);
}

Test(elf_info, truncated_elf, .init = make_dir, .fini = remove_dir)
{
	/* The ELF header alone: the program headers it announces are missing. */
	char p[128];
	snprintf(p, sizeof p, "%s/trunc", dir);
	cr_assert_eq(sh("head -c 64 /bin/true > %s", p), 0);
	struct lf_elf_info in;
	char err[512] = "";
	cr_assert_eq(lf_elf_info(p, &in, err, sizeof err), -1, "a damaged file is an error");
	cr_assert(strstr(err, "trunc") != NULL, "message names the file: %s", err);
}

Test(elf_functions, libc_dynsym_values_are_unrelocated)
{
	uintptr_t base;
	const char *libc = libc_path(&base);
	bool dyn = true;
	struct seen s = walk(libc, "gnu_get_libc_version", &dyn);
	cr_assert_gt(s.count, 100, "%s: %d functions", libc, s.count);
	cr_assert(s.found, "gnu_get_libc_version in %s", libc);
	cr_assert_gt(s.size, 0);
	/* value + load bias is where the function really is. */
	void *real = dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
	cr_assert_eq((uintptr_t)s.value + base, (uintptr_t)real,
		     "value %#llx + base %#lx != %p", (unsigned long long)s.value,
		     (unsigned long)base, real);

#if defined(__x86_64__)
	/* strlen is an IFUNC (only) in glibc on x86-64: it must be listed too. */
	struct seen m = walk(libc, "strlen", NULL);
	cr_assert(m.found, "strlen (STT_GNU_IFUNC) in %s", libc);
#endif
}

Test(elf_functions, stop_early)
{
	uintptr_t base;
	const char *libc = libc_path(&base);
	struct seen s = { .limit = 3 };
	char err[512] = "";
	cr_assert_eq(lf_elf_functions(libc, collect, &s, NULL, err, sizeof err), 0, "%s", err);
	cr_assert_eq(s.count, 3, "the walk stops when the callback says so");
}

Test(elf_functions, static_function_then_strip, .init = make_dir, .fini = remove_dir)
{
	char src[128], so[128];
	snprintf(src, sizeof src, "%s/t.c", dir);
	snprintf(so, sizeof so, "%s/t.so", dir);
	write_file(src,
		   "__attribute__((noinline, used)) static int lf_private_helper(int x)\n"
		   "{ return x * 3 + 1; }\n"
		   "int lf_public_entry(int x) { return lf_private_helper(x) + 2; }\n"
		   "int lf_public_data = 7;\n");
	if (sh("gcc -O1 -g -shared -fPIC -o t.so t.c%s", "") != 0)
		cr_skip_test("gcc cannot build a shared object here");

	bool dyn = true;
	struct seen s = walk(so, "lf_private_helper", &dyn);
	cr_assert_not(dyn, "an unstripped object has a .symtab");
	cr_assert(s.found, "the static function is found through .symtab");
	cr_assert(walk(so, "lf_public_entry", NULL).found);
	cr_assert_not(walk(so, "lf_public_data", NULL).found, "objects are not functions");

	cr_assert_eq(sh("strip %s", so), 0);
	dyn = false;
	s = walk(so, "lf_private_helper", &dyn);
	cr_assert(dyn, "a stripped object is read through .dynsym");
	cr_assert_not(s.found, "a static function is gone after strip");
	s = walk(so, "lf_public_entry", NULL);
	cr_assert(s.found, "an exported function is still in .dynsym");

	/* The same through an open fd. */
	int fd = open(so, O_RDONLY);
	cr_assert_geq(fd, 0);
	struct seen f = { .want = "lf_public_entry" };
	char err[512] = "";
	dyn = false;
	cr_assert_eq(lf_elf_functions_fd(fd, so, collect, &f, &dyn, err, sizeof err), 0, "%s", err);
	cr_assert(f.found && dyn);
	cr_assert_eq(f.value, s.value);
	close(fd);
}

Test(elf_functions, static_binary, .init = make_dir, .fini = remove_dir)
{
	char src[128], bin[128];
	snprintf(src, sizeof src, "%s/s.c", dir);
	snprintf(bin, sizeof bin, "%s/s", dir);
	write_file(src,
		   "__attribute__((noinline)) static int lf_static_inner(int x) { return x + 1; }\n"
		   "int main(int argc, char **argv) { return lf_static_inner(argc) - 2; }\n");
	if (sh("gcc -O1 -static -o s s.c 2>/dev/null%s", "") != 0)
		cr_skip_test("gcc -static does not work here (no libc.a?): static case not tested");

	struct lf_elf_info in;
	char err[512] = "";
	cr_assert_eq(lf_elf_info(bin, &in, err, sizeof err), 0, "%s", err);
	cr_assert(in.is_elf);
	cr_assert_not(in.has_interp, "a static binary has no PT_INTERP");
	cr_assert_eq(in.needed, 0);
	cr_assert_eq(in.interp[0], '\0');

	bool dyn = true;
	struct seen s = walk(bin, "lf_static_inner", &dyn);
	cr_assert_not(dyn);
	cr_assert(s.found);
	cr_assert_gt(s.count, 100, "libc's functions are in a static binary too");
}
