/* Starts a program four ways, one after the other, each waited for: for the
 * places of a tree of processes (tests/integration/test_triggers.py), which
 * the library must number as forked children whichever way they start.
 *
 *   spawn_kinds PROGRAM [ARGS...]
 *
 *   1. vfork, then execve with an environment of its own that lacks
 *      LAZYFAULT_TREE (the library adds it);
 *   2. fork, then fexecve;
 *   3. fork, then execveat;
 *   4. posix_spawn.
 * One line per way: "WAY: exit 0" (the child's status), then the closing
 * line.  No pids. */
#include <spawn.h>
#include <sys/wait.h>

#include "lftest.h"

extern char **environ;

static void waited(const char *way, pid_t pid)
{
	int st;
	check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "%s: the child ran and exited 0", way);
	printf("%s: exit 0\n", way);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: spawn_kinds PROGRAM [ARGS...]");
	char **args = argv + 1;

	/* the environment without the library's place in the tree */
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 1, sizeof *env);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LAZYFAULT_TREE=", 15))
			env[k++] = environ[i];
	env[k] = NULL;
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0) {
		execve(args[0], args, env);
		_exit(127);
	}
	waited("vfork+execve", pid);

	int fd = open(args[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", args[0]);
	pid = lft_fork();
	if (pid == 0) {
		fexecve(fd, args, environ);
		_exit(127);
	}
	waited("fork+fexecve", pid);
	pid = lft_fork();
	if (pid == 0) {
		execveat(AT_FDCWD, args[0], args, environ, 0);
		_exit(127);
	}
	waited("fork+execveat", pid);
	int rc = posix_spawn(&pid, args[0], NULL, NULL, args, environ);
	if (rc)
		pid = -1;
	waited("posix_spawn", pid);
	return finish("spawn_kinds");
}
