/* `lazyfault report -o FILE.html`: one self-contained page (inline CSS,
 * inline SVG, a few lines of inline JavaScript; nothing is fetched) with,
 * for each process side by side: a heat map of faults (its regions' pages
 * x time, poisonings marked), the pages present per rule over time, the
 * histogram of fault service times, the time each thread was blocked in
 * faults, and tables per region, per allocation site and per poisoning.
 *
 * The page checks itself when it is opened: its script adds up the faults
 * that the heat map, the histogram and the tables show and compares them
 * with the totals written in the page, then says so in #checks (and in
 * body's data-checks attribute: "pass" or "fail"). */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define HEAT_COLS 150
#define HEAT_ROWS 80
#define CELL_W 4
#define CELL_H 3
#define LABEL_W 96
#define PLOT_W (HEAT_COLS * CELL_W)
#define CHART_H 160
#define TABLE_MAX 200                   /* rows of a table; the rest are added up */

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
				      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#d62728"};
#define NPALETTE (sizeof palette / sizeof palette[0])

static const char *css =
	"body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fff}"
	"h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}"
	"h3{font-size:13px;margin:14px 0 4px;color:#444}"
	"table{border-collapse:collapse;margin:4px 0}td,th{padding:2px 6px;border-bottom:1px solid #ddd;"
	"text-align:right;vertical-align:top}th{background:#f0f0f0}td.l,th.l{text-align:left}"
	".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(700px,1fr));gap:16px}"
	".proc{border:1px solid #ccc;border-radius:6px;padding:8px 12px;overflow-x:auto}"
	"svg text{font:10px sans-serif;fill:#333}.sub{color:#555}"
	"#checks{padding:4px 8px;border-radius:4px;background:#eee;display:inline-block}"
	"body[data-checks=pass] #checks{background:#d8f0d8}body[data-checks=fail] #checks{background:#f8d0d0}"
	".mono{font-family:monospace;font-size:12px}.swatch{display:inline-block;width:10px;height:10px;"
	"margin:0 4px 0 10px}";

/* The page's own checks (see the top of this file). */
static const char *script =
	"(function(){\n"
	"var sum=function(root,sel){var s=0;root.querySelectorAll(sel).forEach(function(e){"
	"s+=Number(e.getAttribute('data-n'));});return s;};\n"
	"var failed=[],n=0,counted=0;\n"
	"var check=function(ok,what){n++;if(!ok)failed.push(what);};\n"
	"document.querySelectorAll('section.proc').forEach(function(p){\n"
	" var f=Number(p.getAttribute('data-faults')),pid=p.getAttribute('data-pid');\n"
	" var heat=sum(p,'.heat rect[data-n]');counted+=heat;\n"
	" check(heat==f,'pid '+pid+': heat map shows '+heat+' faults, not '+f);\n"
	" check(sum(p,'.hist rect[data-n]')==f,'pid '+pid+': histogram');\n"
	" check(sum(p,'.threads td[data-n]')==f,'pid '+pid+': threads table');\n"
	" check(sum(p,'.regions td[data-n]')==f,'pid '+pid+': regions table');\n"
	" var po=Number(p.getAttribute('data-poisoned'));\n"
	" check(p.querySelectorAll('.heat .poison').length==po,'pid '+pid+': poison marks');\n"
	" check(sum(p,'.poisons td[data-n]')==po,'pid '+pid+': poisonings table');\n"
	"});\n"
	"var total=Number(document.getElementById('faults-total').textContent);\n"
	"check(counted==total,'the processes show '+counted+' faults, the total says '+total);\n"
	"document.getElementById('faults-counted').textContent=counted;\n"
	"document.body.setAttribute('data-checks',failed.length?'fail':'pass');\n"
	"document.getElementById('checks').textContent=failed.length?('Checks failed: '+"
	"failed.join('; ')):('All '+n+' checks of this page pass: '+counted+' faults shown.');\n"
	"})();\n";

