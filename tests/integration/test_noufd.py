"""No userfaultfd to be had (a seccomp filter refuses userfaultfd(2) in all
its modes, and /dev/userfaultfd is refused or useless), or rules that cannot
be read: the library logs one clear line saying why and what to do, then
follows on_error: `passthrough` runs the program untouched (same output,
statistics say "passthrough", nothing registered), `abort` exits with 78
(EX_CONFIG, a status of its own) before the program does anything.

The launcher is tests/progs/noufd.c; the library's variables are given
after it (through env), so the launcher itself runs without the library.
It drops to uid 65534, so what runs after it is a copy every user can
reach (shared_copy), wherever the tree is.
"""
import os
import platform
import unittest

from util import LIB, LFTestCase, SYS_PYTHON, ZERO_RULES, prog, shared_copy

ONE_LINE = r": error: no userfaultfd can be opened .*userfaultfd"


class NoUffdTest(LFTestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("the launcher drops to uid 65534: needs root")

    def check_passthrough(self, l):
        self.assertMode(l, "passthrough")
        for r in l.main_stats["rules"]:
            self.assertEqual((r["regions"], r["faults"], r["bytes_registered"]), (0, 0, 0), r)
        lines = self.assertLogLines(l, ONE_LINE, count=1)
        self.assertIn("passthrough", lines[0])
        # one clear line: nothing else at error level
        self.assertEqual(len([x for x in l.log_lines if ": error: " in x]), 1, l.describe())

    def test_passthrough_seccomp_and_nobody(self):
        launcher = [prog("noufd"), "--"]
        n, l = self.both([shared_copy(prog("anon_zero")), "16"], ZERO_RULES, prefix=launcher,
                         lib=shared_copy(LIB))
        self.assertAllChecksPassed(l, "anon_zero")
        self.check_passthrough(l)

    def test_passthrough_device_useless(self):
        """As root, /dev/userfaultfd is /dev/null (its ioctl fails) and the
        system call is refused."""
        launcher = [prog("noufd"), "--keep-uid", "--hide-dev", "--"]
        n, l = self.both([prog("fork")], ZERO_RULES, prefix=launcher)
        self.assertAllChecksPassed(l, "fork")
        self.check_passthrough(l)
        for pid in l.child_pids():
            self.assertMode(l, "passthrough", pid)

    def test_passthrough_real_program(self):
        launcher = [prog("noufd"), "--"]
        script = ("import mmap; m = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE); "
                  "m[::4096] = b'x' * 2048; print(sum(m[:]))")
        n, l = self.both([SYS_PYTHON, "-c", script], ZERO_RULES, prefix=launcher,
                         lib=shared_copy(LIB))
        self.assertEqual(l.stdout.strip(), str(ord("x") * 2048))
        self.check_passthrough(l)

    def test_abort_exits_78(self):
        """Not 127, which shells give for "command not found"."""
        rules = "[global]\non_error = abort\n\n" + ZERO_RULES
        l = self.lib([shared_copy(prog("anon_zero")), "16"], rules, prefix=[prog("noufd"), "--"],
                     lib=shared_copy(LIB))
        self.assertEqual(l.rc, 78, l.describe())
        self.assertEqual(l.stdout, "", "the program must not have run:\n" + l.describe())
        lines = self.assertLogLines(l, ONE_LINE, count=1)
        self.assertIn("exiting with status 78", lines[0])

    def test_launcher_really_removes_userfaultfd(self):
        """The launcher's own check: without the library, a program that
        asks for a userfaultfd is refused (EPERM) under it."""
        if platform.machine() != "x86_64":
            self.skipTest("system call number 323 is x86_64's")
        script = ("import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
                  "r = libc.syscall(323, 1); print(r, ctypes.get_errno())")
        n = self.native([prog("noufd"), "--", SYS_PYTHON, "-c", script])
        self.assertEqual(n.rc, 0, n.describe())
        self.assertEqual(n.stdout.split(), ["-1", "1"], n.describe())  # EPERM


class BadRulesTest(LFTestCase):
    """Rules the library cannot use: one error line, the program runs."""

    def test_missing_rule_file(self):
        d = self.tmpdir()
        n = self.native([prog("anon_zero"), "8"])
        l = self.native([prog("anon_zero"), "8"],
                        env={"LD_PRELOAD": str(LIB),
                             "LAZYFAULT_RULES": str(d / "nonexistent.ini"),
                             "LAZYFAULT_STATS": str(d / "stats.%p.json")})
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(n.stdout, l.stdout)
        errs = [x for x in l.stderr.splitlines() if x.startswith("lazyfault[") and "error" in x]
        self.assertTrue(errs, l.stderr)
        self.assertTrue(any("nonexistent.ini" in x for x in errs), l.stderr)
        self.assertTrue(any("passthrough" in x for x in errs), l.stderr)

    def test_bad_rule_file(self):
        rules = "[big]\nmatch = anon\nmin_size = lots\n"
        n, l = self.both([prog("anon_zero"), "8"], rules)
        errs = [x for x in l.log_lines if ": error: " in x]
        self.assertTrue(any("rules.ini" in x and "min_size" in x for x in errs), l.describe())
        self.assertTrue(any("passthrough" in x for x in errs), l.describe())


if __name__ == "__main__":
    unittest.main()
