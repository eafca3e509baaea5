/* An alternate signal stack from malloc (256 KiB in the middle of a 1 MiB
 * block a malloc rule takes),
 * never touched by the program: the kernel writes the signal frame there,
 * outside any system call, and in user-mode-only mode cannot ask the
 * library for its pages.  The handler must run on it, at every signal,
 * and the old stack the kernel writes back into another never-touched
 * block must read right. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lftest.h"

#define STACK (256 << 10)
#define BLOCK (4 * STACK) /* the stack in its middle, far from what malloc touches */

static char *alt;
static volatile sig_atomic_t ran, on_alt;

static void handler(int sig)
{
	char here;
	ran++;
	on_alt = &here >= alt && &here < alt + STACK;
	(void)sig;
}

int main(void)
{
	alarm(30);
	alt = (char *)malloc(BLOCK) + STACK;
	stack_t *olds = malloc(BLOCK); /* untouched too: the kernel writes the old stack here */
	if (!alt || !olds)
		return perror("malloc"), 2;
	stack_t ss = {.ss_sp = alt, .ss_size = STACK, .ss_flags = 0};
	check(sigaltstack(&ss, NULL) == 0, "sigaltstack on a malloc'd block");
	stack_t *old = (stack_t *)((char *)olds + STACK / 2);
	check(sigaltstack(NULL, old) == 0 && old->ss_sp == alt && old->ss_size == STACK,
	      "the stack read back into a never-touched block");
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 3; i++) {
		raise(SIGUSR1);
		check(ran == i + 1 && on_alt, "signal %d handled on the alternate stack", i + 1);
	}
	return finish("sigstacks");
}
