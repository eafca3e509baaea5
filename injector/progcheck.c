/* Finding PROGRAM and checking that the library can be preloaded into it. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lazyfault.h"

/* The kernel follows at most 4 levels of #! (BINPRM_MAX_RECURSION) and reads
 * the #! line from the first 256 bytes (BINPRM_BUF_SIZE). */
#define MAX_SCRIPTS 4
#define SHEBANG_BUF 256

static bool is_exec_file(const char *path, int *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		*err = errno;
		return false;
	}
	if (S_ISDIR(st.st_mode)) {
		*err = EISDIR;
		return false;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
		*err = EACCES;
		return false;
	}
	return true;
}

int lf_resolve_program(const char *prog, char *out, size_t outlen,
		       char *err, size_t errlen)
{
	int e = 0;
	if (!*prog) {
		snprintf(err, errlen, "empty program name");
		return LF_EXIT_NOTFOUND;
	}
	if (strchr(prog, '/')) {
		if (!is_exec_file(prog, &e)) {
			snprintf(err, errlen, "%s: %s", prog, strerror(e));
			return e == ENOENT || e == ENOTDIR ? LF_EXIT_NOTFOUND : LF_EXIT_NOEXEC;
		}
		if ((size_t)snprintf(out, outlen, "%s", prog) >= outlen) {
			snprintf(err, errlen, "%s: path too long", prog);
			return LF_EXIT_NOTFOUND;
		}
		return 0;
	}
	/* execvp(3): an unset PATH means "/bin:/usr/bin" in glibc; an empty
	 * element is the current directory; a file found but not executable is
	 * skipped, and reported only when nothing better turns up. */
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	bool denied = false;
	char denied_at[PATH_MAX] = "";
	for (const char *p = path;;) {
		const char *end = strchrnul(p, ':');
		int dl = (int)(end - p);
		char cand[PATH_MAX];
		int n = dl ? snprintf(cand, sizeof cand, "%.*s/%s", dl, p, prog)
			   : snprintf(cand, sizeof cand, "./%s", prog);
		if (n > 0 && (size_t)n < sizeof cand) {
			if (is_exec_file(cand, &e)) {
				if ((size_t)snprintf(out, outlen, "%s", cand) < outlen)
					return 0;
			} else if (e == EACCES && !denied) {
				denied = true;
				snprintf(denied_at, sizeof denied_at, "%s", cand);
			}
		}
		if (!*end)
			break;
		p = end + 1;
	}
	if (denied) {
		snprintf(err, errlen, "%s: %s", denied_at, strerror(EACCES));
		return LF_EXIT_NOEXEC;
	}
	snprintf(err, errlen, "%s: command not found", prog);
	return LF_EXIT_NOTFOUND;
}

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_X86_64: return "x86-64";
	case EM_386: return "x86";
	case EM_AARCH64: return "AArch64";
	case EM_ARM: return "ARM";
	case EM_RISCV: return "RISC-V";
	case EM_PPC64: return "PowerPC64";
	case EM_PPC: return "PowerPC";
	case EM_S390: return "S/390";
	case EM_MIPS: return "MIPS";
#ifdef EM_LOONGARCH
	case EM_LOONGARCH: return "LoongArch";
#endif
	default: return NULL;
	}
}

void lf_describe_elf(const struct lf_elf_info *in, char *buf, size_t len)
{
	const char *m = machine_name(in->machine);
	if (m)
		snprintf(buf, len, "ELF %d-bit %s", in->elf_class, m);
	else
		snprintf(buf, len, "ELF %d-bit machine %u", in->elf_class, in->machine);
}

static const char *type_name(unsigned t)
{
	switch (t) {
	case ET_REL: return "a relocatable object";
	case ET_CORE: return "a core file";
	case ET_NONE: return "of no type";
	default: return "of an unknown type";
	}
}

/* What "a" file is called in messages: "X" or "X (the #! interpreter of Y)". */
static void label(char *buf, size_t len, const char *file, const char *script)
{
	if (script)
		snprintf(buf, len, "%s (the #! interpreter of %s)", file, script);
	else
		snprintf(buf, len, "%s", file);
}

/* Read "#!INTERP [ARG]": returns 1 with the interpreter in out and its
 * argument (the rest of the line, blanks trimmed; "" when none) in arg, 0
 * when the file does not start with "#!", -1 on a read error or an empty
 * #! line. */
static int read_shebang(const char *path, char *out, size_t outlen, char *arg, size_t arglen,
			char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char buf[SHEBANG_BUF + 1];
	ssize_t n;
	do
		n = pread(fd, buf, SHEBANG_BUF, 0);
	while (n < 0 && errno == EINTR);
	int saved = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		return -1;
	}
	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	buf[n] = '\0';
	char *p = buf + 2;
	p += strspn(p, " \t");
	size_t l = strcspn(p, " \t\n");
	if (l == 0 || l >= outlen) {
		snprintf(err, errlen, "%s: bad #! line", path);
		return -1;
	}
	memcpy(out, p, l);
	out[l] = '\0';
	p += l;
	p += strspn(p, " \t");
	size_t al = strcspn(p, "\n");
	while (al && (p[al - 1] == ' ' || p[al - 1] == '\t'))
		al--;
	snprintf(arg, arglen, "%.*s", (int)al, p);
	return 1;
}

