/* Which faults a poison rule poisons: a pure function of the rule and its
 * state, so that tests/unit/test_poison.c runs it as the library does.
 *
 * The order of the decision is the rule file's contract (lazyfault.ini(5)):
 * a page listed in `pages` is poisoned; otherwise, when the rule has
 * `probability`, `after`, `every` or `times`, those decide on the rule's
 * fault number (faults numbered from 1 in the order they are served); a
 * rule with neither poisons every page.  Where the contract is silent we
 * chose: faults are numbered over all the rule's faults (listed pages
 * included), and listed pages count towards `times` but are poisoned
 * whatever it says.  The draws come from one splitmix64 generator per
 * rule, seeded by the process's seed (seed.c).
 *
 * A poison rule with `regions` takes only the regions listed (match.c), so
 * its faults, and the numbers the triggers count, are those of the chosen
 * regions alone; `pages` counts within each of them.
 *
 * A fail rule decides per allocation it would take (those `regions` lets
 * through): at most `times` fail, each when a draw below `probability`
 * succeeds; neither given, every one fails.
 *
 * A rule with `file_pages` counts no faults: it decides by the page's index
 * in the file, with common/file_pages.c (in common/ because `lazyfault
 * check -f` prints with the same function). */
#include "lf.h"

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A draw below p, from the rule's generator. */
static bool draw(struct lf_poison_state *s, double p)
{
	return (double)(splitmix64(&s->rng) >> 11) * 0x1.0p-53 < p;
}

bool lf_poison_page_listed(const struct lf_rule *r, uint64_t index, uint64_t last)
{
	return lf_page_list_has(&r->page_list, index, last);
}

bool lf_poison_decide(const struct lf_rule *r, struct lf_poison_state *s, uint64_t index,
		      uint64_t last)
{
	const unsigned triggers = LF_KEY_PROBABILITY | LF_KEY_AFTER | LF_KEY_EVERY | LF_KEY_TIMES;
	uint64_t n = ++s->faults;
	bool poison;
	if (lf_poison_page_listed(r, index, last)) {
		poison = true;
	} else if (r->given & triggers) {
		poison = n > r->after && (n - r->after) % r->every == 0 &&
			 (r->times < 0 || s->poisoned < (uint64_t)r->times);
		if (poison && r->probability < 1)
			poison = draw(s, r->probability);
	} else {
		poison = !(r->given & LF_KEY_PAGES);
	}
	if (poison)
		s->poisoned++;
	return poison;
}

bool lf_fail_decide(const struct lf_rule *r, struct lf_poison_state *s)
{
	s->faults++;
	bool fail = r->times < 0 || s->poisoned < (uint64_t)r->times;
	if (fail && r->probability < 1)
		fail = draw(s, r->probability);
	if (fail)
		s->poisoned++;
	return fail;
}
