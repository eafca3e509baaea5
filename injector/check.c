/* `lazyfault check [-f FILE]... RULES [PROGRAM]`: print the rules as
 * understood; with files, the pages of each that the rules name bad
 * (badpages.c); with a program, check it and look up every rule's `caller`
 * glob among the functions of the program and of the libraries it needs. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lazyfault.h"
#include "rules.h"

struct files {
	char **path;
	size_t n;
};

static void files_add(struct files *f, const char *p)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->path[i], p))
			return;
	char **np = realloc(f->path, (f->n + 1) * sizeof *np);
	char *dup = strdup(p);
	if (!np || !dup) {
		free(dup);
		if (np)
			f->path = np;
		return;
	}
	f->path = np;
	f->path[f->n++] = dup;
}

static void files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->path[i]);
	free(f->path);
}

/* One line of `ld.so --list`: "\tname => /path (0xADDR)", "\t/path (0xADDR)"
 * for the loader itself, "\tlinux-vdso.so.1 (0xADDR)" (no file), or
 * "\tname => not found". */
static void parse_list_line(char *line, struct files *libs, const char *elf)
{
	line[strcspn(line, "\n")] = '\0';
	char *p = line + strspn(line, " \t");
	char *arrow = strstr(p, " => ");
	if (arrow) {
		*arrow = '\0';
		char *rhs = arrow + 4;
		if (!strncmp(rhs, "not found", 9)) {
			lf_warn("%s needs %s, which the loader cannot find: its functions "
				"are not searched", elf, p);
			return;
		}
		p = rhs;
	}
	char *addr = strstr(p, " (0x");
	if (addr)
		*addr = '\0';
	if (p[0] == '/')
		files_add(libs, p);
}

/* Ask the program's own loader for its libraries, as ldd(1) does, without
 * running the program.  Returns 0, or -1 after a warning. */
static int list_libraries(const char *interp, const char *elf, struct files *libs)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		lf_warn("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		lf_warn("fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execl(interp, interp, "--list", elf, (char *)NULL);
		fprintf(stderr, "lazyfault: cannot run %s: %s\n", interp, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	if (!f)
		close(fds[0]);
	char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0)
		parse_list_line(line, libs, elf);
	free(line);
	if (f)
		fclose(f);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		lf_warn("'%s --list %s' failed: the list of libraries may be incomplete",
			interp, elf);
		return -1;
	}
	return 0;
}

/* The functions of one file, as the library would see their names. */
struct fn {
	char *name;
	uint64_t value;
};
struct fnlist {
	struct fn *v;
	size_t n, cap;
};

static int add_fn(const char *name, uint64_t value, uint64_t size, void *arg)
{
	struct fnlist *l = arg;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 1024;
		struct fn *nv = realloc(l->v, ncap * sizeof *nv);
		if (!nv)
			return 1; /* stop: what we have is checked */
		l->v = nv;
		l->cap = ncap;
	}
	if (!(l->v[l->n].name = strdup(name)))
		return 1;
	l->v[l->n++].value = value;
	return 0;
}

static void fnlist_free(struct fnlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* gcc names the copies it makes of a function NAME.constprop.N, .isra.N,
 * .part.N, .cold, .lto_priv.N ...: a C name has no '.', so whatever
 * follows the first one is a clone's suffix.  Returns the length of the
 * original name, or 0 when name is not a clone's. */
static size_t clone_base(const char *name)
{
	const char *dot = strchr(name, '.');
	return dot && dot != name ? (size_t)(dot - name) : 0;
}

/* What `check` says about one caller glob: every name it matches and the
 * traps around them.  Lines go to `out` as they are found. */
struct caller_check {
	const struct lf_rule *rule;
	size_t matches;            /* names matched, over all files */
	char *first, *first_in;    /* the first of them */
	FILE *all;                 /* "name in file" of every match, for the list */
	char *all_buf;
	size_t all_len;
	FILE *clones;              /* clones whose original name matches */
	char *clones_buf;
	size_t clones_len, nclones;
};

static void check_file(struct caller_check *cc, const struct fnlist *l, const char *file)
{
	const char *glob = cc->rule->caller;
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->v[i].name;
		if (fnmatch(glob, name, 0) == 0) {
			if (cc->matches++ == 0) {
				cc->first = strdup(name);
				cc->first_in = strdup(file);
			}
			fprintf(cc->all, "\n    %s in %s", name, file);
			/* Identical code folding (or an alias): one body, several
			 * names; the library matches by address, so the glob
			 * takes calls from the other name too. */
			for (size_t j = 0; j < l->n; j++)
				if (l->v[j].value == l->v[i].value &&
				    fnmatch(glob, l->v[j].name, 0) != 0)
					lf_warn("rule '%s': %s and %s are at one address in %s "
						"(identical code folding, or an alias): a caller is "
						"matched by address, so '%s' takes calls made from %s too",
						cc->rule->name, name, l->v[j].name, file, glob,
						l->v[j].name);
			continue;
		}
		size_t b = clone_base(name);
		if (b) {
			char base[512];
			snprintf(base, sizeof base, "%.*s", (int)b, name);
			if (fnmatch(glob, base, 0) == 0) {
				fprintf(cc->clones, "%s%s in %s", cc->nclones ? ", " : "", name, file);
				cc->nclones++;
			}
		}
	}
}

