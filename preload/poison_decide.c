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
 * rule, seeded by `seed`.
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

bool lf_poison_page_listed(const struct lf_rule *r, uint64_t index, uint64_t last)
{
	if (r->pages_all)
		return true;
	for (size_t i = 0; i < r->npages; i++) {
		uint64_t a = r->pages[i].first, b = r->pages[i].last;
		if (a == LF_PAGE_LAST)
			a = b = last;
		if (index >= a && index <= b)
			return true;
	}
	return false;
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
			poison = (double)(splitmix64(&s->rng) >> 11) * 0x1.0p-53 < r->probability;
	} else {
		poison = !(r->given & LF_KEY_PAGES);
	}
	if (poison)
		s->poisoned++;
	return poison;
}
