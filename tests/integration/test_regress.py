"""Regression tests of bugs that reviews found (fixed since), one test each.
The programs are tests/progs/regress_*.c: self-checking, and right natively
too, so that every one that means something without the library also runs
natively and must print the same lines.

    readahead       `readahead = 5M` on an anon zero rule, 64 MiB touched
    costack         a ucontext coroutine on a served stack calls mremap,
                    munmap, malloc/mmap: no deadlock
    logfd           the log descriptor survives closefrom(3): a data file
                    opened after it gets no log line
    fileopts        file mappings the kernel refuses stay refused (EINVAL
                    for an unaligned offset, EACCES for an O_WRONLY fd)
    twobus          8 threads die of SIGBUS at once: complete statistics
    sigdfl          SIG_DFL with SA_SIGINFO for SIGBUS: statistics kept
    noreplace       MAP_FIXED_NOREPLACE file mapping under a file rule
    locked          MAP_LOCKED file mapping and MAP_LOCKED source region
    split, bounce   user-mode-only: read() into a file mapping split by
                    mprotect; a thread-exit destructor's read after the
                    thread's bounce buffer is gone
    mremap64        mremap of a load region in more than 64 pieces
    umread          user-mode-only: a 1 MiB read() costs a few faults
"""
import unittest

from util import (helper_only, SOURCE_OFFSET, STAT_FIELDS, LFTestCase, MiB, make_source, prog,
                  source_rules)

ANON64K = """\
[big]
match = anon
min_size = 64K
action = zero
"""


def file_rules(d, extra=ANON64K):
    """A load rule that takes every file mapping of directory d."""
    return f"""\
[f]
match = file
path = {d}/*
action = load
min_size = 0

{extra}"""