static double frac(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0; }

static void put_ns(FILE *f, uint64_t ns)
{
	char s[32];
	lf_fmt_ns(ns, s, sizeof s);
	fputs(s, f);
}

static void put_bytes(FILE *f, uint64_t b)
{
	char s[32];
	lf_fmt_bytes(b, s, sizeof s);
	fputs(s, f);
}

static void put_ended(FILE *f, const struct lf_trace *t)
{
	if (!(t->h.flags & LF_TRACE_F_ENDED))
		fputs("not ended: killed (SIGKILL?) or replaced by exec", f);
	else if (t->h.end_signal) {
		const char *a = sigabbrev_np(t->h.end_signal);
		fprintf(f, "signal SIG%s", a ? a : "?");
	} else
		fputs("exit", f);
}

/* The x position of time t in a plot PLOT_W wide starting at LABEL_W. */
static double xpos(const struct lf_model *m, uint64_t t)
{
	return LABEL_W + (m->end_ns ? (double)t * PLOT_W / (double)m->end_ns : 0);
}

static void time_axis(FILE *f, const struct lf_model *m, int y)
{
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>", LABEL_W, y,
		LABEL_W + PLOT_W, y);
	for (int i = 0; i <= 4; i++) {
		double x = LABEL_W + PLOT_W * i / 4.0;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/>"
			   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">",
			x, y, x, y + 4, x, y + 14, i == 0 ? "start" : i == 4 ? "end" : "middle");
		put_ns(f, m->end_ns / 4 * (uint64_t)i);
		fputs("</text>", f);
	}
}

/* A colour for n faults in a cell, against the busiest cell. */
static void heat_colour(unsigned n, unsigned max, char *out, size_t len)
{
	static const int ramp[][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98},
				      {253, 231, 37}};
	double v = max > 1 ? log1p(n) / log1p(max) : 1;
	double x = (1 - v) * 4; /* the busiest cells darkest */
	int i = x >= 4 ? 3 : (int)x;
	double w = x - i;
	int c[3];
	for (int k = 0; k < 3; k++)
		c[k] = (int)(ramp[i][k] * (1 - w) + ramp[i + 1][k] * w);
	snprintf(out, len, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* Rows of the heat map: each region with faults gets a band. */
struct band {
	struct lf_tr_region *r;
	unsigned row, rows;
	uint64_t pages;
};

static size_t bands_of(const struct lf_model *m, struct band *b)
{
	const struct lf_trace *t = m->t;
	size_t n = 0;
	double w = 0;
	for (size_t i = 0; i < t->nregions; i++)
		if (t->region[i].faults || t->region[i].poisoned) {
			b[n].r = &t->region[i];
			b[n].pages = t->region[i].len / 4096 ? t->region[i].len / 4096 : 1;
			w += sqrt((double)b[n].pages);
			n++;
		}
	unsigned row = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned rows = (unsigned)(HEAT_ROWS * sqrt((double)b[i].pages) / w);
		b[i].rows = rows < 3 ? 3 : rows;
		b[i].row = row;
		row += b[i].rows;
	}
	return n;
}

static unsigned row_of(const struct band *b, uint64_t page)
{
	uint64_t p = page < b->pages ? page : b->pages - 1;
	return b->row + (unsigned)(p * b->rows / b->pages);
}

static const struct band *band_of(const struct band *b, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].r->id == id)
			return &b[i];
	return NULL;
}

