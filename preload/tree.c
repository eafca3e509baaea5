/* The process's place in its tree (seed.c says what a place is), so that
 * the seeds of every process of a tree follow from the rules' seeds.
 *
 * The place travels in the environment variable LAZYFAULT_TREE,
 * "RANDOM:PLACE": RANDOM (hex) is drawn once, by the process the tree
 * started with, and gives the rules without a `seed` theirs
 * (lf_rule_seed_chosen); PLACE is where an image exec'd from the process
 * that set it stands.  The library keeps the variable true for what this
 * process starts:
 *  - environ's entry is a buffer of ours (tree_env), so that exec'ing
 *    with environ (execv, execvp, system, popen...) passes our place on;
 *  - the fork handlers: the child is "PLACE/fK", K counting this process's
 *    children from 1, and rewrites the buffer;
 *  - wrap_exec.c puts lf_tree_exec_entry() into an environment the program
 *    built itself (shells do: they export from their own variables), and
 *    numbers a child that no fork handler saw (vfork, posix_spawn) as a
 *    fork would.
 * It is kept wherever LAZYFAULT_RULES is set, also in a program that the
 * global `program` leaves alone, so that the places below a wrapper (sh,
 * timeout, env) are the same from run to run. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "tree.h"

#define TREE_VAR "LAZYFAULT_TREE"

static bool ready;
static uint64_t tree_random;
static char position[LF_POSITION_MAX] = "/";
static int position_pid;           /* the process `position` is the place of */
static _Atomic uint64_t children;  /* started so far by this process */
static __thread uint64_t forking_as; /* the number prepare() gave this thread's fork */
/* "LAZYFAULT_TREE=RANDOM:PLACE/e": what an exec from here passes on. */
static char tree_env[sizeof TREE_VAR "=" + 17 + LF_POSITION_MAX];

static int current_pid(void) { return (int)syscall(SYS_getpid); }

/* The entry for an exec from the process at `pos`. */
static void exec_entry(const char *pos, char *out, size_t n)
{
	char next[LF_POSITION_MAX];
	if (lf_position_exec(pos, next, sizeof next) < 0)
		snprintf(next, sizeof next, "%s", pos);
	int at = snprintf(out, n, TREE_VAR "=");
	lf_tree_value_format(tree_random, next, out + at, n - (size_t)at);
}

/* The place of this (single-threaded, new) child: numbers are taken in
 * prepare, by the forking thread, so that concurrent forks get one each. */
static void prepare(void) { forking_as = atomic_fetch_add(&children, 1) + 1; }

static void child(void)
{
	char pos[LF_POSITION_MAX];
	if (lf_position_child(position, forking_as, pos, sizeof pos) == 0)
		memcpy(position, pos, sizeof pos);
	position_pid = current_pid();
	atomic_store(&children, 0);
	exec_entry(position, tree_env, sizeof tree_env);
	lf_tree_seed_rules(true);
}

/* environ's entry becomes tree_env: put in place of the one inherited, or
 * added (putenv keeps our buffer itself, so that later rewrites show). */
static void install(void)
{
	size_t n = sizeof TREE_VAR;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, TREE_VAR "=", n) == 0) {
			*e = tree_env;
			return;
		}
	putenv(tree_env);
}

void lf_tree_init(void)
{
	const char *v = getenv(TREE_VAR);
	if (!v || lf_tree_value_parse(v, &tree_random, position, sizeof position) < 0) {
		if (v)
			lf_warn(TREE_VAR "=%s is not what the library writes: this process starts a "
				"new tree", v);
		if (getrandom(&tree_random, sizeof tree_random, GRND_NONBLOCK) != sizeof tree_random)
			tree_random = lf_now_ns() ^ ((uint64_t)current_pid() << 32);
		strcpy(position, "/");
	}
	position_pid = current_pid();
	exec_entry(position, tree_env, sizeof tree_env);
	install();
	pthread_atfork(prepare, NULL, child);
	ready = true;
}

bool lf_tree_ready(void) { return ready; }
const char *lf_tree_position(void) { return position; }
uint64_t lf_tree_random(void) { return tree_random; }

/* The entry for a child that no fork handler saw, numbered as this
 * process's next child (a vfork child shares the parent's memory, so the
 * count it takes is the parent's). */
static const char *next_child_entry(char *buf, size_t n)
{
	char pos[LF_POSITION_MAX];
	if (lf_position_child(position, atomic_fetch_add(&children, 1) + 1, pos, sizeof pos) < 0)
		return tree_env;
	exec_entry(pos, buf, n);
	return buf;
}

const char *lf_tree_exec_entry(char *buf, size_t n)
{
	return current_pid() == position_pid ? tree_env : next_child_entry(buf, n);
}

const char *lf_tree_spawn_entry(char *buf, size_t n) { return next_child_entry(buf, n); }

void lf_tree_seed_rules(bool forked)
{
	for (size_t i = 0; lf.rt && i < lf.rules.nrules; i++) {
		struct lf_rule_rt *rt = &lf.rt[i];
		rt->seed = lf_process_seed(rt->rule_seed, position);
		if (forked) {
			/* The child decides on its own faults and allocations. */
			memset(&rt->poison, 0, sizeof rt->poison);
			atomic_store(&rt->allocations_failed, 0);
			if (rt->rule->action == LF_ACTION_FAIL)
				memset(&rt->taken, 0, sizeof rt->taken);
		}
		rt->poison.rng = rt->seed;
	}
}
