/* UTF-8 text: what a rule file may hold, and how bytes from outside (a
 * file name, a program's arguments) are shown in a message or written into
 * JSON without sending raw bytes to a terminal or a parser.
 *
 * Linked into liblazyfault.so and used by its statistics writer in fatal
 * signal handlers: pure functions, no allocation, no global state. */
#ifndef LAZYFAULT_TEXT_H
#define LAZYFAULT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the UTF-8 character at s, of which n bytes are
 * there, with its code point in *cp; 0 when the bytes are not one (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut
 * short by n). */
size_t lf_utf8_char(const char *s, size_t n, uint32_t *cp);

/* A control character: C0 (below U+0020), DEL, or C1 (U+0080 to U+009F),
 * which terminals may take for the start of an escape sequence. */
bool lf_is_control(uint32_t cp);

/* in, a NUL-terminated string, into out (outlen bytes, NUL-terminated,
 * cut short if need be): printable UTF-8 as it is, every other byte as
 * \xHH. */
void lf_escape_text(const char *in, char *out, size_t outlen);

#endif
