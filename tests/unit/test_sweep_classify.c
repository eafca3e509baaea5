/* How a sweep's run is classified against the reference, in every --compare
 * mode, on wait statuses made by real processes; and the output comparison
 * and checksum on real files. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep.h"

/* The wait status of a child that exits with `code`, or dies of `sig`. */
static int status_of(int code, int sig)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (sig) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		_exit(code);
	}
	int ws;
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	return ws;
}

Test(classify, every_outcome_with_both)
{
	int ok = status_of(0, 0), three = status_of(3, 0), bus = status_of(0, SIGBUS);
	cr_expect_eq(lf_classify(LF_COMPARE_BOTH, 0, false, ok, true), LF_SURVIVED);
	cr_expect_eq(lf_classify(LF_COMPARE_BOTH, 0, false, three, true), LF_ERROR_EXIT);
	cr_expect_eq(lf_classify(LF_COMPARE_BOTH, 0, false, three, false), LF_ERROR_EXIT,
		     "a status says more than the output");
	cr_expect_eq(lf_classify(LF_COMPARE_BOTH, 0, false, ok, false), LF_WRONG_OUTPUT);
	cr_expect_eq(lf_classify(LF_COMPARE_BOTH, 0, false, bus, false), LF_CRASH);
	cr_expect_eq(lf_classify(LF_COMPARE_BOTH, 0, true, bus, false), LF_HANG,
		     "killed at its timeout: a hang, not a crash");
	cr_expect_eq(lf_classify(LF_COMPARE_BOTH, 3, false, three, true), LF_SURVIVED,
		     "the reference's own status is no error");
}

Test(classify, compare_status_or_stdout_only)
{
	int ok = status_of(0, 0), three = status_of(3, 0);
	cr_expect_eq(lf_classify(LF_COMPARE_STATUS, 0, false, ok, false), LF_SURVIVED);
	cr_expect_eq(lf_classify(LF_COMPARE_STATUS, 0, false, three, true), LF_ERROR_EXIT);
	cr_expect_eq(lf_classify(LF_COMPARE_STDOUT, 0, false, three, true), LF_SURVIVED);
	cr_expect_eq(lf_classify(LF_COMPARE_STDOUT, 0, false, three, false), LF_WRONG_OUTPUT);
}

Test(classify, names)
{
	const char *want[] = { "survived", "error-exit", "wrong-output", "crash", "hang" };
	for (int o = 0; o < LF_NOUTCOMES; o++)
		cr_expect_str_eq(lf_outcome_name((enum lf_outcome)o), want[o]);
	enum lf_compare c;
	cr_expect_eq(lf_compare_parse("status", &c), 0);
	cr_expect_eq(c, LF_COMPARE_STATUS);
	cr_expect_eq(lf_compare_parse("bytes", &c), -1);
	char buf[32];
	lf_signal_name(SIGBUS, buf, sizeof buf);
	cr_expect_str_eq(buf, "SIGBUS");
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fwrite(text, 1, len, f);
	fclose(f);
}

Test(classify, files_compared_and_checksummed)
{
	char dir[] = "/tmp/lf-classify.XXXXXX", a[64], b[64], c[64];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	snprintf(c, sizeof c, "%s/c", dir);
	write_file(a, "sum = 22\n", 9);
	write_file(b, "sum = 22\n", 9);
	write_file(c, "sum = 11\n", 9);
	cr_expect_eq(lf_files_equal(a, b), 1);
	cr_expect_eq(lf_files_equal(a, c), 0);
	write_file(c, "sum = 22\nmore", 13);
	cr_expect_eq(lf_files_equal(a, c), 0, "a longer file differs");
	cr_expect_eq(lf_files_equal(a, "/nonexistent"), -1);
	uint32_t crc;
	uint64_t len;
	write_file(c, "123456789", 9);
	cr_assert_eq(lf_file_crc(c, &crc, &len), 0);
	cr_expect_eq(crc, 0xcbf43926u, "the CRC-32 check value");
	cr_expect_eq(len, 9);
	unlink(a);
	unlink(b);
	unlink(c);
	rmdir(dir);
}
