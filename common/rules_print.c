/* The rules as understood, for `lazyfault check`: every key in force with
 * its effective value, walked from the key table, in a form that parses back
 * to the same rules (tests/fuzz checks it).  Not linked into the library,
 * which never prints rules. */
#include "rule_keys.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* A printed line stays well within the reader's limit (198 characters):
 * a longer value goes on on the next lines (lazyfault.ini(5), SYNTAX). */
#define WIDTH 100
#define INDENT "    "

/* "65536 ; 64K": the exact value, then the value as one would write it.  The
 * ';' after a blank starts an inline comment, so the output parses back. */
static void print_size(FILE *f, uint64_t v)
{
	static const struct { uint64_t mul; char c; } u[] = {
		{ LF_GIB, 'G' }, { LF_MIB, 'M' }, { LF_KIB, 'K' },
	};
	fprintf(f, "%llu", (unsigned long long)v);
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (v >= u[i].mul && v % u[i].mul == 0) {
			fprintf(f, " ; %llu%c", (unsigned long long)(v / u[i].mul), u[i].c);
			break;
		}
}

static void print_duration(FILE *f, uint64_t ns)
{
	static const struct { uint64_t ns; const char *unit; } u[] = {
		{ 1000000000, "s" }, { 1000000, "ms" }, { 1000, "us" },
	};
	if (ns == 0) {
		fprintf(f, "0");
		return;
	}
	fprintf(f, "%lluns", (unsigned long long)ns);
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (ns % u[i].ns == 0) {
			fprintf(f, " ; %llu%s", (unsigned long long)(ns / u[i].ns), u[i].unit);
			break;
		}
}

/* A list that goes past WIDTH goes on on the next line after a ','. */
static void print_pages(FILE *f, const struct lf_page_list *l, size_t col)
{
	if (l->pages_all)
		fprintf(f, "all");
	for (size_t j = 0; j < l->npages; j++) {
		if (j && col > WIDTH) {
			fprintf(f, ",\n" INDENT);
			col = strlen(INDENT);
		} else if (j) {
			fputc(',', f);
			col++;
		}
		char span[48]; /* "FIRST-LAST" */
		struct lf_page_list one = {.pages = &l->pages[j], .npages = 1};
		col += lf_format_pages(&one, span, sizeof(span));
		fputs(span, f);
	}
}

/* A string that goes past WIDTH goes on on the next lines, each piece
 * ending in a backslash.  A piece never ends inside a UTF-8 character,
 * and the next never starts with a blank (the reader drops those), nor
 * with what would make it a comment. */
static bool starts_piece(const char *s)
{
	unsigned char c = (unsigned char)*s;
	return c && !isspace(c) && c != ';' && c != '#' && (c & 0xc0) != 0x80;
}

static void print_string(FILE *f, const char *s, size_t col)
{
	size_t n = strlen(s), at = 0;
	while (col + (n - at) > WIDTH) {
		/* The last place within WIDTH where a piece may start, else
		 * the first after it; none: the rest stays on this line. */
		size_t cut = at + (col < WIDTH ? WIDTH - col : 1);
		while (cut > at + 1 && !starts_piece(s + cut))
			cut--;
		while (cut < n && !starts_piece(s + cut))
			cut++;
		if (cut >= n || cut == at)
			break;
		fprintf(f, "%.*s\\\n" INDENT, (int)(cut - at), s + at);
		at = cut;
		col = strlen(INDENT);
	}
	fputs(s + at, f);
}

