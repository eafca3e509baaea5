"""The library's descriptors are not where the program looks for its own:
high, close-on-exec, and closed to the program's probes (fstat, fcntl).
A program lists only its own descriptors, gets 3 from its first open(),
passes exactly the descriptors it means to an exec'd child, and a daemon
that closes everything reopens 0, 1, 2 and 3 at those numbers."""
import unittest

from util import LFTestCase, ZERO_RULES, prog, zero_rules


class DescriptorsTest(LFTestCase):
    def test_list(self):
        for env in ({}, {"LAZYFAULT_LOG": str(self.tmpdir() / "lib.log")}):
            with self.subTest(env=env):
                n, l = self.both([prog("fdlist"), "list"], ZERO_RULES, env=env)
                self.assertIn("fdlist: open: 0,1,2\n", l.stdout)
                self.assertIn("fdlist: open() gives 3\n", l.stdout)
                self.assertServed(l, "big", zeroed=True)

    def test_exec_passes_only_what_the_program_passes(self):
        n, l = self.both([prog("fdlist"), "exec"], ZERO_RULES)
        self.assertIn("fdlist: open: 0,1,2,4\n", l.stdout)
        self.assertServed(l, "big", zeroed=True)

    def test_daemon_closes_everything(self):
        d = self.tmpdir()
        out_n, out_l = d / "native.txt", d / "lib.txt"
        n = self.native([prog("fdlist"), "daemon", out_n])
        l = self.lib([prog("fdlist"), "daemon", out_l], ZERO_RULES)
        self.assertEqual(l.rc, 0, l.describe())
        said = "null at 0 1 2, file at 3, memory zeros, open: 0,1,2,3\n"
        self.assertIn(said, n.stdout)
        self.assertEqual(n.stdout, l.stdout)
        self.assertServed(l, "big", zeroed=True)
        # The daemon (the grandchild, reparented) wrote its statistics too.
        daemon = [p for p in l.child_pids() if l.stats[p]["ppid"] != l.pid]
        self.assertEqual(len(daemon), 1, l.describe())
        self.assertServed(l, "big", pid=daemon[0], zeroed=True)

    def test_vfork_child_dup2_onto_ours(self):
        """A vfork child (CPython's subprocess is one) dup2s onto the
        library's descriptors: its table is its own, the library's state is
        its parent's, whose numbers must not move (the helpers would read a
        closed descriptor and the parent's next fault would wait for ever)."""
        n, l = self.both([prog("fdlist"), "vfork-dup2"], ZERO_RULES, timeout=30)
        self.assertAllChecksPassed(l, "fdlist")
        self.assertServed(l, "big", zeroed=True, min_faults=2)
        self.assertNoLibErrors(l)

    def test_cpython_pass_fds(self):
        argv = self.cpython_test("test_subprocess", "-m", "test_pass_fds*", "-v")
        rules = {"anon": zero_rules("anon", "64K", "r"), "malloc": zero_rules("malloc", "128K", "r")}
        for kind, text in rules.items():
            with self.subTest(rules=kind):
                n, l = self.both(argv, text, compare=False, timeout=120)
                self.assertIn("Tests result: SUCCESS", l.stdout)
                self.assertRegex(l.stdout, r"test_pass_fds_redirected .*\n?.*ok")
                self.assertServed(l, "r", zeroed=True)


if __name__ == "__main__":
    unittest.main()
