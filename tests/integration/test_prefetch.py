"""Working sets and prefetch (`prefetch = PATH`, preload/prefetch.c,
workset.c) and written-page tracking (preload/written.c).

prefetch_touch touches 384 known pages of a 4 MiB region (256 of them
written), none neighbours, so that with readahead = 4K every fault serves
its own page: the trace of a run holds exactly those pages and the written
ones, and the statistics count them.  A second run that prefetches from
that trace gives the same bytes as a demand run (zeros, a file mapping, a
source), also when the program writes, forks and DONTNEEDs prefetched
pages, right after mmap (racing the helper) or later; a region whose file
changed is served on demand.  A build that acts as a kernel without
WP_ASYNC says so and still records the pages touched.  python3 run again
with the trace of its first run faults far less, with the same output.
"""
import json
import os
import struct
import subprocess
import unittest

from util import BUILD, LFTestCase, ROOT, SYS_PYTHON, prog

PAGE = 4096
NP = 1024
TOUCHED = {i for i in range(NP) if i % 8 in (1, 3, 5)}
WRITTEN = {i for i in range(NP) if i % 8 in (3, 5)}
HEADER = 4096
REC = struct.Struct("<BBHIQ6Q")
FAULT, REGION, WRITTEN_REC, PREFETCH = 7, 3, 14, 15
MODES = ("zero", "file", "source")