static int heat_map(FILE *f, const struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	struct band *b = calloc(t->nregions ? t->nregions : 1, sizeof *b);
	if (!b)
		return -1;
	size_t nb = bands_of(m, b);
	unsigned rows = nb ? b[nb - 1].row + b[nb - 1].rows : 1;
	unsigned *cell = calloc((size_t)rows * HEAT_COLS, sizeof *cell);
	if (!cell) {
		free(b);
		return -1;
	}
	unsigned max = 0;
	uint64_t outside = 0;
	for (size_t i = 0; i < t->nrec; i++) {
		const struct lf_trace_rec *r = &t->rec[i];
		if (r->type != LF_TRACE_FAULT)
			continue;
		const struct band *bd = band_of(b, nb, r->u[0]);
		if (!bd) {
			outside++;
			continue;
		}
		unsigned col = m->end_ns ? (unsigned)((double)r->t * HEAT_COLS / (double)m->end_ns) : 0;
		unsigned *c = &cell[(size_t)row_of(bd, r->u[2]) * HEAT_COLS + (col < HEAT_COLS ? col : HEAT_COLS - 1)];
		if (++*c > max)
			max = *c;
	}
	int h = (int)rows * CELL_H;
	fprintf(f, "<svg class=\"heat\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
		LABEL_W + PLOT_W + 8, h + 24, LABEL_W + PLOT_W + 8, h + 24);
	fprintf(f, "<rect x=\"%d\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#f4f4f4\"/>", LABEL_W,
		PLOT_W, h);
	for (unsigned y = 0; y < rows; y++)
		for (unsigned x = 0; x < HEAT_COLS; x++) {
			unsigned n = cell[(size_t)y * HEAT_COLS + x];
			char col[8];
			if (!n)
				continue;
			heat_colour(n, max, col, sizeof col);
			fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"%d\" height=\"%d\" fill=\"%s\" "
				   "data-n=\"%u\"><title>%u fault%s</title></rect>",
				LABEL_W + x * CELL_W, y * CELL_H, CELL_W, CELL_H, col, n, n, n > 1 ? "s" : "");
		}
	for (size_t i = 0; i < nb; i++) {
		int y = (int)b[i].row * CELL_H;
		fprintf(f, "<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#bbb\"/>", y,
			LABEL_W + PLOT_W, y);
		fprintf(f, "<text x=\"2\" y=\"%d\">r%u ", y + 10, b[i].r->id);
		lf_put_html(f, lf_trace_rule_name(t, b[i].r->rule));
		fputs(" ", f);
		put_bytes(f, b[i].r->len);
		fputs("</text>", f);
	}
	for (size_t i = 0; i < t->nrec; i++) {
		const struct lf_trace_rec *r = &t->rec[i];
		const struct band *bd = r->type == LF_TRACE_POISON || r->type == LF_TRACE_HANDOFF
						? band_of(b, nb, r->u[0]) : NULL;
		if (!bd)
			continue;
		double x = xpos(m, r->t);
		if (r->type == LF_TRACE_POISON) {
			fprintf(f, "<circle class=\"poison\" cx=\"%.1f\" cy=\"%u\" r=\"4\" fill=\"none\" "
				   "stroke=\"#e00\" stroke-width=\"2\"><title>poisoned: page %" PRIu64
				   " of region %" PRIu64 "</title></circle>",
				x, row_of(bd, r->u[2]) * CELL_H + 1, r->u[2], r->u[0]);
		} else {
			fprintf(f, "<path d=\"M%.1f %u l-4 -7 h8 z\" fill=\"#f80\"><title>handed to the "
				   "kernel: region %" PRIu64 "</title></path>", x, bd->row * CELL_H + 8, r->u[0]);
		}
	}
	time_axis(f, m, h);
	fputs("</svg>\n", f);
	if (outside)
		fprintf(f, "<p class=\"sub\">%" PRIu64 " faults of regions the trace does not "
			   "describe (their records were dropped) are not drawn.</p>\n", outside);
	free(cell);
	free(b);
	return 0;
}

