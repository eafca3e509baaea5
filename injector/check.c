/* `lazyfault check RULES [PROGRAM]`: print the rules as understood; with a
 * program, check it and look up every rule's `caller` glob among the
 * functions of the program and of the libraries it needs. */
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

struct lookup {
	const struct lf_rule **rule;  /* the rules with a caller */
	char **found_fn, **found_in;  /* per rule: NULL until found */
	size_t n, pending;
	const char *file;
};

static int match_fn(const char *name, uint64_t value, uint64_t size, void *arg)
{
	struct lookup *lk = arg;
	for (size_t i = 0; i < lk->n; i++) {
		if (lk->found_fn[i] || fnmatch(lk->rule[i]->caller, name, 0) != 0)
			continue;
		lk->found_fn[i] = strdup(name);
		lk->found_in[i] = strdup(lk->file);
		if (lk->found_fn[i])
			lk->pending--;
	}
	return lk->pending == 0; /* all found: stop the walk */
}

static int check_callers(const struct lf_rules *r, const char *prog,
			 const struct lf_progcheck *pc)
{
	struct lookup lk = { 0 };
	for (size_t i = 0; i < r->nrules; i++)
		if (r->rule[i].caller)
			lk.n++;
	if (lk.n == 0)
		return 0;
	if (!pc->have_elf) {
		printf("callers: not checked: no ELF file to search for %s\n", prog);
		return 1;
	}
	lk.rule = calloc(lk.n, sizeof *lk.rule);
	lk.found_fn = calloc(lk.n, sizeof *lk.found_fn);
	lk.found_in = calloc(lk.n, sizeof *lk.found_in);
	if (!lk.rule || !lk.found_fn || !lk.found_in) {
		lf_error("out of memory");
		free(lk.rule);
		free(lk.found_fn);
		free(lk.found_in);
		return 1;
	}
	for (size_t i = 0, j = 0; i < r->nrules; i++)
		if (r->rule[i].caller)
			lk.rule[j++] = &r->rule[i];
	lk.pending = lk.n;

	struct files files = { 0 };
	files_add(&files, pc->elf);
	/* A foreign or static program has no loader that we could ask. */
	if (pc->native && pc->info.has_interp)
		list_libraries(pc->info.interp, pc->elf, &files);
	else if (pc->info.has_interp)
		lf_warn("the libraries of %s are not searched: it is of another architecture",
			pc->elf);

	for (size_t f = 0; f < files.n && lk.pending; f++) {
		char err[PATH_MAX + 256];
		bool dyn = false;
		lk.file = files.path[f];
		if (lf_elf_functions(files.path[f], match_fn, &lk, &dyn, err, sizeof err) != 0) {
			lf_warn("%s", err);
			continue;
		}
		if (dyn)
			lf_warn("%s has no .symtab (stripped): only its exported functions "
				"can match a caller", files.path[f]);
	}

	int rc = 0;
	for (size_t i = 0; i < lk.n; i++) {
		if (lk.found_fn[i]) {
			printf("rule '%s': caller '%s' found: %s in %s\n", lk.rule[i]->name,
			       lk.rule[i]->caller, lk.found_fn[i],
			       lk.found_in[i] ? lk.found_in[i] : "?");
		} else {
			printf("rule '%s': caller '%s' not found in %s or its libraries\n",
			       lk.rule[i]->name, lk.rule[i]->caller, pc->elf);
			rc = 1;
		}
		free(lk.found_fn[i]);
		free(lk.found_in[i]);
	}
	files_free(&files);
	free(lk.rule);
	free(lk.found_fn);
	free(lk.found_in);
	return rc;
}

int lf_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'h') {
			lf_usage(stdout);
			return LF_EXIT_OK;
		}
		if (optopt)
			return lf_usage_error("check: unknown option '-%c'", optopt);
		return lf_usage_error("check: unknown option '%s'", argv[optind - 1]);
	}
	int nargs = argc - optind;
	if (nargs < 1)
		return lf_usage_error("check: no RULES given");
	if (nargs > 2)
		return lf_usage_error("check: too many arguments (give RULES and at most one PROGRAM)");
	const char *rules_path = argv[optind];
	const char *prog_arg = nargs == 2 ? argv[optind + 1] : NULL;

	struct lf_rules rules;
	char err[2 * PATH_MAX + 512];
	if (lf_rules_load(rules_path, &rules, err, sizeof err) != 0) {
		lf_error("%s", err);
		return LF_EXIT_USAGE;
	}
	lf_rules_print(&rules, stdout);
	int rc = LF_EXIT_OK;
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
		if (pc.scripts)
			printf(", #! script run by %s", pc.elf);
		printf(", dynamically linked, loader %s)\n", pc.info.interp);
	} else {
		printf("program %s: cannot run under lazyfault: %s\n", prog, err);
		rc = LF_EXIT_PROBLEM;
	}
	if (check_callers(&rules, prog, &pc) != 0)
		rc = LF_EXIT_PROBLEM;
out:
	fflush(stdout);
	lf_rules_free(&rules);
	return rc;
}
