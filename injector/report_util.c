/* Small pieces the outputs of `lazyfault report` share: escaping text for
 * JSON and HTML, and figures in human units. */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string.  Bytes that are not valid UTF-8 (a path can hold any) are
 * written as U+FFFD, so that the file stays JSON. */
void lf_put_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', out);
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
			p++;
		} else if (c < 0x20) {
			fprintf(out, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc((int)c, out);
			p++;
		} else {
			int n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			int ok = n > 0;
			for (int i = 1; ok && i < n; i++)
				ok = (p[i] & 0xc0) == 0x80;
			if (ok) {
				fwrite(p, 1, (size_t)n, out);
				p += n;
			} else {
				fputs("\\ufffd", out);
				p++;
			}
		}
	}
	fputc('"', out);
}

void lf_put_html(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

void lf_fmt_ns(uint64_t ns, char *out, size_t len)
{
	if (ns < 1000)
		snprintf(out, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(out, len, "%.3g us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(out, len, "%.3g ms", ns / 1e6);
	else
		snprintf(out, len, "%.3g s", ns / 1e9);
}

void lf_fmt_bytes(uint64_t b, char *out, size_t len)
{
	static const char units[] = "KMGTP";
	if (b < 1024) {
		snprintf(out, len, "%" PRIu64 " B", b);
		return;
	}
	double d = (double)b / 1024;
	int u = 0;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(out, len, "%.1f %ciB", d, units[u]);
}

bool lf_grow(void *array, size_t *cap, size_t n, size_t size)
{
	void **a = array;
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 16;
	void *p = realloc(*a, c * size);
	if (!p)
		return false;
	*a = p;
	*cap = c;
	return true;
}

const char *lf_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}
