/* Signal handlers that do I/O on memory never touched, while the program
 * itself does I/O on memory never touched: a timer fires every 30 us and
 * its handler write()s 64 bytes from a fresh page of one mapping, while the
 * main loop read()s 64 bytes into a fresh page of another.  Then both
 * mappings are unmapped, and all again, for several rounds.
 *
 * In user-mode-only mode the library fills the pages of each call itself,
 * in the calling thread, so a handler's call can land in the middle of the
 * main loop's fill: that must neither corrupt nor hang anything.
 *
 * A watchdog (alarm, 15 s) turns a hang into "FAIL: watchdog" and exit 3.
 *
 *   sigio [ROUNDS]     (default 4)
 */
#include <signal.h>
#include <time.h>

#include "lftest.h"

#define AREA (32 * MiB)

static uint8_t *hbuf;
static size_t hnext;
static int nullfd;
static volatile sig_atomic_t hits, hbad;

static void on_tick(int sig)
{
	(void)sig;
	int e = errno;
	size_t pg = (size_t)page_size();
	if (hbuf && hnext < AREA / pg) {
		if (write(nullfd, hbuf + hnext * pg + 100, 64) != 64)
			hbad++;
		hnext++;
	}
	hits++;
	errno = e;
}

static void on_watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "FAIL: watchdog: the program hung\n";
	if (write(1, msg, sizeof msg - 1) < 0)
		_exit(4);
	_exit(3);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 4;
	size_t pg = (size_t)page_size();
	int zfd = open("/dev/zero", O_RDONLY);
	nullfd = open("/dev/null", O_WRONLY);
	if (zfd < 0 || nullfd < 0)
		die("open");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_tick;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_watchdog;
	sigaction(SIGALRM, &sa, NULL);
	alarm(15);

	timer_t t;
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0)
		die("timer_create");
	long fails = 0, badbytes = 0;
	for (int r = 0; r < rounds; r++) {
		uint8_t *a = map_anon(AREA);
		uint8_t *b = map_anon(AREA);
		hnext = 0;
		hbuf = b;
		struct itimerspec on = {{0, 30000}, {0, 30000}}, off;
		memset(&off, 0, sizeof off);
		timer_settime(t, 0, &on, NULL);
		for (size_t i = 0; i < AREA / pg; i += 2) {
			if (read(zfd, a + i * pg + 200, 64) != 64)
				fails++;
		}
		timer_settime(t, 0, &off, NULL);
		hbuf = NULL;
		/* what was read is zeros, and so is the rest of each page */
		if (find_nonzero(a, AREA) != NOMISMATCH)
			badbytes++;
		if (munmap(a, AREA) < 0 || munmap(b, AREA) < 0)
			fails++;
	}
	alarm(0);
	check(fails == 0, "%d rounds: every read() into a fresh page and every munmap worked", rounds);
	check(badbytes == 0, "the pages read into hold zeros");
	check(hbad == 0, "every write() from a fresh page in the signal handler worked");
	check(hits > 0, "the timer's handler ran");
	return finish("sigio");
}
