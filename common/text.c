/* UTF-8 text (text.h). */
#include "text.h"

#include <stdio.h>

size_t lf_utf8_char(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;
	if ((u[0] & 0xe0) == 0xc0) {
		len = 2, c = u[0] & 0x1f, min = 0x80;
	} else if ((u[0] & 0xf0) == 0xe0) {
		len = 3, c = u[0] & 0x0f, min = 0x800;
	} else if ((u[0] & 0xf8) == 0xf0) {
		len = 4, c = u[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool lf_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

void lf_escape_text(const char *in, char *out, size_t outlen)
{
	size_t o = 0, n = 0;
	while (in[n])
		n++;
	if (outlen == 0)
		return;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = lf_utf8_char(in + i, n - i, &cp);
		if (len && !lf_is_control(cp)) {
			if (o + len >= outlen)
				break;
			for (size_t j = 0; j < len; j++)
				out[o++] = in[i + j];
			i += len;
		} else {
			if (o + 4 >= outlen)
				break;
			snprintf(out + o, 5, "\\x%02x", (unsigned char)in[i]);
			o += 4;
			i++;
		}
	}
	out[o] = '\0';
}
