/* How the outcome of one run of a sweep is told from the reference run. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "sweep.h"

static const char *const outcome_names[LF_NOUTCOMES] = {
	[LF_SURVIVED] = "survived", [LF_ERROR_EXIT] = "error-exit",
	[LF_WRONG_OUTPUT] = "wrong-output", [LF_CRASH] = "crash", [LF_HANG] = "hang",
};

static const char *const compare_names[] = {
	[LF_COMPARE_BOTH] = "both", [LF_COMPARE_STDOUT] = "stdout",
	[LF_COMPARE_STATUS] = "status",
};

const char *lf_outcome_name(enum lf_outcome o)
{
	return o < LF_NOUTCOMES ? outcome_names[o] : "?";
}

const char *lf_compare_name(enum lf_compare c)
{
	return c <= LF_COMPARE_STATUS ? compare_names[c] : "?";
}

int lf_compare_parse(const char *s, enum lf_compare *out)
{
	for (int c = LF_COMPARE_BOTH; c <= LF_COMPARE_STATUS; c++)
		if (!strcmp(s, compare_names[c])) {
			*out = (enum lf_compare)c;
			return 0;
		}
	return -1;
}

/* A hang or a signal says everything; then, of what --compare looks at, a
 * status first (the program noticed and said so), then the output (it did
 * not notice: the silent corruption). */
enum lf_outcome lf_classify(enum lf_compare cmp, int ref_status, bool timed_out, int ws,
			    bool same_output)
{
	if (timed_out)
		return LF_HANG;
	if (WIFSIGNALED(ws))
		return LF_CRASH;
	bool status_differs = cmp != LF_COMPARE_STDOUT && WEXITSTATUS(ws) != ref_status;
	bool output_differs = cmp != LF_COMPARE_STATUS && !same_output;
	if (status_differs)
		return LF_ERROR_EXIT;
	if (output_differs)
		return LF_WRONG_OUTPUT;
	return LF_SURVIVED;
}

static ssize_t read_full(int fd, unsigned char *buf, size_t len)
{
	size_t n = 0;
	while (n < len) {
		ssize_t r = read(fd, buf + n, len - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

int lf_file_crc(const char *path, uint32_t *crc, uint64_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uLong c = crc32(0L, Z_NULL, 0);
	uint64_t total = 0;
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read_full(fd, buf, sizeof buf)) > 0) {
		c = crc32(c, buf, (uInt)n);
		total += (uint64_t)n;
	}
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	*crc = (uint32_t)c;
	*len = total;
	return 0;
}

int lf_files_equal(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	int rc = -1;
	if (fa < 0 || fb < 0)
		goto out;
	static unsigned char ba[65536], bb[65536];
	for (;;) {
		ssize_t na = read_full(fa, ba, sizeof ba), nb = read_full(fb, bb, sizeof bb);
		if (na < 0 || nb < 0)
			goto out;
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0) {
			rc = 0;
			goto out;
		}
		if (na == 0) {
			rc = 1;
			goto out;
		}
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}

void lf_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
}
