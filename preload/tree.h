/* A process's place in its tree and the seeds derived from it (seed.c,
 * tree.c): shared by the files that start processes or draw. */
#ifndef LF_TREE_H
#define LF_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- seed.c: seeds and places in the tree (pure) -------------------- */
uint64_t lf_rule_seed_chosen(uint64_t tree_random, size_t rule);
uint64_t lf_process_seed(uint64_t rule_seed, const char *position);
int lf_position_child(const char *pos, uint64_t k, char *out, size_t n);
int lf_position_exec(const char *pos, char *out, size_t n);
/* LAZYFAULT_TREE's value "RANDOM:PLACE" (RANDOM hex). */
int lf_tree_value_parse(const char *v, uint64_t *random, char *pos, size_t n);
int lf_tree_value_format(uint64_t random, const char *pos, char *out, size_t n);

/* ---- tree.c: this process's place in its tree ----------------------- */
void lf_tree_init(void);            /* at initialisation, before lf_fork_init */
bool lf_tree_ready(void);
const char *lf_tree_position(void);
uint64_t lf_tree_random(void);
/* Every rule's seed for this process; forked: its decisions start again. */
void lf_tree_seed_rules(bool forked);
/* "LAZYFAULT_TREE=..." for an exec now (buf: LF_TREE_ENTRY_MAX), and for
 * a child started without fork (posix_spawn). */
const char *lf_tree_exec_entry(char *buf, size_t n);
const char *lf_tree_spawn_entry(char *buf, size_t n);

#endif