static void report_caller(struct caller_check *cc, const char *elf, int *rc)
{
	const struct lf_rule *r = cc->rule;
	fflush(cc->all);
	fflush(cc->clones);
	if (cc->matches) {
		printf("rule '%s': caller '%s' found: %s in %s\n", r->name, r->caller, cc->first,
		       cc->first_in);
		if (cc->matches > 1)
			printf("rule '%s': caller '%s' matches %zu functions, and a call from any of "
			       "them matches:%s\n", r->name, r->caller, cc->matches, cc->all_buf);
		if (cc->nclones)
			lf_warn("rule '%s': gcc also made clones of what caller '%s' names: %s; a "
				"frame in a clone bears the clone's name, which '%s' does not match",
				r->name, r->caller, cc->clones_buf, r->caller);
	} else {
		printf("rule '%s': caller '%s' not found in %s or its libraries\n", r->name,
		       r->caller, elf);
		if (cc->nclones)
			lf_warn("rule '%s': caller '%s' exists only as gcc clones: %s; write the "
				"clone's name as the caller (or add '*' to the name)", r->name,
				r->caller, cc->clones_buf);
		*rc = 1;
	}
}

static int check_callers(const struct lf_rules *r, const char *prog,
			 const struct lf_progcheck *pc)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nrules; i++)
		if (r->rule[i].caller)
			n++;
	if (n == 0)
		return 0;
	if (!pc->have_elf) {
		printf("callers: not checked: no ELF file to search for %s\n", prog);
		return 1;
	}
	struct caller_check *cc = calloc(n, sizeof *cc);
	if (!cc) {
		lf_error("out of memory");
		return 1;
	}
	int rc = 0;
	for (size_t i = 0, j = 0; i < r->nrules; i++) {
		if (!r->rule[i].caller)
			continue;
		cc[j].rule = &r->rule[i];
		cc[j].all = open_memstream(&cc[j].all_buf, &cc[j].all_len);
		cc[j].clones = open_memstream(&cc[j].clones_buf, &cc[j].clones_len);
		if (!cc[j].all || !cc[j].clones) {
			lf_error("out of memory");
			rc = 1;
			n = j + 1;
			goto out;
		}
		j++;
	}

	struct files files = { 0 };
	files_add(&files, pc->elf);
	/* A foreign or static program has no loader that we could ask. */
	if (pc->native && pc->info.has_interp)
		list_libraries(pc->info.interp, pc->elf, &files);
	else if (pc->info.has_interp)
		lf_warn("the libraries of %s are not searched: it is of another architecture",
			pc->elf);

	for (size_t f = 0; f < files.n; f++) {
		char err[PATH_MAX + 256];
		bool dyn = false;
		struct fnlist l = { 0 };
		if (lf_elf_functions(files.path[f], add_fn, &l, &dyn, err, sizeof err) != 0) {
			lf_warn("%s", err);
			fnlist_free(&l);
			continue;
		}
		if (dyn)
			lf_warn("%s has no .symtab (stripped): only its exported functions "
				"can match a caller", files.path[f]);
		for (size_t i = 0; i < n; i++)
			check_file(&cc[i], &l, files.path[f]);
		fnlist_free(&l);
	}
	for (size_t i = 0; i < n; i++)
		report_caller(&cc[i], pc->elf, &rc);
	files_free(&files);
out:
	for (size_t i = 0; i < n; i++) {
		if (cc[i].all)
			fclose(cc[i].all);
		if (cc[i].clones)
			fclose(cc[i].clones);
		free(cc[i].all_buf);
		free(cc[i].clones_buf);
		free(cc[i].first);
		free(cc[i].first_in);
	}
	free(cc);
	return rc;
}

/* Which of the rules apply in PROGRAM: `program` is matched against the
 * executable's absolute path as the library sees it, /proc/self/exe (the
 * file itself, symlinks resolved; a script's interpreter). */
