"""The statistics file: complete, valid JSON with the served faults, however
the program ends (exit, return from main, _exit, _Exit, exit from another
thread, SIGTERM, SIGSEGV, abort, SIGBUS, a poisoned page, a handler of the
program's own), one file per process, figures that agree with what the
program did, and the [global] `stats` key with `%p`.
"""
import json
import signal
import unittest

from util import LFTestCase, MiB, ZERO_RULES, prog

PAGE = 4096

# way -> (expected status: exit code, or -signal)
WAYS = {
    "exit": 0, "return": 0, "_exit": 0, "_Exit": 0, "thread-exit": 3,
    "sigterm": -signal.SIGTERM, "sigsegv": -signal.SIGSEGV, "abort": -signal.SIGABRT,
    "sigbus": -signal.SIGBUS, "sigint-handler": 0, "segv-handler-reset": -signal.SIGSEGV,
}


class ExitPathTest(LFTestCase):
    def test_every_way_to_end(self):
        for way, status in WAYS.items():
            with self.subTest(way=way):
                n, l = self.both([prog("exitways"), way], ZERO_RULES, rc=status)
                self.assertIn("touched ok", l.stdout)
                self.assertStatsValid(l, pids=1)
                r = self.assertServed(l, "big", zeroed=True)
                # 8 MiB were written: every page was installed by the rule.
                self.assertGreaterEqual(r["pages_zeroed"], 8 * MiB // PAGE, r)
                self.assertGreaterEqual(r["bytes_registered"], 8 * MiB, r)
                raw = (l.tmp / f"stats.{l.pid}.json").read_text()
                self.assertTrue(raw.rstrip().endswith("}"), raw)

    def test_ignored_sigterm_stays_ignored(self):
        """SIGTERM ignored at start (as nohup does): the library leaves it
        ignored (the program survives its own SIGTERM) and sees it as such."""
        ignore = ["sh", "-c", 'trap "" TERM; exec "$@"', "sh"]
        n, l = self.both([prog("exitways"), "sigterm-survive"], ZERO_RULES, prefix=ignore)
        self.assertIn("dispositions: ignored", l.stdout)
        self.assertIn("survived", l.stdout)
        self.assertServed(l, "big", zeroed=True)

    def test_poisoned_page_sigbus(self):
        """The crash a tester needs the figures of most: a poisoned page."""
        rules = ("[poison]\nmatch = anon\nmin_size = 2M\nmax_size = 2M\naction = poison\n"
                 "pages = 5\n\n" + ZERO_RULES)
        n = self.native([prog("exitways"), "poisoned"])
        self.assertEqual(n.rc, 0, n.describe())
        l = self.lib([prog("exitways"), "poisoned"], rules)
        self.assertEqual(l.rc, -signal.SIGBUS, l.describe())
        self.assertNotIn("read page 5", l.stdout)
        self.assertStatsValid(l, pids=1)
        self.assertServed(l, "big", zeroed=True)
        p = self.assertServed(l, "poison")
        self.assertEqual(p["pages_poisoned"], 1, p)
        self.assertLogLines(l, r": warn: .*'poison'.*page 5", count=1)


class FiguresTest(LFTestCase):
    def test_sequential_write_256mib(self):
        n, l = self.both([prog("bigseq"), "256", "write"], ZERO_RULES, timeout=90)
        self.assertIn("checksum", l.stdout)
        r = self.assertServed(l, "big", zeroed=True)
        self.assertEqual(r["regions"], 1, r)
        self.assertEqual(r["bytes_registered"], 256 * MiB, r)
        self.assertGreaterEqual(r["pages_zeroed"], 256 * MiB // PAGE, r)
        # readahead is at least 64K per fault (default): at most one fault
        # per 16 pages, give or take the first ones.
        self.assertLessEqual(r["faults"], 256 * MiB // (64 << 10) + 16, r)
        self.assertEqual((r["pages_loaded"], r["bytes_read"], r["pages_poisoned"]), (0, 0, 0), r)
        self.assertGreater(r["fault_ns_p50"], 0, r)
        self.assertGreaterEqual(r["fault_ns_p99"], r["fault_ns_p50"], r)

    def test_stream_runs_into_present_pages(self):
        """15 pages spread over 64 MiB written first, then every page in
        order: each present page cuts a window short, and the faults after
        it inside the window go on with the stream (its windows keep
        growing): about as few faults as without the 15 pages."""
        n, l = self.both([prog("bigseq"), "64", "scattered"], ZERO_RULES)
        r = self.assertServed(l, "big", zeroed=True)
        self.assertGreaterEqual(r["pages_zeroed"], 64 * MiB // PAGE, r)
        self.assertLess(r["faults"], 160, r)

    def test_sequential_read_then_write(self):
        n, l = self.both([prog("bigseq"), "64", "both"], ZERO_RULES)
        r = self.assertServed(l, "big", zeroed=True)
        self.assertGreaterEqual(r["pages_zeroed"], 64 * MiB // PAGE, r)

    def test_rules_in_file_order_unmatched_rule_is_zero(self):
        rules = ("[small]\nmatch = anon\nmin_size = 1M\nmax_size = 2M\n\n"
                 "[never]\nmatch = anon\nmin_size = 100G\n\n"
                 "[\"odd\" name]\nmatch = anon\nmin_size = 4M\n")
        n, l = self.both([prog("anon_zero"), "16"], rules)
        self.assertStatsValid(l, pids=1)
        names = [r["name"] for r in l.main_stats["rules"]]
        self.assertEqual(names, ["small", "never", '"odd" name'], l.describe())
        self.assertServed(l, "small", zeroed=True)
        self.assertServed(l, '"odd" name', zeroed=True)
        never = l.rule("never")
        self.assertEqual([never[k] for k in ("regions", "bytes_registered", "faults", "pages_zeroed")],
                         [0, 0, 0, 0], never)

    def test_stats_key_in_global_with_pid(self):
        """[global] stats = path with %p, no LAZYFAULT_STATS: one file per
        process (fork: parent and children)."""
        d = self.tmpdir()
        rules = f"[global]\nstats = {d}/run-%p.json\n\n" + ZERO_RULES
        n, l = self.both([prog("fork")], rules, stats=False)
        files = sorted(d.glob("run-*.json"))
        self.assertEqual(len(files), 4, files)
        for f in files:
            doc = json.loads(f.read_text())
            self.assertEqual(f"run-{doc['pid']}.json", f.name)
            self.assertGreater(doc["rules"][0]["faults"], 0, doc)

    def test_env_overrides_global_stats(self):
        d = self.tmpdir()
        rules = f"[global]\nstats = {d}/global-%p.json\n\n" + ZERO_RULES
        n, l = self.both([prog("anon_zero"), "8"], rules)
        self.assertServed(l, "big")
        self.assertEqual(list(d.glob("global-*.json")), [])


if __name__ == "__main__":
    unittest.main()