def records(path):
    """The records of a trace file: (type, flags, a16, a32, t, u)."""
    data = open(path, "rb").read()
    cursor = struct.unpack_from("<Q", data, 40)[0] & ~(1 << 63)
    out = []
    for k in range(min(cursor, (len(data) - HEADER) // REC.size)):
        t, flags, a16, a32, ts, *u = REC.unpack_from(data, HEADER + k * REC.size)
        if t:
            out.append((t, flags, a16, a32, ts, u))
    return out


def dumped(path, kind):
    """The records of that kind as `lazyfault report --dump` prints them."""
    r = subprocess.run([BUILD / "lazyfault", "report", "--dump", path], capture_output=True,
                       text=True, timeout=120, check=True)
    return [rec for rec in map(json.loads, r.stdout.splitlines()) if rec["type"] == kind]


def pages_of(path):
    """The pages the trace's faults made present, those it says written,
    and those a prefetch installed, by region id."""
    present, written, prefetched = {}, {}, {}
    for t, flags, _, _, _, u in records(path):
        if t == FAULT:
            first = u[2] - (u[1] - u[3]) // PAGE
            present.setdefault(u[0], set()).update(range(first, first + u[4] // PAGE))
        elif t == WRITTEN_REC:
            for k in range(flags):
                written.setdefault(u[0], set()).update(range(u[1 + 2 * k], u[1 + 2 * k] + u[2 + 2 * k]))
        elif t == PREFETCH:
            prefetched.setdefault(u[0], set()).update(range(u[1], u[1] + u[2]))
    return present, written, prefetched


class PrefetchTest(LFTestCase):
    def setUp(self):
        self.d = self.tmpdir()
        self.data = self.d / "data.bin"
        subprocess.run([prog("prefetch_touch"), "mkfile", self.data], check=True, timeout=60)

    def rules(self, mode, trace, prefetch=None, size="4M"):
        rule = {"zero": f"match = anon\nmin_size = {size}\nmax_size = {size}\n",
                "source": f"match = anon\nmin_size = {size}\nmax_size = {size}\naction = load\n"
                          f"source = {self.data}\n",
                "file": f"match = file\npath = {self.data}\n"}[mode]
        text = f"[global]\ntrace = {trace}\n\n[r]\n{rule}readahead = 4K\n"
        return text + (f"prefetch = {prefetch}\n" if prefetch else "")

    def touch(self, mode, trace, prefetch=None, args=(), lib=None, log_level="info", rules_size="4M"):
        argv = [prog("prefetch_touch"), mode, self.data, *args]
        if lib:
            argv = ["/usr/bin/env", f"LD_PRELOAD={lib}"] + argv
        n, l = self.both(argv, self.rules(mode, trace, prefetch, rules_size), log_level=log_level)
        self.assertAllChecksPassed(l, "prefetch_touch")
        self.assertNoLibErrors(l)
        return l

    def test_recorded_set_is_exact(self):
        """The trace holds exactly the pages touched and the pages written;
        the statistics count 256 written and 128 read only, whether the
        region leaves by munmap or is still mapped at exit."""
        for mode in MODES:
            for keep in ((), ("keep",)):
                with self.subTest(mode=mode, keep=keep):
                    t = self.d / f"t.{mode}{len(keep)}"
                    l = self.touch(mode, t, args=keep)
                    r = self.assertServed(l, "r")
                    self.assertEqual((r["faults"], r["pages_written"], r["pages_read_only"],
                                      r["pages_prefetched"]), (384, 256, 128, 0), l.describe())
                    present, written, _ = pages_of(t)
                    self.assertEqual(list(present), [1], l.describe())
                    self.assertEqual(present[1], TOUCHED)
                    self.assertEqual(written.get(1), WRITTEN)
                    shown = {p for rec in dumped(t, "written") for first, n in rec["runs"]
                             for p in range(first, first + n)}
                    self.assertEqual(shown, WRITTEN, "lazyfault report --dump")

    def test_prefetched_run_reads_the_same_bytes(self):
        """Run again with the first run's trace: every touched page comes
        ahead (none faults) when the program waits a little; the bytes are
        those of a demand run however the program races the prefetch with
        writes, fork and MADV_DONTNEED, right after mmap or later."""
        variants = [("pause",), ("pause", "early", "dontneed", "fork"), ("pause", "dontneed", "fork"),
                    ("early", "dontneed", "fork"), ("dontneed", "fork")]
        for mode in MODES:
            first = self.d / f"first.{mode}"
            self.touch(mode, first)
            for v in variants:
                with self.subTest(mode=mode, variant=v):
                    t = self.d / f"second.{mode}.{'-'.join(v)}"
                    l = self.touch(mode, t, prefetch=first, args=v)
                    r = l.rule("r")
                    self.assertStatsValid(l)
                    self.assertEqual(r["regions"], 1, l.describe())
                    if "pause" in v:
                        self.assertEqual(r["pages_prefetched"], 384, l.describe())
                    else:
                        self.assertGreater(r["pages_prefetched"] + r["faults"], 0, l.describe())
                    if v == ("pause",):
                        self.assertEqual(r["faults"], 0, l.describe())
                    if "dontneed" in v and "pause" in v:
                        # the 96 touched pages of 128-383 fault again after
                        # the drop, and nothing else does
                        self.assertEqual(r["faults"], 96, l.describe())
                    _, _, prefetched = pages_of(t)
                    self.assertLessEqual(prefetched.get(1, set()), TOUCHED, l.describe())

    def test_helper_races_the_program(self):
        """64 MiB, 6144 pages touched: more than go in before mmap returns,
        so the helper installs the rest while the program writes, forks and
        DONTNEEDs; the same bytes as a demand run, and with a pause every
        page ahead."""
        subprocess.run([prog("prefetch_touch"), "mkfile", self.data, "huge"], check=True, timeout=60)
        for mode in MODES:
            first = self.d / f"h.{mode}"
            self.touch(mode, first, args=("huge",), rules_size="64M")
            # (early DONTNEED of a source: a prefetch landing between the
            # kernel's drop and the table's zeros would show source bytes;
            # tried three times, as it is a race)
            early = [("early", "dontneed", "fork")] * (3 if mode == "source" else 1)
            for v in [("pause",), *early, ("dontneed", "fork"), ()]:
                with self.subTest(mode=mode, variant=v):
                    l = self.touch(mode, self.d / f"h2.{mode}", prefetch=first, args=("huge", *v),
                                   rules_size="64M")
                    r = l.rule("r")
                    self.assertStatsValid(l)
                    self.assertGreater(r["pages_prefetched"], 4096, l.describe())
                    if v == ("pause",):
                        self.assertEqual((r["faults"], r["pages_prefetched"]), (0, 6144),
                                         l.describe())

    def test_munmap_in_the_middle_while_prefetching(self):
        """64 MiB read in order, run again with its trace: right after mmap,
        while the helper installs, the program unmaps pages 6000-9999 and
        maps new memory there, another rule's.  Nothing of the region lands
        in it (it reads zeros), and the helper still installs the region's
        pages after it, 10000 on, within the chunk that began before it."""
        subprocess.run([prog("prefetch_touch"), "mkfile", self.data, "huge"], check=True, timeout=60)
        hole_rule = "\n[hole]\nmatch = anon\nmin_size = 16000K\nmax_size = 16000K\naction = zero\n"
        for mode in MODES:
            with self.subTest(mode=mode):
                first, t = self.d / f"d.{mode}", self.d / f"d2.{mode}"
                self.touch(mode, first, args=("huge", "dense"), rules_size="64M")
                argv = [prog("prefetch_touch"), mode, self.data, "huge", "dense", "hole", "pause"]
                n, l = self.both(argv, self.rules(mode, t, first, "64M") + hole_rule, log_level="info")
                self.assertAllChecksPassed(l, "prefetch_touch")
                self.assertNoLibErrors(l)
                self.assertServed(l, "hole", zeroed=True)
                self.assertEqual(l.rule("hole")["pages_prefetched"], 0, l.describe())
                self.assertGreater(l.rule("r")["pages_prefetched"], 4096, l.describe())
                _, _, prefetched = pages_of(t)
                missed = set(range(10000, 10240)) - prefetched.get(1, set())
                self.assertEqual(sorted(missed)[:8], [], l.describe())

    def test_third_run_prefetches_the_same_set(self):
        """The trace of a prefetched run records what it installed: a third
        run prefetching from it installs the same 384 pages."""
        first, second, third = (self.d / n for n in ("t1", "t2", "t3"))
        self.touch("zero", first)
        self.touch("zero", second, prefetch=first, args=("pause",))
        l = self.touch("zero", third, prefetch=second, args=("pause",))
        r = l.rule("r")
        self.assertEqual((r["faults"], r["pages_prefetched"]), (0, 384), l.describe())
        self.assertEqual(pages_of(third)[2][1], TOUCHED)
        shown = dumped(third, "prefetch")
        self.assertEqual(sum(rec["pages"] for rec in shown), 384)
        self.assertEqual(sum(rec["pages"] for rec in shown if rec["written"]), 256)

    def test_changed_file_is_served_on_demand(self):
        """A file (a file mapping's, or a source) touched since the record:
        an info line, nothing prefetched, the file's bytes as they are."""
        for mode in ("file", "source"):
            with self.subTest(mode=mode):
                first = self.d / f"c.{mode}"
                self.touch(mode, first)
                st = os.stat(self.data)
                os.utime(self.data, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
                l = self.touch(mode, self.d / f"c2.{mode}", prefetch=first, args=("pause",))
                self.assertLogLines(l, r"info: rule 'r': region 1 has changed since .* was recorded "
                                       r"\(its file changed\): served on demand", count=1)
                r = self.assertServed(l, "r", loaded=True)
                self.assertEqual((r["faults"], r["pages_prefetched"]), (384, 0), l.describe())

    def test_another_size_is_served_on_demand(self):
        """A region of another size than the recorded one is not prefetched."""
        first = self.d / "s1"
        self.touch("zero", first)
        rules = self.rules("zero", self.d / "s2", first).replace("max_size = 4M", "max_size = 8M")
        n, l = self.both([prog("prefetch_touch"), "zero", self.data, "big"], rules, log_level="info")
        self.assertLogLines(l, r"region 1 has changed since .* \(another size\): served on demand",
                            count=1)
        r = self.assertServed(l, "r", zeroed=True)
        self.assertEqual((r["faults"], r["pages_prefetched"]), (384, 0), l.describe())

    def test_poison_rule_never_prefetches_a_poisoned_page(self):
        """A poison rule with `pages = 9`: page 9 is in the record (its fault
        was poisoned), and the prefetched run still poisons it, installing
        every other touched page ahead."""
        rules = ("[global]\ntrace = {t}\n\n[r]\nmatch = anon\nmin_size = 4M\nmax_size = 4M\n"
                 "action = poison\nfill = zero\npages = 9\n")
        argv = [prog("prefetch_touch"), "zero", self.data, "poison9", "pause"]
        first = self.d / "p1"
        l = self.lib(argv, rules.format(t=first))
        self.assertIn("page 9: SIGBUS\n", l.stdout, l.describe())
        self.assertAllChecksPassed(l, "prefetch_touch")
        self.assertIn(9, pages_of(first)[0][1])
        l = self.lib(argv, rules.format(t=self.d / "p2") + f"prefetch = {first}\n", log_level="info")
        self.assertIn("page 9: SIGBUS\n", l.stdout, l.describe())
        self.assertAllChecksPassed(l, "prefetch_touch")
        r = l.rule("r")
        self.assertEqual((r["faults"], r["pages_poisoned"], r["pages_prefetched"]), (1, 1, 383),
                         l.describe())

    def test_without_wp_async(self):
        """A build that acts as a kernel without WP_ASYNC or PAGEMAP_SCAN
        says so once at info, counts no written pages, still records every
        page touched, and prefetches from that record."""
        lib = BUILD / "nofollow" / "liblazyfault.so"
        subprocess.run(["make", "-s", f"B={lib.parent}", "CFLAGS=-O2 -g -DLF_TEST_NO_FOLLOW", str(lib)],
                       cwd=ROOT, check=True, timeout=300)
        first = self.d / "nowp"
        l = self.touch("zero", first, lib=lib)
        self.assertLogLines(l, r": info: this kernel lacks UFFD_FEATURE_WP_ASYNC or PAGEMAP_SCAN "
                               r"\(Linux 6.7\): the pages the program writes are not told apart",
                            count=1)
        r = self.assertServed(l, "r", zeroed=True)
        self.assertEqual((r["faults"], r["pages_written"], r["pages_read_only"]), (384, 0, 0),
                         l.describe())
        present, written, _ = pages_of(first)
        self.assertEqual((present.get(1), written), (TOUCHED, {}), l.describe())
        l = self.touch("zero", self.d / "nowp2", prefetch=first, args=("pause",), lib=lib)
        r = l.rule("r")
        self.assertEqual((r["faults"], r["pages_prefetched"]), (0, 384), l.describe())

    def test_python_second_run_faults_less(self):
        """python3 building and encoding a large dict, run again with the
        trace of its first run: at least 80% fewer faults, the same output."""
        work = ("import json, zlib\n"
                "d = {i: str(i) * 3 for i in range(200000)}\n"
                "s = json.dumps(d)\n"
                "print(len(s), zlib.crc32(s.encode()))\n")
        env = {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        argv = [SYS_PYTHON, "-c", work]
        rules = "[global]\ntrace = {t}\n\n[py]\nmatch = anon\nmin_size = 64K\n"
        first = self.d / "py1"
        n, l1 = self.both(argv, rules.format(t=first), env=env)
        r1 = self.assertServed(l1, "py", zeroed=True)
        self.assertGreater(r1["pages_written"], 0, l1.describe())
        n, l2 = self.both(argv, rules.format(t=self.d / "py2") + f"prefetch = {first}\n", env=env)
        self.assertNoLibErrors(l2)
        r2 = l2.rule("py")
        self.assertEqual(r2["regions"], r1["regions"], l2.describe())
        self.assertGreater(r2["pages_prefetched"], 0, l2.describe())
        self.assertLessEqual(r2["faults"] * 5, r1["faults"],
                             f"first run {r1['faults']} faults, second {r2['faults']}:\n"
                             + l2.describe())


if __name__ == "__main__":
    unittest.main()
