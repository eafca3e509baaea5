/* Assertions of the debug build (-DLF_DEBUG): a broken contract is
 * reported with write(2) from a stack buffer (safe on a helper, inside a
 * signal handler, under any lock) and ends the process with abort(). */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"

#ifdef LF_DEBUG
void lf_assert_failed(const char *what, const char *file, int line)
{
	char buf[512];
	size_t n = 0;
	const char *parts[] = {"lazyfault: assertion failed: ", what, " (", file, ":"};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		for (const char *s = parts[i]; *s && n < sizeof buf - 24; s++)
			buf[n++] = *s;
	char digits[12];
	int d = 0;
	do {
		digits[d++] = (char)('0' + line % 10);
		line /= 10;
	} while (line && d < 11);
	while (d)
		buf[n++] = digits[--d];
	buf[n++] = ')';
	buf[n++] = '\n';
	syscall(SYS_write, 2, buf, n);
	abort();
}
#endif
