/* Unit tests of common/files.c (opening what the user names for reading,
 * replacing a file whole) and common/text.c (UTF-8, escaping), with real
 * files, FIFOs, devices and links in a temporary directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "text.h"
#include "tmpdir.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

TestSuite(open_input, .init = make_dir, .fini = remove_dir);
TestSuite(replace, .init = make_dir, .fini = remove_dir);

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

/* The file at path holds exactly text. */
static void expect_file(const char *path, const char *text)
{
	char *got = read_all(path);
	cr_expect_str_eq(got, text, "%s", path);
	free(got);
}

/* How many names dir holds besides . and ..: what was left. */
static int entries(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	cr_assert(p && fscanf(p, "%d", &n) == 1);
	pclose(p);
	return n;
}

/* --------------------------------------------------------- lf_open_input */

Test(open_input, regular_file_opens_blocking_again)
{
	char path[4096], why[256];
	const char *d = dir;
	snprintf(path, sizeof(path), "%s/f", d);
	write_file(path, "abc");
	errno = 4321;
	int fd = lf_open_input(path, false, why, sizeof(why));
	cr_assert_geq(fd, 0, "%s", why);
	cr_expect_eq(errno, 4321, "errno is the program's");
	cr_expect_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0, "O_NONBLOCK cleared");
	cr_expect(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/* A FIFO is refused at once: opened without O_NONBLOCK it would wait for
 * a writer forever (the test's timeout catches a hang). */
Test(open_input, refused_kinds, .timeout = 10)
{
	char fifo[4096], sub[4096], why[256];
	const char *d = dir;
	snprintf(fifo, sizeof(fifo), "%s/fifo", d);
	snprintf(sub, sizeof(sub), "%s/dir", d);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(mkdir(sub, 0700), 0);
	static const struct { const char *which, *word; } cases[] = {
		{ "fifo", "a FIFO, not a regular file" },
		{ "dir", "a directory, not a regular file" },
		{ "/dev/null", "a character device, not a regular file" },
		{ "/dev/urandom", "a character device" },
		{ "/proc/self/status", "/proc or /sys" },
		{ "/sys/kernel/mm/transparent_hugepage/enabled", "/proc or /sys" },
		{ "missing", "No such file or directory" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		char path[4096];
		if (cases[i].which[0] == '/')
			snprintf(path, sizeof(path), "%s", cases[i].which);
		else
			snprintf(path, sizeof(path), "%s/%s", d, cases[i].which);
		if (access(path, F_OK) != 0 && strcmp(cases[i].which, "missing") != 0)
			continue;
		errno = 99;
		why[0] = '\0';
		cr_expect_eq(lf_open_input(path, true, why, sizeof(why)), -1, "%s accepted", path);
		cr_expect(strstr(why, cases[i].word), "%s: expected '%s' in '%s'", path, cases[i].word, why);
		cr_expect_eq(errno, 99);
	}
}

Test(open_input, block_device_only_when_allowed)
{
	static const char *const devs[] = { "/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/loop0" };
	char why[256];
	for (size_t i = 0; i < N(devs); i++) {
		struct stat st;
		if (stat(devs[i], &st) != 0 || !S_ISBLK(st.st_mode))
			continue;
		int plain = open(devs[i], O_RDONLY | O_NONBLOCK);
		if (plain < 0)
			continue; /* not ours to open here (a container's device rules) */
		close(plain);
		int fd = lf_open_input(devs[i], true, why, sizeof(why));
		cr_expect_geq(fd, 0, "%s: %s", devs[i], why);
		close(fd);
		cr_expect_eq(lf_open_input(devs[i], false, why, sizeof(why)), -1);
		cr_expect(strstr(why, "a block device, not a regular file"), "%s", why);
		return;
	}
	cr_skip_test("no block device to open here");
}

/* ------------------------------------------------------------ lf_replace */

static int replace_with(const char *target, const char *text, struct lf_replace *r)
{
	if (lf_replace_begin(r, target, 0600) != 0)
		return -1;
	lf_replace_write(r, text, strlen(text));
	return lf_replace_commit(r, target);
}

Test(replace, new_file_complete_and_private)
{
	char t[4096];
	struct lf_replace r;
	const char *d = dir;
	snprintf(t, sizeof(t), "%s/stats.json", d);
	cr_assert_eq(replace_with(t, "{\"a\": 1}\n", &r), 0, "%s", lf_replace_why(&r));
	expect_file(t, "{\"a\": 1}\n");
	struct stat st;
	cr_assert_eq(stat(t, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_expect_eq(entries(d), 1, "the new file was renamed, nothing else left");
	/* and again over it: replaced */
	cr_assert_eq(replace_with(t, "second\n", &r), 0, "%s", lf_replace_why(&r));
	expect_file(t, "second\n");
}

/* A link planted where the file goes is replaced, never followed: the file
 * it points to keeps its bytes. */
Test(replace, symlink_replaced_not_followed)
{
	char t[4096], victim[4096];
	struct lf_replace r;
	const char *d = dir;
	snprintf(t, sizeof(t), "%s/stats.json", d);
	snprintf(victim, sizeof(victim), "%s/victim", d);
	write_file(victim, "precious\n");
	cr_assert_eq(symlink(victim, t), 0);
	cr_assert_eq(replace_with(t, "stats\n", &r), 0, "%s", lf_replace_why(&r));
	expect_file(victim, "precious\n");
	struct stat st;
	cr_assert_eq(lstat(t, &st), 0);
	cr_expect(S_ISREG(st.st_mode), "the link itself was replaced by the file");
}

Test(replace, refused_targets, .timeout = 10)
{
	char fifo[4096], sub[4096];
	struct lf_replace r;
	const char *d = dir;
	snprintf(fifo, sizeof(fifo), "%s/fifo", d);
	snprintf(sub, sizeof(sub), "%s/dir", d);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(mkdir(sub, 0700), 0);
	const char *targets[] = { fifo, sub, "/dev/null", "/dev/zero" };
	for (size_t i = 0; i < N(targets); i++) {
		cr_expect_eq(lf_replace_begin(&r, targets[i], 0600), -1, "%s accepted", targets[i]);
		cr_expect_not_null(r.refused, "%s", targets[i]);
		cr_expect_eq(lf_replace_commit(&r, targets[i]), -1);
	}
	struct stat st;
	cr_assert_eq(stat("/dev/zero", &st), 0);
	cr_expect(S_ISCHR(st.st_mode), "/dev/zero is still the device");
	cr_expect_eq(entries(d), 2, "no new file left beside the refused targets");
}

Test(replace, another_users_file_refused)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give a file to another user");
	char t[4096];
	struct lf_replace r;
	const char *d = dir;
	snprintf(t, sizeof(t), "%s/theirs.json", d);
	write_file(t, "theirs\n");
	cr_assert_eq(chown(t, 65534, 65534), 0);
	cr_expect_eq(replace_with(t, "ours\n", &r), -1);
	cr_expect_str_eq(lf_replace_why(&r), "it exists and belongs to another user");
	expect_file(t, "theirs\n");
}

/* A write that fails (here the file size limit; a full disk in the
 * integration suite) leaves the old file whole and no new file behind. */
Test(replace, failed_write_leaves_the_old_file)
{
	char t[4096];
	struct lf_replace r;
	const char *d = dir;
	snprintf(t, sizeof(t), "%s/stats.json", d);
	write_file(t, "old and whole\n");
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, small = { 1000, 1000 };
	getrlimit(RLIMIT_FSIZE, &old);
	small.rlim_max = old.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	cr_assert_eq(lf_replace_begin(&r, t, 0600), 0, "%s", lf_replace_why(&r));
	char chunk[512];
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 8; i++)
		lf_replace_write(&r, chunk, sizeof(chunk));
	int rc = lf_replace_commit(&r, t);
	setrlimit(RLIMIT_FSIZE, &old);
	cr_expect_eq(rc, -1);
	cr_expect_eq(r.err, EFBIG, "%s", lf_replace_why(&r));
	expect_file(t, "old and whole\n");
	cr_expect_eq(entries(d), 1, "the new file was removed");
}

/* No size limit: written through in pieces. */
Test(replace, large_file)
{
	char t[4096];
	struct lf_replace r;
	const char *d = dir;
	snprintf(t, sizeof(t), "%s/big", d);
	cr_assert_eq(lf_replace_begin(&r, t, 0600), 0);
	char chunk[1000];
	memset(chunk, 'y', sizeof(chunk));
	for (int i = 0; i < 3000; i++)
		lf_replace_write(&r, chunk, sizeof(chunk));
	cr_assert_eq(lf_replace_commit(&r, t), 0, "%s", lf_replace_why(&r));
	struct stat st;
	cr_assert_eq(stat(t, &st), 0);
	cr_expect_eq(st.st_size, 3000000);
}

/* ------------------------------------------------------------------ text */

Test(text, utf8_characters)
{
	static const struct { const char *s; size_t len; uint32_t cp; } ok[] = {
		{ "a", 1, 'a' }, { "\xc3\xa9", 2, 0xe9 }, { "\xe2\x82\xac", 3, 0x20ac },
		{ "\xf0\x9f\x98\x80", 4, 0x1f600 }, { "\xef\xbb\xbf", 3, 0xfeff },
	};
	for (size_t i = 0; i < N(ok); i++) {
		uint32_t cp = 0;
		cr_expect_eq(lf_utf8_char(ok[i].s, strlen(ok[i].s), &cp), ok[i].len, "case %zu", i);
		cr_expect_eq(cp, ok[i].cp, "case %zu", i);
	}
	static const char *const no[] = {
		"\x80", "\xff", "\xc3", "\xc0\xaf" /* overlong '/' */, "\xed\xa0\x80" /* surrogate */,
		"\xf4\x90\x80\x80" /* past U+10FFFF */, "\xe2\x82",
	};
	for (size_t i = 0; i < N(no); i++)
		cr_expect_eq(lf_utf8_char(no[i], strlen(no[i]), &(uint32_t){ 0 }), 0, "case %zu", i);
	/* cut short by n */
	cr_expect_eq(lf_utf8_char("\xc3\xa9", 1, &(uint32_t){ 0 }), 0);
}

Test(text, controls)
{
	cr_expect(lf_is_control(0));
	cr_expect(lf_is_control(0x1b));
	cr_expect(lf_is_control(0x7f));
	cr_expect(lf_is_control(0x9b)); /* C1 CSI */
	cr_expect(!lf_is_control(' '));
	cr_expect(!lf_is_control(0xa0));
	cr_expect(!lf_is_control(0xe9));
}

Test(text, escape)
{
	char out[64];
	lf_escape_text("plain caf\xc3\xa9", out, sizeof(out));
	cr_expect_str_eq(out, "plain caf\xc3\xa9");
	lf_escape_text("\x1b[31mred\xff\xc2\x9b", out, sizeof(out));
	cr_expect_str_eq(out, "\\x1b[31mred\\xff\\xc2\\x9b");
	/* cut short, never inside an escape or a character */
	lf_escape_text("ab\x01", out, 5);
	cr_expect_str_eq(out, "ab");
	lf_escape_text("a\xc3\xa9", out, 3);
	cr_expect_str_eq(out, "a");
}
