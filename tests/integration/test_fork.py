"""fork under the library: parent, child and grandchild see exactly the
bytes they would see natively (pages touched before and after the fork by
either side, pages never touched before the fork, pages of a region loaded
from a source file), child writes do not reach the parent, and each process
serves its own faults and writes its own statistics file.
"""
import shutil
import unittest

from util import (LFTestCase, ZERO_RULES, SOURCE_OFFSET, SYS_PYTHON, make_source, prog,
                  source_rules)


class ForkTest(LFTestCase):
    def test_fork_zero_and_source(self):
        d = self.tmpdir()
        src = make_source(d / "source.bin")
        n, l = self.both([prog("fork"), "--source", src, str(SOURCE_OFFSET)], source_rules(src))
        self.assertAllChecksPassed(l, "fork")
        self.assertNoLibErrors(l)
        # parent, child, grandchild, second child: four files, all served.
        self.assertStatsValid(l, pids=4)
        self.assertServed(l, "big", zeroed=True)
        self.assertServed(l, "src", loaded=True)
        kids = l.child_pids()
        for pid in kids:
            self.assertServed(l, "big", pid, zeroed=True)
        # The first child read the source region's untouched pages itself:
        # one of the children loaded pages from the file.
        loaded = [l.rule("src", pid)["pages_loaded"] for pid in kids]
        self.assertTrue(any(loaded), f"no child loaded source pages: {loaded}\n" + l.describe())

    def test_fork_zero_only_two_workers(self):
        rules = "[global]\nworkers = 2\n\n" + ZERO_RULES
        n, l = self.both([prog("fork")], rules)
        self.assertAllChecksPassed(l, "fork")
        self.assertStatsValid(l, pids=4)
        for pid in [l.pid] + l.child_pids():
            self.assertServed(l, "big", pid, zeroed=True)

    def test_fork_while_threads_fault(self):
        """6 forks while 4 threads keep faulting fresh pages: no deadlock,
        each child sees whole pages or zeros, and serves its own faults."""
        for uffd in (None, "user"):
            with self.subTest(uffd=uffd or "full"):
                n, l = self.both([prog("forkthreads")], ZERO_RULES, uffd=uffd)
                self.assertAllChecksPassed(l, "forkthreads")
                self.assertStatsValid(l, pids=7)
                self.assertServed(l, "big", zeroed=True)
                for pid in l.child_pids():
                    self.assertServed(l, "big", pid)

    def test_fork_advice(self):
        """MADV_DONTFORK (whole region, its middle; DOFORK after it),
        MADV_WIPEONFORK (a written zero region, a source region: zeros in
        the child whatever the rule loads; KEEPONFORK after it), in a child
        and a grandchild, EINVAL on a private file mapping; and the child's
        first mapping gets the address the parent freed, as natively (the
        library maps nothing of its own in the child).  No error line: the
        library forgets what the child does not have."""
        d = self.tmpdir()
        src = make_source(d / "source.bin")
        rules = source_rules(src) + f"\n[files]\nmatch = file\npath = {d}/*\n"
        n, l = self.both([prog("fork_advice"), d, "--source", src, str(SOURCE_OFFSET)], rules)
        self.assertAllChecksPassed(l, "fork_advice")
        self.assertNoLibErrors(l)
        self.assertServed(l, "src", loaded=True)
        # parent, first child, child, grandchild
        self.assertStatsValid(l, pids=4)
        for pid in l.child_pids():
            self.assertServed(l, "big", pid, zeroed=True)
        # The children read the wiped source region as zeros: served, never loaded.
        for pid in l.child_pids():
            self.assertEqual(l.rule("src", pid)["pages_loaded"], 0, l.describe())
        self.assertTrue(any(l.rule("src", pid)["pages_zeroed"] for pid in l.child_pids()),
                        l.describe())

    def test_node_spawn_sync(self):
        """node's child_process.spawnSync forks (its children inherit
        regions under MADV_DONTFORK) and execs: the same output as natively
        and no error line."""
        if shutil.which("node") is None:
            self.skipTest("no node")
        script = ("const cp = require('child_process');\n"
                  "let out = '';\n"
                  "for (let i = 0; i < 25; i++)\n"
                  "  out += cp.spawnSync('/bin/echo', ['run', String(i)]).stdout.toString();\n"
                  "const big = Buffer.alloc(64 << 20, 7);\n"
                  "console.log(out.split('\\n').length, big.reduce((a, b) => a + b, 0));\n")
        n, l = self.both(["node", "-e", script], ZERO_RULES, timeout=120)
        self.assertIn("26 469762048", n.stdout, n.describe())
        self.assertNoLibErrors(l)
        self.assertFalse(l.log_lines, "the library logged:\n" + l.describe())
        self.assertServed(l, "big", zeroed=True)

    def test_python_fork_with_private_mmap(self):
        """A real program: python forks after filling half of a private
        anonymous mmap; the child sums both halves and writes its own."""
        script = r"""
import mmap, os, hashlib
m = mmap.mmap(-1, 32 << 20, flags=mmap.MAP_PRIVATE)
m[: 16 << 20] = bytes(range(256)) * (1 << 16)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    h = hashlib.sha256(m[:]).hexdigest()
    m[16 << 20 : 17 << 20] = b"\x07" * (1 << 20)
    os.write(w, (h + " " + hashlib.sha256(m[16 << 20 :]).hexdigest()).encode())
    os._exit(0)
os.waitpid(pid, 0)
print("child saw", os.read(r, 200).decode())
print("parent sees", hashlib.sha256(m[:]).hexdigest())
"""
        n, l = self.both([SYS_PYTHON, "-c", script], ZERO_RULES)
        self.assertServed(l, "big", zeroed=True)
        self.assertEqual(len(l.child_pids()), 1, l.describe())
        self.assertServed(l, "big", l.child_pids()[0])


if __name__ == "__main__":
    unittest.main()