class RegressTest(LFTestCase):
    def test_readahead_at_the_cap_anon_zero(self):
        """readahead = 5M on an anon zero rule crashed on a 64 MiB region;
        the rule file now refuses more than 4M (the largest window), so the
        largest readahead there is is tried, and 5M is refused."""
        rules = "[big]\nmatch = anon\nmin_size = 1M\naction = zero\nreadahead = 4M\n"
        n, l = self.both([prog("regress_readahead")], rules, timeout=30)
        self.assertAllChecksPassed(l, "regress_readahead")
        r = self.assertServed(l, "big", zeroed=True)
        self.assertGreaterEqual(r["bytes_registered"], 64 * MiB, l.describe())
        self.assertNoLibErrors(l)
        l = self.lib([prog("regress_readahead")], rules.replace("4M", "5M"), timeout=30)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertLogLines(l, r": error: .*key 'readahead': '5M' is too large \(at most 4M\)", 1)

    @helper_only("the kernel writes the SIGBUS frame below the stack pointer, into the "
                 "served stack's unfilled page, and cannot: README, Limits")
    def test_coroutine_on_served_stack(self):
        """A coroutine whose stack is in a served region deadlocked in
        mremap/munmap/mmap (the library faulting on its own stack)."""
        rules = """\
[big]
match = anon
min_size = 64K
action = zero
readahead = 4K

[m]
match = malloc
min_size = 1M
action = zero
"""
        for mode in ("mremap", "munmap", "mmap"):
            with self.subTest(mode=mode):
                n, l = self.both([prog("regress_costack"), mode], rules, timeout=40)
                self.assertAllChecksPassed(l, "regress_costack")
                # 256 statistics files: checked here without util's
                # assertStatsValid/assertServed, whose messages (built
                # eagerly) dump every file for every field.
                self.assertFalse(l.stats_errors, l.stats_errors[:3])
                self.assertIn(l.pid, l.stats)
                kids = l.child_pids()
                self.assertEqual(len(kids), 255, f"{len(kids)} children wrote statistics")
                for pid in kids:
                    doc = l.stats[pid]
                    self.assertEqual(doc.get("mode"), "full", doc)
                    rules_ = {r.get("name"): r for r in doc.get("rules", [])}
                    for r in rules_.values():
                        for f in STAT_FIELDS:
                            self.assertIsInstance(r.get(f), int, (pid, f, doc))
                    # the child's stack region, region and mapping were served
                    big = rules_.get("big")
                    self.assertIsNotNone(big, doc)
                    self.assertGreaterEqual(big["regions"], 2, doc)
                    self.assertGreaterEqual(big["faults"], 3, doc)
                    self.assertGreater(big["pages_zeroed"], 0, doc)
                    if mode == "mmap":
                        self.assertGreaterEqual(rules_["m"]["faults"], 1, doc)

    def test_log_fd_survives_closefrom(self):
        """After closefrom(3), the data file the program opened got the
        library's log lines (the log descriptor's number was reused)."""
        tmp = self.tmpdir()
        log = tmp / "lf.log"
        rules = f"""\
[global]
log = {log}
log_level = debug

[big]
match = anon
min_size = 64K
action = zero
"""
        n, l = self.both([prog("regress_logfd"), "data.txt"], rules, tmp=tmp, timeout=20)
        self.assertAllChecksPassed(l, "regress_logfd")
        self.assertEqual((tmp / "data.txt").read_bytes(), b"DATA\n")
        self.assertServed(l, "big", zeroed=True)
        # the library still logs, to its own file, after closefrom
        text = log.read_text(errors="replace")
        takes = [x for x in text.splitlines()
                 if f"lazyfault[{l.pid}]: debug: rule 'big' takes" in x]
        self.assertGreaterEqual(len(takes), 2, text[-3000:])
        self.assertNotIn("DATA", text)

    def test_refused_file_mappings_stay_refused(self):
        """Under a file rule, mmap at an unaligned offset and of an O_WRONLY
        descriptor succeeded (the emulation skipped the kernel's checks)."""
        tmp = self.tmpdir()
        src = make_source(tmp / "src.bin", size=2 * MiB + 4096 + 77)
        rules = f"[f]\nmatch = file\npath = {tmp}/*\nmin_size = 4K\n"
        n, l = self.both([prog("regress_fileopts"), src], rules, timeout=20)
        self.assertAllChecksPassed(l, "regress_fileopts")
        self.assertIn("ok: unaligned offset: Invalid argument", l.stdout)
        self.assertIn("ok: O_WRONLY descriptor: Permission denied", l.stdout)
        f = self.assertServed(l, "f", loaded=True)
        self.assertEqual(f["regions"], 1, l.describe())  # only the good mapping

    def test_threads_dying_of_sigbus_at_once(self):
        """Several threads killed by SIGBUS on poisoned pages at the same
        moment left a truncated statistics file.  10 runs."""
        rules = """\
[global]
log = off

[a]
match = anon
min_size = 64K
action = poison

[b]
match = anon
min_size = 1K
action = zero

[c]
match = malloc
action = zero

[d]
match = file

[e]
match = anon
min_size = 2
action = zero
"""
        n = self.native([prog("regress_twobus")], timeout=20)
        self.assertEqual(n.rc, 0, n.describe())
        self.assertAllChecksPassed(n, "regress_twobus")
        for i in range(10):
            l = self.lib([prog("regress_twobus")], rules, timeout=20)
            self.assertEqual(l.rc, -7, f"run {i}: not killed by SIGBUS:\n" + l.describe())
            self.assertStatsValid(l, pids=1)
            a = l.rule("a")
            self.assertIsNotNone(a, l.describe())
            self.assertGreaterEqual(a["pages_poisoned"], 1, f"run {i}:\n" + l.describe())
            self.assertGreaterEqual(a["faults"], 1, f"run {i}:\n" + l.describe())

    def test_sig_dfl_with_siginfo_keeps_stats(self):
        """SIGBUS set to SIG_DFL with SA_SIGINFO: the library took the
        handler for a real one and the statistics were lost."""
        rules = "[a]\nmatch = anon\nmin_size = 64K\naction = poison\n"
        n = self.native([prog("regress_sigdfl"), "dfl"], timeout=20)
        self.assertEqual(n.rc, 0, n.describe())
        self.assertAllChecksPassed(n, "regress_sigdfl")
        l = self.lib([prog("regress_sigdfl"), "dfl"], rules, timeout=20)
        self.assertEqual(l.rc, -7, l.describe())
        self.assertIn("ok: sigaction SIGBUS (dfl)", l.stdout)
        self.assertNotIn("the page reads zeros", l.stdout, l.describe())
        self.assertStatsValid(l, pids=1)
        a = l.rule("a")
        self.assertIsNotNone(a, l.describe())
        self.assertEqual(a["regions"], 1, l.describe())
        self.assertGreaterEqual(a["faults"], 1, l.describe())
        self.assertEqual(a["pages_poisoned"], 1, l.describe())

    def test_map_fixed_noreplace_file(self):
        """MAP_FIXED_NOREPLACE of a file under a file rule failed (EEXIST):
        the library's own reservation sat at the address."""
        tmp = self.tmpdir()
        src = make_source(tmp / "data.bin", size=5 * 4096 + 123)
        n, l = self.both([prog("regress_noreplace"), src], file_rules(tmp), timeout=20)
        self.assertAllChecksPassed(l, "regress_noreplace")
        self.assertServed(l, "f", loaded=True)
        self.assertNoLibErrors(l)

    def test_map_locked(self):
        """MAP_LOCKED (populated by the kernel at mmap) read zeros instead of
        the file's bytes, for a file mapping and for a source region."""
        tmp = self.tmpdir()
        data = make_source(tmp / "big3.bin", size=64 * 1024 + 500, seed=3)
        srcdir = self.tmpdir()
        src = make_source(srcdir / "source.bin")
        rules = file_rules(tmp, source_rules(src))
        n, l = self.both([prog("regress_locked"), data, src, str(SOURCE_OFFSET)], rules,
                         timeout=20)
        self.assertAllChecksPassed(l, "regress_locked")
        self.assertServed(l, "f", loaded=True)
        self.assertServed(l, "src", loaded=True)

    def test_user_mode_read_into_split_file_mapping(self):
        """User-mode-only: read() into a file mapping that mprotect split
        came back short (the prefill stopped at the VMA boundary)."""
        tmp = self.tmpdir()
        data = make_source(tmp / "big2.bin", size=MiB + 321, seed=4)
        n, l = self.both([prog("regress_split"), data], file_rules(tmp), uffd="user", timeout=20)
        self.assertAllChecksPassed(l, "regress_split")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "f", loaded=True)

    def test_user_mode_read_in_thread_exit_destructor(self):
        """User-mode-only: a TSD destructor reading into a served region after
        the library's bounce-buffer destructor ran (use after free)."""
        tmp = self.tmpdir()
        data = make_source(tmp / "big.bin", size=MiB, seed=5)
        n, l = self.both([prog("regress_bounce"), data], file_rules(tmp), uffd="user", timeout=20)
        self.assertAllChecksPassed(l, "regress_bounce")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "f", loaded=True)
        self.assertNoLibErrors(l)

    def test_mremap_of_load_region_in_many_pieces(self):
        """mremap of a load region split into more than 64 pieces lost the
        pieces past the 64th (they read zeros, not the source)."""
        tmp = self.tmpdir()
        src = make_source(tmp / "source.bin")
        n, l = self.both([prog("regress_mremap64"), src, str(SOURCE_OFFSET)], source_rules(src),
                         timeout=30)
        self.assertAllChecksPassed(l, "regress_mremap64")
        self.assertServed(l, "src", loaded=True)

    def test_user_mode_big_read_few_faults(self):
        """User-mode-only: a 1 MiB read() into a fresh zero region counted one
        fault per page; the prefill serves it in a few."""
        tmp = self.tmpdir()
        data = make_source(tmp / "src.bin", size=MiB + 99, seed=6)
        n, l = self.both([prog("regress_umread"), data], ANON64K, uffd="user", timeout=20)
        self.assertAllChecksPassed(l, "regress_umread")
        self.assertMode(l, "user-mode-only")
        big = self.assertServed(l, "big", zeroed=True)
        self.assertLessEqual(big["faults"], 16, l.describe())
        self.assertGreaterEqual(big["pages_zeroed"], 256, l.describe())


if __name__ == "__main__":
    unittest.main()
