/* The symbolizer on a program compiled here, which prints the offsets of its
 * own functions from its base as the loader mapped it (dladdr's dli_fbase,
 * the form a crash report's frames take): with symbols, PIE and not; a
 * stripped copy with its separate debug file found by .gnu_debuglink (same
 * directory, .debug/, ROOT/dir) and by build-id (ROOT/.build-id/xx/rest.debug,
 * ROOT a directory of the test's), a debug file of another build refused,
 * and a stripped copy without one (.dynsym only). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfsyms.h"
#include "symbolize.h"
#include "tmpdir.h"


static const char PROG_C[] =
	"#define _GNU_SOURCE\n"
	"#include <dlfcn.h>\n"
	"#include <stdio.h>\n"
	"__attribute__((noinline)) static int lf_hidden_helper(int x) { return x * 3 + 1; }\n"
	"__attribute__((noinline)) int lf_exported_entry(int x) { return lf_hidden_helper(x) + 2; }\n"
	"static void show(const char *what, void *addr)\n"
	"{\n"
	"	Dl_info info;\n"
	"	if (!dladdr(addr, &info)) return;\n"
	"	printf(\"%s %lx %s\\n\", what, (unsigned long)((char *)addr - (char *)info.dli_fbase),\n"
	"	       info.dli_fname);\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	show(\"hidden\", (char *)lf_hidden_helper + 4);\n"
	"	show(\"exported\", (char *)lf_exported_entry + 4);\n"
	"	show(\"malloc\", (char *)dlsym(RTLD_DEFAULT, \"malloc\") + 4);\n"
	"	return lf_exported_entry(argc) == 0;\n"
	"}\n";

struct offsets {
	uint64_t hidden, exported, malloc_off;
	char libc[4096];
};


TestSuite(symbolize, .init = make_dir, .fini = remove_dir);

static void sh(const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof full, "cd '%s' && %s", dir, cmd);
	cr_assert_eq(system(full), 0, "failed: %s", cmd);
}

/* Build prog (with `flags`) and run it for its offsets. */
static void build(const char *flags, struct offsets *o)
{
	char path[128], cmd[512];
	snprintf(path, sizeof path, "%s/prog.c", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(PROG_C, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "gcc -O1 -g -rdynamic %s -o prog prog.c -ldl && ./prog > offsets",
		 flags);
	sh(cmd);
	snprintf(path, sizeof path, "%s/offsets", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	char what[32], file[4096];
	unsigned long off;
	memset(o, 0, sizeof *o);
	while (fscanf(f, "%31s %lx %4095s", what, &off, file) == 3) {
		if (!strcmp(what, "hidden"))
			o->hidden = off;
		else if (!strcmp(what, "exported"))
			o->exported = off;
		else if (!strcmp(what, "malloc")) {
			o->malloc_off = off;
			snprintf(o->libc, sizeof o->libc, "%s", file);
		}
	}
	fclose(f);
	cr_assert(o->hidden && o->exported && o->malloc_off, "prog printed its offsets");
}

static enum lf_sym_source sym(const char *root, const char *file, uint64_t off, char *out,
			      size_t len)
{
	char path[4200];
	if (file[0] == '/')
		snprintf(path, sizeof path, "%s", file);
	else
		snprintf(path, sizeof path, "%s/%s", dir, file);
	return lf_symbolize(root, path, off, out, len);
}

static void expect(const char *root, const char *file, uint64_t off, enum lf_sym_source src,
		   const char *want)
{
	char out[1024], full[1200];
	enum lf_sym_source got = sym(root, file, off, out, sizeof out);
	snprintf(full, sizeof full, "%s (%s/%s)", want, dir, file);
	cr_expect_eq(got, src, "%s at 0x%" PRIx64 ": source %d, not %d (%s)", file, off, got, src, out);
	cr_expect_str_eq(out, full);
}

Test(symbolize, pie_with_symbols)
{
	struct offsets o;
	build("-fPIE -pie", &o);
	expect(NULL, "prog", o.hidden, LF_SYM_SYMTAB, "lf_hidden_helper+0x4");
	expect(NULL, "prog", o.exported, LF_SYM_SYMTAB, "lf_exported_entry+0x4");
}

Test(symbolize, not_pie_offsets_from_the_base)
{
	struct offsets o;
	build("-no-pie", &o);
	struct lf_elf_ids ids;
	char err[256], path[128];
	snprintf(path, sizeof path, "%s/prog", dir);
	cr_assert_eq(lf_elf_ids(path, &ids, err, sizeof err), 0, "%s", err);
	cr_expect(ids.has_load && ids.load_delta != 0, "an ET_EXEC is linked at an address");
	expect(NULL, "prog", o.hidden, LF_SYM_SYMTAB, "lf_hidden_helper+0x4");
}

Test(symbolize, libc_function)
{
	struct offsets o;
	build("", &o);
	char out[1024];
	enum lf_sym_source src = sym("/nonexistent", o.libc, o.malloc_off, out, sizeof out);
	cr_expect(src == LF_SYM_SYMTAB || src == LF_SYM_DYNSYM, "%s", out);
	cr_expect(strstr(out, "malloc+0x4 (") != NULL, "%s", out);
}

/* A stripped copy and its separate debug file, as distributions make them. */
static void split(const char *debug_path)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "objcopy --only-keep-debug prog %s && "
		 "objcopy --strip-debug --strip-unneeded --add-gnu-debuglink=%s prog stripped",
		 debug_path, debug_path);
	sh(cmd);
}

