"""Zero-fill streams served with 2 MiB pages (preload/stream.c): a helper
zeroes a huge page in a scratch area of its own and moves it in with
UFFDIO_MOVE.  What the program sees must be what the kernel gives (zeros,
its writes, the same after fork, MADV_DONTNEED, mremap and realloc); where
the kernel can move huge pages (Linux 6.8, THP not `never`) the memory ends
backed by huge pages, which proves the moves happened, and the ranges the
library registers carry MADV_NOHUGEPAGE (so that with THP `always` a fault
does not first make the kernel zero a huge page in vain).  The program's own
MADV_NOHUGEPAGE is obeyed: then no huge page.

Speed is shown by `make bench`, never here.
"""
import os
import unittest

from util import LFTestCase, ZERO_RULES, prog

MALLOC_RULES = "[buf]\nmatch = malloc\nmin_size = 1M\n"


def thp_setting():
    try:
        text = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
        return text[text.index("[") + 1:text.index("]")]
    except (OSError, ValueError):
        return "never"


def kernel_moves_huge_pages():
    """UFFDIO_MOVE (Linux 6.8) and THP not `never`."""
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    return (major, minor) >= (6, 8) and thp_setting() != "never"


class StreamTest(LFTestCase):
    def run_stream(self, kind, rules, rule, thp):
        """Natively, then under the library with the huge page checks: the
        same lines but those of the library's checks."""
        n = self.native([prog("stream"), kind])
        self.assertEqual(n.rc, 0, n.describe())
        self.assertAllChecksPassed(n, "stream")
        l = self.lib([prog("stream"), kind, thp, "nh"], rules)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "stream")
        extra = ("ok: the mapping carries MADV_NOHUGEPAGE",
                 "ok: the stream ended backed by huge pages (at least 16 MiB)",
                 "ok: no huge page, as the program advised")
        self.assertEqual(n.stdout.splitlines(),
                         [x for x in l.stdout.splitlines() if x not in extra], l.describe())
        r = self.assertServed(l, rule, zeroed=True)
        self.assertGreaterEqual(r["pages_zeroed"], (64 << 20) // 4096 - 2048, r)
        self.assertNoLibErrors(l)
        return l

    def expected_thp(self):
        return "thp=yes" if kernel_moves_huge_pages() else "thp=no"

    def test_anon_stream_bytes_fork_dontneed_mremap(self):
        """An anonymous mapping written in order: huge pages moved in."""
        l = self.run_stream("mmap", ZERO_RULES, "big", self.expected_thp())
        if kernel_moves_huge_pages():
            self.assertIn("ok: the stream ended backed by huge pages", l.stdout)

    def test_malloc_stream_bytes_fork_dontneed_realloc(self):
        """A malloc block written in order: the same as an anonymous mapping."""
        self.run_stream("malloc", MALLOC_RULES, "buf", self.expected_thp())

    def test_program_madv_hugepage_kept(self):
        """The program's MADV_HUGEPAGE succeeds; the range stays
        MADV_NOHUGEPAGE while registered and still gets huge pages."""
        self.run_stream("huge", ZERO_RULES, "big", self.expected_thp())

    def test_program_madv_nohugepage_obeyed(self):
        """The program's MADV_NOHUGEPAGE: no huge page is moved in."""
        self.run_stream("nohuge", ZERO_RULES, "big", "thp=no")


if __name__ == "__main__":
    unittest.main()
