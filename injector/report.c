/* `lazyfault report TRACE... [-o report.html] [--perfetto out.json]
 * [--dump]`: read fault traces and write what they show. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lazyfault.h"
#include "report.h"

/* Write to path ("-": stdout) with one of the outputs. */
static int write_out(const char *path, int (*fn)(struct lf_model *const *, size_t, FILE *),
		     struct lf_model *const *m, size_t n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		lf_error("%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = fn(m, n, f);
	if (f != stdout ? fclose(f) != 0 : fflush(f) != 0)
		rc = -1;
	if (rc != 0)
		lf_error("%s: cannot write it: %s", path, strerror(errno));
	return rc;
}

int lf_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"perfetto", required_argument, NULL, 'p'},
		{"dump", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *html = NULL, *perfetto = NULL;
	bool dump = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:p:dh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': html = optarg; break;
		case 'p': perfetto = optarg; break;
		case 'd': dump = true; break;
		case 'h': lf_usage(stdout); return LF_EXIT_OK;
		case ':':
			return lf_usage_error("report: option '%s' needs an argument", argv[optind - 1]);
		default:
			return lf_usage_error("report: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return lf_usage_error("report: no TRACE given");
	if (!html && !perfetto && !dump)
		return lf_usage_error("report: nothing to write: give -o FILE.html, --perfetto "
				      "FILE.json or --dump");
	size_t n = (size_t)(argc - optind);
	struct lf_trace *traces = calloc(n, sizeof *traces);
	struct lf_trace **tp = calloc(n, sizeof *tp);
	struct lf_model *models = calloc(n, sizeof *models);
	struct lf_model **mp = calloc(n, sizeof *mp);
	size_t read = 0, built = 0;
	int status = LF_EXIT_USAGE;
	if (!traces || !tp || !models || !mp) {
		lf_error("out of memory");
		goto out;
	}
	for (; read < n; read++) {
		char err[4096 + 256];
		if (lf_trace_read(argv[optind + (int)read], &traces[read], err, sizeof err) != 0) {
			lf_error("%s", err);
			goto out;
		}
		tp[read] = &traces[read];
	}
	status = LF_EXIT_PROBLEM;
	if (dump && lf_report_dump(tp, n, stdout) != 0)
		goto out;
	if (html || perfetto) {
		for (; built < n; built++) {
			if (lf_model_build(&traces[built], &models[built]) != 0) {
				lf_error("%s: out of memory", traces[built].path);
				goto out;
			}
			mp[built] = &models[built];
		}
		if (html && write_out(html, lf_report_html, mp, n) != 0)
			goto out;
		if (perfetto && write_out(perfetto, lf_report_perfetto, mp, n) != 0)
			goto out;
	}
	status = LF_EXIT_OK;
out:
	for (size_t i = 0; i < built; i++)
		lf_model_free(&models[i]);
	for (size_t i = 0; i < read; i++)
		lf_trace_free(&traces[i]);
	free(traces);
	free(tp);
	free(models);
	free(mp);
	return status;
}
