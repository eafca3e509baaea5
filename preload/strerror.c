/* The library's own strerror, hidden (never exported: the program keeps
 * glibc's), so that every message of the library and of common/ takes it.
 *
 * Why: glibc's strerror translates through gettext, which takes glibc's
 * locale lock for reading.  The library's code runs inside the program's
 * calls of malloc and mmap, and setlocale makes such calls while it holds
 * that lock for writing: the read lock of the same thread fails with
 * EDEADLK, gettext then unlocks it anyway, and setlocale's own unlock
 * leaves the lock broken; the next setlocale waits for ever (initdb of
 * PostgreSQL hung so at its start when the library's initialisation, run
 * from setlocale's first allocation, formatted why /dev/userfaultfd could
 * not be opened).  strerrordesc_np is the same English text without any
 * lock. */
#include <string.h>

#include "lf.h"

char *strerror(int e)
{
	const char *s = strerrordesc_np(e);
	return (char *)(s ? s : "Unknown error");
}

/* The GNU strerror_r (the one _GNU_SOURCE declares) the same way. */
char *strerror_r(int e, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return strerror(e);
}
