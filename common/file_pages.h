/* Bad pages of a file: which pages of a file a rule with `file_pages` names
 * bad (lazyfault.ini(5), BAD PAGES OF A FILE).  Page N of a file holds its
 * bytes N*4096 to N*4096+4095, the same page whichever mapping or read
 * reaches it, so every access path asks these functions, and so does
 * `lazyfault check -f`: they are pure functions of the rule, its seed and
 * the page's index.
 *
 * Linked into the library and the command: no global state, no printing. */
#ifndef LAZYFAULT_FILE_PAGES_H
#define LAZYFAULT_FILE_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

#define LF_FILE_PAGE 4096u

/* Page `page` of a file is bad under rule r (which has file_pages), whose
 * draws come from `seed`: listed in file_pages, and, when the rule has a
 * probability below 1, drawn bad (a hash of the seed and the page, so
 * that the draw is the same at every access, in every process). */
bool lf_file_page_bad(const struct lf_rule *r, uint64_t seed, uint64_t page);

/* The first bad page in [from, to), or `to` when there is none. */
uint64_t lf_file_bad_next(const struct lf_rule *r, uint64_t seed, uint64_t from, uint64_t to);

/* The first good page in [from, to) (so the end of a run of bad pages), or
 * `to` when every one is bad. */
uint64_t lf_file_good_next(const struct lf_rule *r, uint64_t seed, uint64_t from, uint64_t to);

/* The rule that names the bad pages of the file at `path` (an absolute
 * path): the first with file_pages whose `path` glob matches.  Its index,
 * or -1. */
int lf_file_pages_rule(const struct lf_rules *rs, const char *path);

#endif
