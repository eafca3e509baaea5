/* Finding liblazyfault.so: $LAZYFAULT_LIBRARY, else beside our executable
 * (build/lazyfault + build/liblazyfault.so), else the installed layout
 * (PREFIX/bin/lazyfault + PREFIX/lib/lazyfault/liblazyfault.so).  Both are
 * relative to the executable, never to a path compiled in: the binary that
 * `make` built works in the tree, installed under any PREFIX, and staged
 * under a DESTDIR. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lazyfault.h"

#define LIBNAME "liblazyfault.so"

/* An absolute, canonical path: LD_PRELOAD is read again by every program
 * that the program execs, possibly from another directory. */
static int found(const char *cand, char *out, size_t outlen)
{
	char real[PATH_MAX];
	if (access(cand, R_OK) != 0 || !realpath(cand, real))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s", real) >= outlen)
		return -1;
	return 0;
}

int lf_locate_library(char *out, size_t outlen, char *err, size_t errlen)
{
	const char *env = getenv("LAZYFAULT_LIBRARY");
	if (env && *env) {
		if (found(env, out, outlen) == 0)
			return 0;
		snprintf(err, errlen, "LAZYFAULT_LIBRARY=%s: %s", env, strerror(errno));
		return -1;
	}
	char exe[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (l <= 0) {
		snprintf(err, errlen, "cannot find " LIBNAME " (/proc/self/exe: %s); "
			 "set LAZYFAULT_LIBRARY to its path", strerror(errno));
		return -1;
	}
	exe[l] = '\0';
	char *dir = dirname(exe);
	char cands[2][PATH_MAX + 64];
	int n = 0;
	snprintf(cands[n++], sizeof cands[0], "%s/" LIBNAME, dir);
	snprintf(cands[n++], sizeof cands[0], "%s/../lib/lazyfault/" LIBNAME, dir);
	for (int i = 0; i < n; i++)
		if (found(cands[i], out, outlen) == 0)
			return 0;
	int w = snprintf(err, errlen, "cannot find " LIBNAME " (looked for");
	for (int i = 0; i < n && w >= 0 && (size_t)w < errlen; i++)
		w += snprintf(err + w, errlen - w, "%s %s", i ? "," : "", cands[i]);
	if (w >= 0 && (size_t)w < errlen)
		snprintf(err + w, errlen - w, "); set LAZYFAULT_LIBRARY to its path");
	return -1;
}
