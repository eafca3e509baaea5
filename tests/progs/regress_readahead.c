/* Regression: `readahead = 5M` on an anonymous zero rule.  A 64 MiB region
 * is touched (one write, then a read of every page, then a write of every
 * page and a check of it): no crash, the right bytes.
 *
 *     regress_readahead
 */
#include "lftest.h"

int main(void)
{
	size_t len = 64 * MiB, pg = (size_t)page_size();
	uint8_t *p = map_anon(len);
	p[0] = 1; /* a write fault first */
	size_t bad = 0;
	for (size_t i = 1; i < len; i += pg)
		if (p[i])
			bad++;
	check(bad == 0, "64 MiB region: every page reads zeros after one write (%zu wrong)", bad);
	check(p[0] == 1, "the first byte keeps what was written");
	touch_pages_write(p, len, 7);
	bad = 0;
	for (size_t i = 0; i < len; i += pg)
		if (p[i] != pat_byte(i, 7) || p[i + 1] != 0)
			bad++;
	check(bad == 0, "64 MiB region: one byte written per page reads back (%zu wrong)", bad);
	munmap(p, len);
	return finish("regress_readahead");
}
