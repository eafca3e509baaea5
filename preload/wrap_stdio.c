/* stdio over a file with bad pages (a rule with io_error).  glibc fills a
 * stream's buffer with internal reads that no wrapper sees, so the bad
 * pages are enforced where the program takes bytes from the stream: fread
 * and its kin (the read/write table, wrap_io_table.h), and here fgets,
 * getc, fgetc, getchar, getline, getdelim and their _unlocked and
 * fortified forms.  Each takes at most the bytes before the next bad page
 * (badfd.c measures from the stream's position, its buffer counted); one
 * whose next byte is in a bad page sets the stream's error indicator,
 * sets errno to EIO and returns what glibc returns on a read error.
 *
 * What is not covered (README, Limits): the scanf family, the wide-char
 * reads, and the getc_unlocked-style macros that glibc's headers expand
 * inline when a program is built with optimisation: those read the buffer
 * directly, which may hold a bad page's bytes.
 *
 * fopen, fdopen, freopen and fclose open and close descriptors with
 * internal calls too: what was known of their numbers is forgotten. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badpages.h"
#include "lf.h"
#include "poisoned.h"

/* stdio.h may make these macros; the functions are meant */
#undef getc
#undef getc_unlocked
#undef getchar
#undef getchar_unlocked
#undef fgetc_unlocked
#undef fgets_unlocked

#define NEXT(name, type) ((type)lf_next(&next_##name, #name))
#define SLOT(name) static void *_Atomic next_##name;
#define EACH(X) X(fgets) X(fgets_unlocked) X(__fgets_chk) X(__fgets_unlocked_chk) X(fgetc) \
	X(getc) X(fgetc_unlocked) X(getc_unlocked) X(getchar) X(getchar_unlocked) X(getline) \
	X(getdelim) X(__getdelim) X(fopen) X(fopen64) X(fdopen) X(freopen) X(freopen64) X(fclose)
EACH(SLOT)

/* Looked up when the library loads (wrap_io.c says why). */
__attribute__((constructor)) static void look_up_all(void)
{
#define LOOK(name) lf_next(&next_##name, #name);
	EACH(LOOK)
#undef LOOK
}

/* ---- opening and closing ---------------------------------------------- */

static FILE *opened(FILE *f)
{
	if (f)
		lf_badfd_forget((unsigned)fileno(f), (unsigned)fileno(f));
	return f;
}

typedef FILE *open_fn(const char *, const char *);
typedef FILE *reopen_fn(const char *, const char *, FILE *);
LF_API FILE *fopen(const char *path, const char *mode)
{
	return opened(NEXT(fopen, open_fn *)(path, mode));
}
LF_API FILE *fopen64(const char *path, const char *mode)
{
	return opened(NEXT(fopen64, open_fn *)(path, mode));
}
LF_API FILE *fdopen(int fd, const char *mode)
{
	return opened(NEXT(fdopen, FILE *(*)(int, const char *))(fd, mode));
}
LF_API FILE *freopen(const char *path, const char *mode, FILE *f)
{
	return opened(NEXT(freopen, reopen_fn *)(path, mode, f));
}
LF_API FILE *freopen64(const char *path, const char *mode, FILE *f)
{
	return opened(NEXT(freopen64, reopen_fn *)(path, mode, f));
}

LF_API int fclose(FILE *f)
{
	int fd = f ? fileno(f) : -1;
	int rc = NEXT(fclose, int (*)(FILE *))(f);
	if (fd >= 0)
		lf_badfd_forget((unsigned)fd, (unsigned)fd);
	return rc;
}

/* ---- single bytes ------------------------------------------------------ */

/* The next byte of f is in a bad page: the error is set. */
static bool at_bad_page(const char *call, FILE *f)
{
	if (!lf_badfd_on || lf_badfd_stream(call, f, 1, false))
		return false;
	lf_badfd_stream_error(f);
	return true;
}

/* A read that failed: glibc's internal read into the stream's buffer may
 * have met a page the library poisoned (efault.c says so). */
static int met_c(const char *call, FILE *f, int c)
{
	if (c == EOF && lf_poisoned_any())
		lf_met_stream(call, f);
	return c;
}
static char *met_s(const char *call, FILE *f, char *s)
{
	if (!s && lf_poisoned_any())
		lf_met_stream(call, f);
	return s;
}
static ssize_t met_n(const char *call, FILE *f, ssize_t n)
{
	if (n < 0 && lf_poisoned_any())
		lf_met_stream(call, f);
	return n;
}

typedef int getc_fn(FILE *);
#define GETC(name)                                                            \
	LF_API int name(FILE *f)                                              \
	{                                                                     \
		return at_bad_page(__func__, f) ? EOF                         \
						: met_c(__func__, f, NEXT(name, getc_fn *)(f)); \
	}
GETC(fgetc)
GETC(getc)
GETC(fgetc_unlocked)
GETC(getc_unlocked)
LF_API int getchar(void)
{
	return at_bad_page(__func__, stdin) ? EOF
					    : met_c(__func__, stdin, NEXT(getchar, int (*)(void))());
}
LF_API int getchar_unlocked(void)
{
	return at_bad_page(__func__, stdin)
		       ? EOF
		       : met_c(__func__, stdin, NEXT(getchar_unlocked, int (*)(void))());
}

