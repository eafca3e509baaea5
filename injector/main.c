/* lazyfault: the command's entry point, usage and messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazyfault.h"

void lf_usage(FILE *out)
{
	fputs("Usage: lazyfault run [-r RULES] [-s STATS] [-t TRACE] [-v] [-D RULE.KEY=VALUE]...\n"
	      "                     [--serve=auto|helper|signal] [--] PROGRAM [ARGS...]\n"
	      "       lazyfault check [-D RULE.KEY=VALUE]... [-f FILE]... RULES [PROGRAM]\n"
	      "       lazyfault report TRACE... [-o REPORT.html] [--perfetto OUT.json] [--dump]\n"
	      "       lazyfault sweep -r RULES [OPTIONS] [--] PROGRAM [ARGS...]\n"
	      "       lazyfault sweep --collect DIR\n"
	      "       lazyfault ctl PID list | enable RULE | disable RULE | set RULE.KEY=VALUE\n"
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
	      "    -t, --trace=TRACE    fault trace (%p becomes the pid; lazyfault-trace(5))\n"
	      "    -v, --verbose        print a summary of the statistics at the end\n"
	      "    -D, --define=RULE.KEY=VALUE\n"
	      "                         set KEY of rule RULE (or of [global]: global.KEY)\n"
	      "                         as if the rule file said so; run, check and sweep\n"
	      "    --serve=MODE         who fills a page: helper threads, or the faulting\n"
	      "                         thread in a SIGBUS handler (signal); default auto:\n"
	      "                         signal in user-mode-only mode ($LAZYFAULT_SERVE)\n"
	      "  check    print the rules as understood; with PROGRAM, also check that it\n"
	      "           can run under the library and that every `caller` names a\n"
	      "           function of PROGRAM or of the libraries it needs\n"
	      "    -f, --file=FILE      print which pages of FILE the rules name bad\n"
	      "                         (file_pages)\n"
	      "  sweep    run PROGRAM once without poison, then once per candidate fault\n"
	      "           of each poison rule with exactly that fault poisoned, and sort\n"
	      "           the runs into survived, error-exit, wrong-output, crash, hang\n"
	      "    -j, --jobs=N         runs at once (default: the number of CPUs)\n"
	      "    --timeout=S          seconds a run may take (default: 10 times the\n"
	      "                         reference run, at least 10)\n"
	      "    --every=K | --max=N | --seeds=N\n"
	      "                         every Kth candidate, at most N spread evenly, or\n"
	      "                         seeds 1..N of the rules with a probability\n"
	      "    --rule=NAME          sweep only this poison rule\n"
	      "    --compare=WHAT       stdout, status or both (default) against the reference\n"
	      "    --stdin=FILE         standard input of every run (default: /dev/null)\n"
	      "    -o, --output=DIR     the runs' files and summary.json, summary.csv\n"
	      "    --plan=FILE          write one command line per run to FILE, run nothing\n"
	      "    --collect=DIR        merge the results of a plan's runs\n"
	      "  ctl      talk to a running program whose rules say control = yes: list\n"
	      "           its rules, enable or disable one, or set one's probability,\n"
	      "           after, every, times or pages\n"
	      "  report   read fault traces (several processes of a run side by side) and\n"
	      "           write what they show\n"
	      "    -o, --output=FILE    one self-contained HTML page: heat map, working set,\n"
	      "                         service times, regions, allocation sites, poisonings\n"
	      "    --perfetto=FILE      Chrome trace event JSON, for ui.perfetto.dev\n"
	      "    --dump               every record as a line of JSON on standard output\n"
	      "\n"
	      "Exit status: 2 for a usage error, a bad rule file, or a program that cannot\n"
	      "run under the library; run: 126 PROGRAM not executable, 127 not found, else\n"
	      "PROGRAM's status; check: 0 all well, 1 a problem with PROGRAM or a caller;\n"
	      "sweep: 0 every run survived, 1 some did not; ctl: 0 done, 2 refused or no\n"
	      "socket; report: 2 a trace cannot be read, 1 an output cannot be written.\n"
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
	if (!strcmp(cmd, "sweep"))
		return lf_cmd_sweep(argc - 1, argv + 1);
	if (!strcmp(cmd, "ctl"))
		return lf_cmd_ctl(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return lf_cmd_report(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return lf_usage_error("unknown option '%s'", cmd);
	return lf_usage_error("unknown command '%s'", cmd);
}