static void working_set(FILE *f, const struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	uint64_t max = 1;
	for (size_t i = 0; i < m->nsamples; i++)
		if (m->sample[i].pages > max)
			max = m->sample[i].pages;
	fprintf(f, "<svg class=\"ws\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
		LABEL_W + PLOT_W + 8, CHART_H + 24, LABEL_W + PLOT_W + 8, CHART_H + 24);
	fprintf(f, "<text x=\"2\" y=\"10\">%" PRIu64 " pages</text><text x=\"2\" y=\"%d\">0</text>",
		max, CHART_H);
	for (size_t i = 0; i < t->nrec; i++)
		if (t->rec[i].type == LF_TRACE_POISON)
			fprintf(f, "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e00\" "
				   "stroke-dasharray=\"3 2\"/>", xpos(m, t->rec[i].t), xpos(m, t->rec[i].t),
				CHART_H);
	for (size_t rule = 0; rule < t->nrules; rule++) {
		bool any = false;
		uint64_t last = 0;
		for (size_t i = 0; i < m->nsamples; i++) {
			const struct lf_tr_sample *s = &m->sample[i];
			if (s->rule != rule)
				continue;
			double x = xpos(m, s->t), y = CHART_H - (double)s->pages * (CHART_H - 4) / (double)max;
			double ly = CHART_H - (double)last * (CHART_H - 4) / (double)max;
			if (!any)
				fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
					   "points=\"%d,%d", palette[rule % NPALETTE], LABEL_W, CHART_H);
			fprintf(f, " %.1f,%.1f %.1f,%.1f", x, ly, x, y);
			any = true;
			last = s->pages;
		}
		if (any)
			fprintf(f, " %.1f,%.1f\"/>", xpos(m, m->end_ns),
				CHART_H - (double)last * (CHART_H - 4) / (double)max);
	}
	time_axis(f, m, CHART_H);
	fputs("</svg>\n<div class=\"sub\">", f);
	for (size_t rule = 0; rule < t->nrules; rule++) {
		bool any = false;
		for (size_t i = 0; i < m->nsamples && !any; i++)
			any = m->sample[i].rule == rule;
		if (!any)
			continue;
		fprintf(f, "<span class=\"swatch\" style=\"background:%s\"></span>",
			palette[rule % NPALETTE]);
		lf_put_html(f, lf_trace_rule_name(t, rule));
	}
	fputs("<span class=\"swatch\" style=\"background:#e00\"></span>poisonings</div>\n", f);
}

static void histogram(FILE *f, const struct lf_model *m)
{
	unsigned lo = LF_HIST_BINS, hi = 0;
	uint64_t max = 1;
	for (unsigned b = 0; b < LF_HIST_BINS; b++)
		if (m->hist[b]) {
			lo = b < lo ? b : lo;
			hi = b;
			max = m->hist[b] > max ? m->hist[b] : max;
		}
	if (lo > hi)
		lo = hi = 0;
	unsigned nbins = hi - lo + 1, bw = nbins ? (unsigned)(PLOT_W / nbins) : PLOT_W;
	bw = bw > 60 ? 60 : bw;
	fprintf(f, "<svg class=\"hist\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
		LABEL_W + PLOT_W + 8, CHART_H + 28, LABEL_W + PLOT_W + 8, CHART_H + 28);
	fprintf(f, "<text x=\"2\" y=\"10\">%" PRIu64 " faults</text>", max);
	for (unsigned b = lo; b <= hi; b++) {
		double h = (double)m->hist[b] * (CHART_H - 4) / (double)max;
		unsigned x = LABEL_W + (b - lo) * bw;
		if (m->hist[b])
			fprintf(f, "<rect x=\"%u\" y=\"%.1f\" width=\"%u\" height=\"%.1f\" fill=\"#1f77b4\" "
				   "data-n=\"%" PRIu64 "\"><title>%" PRIu64 " faults</title></rect>",
				x + 1, CHART_H - h, bw - 2, h, m->hist[b], m->hist[b]);
		fprintf(f, "<text x=\"%u\" y=\"%d\" text-anchor=\"middle\">%s", x + bw / 2, CHART_H + 12,
			b ? "" : "&lt;");
		put_ns(f, lf_hist_low(b ? b : 1));
		fputs("</text>", f);
	}
	fputs("</svg>\n", f);
}