/* ---- lines ------------------------------------------------------------- */

/* fgets takes at most size - 1 bytes: at most `ok`, those before the bad
 * page, and when the line goes on into it, fgets fails as glibc's does on
 * a read error (NULL; the bytes before are consumed). */
typedef char *gets_fn(void *next, char *s, size_t cap, int size, FILE *f);
static char *call_fgets(void *next, char *s, size_t cap, int size, FILE *f)
{
	return ((char *(*)(char *, int, FILE *))next)(s, size, f);
}
static char *call_fgets_chk(void *next, char *s, size_t cap, int size, FILE *f)
{
	return ((char *(*)(char *, size_t, int, FILE *))next)(s, cap, size, f);
}

static char *gets_cut(const char *call, gets_fn *fn, void *next, char *s, size_t cap, int size,
		      FILE *f)
{
	size_t ok = lf_badfd_on && size > 1 ? lf_badfd_stream(call, f, (size_t)size - 1, false) : SIZE_MAX;
	if (ok >= (size_t)size - 1 || size <= 1)
		return met_s(call, f, fn(next, s, cap, size, f));
	if (ok == 0) {
		lf_badfd_stream_error(f);
		return NULL;
	}
	off_t before = ftello(f);
	char *r = fn(next, s, cap, (int)ok + 1, f);
	if (r && ftello(f) - before == (off_t)ok && s[ok - 1] != '\n') {
		lf_badfd_stream_fail(call, f);
		return NULL;
	}
	return r;
}

LF_API char *fgets(char *s, int size, FILE *f)
{
	return gets_cut(__func__, call_fgets, NEXT(fgets, void *), s, 0, size, f);
}
LF_API char *fgets_unlocked(char *s, int size, FILE *f)
{
	return gets_cut(__func__, call_fgets, NEXT(fgets_unlocked, void *), s, 0, size, f);
}
LF_API char *__fgets_chk(char *s, size_t cap, int size, FILE *f)
{
	return gets_cut(__func__, call_fgets_chk, NEXT(__fgets_chk, void *), s, cap, size, f);
}
LF_API char *__fgets_unlocked_chk(char *s, size_t cap, int size, FILE *f)
{
	return gets_cut(__func__, call_fgets_chk, NEXT(__fgets_unlocked_chk, void *), s, cap, size, f);
}

/* getdelim with a bad page `ok` bytes ahead: the line is read a byte at a
 * time, so that none of the page's bytes is taken from the buffer (where
 * glibc's internal read may have put them); as glibc's getdelim, it
 * returns -1 when the read fails, and the line so far when the file ends. */
static ssize_t getdelim_before(const char *call, size_t ok, char **line, size_t *cap, int delim,
			       FILE *f)
{
	getc_fn *getc_next = NEXT(getc_unlocked, getc_fn *);
	ssize_t ret = -1;
	size_t len = 0;
	flockfile(f);
	for (;;) {
		if (!*line || *cap < len + 2) {
			size_t want = *cap < 60 ? 120 : 2 * *cap;
			char *bigger = realloc(*line, want);
			if (!bigger) {
				errno = ENOMEM;
				break;
			}
			*line = bigger;
			*cap = want;
		}
		if (len == ok) {
			if (ok)
				lf_badfd_stream_fail(call, f);
			else
				lf_badfd_stream_error(f); /* counted when ok was measured */
			break;
		}
		int c = getc_next(f);
		if (c == EOF) {
			ret = len ? (ssize_t)len : -1;
			break;
		}
		(*line)[len++] = (char)c;
		if (c == delim) {
			ret = (ssize_t)len;
			break;
		}
	}
	if (*line)
		(*line)[len] = 0;
	funlockfile(f);
	return ret;
}

typedef ssize_t getdelim_fn(char **, size_t *, int, FILE *);
static ssize_t getdelim_cut(const char *call, getdelim_fn *next, char **line, size_t *cap,
			    int delim, FILE *f)
{
	size_t ok = lf_badfd_on && line && cap ? lf_badfd_stream(call, f, SIZE_MAX, false) : SIZE_MAX;
	return ok == SIZE_MAX ? met_n(call, f, next(line, cap, delim, f))
			      : getdelim_before(call, ok, line, cap, delim, f);
}

LF_API ssize_t getdelim(char **line, size_t *cap, int delim, FILE *f)
{
	return getdelim_cut(__func__, NEXT(getdelim, getdelim_fn *), line, cap, delim, f);
}
LF_API ssize_t __getdelim(char **line, size_t *cap, int delim, FILE *f)
{
	return getdelim_cut(__func__, NEXT(__getdelim, getdelim_fn *), line, cap, delim, f);
}
typedef ssize_t getline_fn(char **, size_t *, FILE *);
LF_API ssize_t getline(char **line, size_t *cap, FILE *f)
{
	getline_fn *next = NEXT(getline, getline_fn *);
	size_t ok = lf_badfd_on && line && cap ? lf_badfd_stream(__func__, f, SIZE_MAX, false) : SIZE_MAX;
	return ok == SIZE_MAX ? met_n(__func__, f, next(line, cap, f))
			      : getdelim_before(__func__, ok, line, cap, '\n', f);
}