Test(symbolize, debuglink_same_directory)
{
	struct offsets o;
	build("", &o);
	split("stripped.debug");
	expect("/nonexistent", "stripped", o.hidden, LF_SYM_DEBUGLINK, "lf_hidden_helper+0x4");
}

Test(symbolize, debuglink_dot_debug_and_root)
{
	struct offsets o;
	build("", &o);
	split("stripped.debug");
	sh("mkdir .debug && mv stripped.debug .debug/");
	expect("/nonexistent", "stripped", o.hidden, LF_SYM_DEBUGLINK, "lf_hidden_helper+0x4");
	/* ROOT/<the object's directory>/NAME */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "mkdir -p root%s && mv .debug/stripped.debug root%s/", dir, dir);
	sh(cmd);
	char root[128];
	snprintf(root, sizeof root, "%s/root", dir);
	expect(root, "stripped", o.exported, LF_SYM_DEBUGLINK, "lf_exported_entry+0x4");
}

Test(symbolize, build_id_under_root)
{
	struct offsets o;
	build("-Wl,--build-id=sha1", &o);
	split("stripped.debug");
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/stripped", dir);
	struct lf_elf_ids ids;
	cr_assert_eq(lf_elf_ids(path, &ids, err, sizeof err), 0, "%s", err);
	cr_assert_eq(ids.build_id_len, 20, "a sha1 build-id");
	cr_expect_str_eq(ids.debuglink, "stripped.debug");
	cr_expect(!ids.has_symtab);
	/* Only the build-id path: the debuglink file is moved away. */
	char cmd[512];
	int n = snprintf(cmd, sizeof cmd, "mkdir -p root/.build-id/%02x && mv stripped.debug "
			 "root/.build-id/%02x/", ids.build_id[0], ids.build_id[0]);
	for (size_t i = 1; i < ids.build_id_len; i++)
		n += snprintf(cmd + n, sizeof cmd - (size_t)n, "%02x", ids.build_id[i]);
	snprintf(cmd + n, sizeof cmd - (size_t)n, ".debug");
	sh(cmd);
	char root[128];
	snprintf(root, sizeof root, "%s/root", dir);
	expect(root, "stripped", o.hidden, LF_SYM_BUILD_ID, "lf_hidden_helper+0x4");
}

Test(symbolize, stripped_without_debug_file_uses_dynsym)
{
	struct offsets o;
	build("", &o);
	split("stripped.debug");
	sh("rm stripped.debug");
	/* -rdynamic exported it; the static helper is in no table left. */
	expect("/nonexistent", "stripped", o.exported, LF_SYM_DYNSYM, "lf_exported_entry+0x4");
	char out[1024];
	cr_expect_eq(sym("/nonexistent", "stripped", o.hidden, out, sizeof out), LF_SYM_NONE, "%s", out);
	char want[256];
	snprintf(want, sizeof want, "%s/stripped+0x%" PRIx64, dir, o.hidden);
	cr_expect_str_eq(out, want);
}

Test(symbolize, debug_file_of_another_build_refused)
{
	struct offsets o;
	build("", &o);
	split("stripped.debug");
	/* Same name, other contents: its CRC is not the one recorded. */
	sh("mv stripped.debug keep.debug && sed 's/lf_hidden_helper(x) + 2/lf_hidden_helper(x) + 7/' "
	   "prog.c > other.c && gcc -O1 -g -rdynamic -o other other.c -ldl && "
	   "objcopy --only-keep-debug other stripped.debug");
	expect("/nonexistent", "stripped", o.exported, LF_SYM_DYNSYM, "lf_exported_entry+0x4");
}

Test(symbolize, unreadable_object)
{
	char out[1024];
	cr_expect_eq(lf_symbolize(NULL, "/nonexistent/obj", 0x10, out, sizeof out), LF_SYM_NONE);
	cr_expect(strstr(out, "/nonexistent/obj+0x10 (") == out, "%s", out);
}
