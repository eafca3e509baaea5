"""An alternate signal stack from malloc, never touched by the program,
in user-mode-only mode: the kernel writes each signal frame there outside
any system call, so the library fills the stack when sigaltstack is
called (wrap_stack.c).  In the full mode the kernel asks for its pages."""
import unittest

from util import LFTestCase, prog, zero_rules

RULES = zero_rules("malloc", "128K")


class SigstacksTest(LFTestCase):
    def test_malloc_stack(self):
        for uffd in ("user", None):
            with self.subTest(uffd=uffd):
                n, l = self.both([prog("sigstacks")], RULES, uffd=uffd, timeout=30)
                self.assertAllChecksPassed(l, "sigstacks")
                self.assertMode(l, "user-mode-only" if uffd else "full")
                self.assertServed(l, "big", zeroed=True)


if __name__ == "__main__":
    unittest.main()
