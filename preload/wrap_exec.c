/* execve, execveat, fexecve, posix_spawn and posix_spawnp: the tree's
 * place (tree.c) goes with the environment the program passes, also one it
 * built itself (a shell exports from its own variables, not from environ).
 * A vfork child may run these: nothing here allocates or takes a lock, the
 * copy of the environment is on the stack and the exec is the system call
 * itself. */
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lf.h"
#include "signals.h"
#include "tree.h"

#define TREE_PREFIX "LAZYFAULT_TREE="
#define MAX_ENV 8192 /* entries copied on the stack; a larger environment goes as it is */

/* The entry to pass, or NULL when the library keeps no tree here. */
static const char *tree_entry(char *buf, size_t n, bool spawn)
{
	if (lf_busy)
		return NULL;
	lf_active(); /* initialises on first use */
	if (!lf_tree_ready())
		return NULL;
	return spawn ? lf_tree_spawn_entry(buf, n) : lf_tree_exec_entry(buf, n);
}

static size_t count(char *const *envp)
{
	size_t n = 0;
	while (envp && envp[n])
		n++;
	return n;
}

/* envp itself when it holds the entry already, else `copy` (room for
 * count(envp) + 2) with the entry in place of the variable, or added. */
static char *const *with_entry(char *const *envp, const char *entry, char **copy)
{
	size_t n = count(envp), at = n;
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], TREE_PREFIX, sizeof TREE_PREFIX - 1) == 0) {
			if (strcmp(envp[i], entry) == 0)
				return envp;
			at = i;
		}
	for (size_t i = 0; i < n; i++)
		copy[i] = envp[i];
	copy[at] = (char *)entry;
	copy[n + (at == n)] = NULL;
	return copy;
}

/* The environment to pass: envp, or a copy in `copy` (a VLA of the caller,
 * sized by ENV_ROOM). */
#define ENV_ROOM(entry, envp) ((entry) && count(envp) < MAX_ENV ? count(envp) + 2 : 1)
#define ENV_FOR(entry, envp, copy) ((entry) && count(envp) < MAX_ENV ? with_entry(envp, entry, copy) : (envp))

LF_API int execve(const char *path, char *const argv[], char *const envp[])
{
	char buf[LF_TREE_ENTRY_MAX];
	const char *entry = tree_entry(buf, sizeof buf, false);
	char *copy[ENV_ROOM(entry, envp)];
	char *const *env = ENV_FOR(entry, envp, copy);
	struct lf_sig_exec sig;
	lf_signals_exec_prepare(&sig); /* the program's dispositions and mask go on */
	int rc = (int)syscall(SYS_execve, path, argv, env);
	lf_signals_exec_failed(&sig);
	return rc;
}

LF_API int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	char buf[LF_TREE_ENTRY_MAX];
	const char *entry = tree_entry(buf, sizeof buf, false);
	char *copy[ENV_ROOM(entry, envp)];
	char *const *env = ENV_FOR(entry, envp, copy);
	struct lf_sig_exec sig;
	lf_signals_exec_prepare(&sig);
	int rc = (int)syscall(SYS_execveat, dirfd, path, argv, env, flags);
	lf_signals_exec_failed(&sig);
	return rc;
}

/* glibc's own fexecve is this same call (and /proc/self/fd/N only on
 * kernels without execveat). */
LF_API int fexecve(int fd, char *const argv[], char *const envp[])
{
	return execveat(fd, "", argv, envp, AT_EMPTY_PATH);
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);

static int spawn(spawn_fn *real, const char *name, pid_t *pid, const char *path,
		 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
		 char *const argv[], char *const envp[])
{
	if (!*real)
		*real = (spawn_fn)lf_real_sym(name);
	char buf[LF_TREE_ENTRY_MAX];
	const char *entry = tree_entry(buf, sizeof buf, true);
	char *copy[ENV_ROOM(entry, envp)];
	posix_spawnattr_t with_mask;
	attr = lf_signals_spawn_attr(attr, &with_mask); /* the child's mask is the program's */
	return (*real)(pid, path, fa, attr, argv, ENV_FOR(entry, envp, copy));
}

LF_API int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	static spawn_fn real;
	return spawn(&real, "posix_spawn", pid, path, fa, attr, argv, envp);
}

LF_API int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	static spawn_fn real;
	return spawn(&real, "posix_spawnp", pid, file, fa, attr, argv, envp);
}