/* "#!/usr/bin/env NAME" (or "env -S NAME ARGS"): env finds NAME on PATH and
 * runs it, and that is where the library goes.  Returns 1 with NAME's path
 * in out, 0 when the #! line is not of that form. */
static int env_program(const char *interp, const char *arg, char *name, size_t namelen,
		       char *out, size_t outlen)
{
	const char *base = strrchr(interp, '/');
	base = base ? base + 1 : interp;
	if (strcmp(base, "env") != 0)
		return 0;
	if (!strncmp(arg, "-S", 2) && (arg[2] == ' ' || arg[2] == '\t'))
		arg += 2 + strspn(arg + 2, " \t");
	if (!*arg || *arg == '-')
		return 0;
	snprintf(name, namelen, "%.*s", (int)strcspn(arg, " \t"), arg);
	char err[PATH_MAX + 64];
	return lf_resolve_program(name, out, outlen, err, sizeof err) == 0;
}

/* The architecture we were built for is the one of our own executable (the
 * library is built alongside it); NULL when /proc is missing. */
static const struct lf_elf_info *self_info(struct lf_elf_info *buf)
{
	char e[256];
	return lf_elf_info("/proc/self/exe", buf, e, sizeof e) == 0 && buf->is_elf ? buf : NULL;
}

int lf_check_program(const char *path, struct lf_progcheck *pc, char *err, size_t errlen)
{
	memset(pc, 0, sizeof *pc);
	char file[PATH_MAX], script[PATH_MAX], who[2 * PATH_MAX + 64];
	bool via_script = false;
	struct stat st;
	snprintf(file, sizeof file, "%s", path);
	for (;;) {
		label(who, sizeof who, file, via_script ? script : NULL);
		if (stat(file, &st) != 0) {
			snprintf(err, errlen, "%s: %s", who, strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", who);
			return -1;
		}
		char interp[PATH_MAX], arg[SHEBANG_BUF], found[PATH_MAX];
		int sb = read_shebang(file, interp, sizeof interp, arg, sizeof arg, err, errlen);
		if (sb < 0)
			return -1;
		if (sb > 0 && env_program(interp, arg, pc->env_name, sizeof pc->env_name,
					  found, sizeof found)) {
			/* env itself runs under the library too, but only for
			 * the moment it takes to exec NAME. */
			snprintf(interp, sizeof interp, "%s", found);
		}
		if (sb > 0) {
			/* A script: what runs, and what the library goes into, is
			 * its interpreter. */
			if (++pc->scripts > MAX_SCRIPTS) {
				snprintf(err, errlen, "%s: too many levels of #! interpreters", path);
				return -1;
			}
			via_script = true;
			snprintf(script, sizeof script, "%s", file);
			snprintf(file, sizeof file, "%s", interp);
			continue;
		}
		break;
	}

	if (lf_elf_info(file, &pc->info, err, errlen) != 0)
		return -1;
	if (!pc->info.is_elf) {
		snprintf(err, errlen, "%s is neither an ELF program nor a #! script", who);
		return -1;
	}
	pc->have_elf = true;
	snprintf(pc->elf, sizeof pc->elf, "%s", file);
	struct lf_elf_info selfbuf;
	const struct lf_elf_info *self = self_info(&selfbuf);
	pc->native = !self || (self->machine == pc->info.machine &&
			       self->elf_class == pc->info.elf_class);

	/* In a set-uid/set-gid program (AT_SECURE) the loader ignores
	 * LD_PRELOAD but for set-uid libraries in system directories.  Only
	 * the ELF file counts: Linux ignores these bits on scripts; set-gid
	 * without group execute is mandatory locking, not set-gid. */
	if (st.st_mode & S_ISUID) {
		snprintf(err, errlen, "%s is set-uid: the dynamic loader ignores LD_PRELOAD "
			 "in set-uid programs (run a copy without the set-uid bit)", who);
		return -1;
	}
	if ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP)) {
		snprintf(err, errlen, "%s is set-gid: the dynamic loader ignores LD_PRELOAD "
			 "in set-gid programs (run a copy without the set-gid bit)", who);
		return -1;
	}
	if (getxattr(file, "security.capability", NULL, 0) > 0) {
		snprintf(err, errlen, "%s has file capabilities: the dynamic loader ignores "
			 "LD_PRELOAD in such programs (run a copy without them)", who);
		return -1;
	}
	char desc[64];
	lf_describe_elf(&pc->info, desc, sizeof desc);
	if (pc->info.type != ET_EXEC && pc->info.type != ET_DYN) {
		snprintf(err, errlen, "%s is %s, not a program (%s)", who,
			 type_name(pc->info.type), desc);
		return -1;
	}
	if (!pc->native) {
		char mine[64];
		lf_describe_elf(self, mine, sizeof mine);
		snprintf(err, errlen, "%s is an %s program, but lazyfault is built for %s: "
			 "the library cannot be loaded into it", who, desc, mine);
		return -1;
	}
	if (!pc->info.has_interp) {
		snprintf(err, errlen, "%s is statically linked: without a dynamic loader "
			 "LD_PRELOAD does nothing, so the library cannot be loaded into it", who);
		return -1;
	}
	return 0;
}
