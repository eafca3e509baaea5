"""Anonymous memory under `match = anon` rules: zero fill, lazy loading from a
source file, and the memory calls a program makes on such regions (mremap,
madvise, munmap by wrapper and by raw system call, MAP_FIXED over a region,
mprotect, threads, exec).

Each test runs a self-checking program of tests/progs/ natively and under
the library, requires exit status 0 and the same output from both, and
requires from the statistics that the rule really served faults (a library
that passes everything through to the kernel fails every test here).
"""
import unittest

from util import (helper_only, LFTestCase, ZERO_RULES, SOURCE_OFFSET, SOURCE_SIZE, MiB, make_source, prog,
                  source_rules)


class AnonZeroTest(LFTestCase):
    def test_zero_fill_64mib(self):
        """64 MiB read and written in several orders: zeros, then what was written."""
        n, l = self.both([prog("anon_zero"), "64"], ZERO_RULES)
        self.assertAllChecksPassed(l, "anon_zero")
        r = self.assertServed(l, "big", zeroed=True)
        self.assertGreaterEqual(r["bytes_registered"], 64 * MiB)
        self.assertNoLibErrors(l)

    def test_zero_fill_readahead_one_page(self):
        """readahead = 4K (the library may still grow it for sequential
        access): same bytes."""
        rules = ZERO_RULES + "readahead = 4K\n"
        n, l = self.both([prog("anon_zero"), "16"], rules)
        self.assertAllChecksPassed(l, "anon_zero")
        self.assertServed(l, "big", zeroed=True)

    def test_rule_that_matches_nothing_leaves_memory_alone(self):
        """A rule for bigger mappings than the program makes takes nothing."""
        rules = "[huge]\nmatch = anon\nmin_size = 1G\n"
        n, l = self.both([prog("anon_zero"), "16"], rules)
        self.assertStatsValid(l)
        r = l.rule("huge")
        self.assertEqual((r["regions"], r["faults"]), (0, 0), r)

    def test_threads_fault_same_and_different_pages(self):
        """8 threads fault the same pages (reads, then writes) and their own."""
        n, l = self.both([prog("threads"), "8"], ZERO_RULES)
        self.assertAllChecksPassed(l, "threads")
        self.assertServed(l, "big", zeroed=True)

    @helper_only("no helper thread: each thread serves its own faults "
                 "(test_signals.py, many threads fault at once)")
    def test_threads_with_two_workers_one_page_per_fault(self):
        """Same with two helper threads and one page per fault: most races."""
        rules = "[global]\nworkers = 2\n\n" + ZERO_RULES + "readahead = 4K\n"
        n, l = self.both([prog("threads"), "8"], rules)
        r = self.assertServed(l, "big", zeroed=True)
        self.assertGreaterEqual(r["faults"], 1000, r)

    def test_mprotect_part_of_region(self):
        """PROT_READ part reads zeros, PROT_NONE part is SIGSEGV, boundaries right."""
        n, l = self.both([prog("mprotect")], ZERO_RULES)
        self.assertAllChecksPassed(l, "mprotect")
        self.assertServed(l, "big", zeroed=True)

    def test_exec_self(self):
        """mmap, touch, posix_spawn a copy, exec itself (twice), check
        again, fork after exec."""
        n, l = self.both([prog("exec")], ZERO_RULES)
        self.assertAllChecksPassed(l, "exec")
        # The pid survives exec: its file is the last image's.  The spawned
        # copy and the children forked after each exec touched pages no one
        # had touched.
        self.assertServed(l, "big", zeroed=True)
        self.assertEqual(len(l.child_pids()), 3, l.describe())
        for pid in l.child_pids():
            self.assertServed(l, "big", pid, zeroed=True)


class AnonSourceTest(LFTestCase):
    """Programs that also map a 3 MiB region taken by a `load` rule."""

    def setUp(self):
        self.dir = self.tmpdir()
        self.src = make_source(self.dir / "source.bin")
        self.rules = source_rules(self.src)

    def run_prog(self, name):
        n, l = self.both([prog(name), "--source", self.src, str(SOURCE_OFFSET)], self.rules)
        self.assertAllChecksPassed(l, name)
        self.assertServed(l, "big", zeroed=True)
        self.assertServed(l, "src", loaded=True)
        self.assertNoLibErrors(l)
        return l

    def test_load_from_source(self):
        """Region byte X = source byte offset+X, zeros past the end of the file."""
        data = self.src.read_bytes()[SOURCE_OFFSET:]
        want = (data + bytes(3 * MiB - len(data)))
        h = 1469598103934665603  # the program's FNV-1a of what it must see
        for b in want:
            h = ((h ^ b) * 1099511628211) & (2 ** 64 - 1)
        for stride in ("0", "7"):
            with self.subTest(stride=stride):
                l = self.lib([prog("srcread"), self.src, str(SOURCE_OFFSET), stride], self.rules)
                self.assertEqual(l.rc, 0, l.describe())
                self.assertIn("region holds the source file's bytes", l.stdout, l.describe())
                self.assertIn(f"region checksum {h:016x}", l.stdout, l.describe())
                r = self.assertServed(l, "src", loaded=True)
                # Every byte of the file from the offset on was read at least once.
                self.assertGreaterEqual(r["bytes_read"], SOURCE_SIZE - SOURCE_OFFSET, r)
                self.assertGreaterEqual(r["pages_loaded"], 3 * MiB // 4096, r)

    def test_mremap(self):
        """Grow in place, MAYMOVE, FIXED, shrink and regrow: bytes and zeros kept."""
        self.run_prog("mremap")

    def test_madvise_dontneed(self):
        """DONTNEED gives zeros again, on a source region too (as the kernel
        gives on anonymous memory, not the source's bytes)."""
        self.run_prog("madvise")

    def test_munmap_and_remap(self):
        """munmap (wrapper and raw syscall) then a new mapping there: fresh zeros."""
        self.run_prog("munmap")


if __name__ == "__main__":
    unittest.main()
