/* lazyfault: the command's entry point, usage and messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazyfault.h"

void lf_usage(FILE *out)
{
	fputs("Usage: lazyfault run [-r RULES] [-s STATS] [-v] [--] PROGRAM [ARGS...]\n"
	      "       lazyfault check RULES [PROGRAM]\n"
	      "       lazyfault --help | --version\n"
	      "\n"
	      "Run an unmodified, dynamically linked PROGRAM with liblazyfault.so preloaded;\n"
	      "the rule file RULES (lazyfault.ini(5)) chooses which memory the library serves\n"
	      "and how: zero-fill, lazy loading from a file, or poison (SIGBUS).\n"
	      "\n"
	      "Commands:\n"
	      "  run      check RULES and PROGRAM, run PROGRAM under the library and exit\n"
	      "           with its status (128+N when signal N ended it)\n"
	      "    -r, --rules=RULES    the rule file (default: $LAZYFAULT_RULES)\n"
	      "    -s, --stats=STATS    statistics file (%p becomes the pid)\n"
	      "    -v, --verbose        print a summary of the statistics at the end\n"
	      "  check    print the rules as understood; with PROGRAM, also check that it\n"
	      "           can run under the library and that every `caller` names a\n"
	      "           function of PROGRAM or of the libraries it needs\n"
	      "\n"
	      "Exit status: 2 for a usage error, a bad rule file, or a program that cannot\n"
	      "run under the library; run: 126 PROGRAM not executable, 127 not found, else\n"
	      "PROGRAM's status; check: 0 all well, 1 a problem with PROGRAM or a caller.\n"
	      "\n"
	      "See lazyfault(1) and lazyfault.ini(5).\n",
	      out);
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "lazyfault: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void lf_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void lf_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int lf_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	lf_usage(stderr);
	return LF_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return lf_usage_error("no command given");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		lf_usage(stdout);
		return LF_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("lazyfault %s\n", LF_VERSION);
		return LF_EXIT_OK;
	}
	if (!strcmp(cmd, "run"))
		return lf_cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return lf_cmd_check(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return lf_usage_error("unknown option '%s'", cmd);
	return lf_usage_error("unknown command '%s'", cmd);
}
