/* What the read/write family programs (rwfamily.c, rwmore.c) share: fresh
 * untouched buffers out of one big anonymous region, unlinked temporary
 * files, socket pairs, and a call's result as the checks print it. */
#ifndef RW_UTIL_H
#define RW_UTIL_H

#include <sys/socket.h>

#include "lftest.h"

#define FRESH_GAP (4 * MiB + 64 * KiB)

static uint8_t *region;
static size_t region_len, next_off;

static inline void region_map(size_t len)
{
	region = map_anon(len);
	region_len = len;
}

/* A fresh untouched range of n bytes (page aligned) plus `skew` bytes:
 * far (more than the library's largest readahead window) from everything
 * touched before, so that nothing filled it in advance. */
static inline uint8_t *fresh(size_t n, size_t skew)
{
	uint8_t *b = region + next_off + skew;
	next_off += lf_round_up(n + skew) + FRESH_GAP;
	if (next_off > region_len)
		die("region too small");
	return b;
}

/* A file of $TMPDIR (or /tmp), unlinked, holding content[0, len) (NULL:
 * empty). */
static inline int tmpfile_fd(const char *name, const uint8_t *content, size_t len)
{
	const char *t = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/%s", t && *t ? t : "/tmp", name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open %s", path);
	unlink(path);
	for (size_t off = 0; content && off < len;) {
		ssize_t w = pwrite(fd, content + off, len - off, (off_t)off);
		if (w <= 0)
			die("pwrite");
		off += (size_t)w;
	}
	return fd;
}

/* The file's bytes [0, len) compare equal to `want` (NULL: zeros). */
static inline bool file_is(int fd, const uint8_t *want, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	ssize_t n = pread(fd, buf, len + 1, 0);
	bool ok = n == (ssize_t)len && (want ? !memcmp(buf, want, len) : find_nonzero(buf, len) == NOMISMATCH);
	free(buf);
	return ok;
}

/* A connected pair of stream sockets of its own for one check: a call
 * that fails leaves nothing behind for the next one. */
static inline void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
}

static inline const char *res(ssize_t n)
{
	static char b[64];
	if (n < 0)
		snprintf(b, sizeof b, "-1 (%s)", strerror(errno));
	else
		snprintf(b, sizeof b, "%zd", n);
	return b;
}

#endif