static void threads(FILE *f, const struct lf_model *m)
{
	fputs("<table class=\"threads\"><tr><th class=\"l\">thread</th><th>faults</th>"
	      "<th>blocked in faults</th><th>of the run's wall time</th></tr>\n", f);
	for (size_t i = 0; i < m->nthreads; i++) {
		const struct lf_tr_thread *th = &m->thread[i];
		fprintf(f, "<tr><td class=\"l\">%" PRIu32 "%s</td><td data-n=\"%" PRIu64 "\">%" PRIu64
			   "</td><td>", th->tid, th->tid == m->t->h.pid ? " (main)" : "", th->faults,
			th->faults);
		put_ns(f, th->service_ns);
		fprintf(f, "</td><td>%.1f%%</td></tr>\n", 100 * frac(th->service_ns, m->end_ns));
	}
	fputs("<tr><th class=\"l\">all</th><th>", f);
	fprintf(f, "%" PRIu64 "</th><th>", m->faults);
	put_ns(f, m->service_ns);
	fprintf(f, "</th><th>%.1f%%</th></tr></table>\n", 100 * frac(m->service_ns, m->end_ns));
}

static int by_faults(const void *a, const void *b)
{
	const struct lf_tr_region *x = *(struct lf_tr_region *const *)a, *y = *(struct lf_tr_region *const *)b;
	if (x->faults != y->faults)
		return x->faults > y->faults ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int regions(FILE *f, const struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	struct lf_tr_region **r = calloc(t->nregions ? t->nregions : 1, sizeof *r);
	if (!r)
		return -1;
	uint64_t in_table = 0;
	for (size_t i = 0; i < t->nregions; i++)
		r[i] = &t->region[i];
	qsort(r, t->nregions, sizeof *r, by_faults);
	fputs("<table class=\"regions\"><tr><th>region</th><th class=\"l\">rule</th><th class=\"l\">"
	      "kind</th><th class=\"l\">start</th><th>size</th><th class=\"l\">file, offset</th>"
	      "<th>taken</th><th>released</th><th>faults</th><th>pages installed</th>"
	      "<th>bytes installed</th><th>poisoned</th><th>service time</th></tr>\n", f);
	for (size_t i = 0; i < t->nregions && i < TABLE_MAX; i++) {
		const struct lf_tr_region *g = r[i];
		fprintf(f, "<tr><td>%u%s</td><td class=\"l\">", g->id, g->inherited ? " (inherited)" : "");
		lf_put_html(f, lf_trace_rule_name(t, g->rule));
		fprintf(f, "</td><td class=\"l\">%s</td><td class=\"l mono\">0x%" PRIx64 "</td><td>",
			lf_trace_match_name(g->match), g->start);
		put_bytes(f, g->len);
		fputs("</td><td class=\"l\">", f);
		if (g->file) {
			lf_put_html(f, g->file);
			fprintf(f, ", %" PRIu64, g->offset);
		}
		fputs("</td><td>", f);
		put_ns(f, g->t_taken);
		fputs("</td><td>", f);
		if (g->t_released != UINT64_MAX) {
			put_ns(f, g->t_released);
			if (g->handed_off)
				fputs(" (handed off)", f);
		} else
			fputs("&mdash;", f);
		fprintf(f, "</td><td data-n=\"%" PRIu64 "\">%" PRIu64 "</td><td>%" PRIu64 "</td><td>",
			g->faults, g->faults, g->pages);
		put_bytes(f, g->pages * 4096);
		fprintf(f, "</td><td>%" PRIu64 "</td><td>", g->poisoned);
		put_ns(f, g->service_ns);
		fputs("</td></tr>\n", f);
		in_table += g->faults;
	}
	if (in_table != m->faults) /* more regions than rows, or faults of regions not traced */
		fprintf(f, "<tr><td class=\"l\" colspan=\"8\">%s</td><td data-n=\"%" PRIu64 "\">%" PRIu64
			   "</td><td colspan=\"4\"></td></tr>\n",
			t->nregions > TABLE_MAX ? "the other regions" : "regions the trace does not describe",
			m->faults - in_table, m->faults - in_table);
	fputs("</table>\n", f);
	free(r);
	return 0;
}

static int by_site_faults(const void *a, const void *b)
{
	const struct lf_tr_site *x = a, *y = b;
	return x->faults != y->faults ? (x->faults > y->faults ? -1 : 1) : 0;
}

static void sites(FILE *f, struct lf_model *m)
{
	if (!m->nsites) {
		fputs("<p class=\"sub\">No allocation site was recorded.</p>\n", f);
		return;
	}
	qsort(m->site, m->nsites, sizeof *m->site, by_site_faults);
	fputs("<table class=\"sites\"><tr><th class=\"l\">site (innermost frame first)</th>"
	      "<th>regions</th><th>bytes taken</th><th>faults</th><th>pages installed</th>"
	      "<th>bytes installed</th></tr>\n", f);
	for (size_t i = 0; i < m->nsites && i < TABLE_MAX; i++) {
		const struct lf_tr_site *s = &m->site[i];
		fputs("<tr><td class=\"l mono\">", f);
		lf_put_html(f, s->name);
		fprintf(f, "</td><td>%" PRIu64 "</td><td>", s->regions);
		put_bytes(f, s->bytes);
		fprintf(f, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>", s->faults, s->pages);
		put_bytes(f, s->pages * 4096);
		fputs("</td></tr>\n", f);
	}
	if (m->nsites > TABLE_MAX)
		fprintf(f, "<tr><td class=\"l\" colspan=\"6\">and %zu more sites</td></tr>\n",
			m->nsites - TABLE_MAX);
	fputs("</table>\n", f);
}

static void poisons(FILE *f, const struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	if (!m->poisoned) {
		fputs("<p class=\"sub\">No page was poisoned.</p><table class=\"poisons\"></table>\n", f);
		return;
	}
	fputs("<table class=\"poisons\"><tr><th>time</th><th>thread</th><th class=\"l\">rule</th>"
	      "<th>region</th><th>page</th><th class=\"l\">address</th><th>file offset</th>"
	      "<th class=\"l\">why</th><th>pages</th></tr>\n", f);
	uint64_t shown = 0;
	for (size_t k = 0; k < t->nrec; k++) {
		const struct lf_trace_rec *r = &t->rec[m->order[k]];
		if (r->type != LF_TRACE_POISON || shown == TABLE_MAX)
			continue;
		shown++;
		fputs("<tr><td>", f);
		put_ns(f, r->t);
		fprintf(f, "</td><td>%" PRIu32 "</td><td class=\"l\">", r->a32);
		lf_put_html(f, lf_trace_rule_name(t, r->a16));
		fprintf(f, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td class=\"l mono\">0x%" PRIx64
			   "</td><td>", r->u[0], r->u[2], r->u[1]);
		if (r->u[3] != UINT64_MAX)
			fprintf(f, "%" PRIu64, r->u[3]);
		fputs("</td><td class=\"l\">", f);
		lf_put_html(f, r->flags ? (t->text[m->order[k]] ? t->text[m->order[k]] : "the file")
					: "the rule's decision");
		fputs("</td><td data-n=\"1\">1</td></tr>\n", f);
	}
	if (shown < m->poisoned)
		fprintf(f, "<tr><td class=\"l\" colspan=\"8\">and more</td><td data-n=\"%" PRIu64
			   "\">%" PRIu64 "</td></tr>\n", m->poisoned - shown, m->poisoned - shown);
	fputs("</table>\n", f);
}

static void process_row(FILE *f, const struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	fprintf(f, "<tr><td>%" PRIu32 "</td><td>%" PRIu32 "</td><td class=\"l\">", t->h.pid, t->h.ppid);
	lf_put_html(f, t->argv && *t->argv ? t->argv : t->exe);
	fputs("</td><td>", f);
	put_ns(f, m->end_ns);
	fprintf(f, "</td><td class=\"n-faults\">%" PRIu64 "</td><td>%" PRIu64 "</td><td>", m->faults,
		m->pages);
	put_ns(f, m->service_ns);
	fprintf(f, "</td><td>%.1f%%</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
		   "</td><td>%" PRIu64 "</td><td class=\"l\">",
		100 * frac(m->service_ns, m->end_ns), m->poisoned, m->handoffs, t->h.dropped, t->torn);
	put_ended(f, t);
	fputs("</td></tr>\n", f);
}

static int section(FILE *f, struct lf_model *m)
{
	const struct lf_trace *t = m->t;
	fprintf(f, "<section class=\"proc\" data-pid=\"%" PRIu32 "\" data-faults=\"%" PRIu64
		   "\" data-poisoned=\"%" PRIu64 "\">\n<h2>pid %" PRIu32 ": ",
		t->h.pid, m->faults, m->poisoned, t->h.pid);
	lf_put_html(f, *t->exe ? lf_basename(t->exe) : "?");
	fputs("</h2>\n<p class=\"sub mono\">", f);
	lf_put_html(f, t->path);
	fprintf(f, "</p>\n<h3>Faults by region and time (%" PRIu64 " faults; darker: more)</h3>\n",
		m->faults);
	if (heat_map(f, m) != 0)
		return -1;
	fputs("<h3>Pages present per rule (installed by the library and not emptied since)</h3>\n", f);
	working_set(f, m);
	fputs("<h3>Fault service time (from reading the fault to waking its thread)</h3>\n", f);
	histogram(f, m);
	fputs("<h3>Time blocked in faults (the sum of the faults' service times)</h3>\n", f);
	threads(f, m);
	fputs("<h3>Regions</h3>\n", f);
	if (regions(f, m) != 0)
		return -1;
	fputs("<h3>Allocation sites</h3>\n", f);
	sites(f, m);
	fputs("<h3>Poisonings</h3>\n", f);
	poisons(f, m);
	fputs("</section>\n", f);
	return 0;
}

int lf_report_html(struct lf_model *const *m, size_t n, FILE *f)
{
	uint64_t faults = 0;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<title>lazyfault report</title><style>%s</style></head>\n"
		   "<body data-checks=\"not run\">\n<h1>lazyfault report</h1>\n"
		   "<p class=\"sub\">%zu process%s. Times count from the start of each process's "
		   "trace.</p>\n<p id=\"checks\">The page's own checks have not run (JavaScript is "
		   "off).</p>\n<h2>Processes</h2>\n"
		   "<table id=\"processes\"><tr><th>pid</th><th>parent</th><th class=\"l\">program"
		   "</th><th>wall time</th><th>faults</th><th>pages installed</th><th>blocked in "
		   "faults</th><th>of wall time</th><th>poisoned</th><th>handoffs</th><th>records "
		   "dropped</th><th>records torn</th><th class=\"l\">ended by</th></tr>\n",
		css, n, n == 1 ? "" : "es");
	for (size_t i = 0; i < n; i++) {
		process_row(f, m[i]);
		faults += m[i]->faults;
	}
	fprintf(f, "<tr><th colspan=\"4\" class=\"l\">all processes</th><th id=\"faults-total\">%"
		   PRIu64 "</th><th colspan=\"8\" class=\"l\">counted by this page: <span "
		   "id=\"faults-counted\">?</span></th></tr></table>\n<div class=\"grid\">\n", faults);
	for (size_t i = 0; i < n; i++)
		if (section(f, m[i]) != 0)
			return -1;
	fprintf(f, "</div>\n<script>\n%s</script>\n</body></html>\n", script);
	return ferror(f) ? -1 : 0;
}