static void check_programs(const struct lf_rules *r, const char *prog,
			   const struct lf_progcheck *pc)
{
	bool any = r->program != NULL;
	for (size_t i = 0; i < r->nrules; i++)
		any |= r->rule[i].program != NULL;
	if (!any)
		return;
	const char *ran = pc->env_name[0] ? pc->env_name : pc->have_elf ? pc->elf : prog;
	char exe[PATH_MAX];
	if (!realpath(ran, exe))
		snprintf(exe, sizeof exe, "%s", ran);
	if (strcmp(exe, prog))
		printf("program %s: the library sees it as %s\n", prog, exe);
	if (r->program)
		printf("[global]: program '%s' %s %s%s\n", r->program,
		       fnmatch(r->program, exe, 0) == 0 ? "matches" : "does not match", exe,
		       fnmatch(r->program, exe, 0) == 0 ? "" : ": the library stays off in it");
	for (size_t i = 0; i < r->nrules; i++) {
		const struct lf_rule *x = &r->rule[i];
		if (x->program)
			printf("rule '%s': program '%s' %s %s\n", x->name, x->program,
			       fnmatch(x->program, exe, 0) == 0 ? "matches" : "does not match", exe);
	}
}

int lf_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "define", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct lf_defines defs = { .label = "-D" };
	int c;
	char **files = calloc((size_t)argc, sizeof *files);
	size_t nfiles = 0;
	if (!files) {
		lf_error("out of memory");
		return LF_EXIT_USAGE;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":D:hf:", longopts, NULL)) != -1) {
		if (c == 'D') {
			if (lf_defines_add(&defs, optarg) != 0) {
				lf_error("out of memory");
				free(files);
				return LF_EXIT_USAGE;
			}
			continue;
		}
		if (c == 'f') {
			files[nfiles++] = optarg;
			continue;
		}
		lf_defines_release(&defs);
		free(files);
		if (c == 'h') {
			lf_usage(stdout);
			return LF_EXIT_OK;
		}
		if (c == ':')
			return lf_usage_error("check: option '%s' needs an argument", argv[optind - 1]);
		if (optopt)
			return lf_usage_error("check: unknown option '-%c'", optopt);
		return lf_usage_error("check: unknown option '%s'", argv[optind - 1]);
	}
	int nargs = argc - optind;
	if (nargs < 1 || nargs > 2) {
		lf_defines_release(&defs);
		free(files);
		return lf_usage_error(nargs < 1 ? "check: no RULES given"
					      : "check: too many arguments (give RULES and at most one PROGRAM)");
	}
	const char *rules_path = argv[optind];
	const char *prog_arg = nargs == 2 ? argv[optind + 1] : NULL;

	struct lf_rules rules;
	char err[2 * PATH_MAX + 512];
	int rc = lf_load_rules(rules_path, &defs, &rules);
	lf_defines_release(&defs);
	if (rc != 0) {
		free(files);
		return rc;
	}
	lf_rules_print(&rules, stdout);
	rc = LF_EXIT_OK;
	if (nfiles) {
		putchar('\n');
		rc = lf_check_files(&rules, files, nfiles);
	}
	if (!prog_arg)
		goto out;

	putchar('\n');
	char prog[PATH_MAX];
	if (lf_resolve_program(prog_arg, prog, sizeof prog, err, sizeof err) != 0) {
		printf("program %s: cannot run: %s\n", prog_arg, err);
		rc = LF_EXIT_PROBLEM;
		goto out;
	}
	struct lf_progcheck pc;
	bool ok = lf_check_program(prog, &pc, err, sizeof err) == 0;
	if (ok) {
		char desc[64];
		lf_describe_elf(&pc.info, desc, sizeof desc);
		printf("program %s: can run under lazyfault (%s", prog, desc);
		if (pc.scripts && pc.env_name[0])
			printf(", #! script run by %s, which /usr/bin/env finds on PATH as '%s'",
			       pc.elf, pc.env_name);
		else if (pc.scripts)
			printf(", #! script run by %s", pc.elf);
		printf(", dynamically linked, loader %s)\n", pc.info.interp);
	} else {
		printf("program %s: cannot run under lazyfault: %s\n", prog, err);
		rc = LF_EXIT_PROBLEM;
	}
	check_programs(&rules, prog, &pc);
	if (check_callers(&rules, prog, &pc) != 0)
		rc = LF_EXIT_PROBLEM;
out:
	fflush(stdout);
	lf_rules_free(&rules);
	free(files);
	return rc;
}