static void print_value(FILE *f, const struct lf_key *k, const void *field, size_t col)
{
	switch (k->kind) {
	case LF_KIND_ENUM: {
		unsigned v = *(const unsigned *)field;
		fprintf(f, "%s", v < k->nnames ? k->names[v] : "?");
		break;
	}
	case LF_KIND_STRING:
		print_string(f, *(char *const *)field, col);
		break;
	case LF_KIND_SIZE:
		print_size(f, *(const uint64_t *)field);
		break;
	case LF_KIND_DURATION:
		print_duration(f, *(const uint64_t *)field);
		break;
	case LF_KIND_NUMBER:
		fprintf(f, "%llu", k->width == sizeof(unsigned)
				    ? (unsigned long long)*(const unsigned *)field
				    : (unsigned long long)*(const uint64_t *)field);
		break;
	case LF_KIND_LIMIT: {
		int64_t v = *(const int64_t *)field;
		fprintf(f, v < 0 ? "-1 ; unlimited" : "%lld", (long long)v);
		break;
	}
	case LF_KIND_BOOL:
		fprintf(f, "%s", *(const bool *)field ? "yes" : "no");
		break;
	case LF_KIND_PROBABILITY: {
		char b[32];
		lf_format_probability(*(const double *)field, b, sizeof(b));
		fputs(b, f);
		break;
	}
	case LF_KIND_PAGES:
		print_pages(f, field, col);
		break;
	}
}

/* One key of base: its value when in force; else, where it applies, what
 * its absence means. */
static void print_key(FILE *f, const struct lf_key *k, const void *base, bool rule)
{
	if (lf_key_in_force(k, base, rule)) {
		fprintf(f, "%s = ", k->name);
		print_value(f, k, lf_key_field(k, base), strlen(k->name) + 3);
		fputc('\n', f);
	} else if (rule && !lf_key_applies(k, base)) {
		return;
	} else if (k->empty_ok) {
		fprintf(f, "%s = ; %s\n", k->name, k->absent); /* an empty value, and why */
	} else if (k->absent) {
		fprintf(f, "# %s: %s\n", k->name, k->absent);
	}
}

/* What a poison rule decides page by page (lazyfault.ini(5), POISON RULES). */
static const char *poison_summary(const struct lf_rule *x)
{
	bool listed = x->given & LF_KEY_PAGES, triggers = x->given & LF_KEY_TRIGGERS;
	if (x->given & LF_KEY_FILE_PAGES)
		return x->given & LF_KEY_PROBABILITY
		       ? "each page of the file that file_pages names is bad with the probability, "
			 "drawn once per page"
		       : "the pages of the file that file_pages names are bad";
	if (listed && triggers)
		return "the pages listed are poisoned, and the faults probability, after, every "
		       "and times pick";
	if (triggers)
		return "the faults probability, after, every and times pick are poisoned";
	if (listed)
		return "only the pages listed are poisoned";
	return "none of pages, probability, after, every, times: every page is poisoned";
}

/* What a fail rule does with what it takes (lazyfault.ini(5), FAIL RULES). */
static const char *fail_summary(const struct lf_rule *x)
{
	if (x->given & LF_KEY_TRIGGERS)
		return "the allocations it takes fail with ENOMEM when probability and times pick "
		       "them; the others go on to the next rules";
	return "every allocation it takes fails with ENOMEM";
}

void lf_rules_print(const struct lf_rules *r, FILE *f)
{
	/* A comment line too: shown escaped, and cut to fit. */
	char file[WIDTH];
	lf_escape_text(r->file ? r->file : "(rules)", file, sizeof(file));
	fprintf(f, "# %s, as lazyfault understands it: every key with its effective value\n", file);
	fprintf(f, "[global]\n");
	for (size_t k = 0; k < LF_NGLOBAL_KEYS; k++)
		print_key(f, &lf_global_keys[k], r, false);
	if (r->nrules == 0)
		fprintf(f, "\n# no rules: every region is left to the kernel\n");

	for (size_t i = 0; i < r->nrules; i++) {
		const struct lf_rule *x = &r->rule[i];
		fprintf(f, "\n[%s]\n", x->name);
		fprintf(f, "# rule %zu, line %d\n", i + 1, x->line);
		if (x->action == LF_ACTION_POISON)
			fprintf(f, "# one page per fault; %s\n", poison_summary(x));
		else if (x->action == LF_ACTION_FAIL)
			fprintf(f, "# %s\n", fail_summary(x));
		for (size_t k = 0; k < LF_NRULE_KEYS; k++)
			print_key(f, &lf_rule_keys[k], x, true);
	}
}
