/* Regression: a program that sets SIGBUS to SIG_DFL with SA_SIGINFO (or a
 * handler with SA_RESETHAND) and touches a poisoned page dies of SIGBUS as
 * the kernel would make it, and the library still writes its statistics.
 * Natively the page reads zeros and the program passes.
 *
 *     regress_sigdfl dfl|resethand
 */
#include <signal.h>

#include "lftest.h"

static volatile int handled;
static void h(int s)
{
	(void)s;
	handled++;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: regress_sigdfl dfl|resethand");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	if (!strcmp(argv[1], "resethand")) {
		sa.sa_handler = h;
		sa.sa_flags = SA_RESETHAND;
	} else if (!strcmp(argv[1], "dfl")) {
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = SA_SIGINFO;
	} else {
		die("unknown mode %s", argv[1]);
	}
	check(sigaction(SIGBUS, &sa, NULL) == 0, "sigaction SIGBUS (%s)", argv[1]);
	volatile uint8_t *p = map_anon(MiB);
	uint8_t v = p[0];
	check(v == 0 && handled == 0, "the page reads zeros");
	return finish("regress_sigdfl");
}
