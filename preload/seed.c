/* The seed of each process of a tree, from the rule's seed and the
 * process's place in the tree (pure: tests/unit/test_seed.c runs it as the
 * library does; tree.c keeps the place, lazyfault.ini(5) SEEDS says it for
 * the user).
 *
 * A place is a path of steps from the process the tree started with, "/":
 * "/f2" is its second child by fork, "/f2/e" what that child became by
 * exec, "/f2/e/f1" the first child of that.  A path longer than
 * LF_POSITION_MAX - 1 is folded into "/#" and 16 hex digits of a hash of
 * it, so that deep trees still get places of their own.
 *
 * The process at "/" draws from the rule's seed itself (a single process
 * replays as before); every other place from a hash of the seed and the
 * place.  Every seed is at most LF_SEED_MAX. */
#include <stdio.h>
#include <string.h>

#include "lf.h"
#include "tree.h"

/* splitmix64's finaliser: a bijection that spreads every input bit. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* FNV-1a over the bytes, then mixed with the seed. */
static uint64_t hash(uint64_t seed, const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return mix(h ^ mix(seed + 0x9e3779b97f4a7c15ULL));
}

uint64_t lf_rule_seed_chosen(uint64_t tree_random, size_t rule)
{
	return mix(tree_random + (rule + 1) * 0x9e3779b97f4a7c15ULL) & LF_SEED_MAX;
}

uint64_t lf_process_seed(uint64_t rule_seed, const char *position)
{
	if (strcmp(position, "/") == 0)
		return rule_seed & LF_SEED_MAX;
	return hash(rule_seed, position, strlen(position)) & LF_SEED_MAX;
}

/* pos + step into out, folded when too long.  0, or -1 when out is too
 * small even for a folded place. */
static int append_step(const char *pos, const char *step, char *out, size_t n)
{
	char whole[LF_POSITION_MAX + 32];
	int len = snprintf(whole, sizeof whole, "%s%s%s", strcmp(pos, "/") ? pos : "", "/", step);
	if (len > 0 && (size_t)len < LF_POSITION_MAX && (size_t)len < n) {
		memcpy(out, whole, (size_t)len + 1);
		return 0;
	}
	/* Folded: the hash of the whole path (pos is at most LF_POSITION_MAX - 1
	 * long, so whole holds it all). */
	uint64_t h = hash(0, whole, len > 0 ? (size_t)len : 0);
	return snprintf(out, n, "/#%016llx", (unsigned long long)h) < (int)n ? 0 : -1;
}

int lf_position_child(const char *pos, uint64_t k, char *out, size_t n)
{
	char step[24];
	snprintf(step, sizeof step, "f%llu", (unsigned long long)k);
	return append_step(pos, step, out, n);
}

int lf_position_exec(const char *pos, char *out, size_t n)
{
	return append_step(pos, "e", out, n);
}

int lf_tree_value_parse(const char *v, uint64_t *random, char *pos, size_t n)
{
	uint64_t r = 0;
	int digits = 0;
	for (; *v && *v != ':'; v++, digits++) {
		int d = *v >= '0' && *v <= '9' ? *v - '0' : *v >= 'a' && *v <= 'f' ? *v - 'a' + 10 : -1;
		if (d < 0 || digits >= 16)
			return -1;
		r = r << 4 | (uint64_t)d;
	}
	if (*v != ':' || !digits || v[1] != '/' || strlen(v + 1) >= n || strlen(v + 1) >= LF_POSITION_MAX)
		return -1;
	*random = r;
	strcpy(pos, v + 1);
	return 0;
}

int lf_tree_value_format(uint64_t random, const char *pos, char *out, size_t n)
{
	int len = snprintf(out, n, "%016llx:%s", (unsigned long long)random, pos);
	return len > 0 && (size_t)len < n ? 0 : -1;
}
