"""`action = poison`: which pages a poison rule poisons, how the program sees
it, and what the library reports about it (lazyfault.ini(5): the poison keys,
the decision order, `caller`, `delay`, the statistics file; UFFDIO_POISON,
Linux 6.6).

The programs (tests/progs/poison_*.c) catch SIGBUS with a handler and
siglongjmp, and print which page indexes raised it; they check themselves
that si_addr lies in the touched page, that the signal came to the touching
thread and that every other page holds the right bytes.  The tests check
the set of poisoned pages against the rules, the library's warn line for
each poisoned page and the statistics.

    poison_touch    one region (anon, malloc, file, anon loaded from a
                    source), pages touched in a given order
    poison_thread   a second thread touches the poisoned page
    poison_caller   regions allocated by static functions (caller = ...)
    poison_delay    a delayed rule next to an undelayed one
plus git on a repository whose pack file has a poisoned first page.
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
from pathlib import Path

from util import BUILD, LIB_ENV, LFTestCase, MiB, make_source, prog, run_native, write_file

PAGE = 4096
COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or BUILD / "lazyfault")
SIGBUS_STATUS = 128 + signal.SIGBUS  # 135: what `lazyfault run` exits with

# lazyfault[PID]: warn: rule 'R': poisoned page 0xADDR (page N of region
# NUMBER, 0xA-0xB[, FILE offset OFF]), thread TID
POISON_LINE = re.compile(
    r"lazyfault\[(?P<pid>\d+)\]: warn: rule '(?P<rule>[^']*)': poisoned page 0x(?P<addr>[0-9a-f]+)"
    r" \(page (?P<index>\d+) of region (?P<region>\d+), 0x(?P<lo>[0-9a-f]+)-0x(?P<hi>[0-9a-f]+)"
    r"(?:, (?P<file>.+) offset (?P<offset>\d+))?\), thread (?P<tid>\d+)")


def anon_rules(body, npages=32, name="p", extra=""):
    """A poison rule that takes only the program's region of npages pages."""
    size = npages * PAGE
    return (f"[{name}]\nmatch = anon\nmin_size = {size}\nmax_size = {size}\n"
            f"action = poison\n{body}\n{extra}")


def sigbus_pages(run):
    """The page indexes a poison_touch run reported, as a sorted list."""
    m = re.search(r"^sigbus pages: (.*)$", run.stdout, re.M)
    if not m:
        raise AssertionError("no 'sigbus pages' line:\n" + run.describe())
    return [] if m.group(1) == "none" else [int(x) for x in m.group(1).split(",")]


def poison_log(run):
    """The library's 'poisoned page' lines, parsed."""
    out = []
    for line in run.log_lines:
        m = POISON_LINE.search(line)
        if m:
            d = m.groupdict()
            for k in ("pid", "index", "region", "tid"):
                d[k] = int(d[k])
            for k in ("addr", "lo", "hi"):
                d[k] = int(d[k], 16)
            d["offset"] = None if d["offset"] is None else int(d["offset"])
            out.append(d)
    return out


def scratch_dir(prefix="poison-it-"):
    """A fresh directory every user may use.  Not /tmp/lf*: other suites
    clean those up, maybe while these tests run."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o777)
    return d


def lib_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in LIB_ENV}
    env.setdefault("LC_ALL", "C")
    env.update(extra or {})
    return env


def command(*args, cwd=None, env=None, timeout=60):
    """Run build/lazyfault (util's runner: own session, a hang fails)."""
    r = run_native([COMMAND, *args], cwd=cwd, env=env, timeout=timeout)
    return subprocess.CompletedProcess(r.argv, r.rc, r.stdout, r.stderr)


class PoisonCase(LFTestCase):
    def tmpdir(self):
        d = scratch_dir()
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        return d

    def touch(self, rules, npages=32, order="seq", kind="anon", flags=(), **kw):
        """poison_touch under the library; it must pass its own checks."""
        l = self.lib([prog("poison_touch"), kind, str(npages), order, *flags], rules, **kw)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "poison_touch")
        self.assertNoLibErrors(l)
        return l

    def assertPoisoned(self, run, rule, pages, npages=None):
        """Exactly `pages` raised SIGBUS, the rule's statistics count them,
        and each has its warn line naming the rule, the page's address and
        index, its region and the thread (the main thread: the pid)."""
        self.assertEqual(sigbus_pages(run), sorted(pages), run.describe())
        r = self.assertServed(run, rule, min_faults=len(pages))
        self.assertEqual(r["pages_poisoned"], len(pages), r)
        log = [d for d in poison_log(run) if d["rule"] == rule]
        self.assertEqual(sorted(d["index"] for d in log), sorted(pages),
                         "warn lines:\n" + run.describe())
        for d in log:
            self.assertEqual(d["addr"], d["lo"] + d["index"] * PAGE, d)
            self.assertEqual(d["tid"], run.pid, d)
            self.assertEqual(d["pid"], run.pid, d)
            if npages is not None:
                self.assertEqual(d["hi"] - d["lo"], npages * PAGE, d)
        return r


# ---------------------------------------------------------------------------
# Triggers: pages, after/every/times, probability/seed


class TriggerTest(PoisonCase):
    def test_native_touches_raise_nothing(self):
        n = self.native([prog("poison_touch"), "anon", "32"])
        self.assertEqual(n.rc, 0, n.describe())
        self.assertEqual(sigbus_pages(n), [])
        self.assertAllChecksPassed(n, "poison_touch")

    def test_pages_single(self):
        l = self.touch(anon_rules("pages = 3"))
        r = self.assertPoisoned(l, "p", [3], npages=32)
        # One page per fault: each first touch was a fault of its own.
        self.assertEqual(r["faults"], 32, r)
        self.assertEqual(r["pages_zeroed"], 31, r)
        self.assertEqual(r["action"], "poison", r)

    def test_pages_list_ranges_last(self):
        want = [0, 5, 10, 11, 12, 31]
        for order, flags in (("seq", ()), ("rev", ()), ("seq", ("write",))):
            with self.subTest(order=order, flags=flags):
                l = self.touch(anon_rules("pages = 0,5,10-12,last"), order=order, flags=flags)
                self.assertPoisoned(l, "p", want, npages=32)

    def test_pages_all(self):
        l = self.touch(anon_rules("pages = all"))
        self.assertPoisoned(l, "p", list(range(32)), npages=32)

    def test_no_trigger_key_poisons_every_page(self):
        l = self.touch(anon_rules("", npages=16), npages=16)
        self.assertPoisoned(l, "p", list(range(16)), npages=16)

    def test_after_every_times(self):
        """lazyfault.ini(5)'s example: after = 5, every = 3, times = 4
        poisons faults 8, 11, 14 and 17, and nothing after."""
        rules = anon_rules("after = 5\nevery = 3\ntimes = 4")
        l = self.touch(rules)
        r = self.assertPoisoned(l, "p", [7, 10, 13, 16], npages=32)
        self.assertEqual((r["faults"], r["pages_zeroed"]), (32, 28), r)
        # Faults are numbered in the order served, not by page index:
        # touched from the last page down, faults 8, 11, 14, 17 are pages
        # 24, 21, 18, 15.
        l = self.touch(rules, order="rev")
        self.assertPoisoned(l, "p", [24, 21, 18, 15], npages=32)

    def test_times(self):
        with self.subTest("times = 3"):
            l = self.touch(anon_rules("times = 3"))
            self.assertPoisoned(l, "p", [0, 1, 2])
        with self.subTest("times = 3, every = 2"):
            l = self.touch(anon_rules("times = 3\nevery = 2"))
            self.assertPoisoned(l, "p", [1, 3, 5])
        with self.subTest("times = 0"):
            l = self.touch(anon_rules("times = 0"))
            r = self.assertPoisoned(l, "p", [])
            self.assertEqual(r["pages_zeroed"], 32, r)
        with self.subTest("times = -1 (unlimited), after = 30"):
            l = self.touch(anon_rules("times = -1\nafter = 30"))
            self.assertPoisoned(l, "p", [30, 31])

    def test_listed_page_wins_over_triggers(self):
        """Decision order 1: a listed page is poisoned whatever the other
        keys say (probability = 0 here)."""
        l = self.touch(anon_rules("pages = 3\nprobability = 0"))
        self.assertPoisoned(l, "p", [3])

    def test_probability_seed_reproducible(self):
        rules42 = anon_rules("probability = 0.3\nseed = 42", npages=64)
        a = self.touch(rules42, npages=64)
        b = self.touch(rules42, npages=64)
        pa, pb = sigbus_pages(a), sigbus_pages(b)
        self.assertEqual(pa, pb, "same seed, same program, different pages:\n"
                         + a.describe() + "\n" + b.describe())
        # 0.3 of 64 faults: neither none nor all (P(none) = 0.7^64 ~ 1e-10).
        self.assertTrue(0 < len(pa) < 64, pa)
        self.assertPoisoned(a, "p", pa, npages=64)
        self.assertEqual(a.rule("p")["seed"], 42, a.rule("p"))
        c = self.touch(anon_rules("probability = 0.3\nseed = 43", npages=64), npages=64)
        self.assertNotEqual(sigbus_pages(c), pa, "seeds 42 and 43 poisoned the same pages")
        self.assertEqual(c.rule("p")["seed"], 43)

    def test_seed_chosen_is_written_and_replays(self):
        body = "probability = 0.5"
        a = self.touch(anon_rules(body, npages=64), npages=64, log_level="info")
        seed = a.rule("p")["seed"]
        pa = sigbus_pages(a)
        self.assertTrue(0 < len(pa) < 64, pa)
        # The chosen seed is logged at info, too.
        self.assertLogLines(a, rf": info: .*\b{seed}\b")
        b = self.touch(anon_rules(f"{body}\nseed = {seed}", npages=64), npages=64)
        self.assertEqual(sigbus_pages(b), pa, f"seed {seed} given back did not replay the run:\n"
                         + a.describe() + "\n" + b.describe())
        self.assertEqual(b.rule("p")["seed"], seed)

    def test_probability_edges(self):
        with self.subTest("probability = 0"):
            l = self.touch(anon_rules("probability = 0"))
            r = self.assertPoisoned(l, "p", [])
            self.assertEqual((r["faults"], r["pages_zeroed"]), (32, 32), r)
        with self.subTest("probability = 1"):
            l = self.touch(anon_rules("probability = 1\nseed = 7"))
            self.assertPoisoned(l, "p", list(range(32)))


# ---------------------------------------------------------------------------
# Where: file mappings, malloc blocks, anon loaded from a source


class RegionKindTest(PoisonCase):
    def test_file_mapping(self):
        """pages count from the start of the mapping (mapped here at file
        offset 8 pages); the log names the file and the page's offset; the
        other pages hold the file's bytes (fill = load, the default)."""
        d = self.tmpdir()
        data = make_source(d / "poison-data.bin", size=48 * PAGE, seed=3)
        offset = 8 * PAGE
        rules = ("[f]\nmatch = file\npath = */poison-data.bin\naction = poison\n"
                 "pages = 3,last\n")
        for flags in ((), ("write",)):
            with self.subTest(flags=flags):
                self.file_mapping(data, offset, rules, flags)

    def file_mapping(self, data, offset, rules, flags):
        argv = [prog("poison_touch"), f"file:{data}:{offset}", "32", "seq", *flags]
        n = self.native(argv)
        self.assertEqual(n.rc, 0, n.describe())
        self.assertAllChecksPassed(n, "poison_touch")
        l = self.lib(argv, rules)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "poison_touch")
        r = self.assertPoisoned(l, "f", [3, 31], npages=32)
        self.assertEqual(r["pages_loaded"], 30, r)
        self.assertGreater(r["bytes_read"], 0, r)
        log = sorted(poison_log(l), key=lambda d: d["index"])
        self.assertEqual([(Path(x["file"]).resolve(), x["offset"]) for x in log],
                         [(data.resolve(), offset + 3 * PAGE), (data.resolve(), offset + 31 * PAGE)],
                         l.describe())

    def test_malloc_block_fill_zero(self):
        rules = ("[m]\nmatch = malloc\nmin_size = 1M\naction = poison\nfill = zero\n"
                 "pages = 2,5\n")
        for flags in ((), ("write",)):
            with self.subTest(flags=flags):
                self.malloc_block(rules, flags)

    def malloc_block(self, rules, flags):
        argv = [prog("poison_touch"), "malloc", "512", "0,1,2,3,4,5,6,7", *flags]
        n = self.native(argv)
        self.assertEqual(n.rc, 0, n.describe())
        self.assertEqual(sigbus_pages(n), [])
        l = self.lib(argv, rules)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "poison_touch")
        r = self.assertPoisoned(l, "m", [2, 5])
        self.assertEqual(r["regions"], 1, r)
        self.assertGreaterEqual(r["bytes_registered"], 2 * MiB, r)
        # 8 pages touched, one page per fault: 6 zeroed, 2 poisoned.
        self.assertEqual((r["faults"], r["pages_zeroed"], r["pages_loaded"]), (8, 6, 0), r)

    def test_fill_load_from_source_on_anon(self):
        d = self.tmpdir()
        src = make_source(d / "src.bin", size=40 * PAGE + 100, seed=9)
        rules = anon_rules(f"fill = load\nsource = {src}\nsource_offset = 8192\npages = 1,4")
        for flags in ((), ("write",)):
            with self.subTest(flags=flags):
                l = self.touch(rules, kind=f"source:{src}:8192", flags=flags)
                r = self.assertPoisoned(l, "p", [1, 4], npages=32)
                self.assertEqual(r["pages_loaded"], 30, r)
                self.assertEqual(r["pages_zeroed"], 0, r)
                self.assertGreater(r["bytes_read"], 0, r)


# ---------------------------------------------------------------------------
# The signal: which thread, which address; the statistics of a crash


class SignalTest(PoisonCase):
    def test_sigbus_in_the_touching_thread(self):
        argv = [prog("poison_thread"), "32", "3"]
        n = self.native(argv)
        self.assertEqual(n.rc, 0, n.describe())
        self.assertAllChecksPassed(n, "poison_thread")
        l = self.lib(argv + ["expect"], anon_rules("pages = 3"))
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "poison_thread")
        tid = int(re.search(r"^info: toucher tid (\d+)$", l.stdout, re.M).group(1))
        self.assertNotEqual(tid, l.pid)
        log = poison_log(l)
        self.assertEqual(len(log), 1, l.describe())
        self.assertEqual((log[0]["index"], log[0]["tid"]), (3, tid),
                         "the log names another thread than the one that touched:\n"
                         + l.describe())
        self.assertEqual(l.rule("p")["pages_poisoned"], 1)

    def test_stats_complete_when_sigbus_kills(self):
        """No handler: the poisoned page ends the program; the statistics
        file is still complete, under LD_PRELOAD and under `lazyfault run`
        (which exits 128 + SIGBUS)."""
        rules = anon_rules("pages = 4")
        argv = [prog("poison_touch"), "anon", "32", "seq", "nohandler"]
        l = self.lib(argv, rules)
        self.assertEqual(l.rc, -signal.SIGBUS, l.describe())
        self.assertNotIn("sigbus pages", l.stdout)
        self.assertStatsValid(l, pids=1)
        r = self.assertServed(l, "p", min_faults=5)
        self.assertEqual(r["pages_poisoned"], 1, r)
        self.assertEqual(r["pages_zeroed"], 4, r)
        self.assertEqual([d["index"] for d in poison_log(l)], [4], l.describe())

        d = self.tmpdir()
        rfile = write_file(d / "rules.ini", rules)
        c = command("run", "-r", rfile, "-s", d / "stats.%p.json", "--", *argv, cwd=d)
        self.assertEqual(c.returncode, SIGBUS_STATUS, c.stdout + c.stderr)
        files = list(d.glob("stats.*.json"))
        self.assertEqual(len(files), 1, files)
        doc = json.loads(files[0].read_text())
        self.assertEqual(files[0].name, f"stats.{doc['pid']}.json")
        (rule,) = doc["rules"]
        self.assertEqual((rule["name"], rule["action"]), ("p", "poison"), doc)
        self.assertGreaterEqual(rule["pages_poisoned"], 1, doc)
        self.assertGreaterEqual(rule["faults"], 5, doc)


# ---------------------------------------------------------------------------
# caller = GLOB


CALLER_RULES = """\
[ghost]
match = anon
min_size = 1M
caller = no_such_function_*
action = poison

[grab_mmap]
match = anon
min_size = 1M
caller = grab_*
{depth}action = {action}
{trigger}
[grab_malloc]
match = malloc
min_size = 1M
caller = grab_*
{depth}action = {action}
{trigger}
[rest]
match = anon
min_size = 1M
action = zero

[rest_malloc]
match = malloc
min_size = 1M
action = zero
"""

REGIONS = ("grab_buffer/mmap", "other_alloc/mmap", "grab_deep/mmap",
           "grab_buffer/malloc", "other_alloc/malloc", "grab_deep/malloc")


def caller_rules(action="poison", trigger="pages = 1\n", depth=None):
    return CALLER_RULES.format(action=action, trigger=trigger,
                               depth=f"caller_depth = {depth}\n" if depth is not None else "")


def caller_sigbus(run):
    """region name -> list of pages that raised SIGBUS (poison_caller)."""
    out = {}
    for name in REGIONS:
        m = re.search(rf"^{re.escape(name)}: sigbus pages (\S+)$", run.stdout, re.M)
        if not m:
            raise AssertionError(f"no line for {name}:\n" + run.describe())
        out[name] = [] if m.group(1) == "none" else [int(x) for x in m.group(1).split(",")]
    return out


class CallerTest(PoisonCase):
    def caller_run(self, rules):
        l = self.lib([prog("poison_caller")], rules)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "poison_caller")
        self.assertStatsValid(l, pids=1)
        return l

    def assertRegions(self, run, rule, n):
        r = run.rule(rule)
        self.assertIsNotNone(r, run.describe())
        self.assertEqual(r["regions"], n, f"rule {rule}: {r}\n" + run.describe())
        self.assertEqual(r["bytes_registered"], n * 2 * MiB, r)
        return r

    def test_depth_1_only_direct_callers(self):
        """caller_depth = 1: only the innermost frame counts: grab_buffer's
        regions (mmap and malloc) are poisoned; grab_deep's allocation is
        made one frame down (raw_alloc), other_alloc's does not match."""
        l = self.caller_run(caller_rules(depth=1))
        want = {name: ([1] if name.startswith("grab_buffer/") else []) for name in REGIONS}
        self.assertEqual(caller_sigbus(l), want, l.describe())
        for rule in ("grab_mmap", "grab_malloc"):
            r = self.assertRegions(l, rule, 1)
            self.assertEqual(r["pages_poisoned"], 1, r)
        self.assertRegions(l, "rest", 2)
        self.assertRegions(l, "rest_malloc", 2)
        self.assertRegions(l, "ghost", 0)

    def test_default_depth_deeper_chain(self):
        """caller_depth defaults to 8: grab_deep -> raw_alloc -> mmap/malloc
        matches too; other_alloc still never does."""
        for depth in (None, 2):
            with self.subTest(depth=depth):
                l = self.caller_run(caller_rules(depth=depth))
                want = {name: ([] if name.startswith("other_alloc/") else [1])
                        for name in REGIONS}
                self.assertEqual(caller_sigbus(l), want, l.describe())
                for rule in ("grab_mmap", "grab_malloc"):
                    r = self.assertRegions(l, rule, 2)
                    self.assertEqual(r["pages_poisoned"], 2, r)
                    logged = [d for d in poison_log(l) if d["rule"] == rule]
                    self.assertEqual(sorted(d["index"] for d in logged), [1, 1], l.describe())
                self.assertRegions(l, "rest", 1)
                self.assertRegions(l, "rest_malloc", 1)

    def test_zero_rule_with_caller_counts_its_regions(self):
        """The same choice with action = zero: nothing raises SIGBUS, the
        output is the native one, and the caller rules count exactly the
        regions grab_buffer allocated."""
        n, l = self.both([prog("poison_caller")], caller_rules("zero", "", depth=1))
        for rule in ("grab_mmap", "grab_malloc"):
            r = self.assertRegions(l, rule, 1)
            self.assertGreater(r["pages_zeroed"], 0, r)
            self.assertEqual(r["pages_poisoned"], 0, r)
        self.assertRegions(l, "rest", 2)
        self.assertRegions(l, "rest_malloc", 2)

    def test_check_reports_callers(self):
        exe = prog("poison_caller")
        d = self.tmpdir()
        rules = write_file(d / "callers.ini",
                           "[g]\nmatch = anon\ncaller = grab_buffer\n\n"
                           "[o]\nmatch = malloc\ncaller = other_*\n\n"
                           "[x]\nmatch = anon\ncaller = no_such_function_*\n")
        c = command("check", rules, exe)
        self.assertEqual(c.returncode, 1, c.stdout + c.stderr)
        self.assertIn(f"rule 'g': caller 'grab_buffer' found: grab_buffer in {exe}", c.stdout)
        self.assertIn(f"rule 'o': caller 'other_*' found: other_alloc in {exe}", c.stdout)
        self.assertIn(f"rule 'x': caller 'no_such_function_*' not found in {exe} or its "
                      "libraries", c.stdout)
        good = write_file(d / "good.ini", "[g]\nmatch = anon\ncaller = grab_*\n")
        c = command("check", good, exe)
        self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
        self.assertRegex(c.stdout, rf"rule 'g': caller 'grab_\*' found: grab_(buffer|deep) in "
                         rf"{re.escape(exe)}")


# ---------------------------------------------------------------------------
# delay


DELAY_RULES = """\
[slow]
match = anon
min_size = 2M
max_size = 2M
action = zero
delay = 20ms

[fast]
match = anon
min_size = 32M
max_size = 32M
action = zero
"""


def realtime_prefix():
    """chrt -f 10 when this user may use it: the measurement is then not
    at the mercy of other processes on a busy machine."""
    chrt = shutil.which("chrt")
    if chrt and subprocess.run([chrt, "-f", "10", "true"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL).returncode == 0:
        return [chrt, "-f", "10"]
    return []


class DelayTest(PoisonCase):
    def test_delay_holds_its_rule_only(self):
        """A thread reading the fast region is not slowed while a fault of
        the delayed region waits (each fast read well under 20 ms, at least
        8 of them while a delayed fault was pending); each delayed read
        takes at least 20 ms.  Timings are noisy on a loaded machine: up to
        three attempts, one of which must pass every check."""
        argv = [prog("poison_delay"), "2", "32", "20", "5"]
        prefix = realtime_prefix()
        runs = []
        for _ in range(3):
            l = self.lib(argv, DELAY_RULES, prefix=prefix)
            runs.append(l)
            if l.rc == 0 and "FAIL:" not in l.stdout:
                break
        self.assertEqual(l.rc, 0, "\n\n".join(r.describe() for r in runs))
        self.assertAllChecksPassed(l, "poison_delay")
        slow = self.assertServed(l, "slow", zeroed=True, min_faults=5)
        fast = self.assertServed(l, "fast", zeroed=True, min_faults=8)
        self.assertEqual(slow["regions"], 1, slow)
        self.assertEqual(fast["regions"], 1, fast)


# ---------------------------------------------------------------------------
# A real program: git reading a pack with a poisoned first page


GIT_RULES = """\
[bad]
match = file
path = */objects/pack/*.pack
action = poison
pages = 0
"""


@unittest.skipUnless(shutil.which("git"), "git is not installed")
class GitTest(PoisonCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.git = shutil.which("git")
        cls.home = scratch_dir("poison-it-git-")
        cls.repo = cls.home / "repo"
        cls.env = {"HOME": str(cls.home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_PAGER": "cat",
                   "PAGER": "cat", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
                   "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
                   "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
        env = lib_env(cls.env)

        def git(*args):
            subprocess.run([cls.git, *args], cwd=cls.repo, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

        cls.repo.mkdir()
        git("init", "-q")
        rnd = random.Random(11)
        # Hex of random bytes: compresses to about half, so the pack is
        # well above a file rule's 64K minimum.
        for i in range(3):
            (cls.repo / f"file{i}.txt").write_text(
                "\n".join(rnd.randbytes(32).hex() for _ in range(2000)) + "\n")
            git("add", ".")
            git("commit", "-q", "-m", f"commit {i}")
        git("gc", "-q")
        packs = list((cls.repo / ".git" / "objects" / "pack").glob("*.pack"))
        assert len(packs) == 1, packs
        cls.pack = packs[0]
        assert cls.pack.stat().st_size >= 128 << 10, cls.pack.stat().st_size

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, ignore_errors=True)

    def test_native_git_log(self):
        n = self.native([self.git, "log", "-p"], env=self.env, cwd=self.repo)
        self.assertEqual(n.rc, 0, n.describe())
        self.assertIn("commit 0", n.stdout)

    def assertPackPoisoned(self, log_lines, stats_rule, where):
        hits = [POISON_LINE.search(x) for x in log_lines]
        hits = [m for m in hits if m]
        self.assertTrue(hits, "no 'poisoned page' line:\n" + where)
        m = hits[0]
        self.assertEqual(m["rule"], "bad", where)
        self.assertEqual(m["index"], "0", where)
        self.assertEqual(Path(m["file"]).resolve(), self.pack.resolve(), where)
        self.assertEqual(m["offset"], "0", where)
        self.assertGreaterEqual(stats_rule["pages_poisoned"], 1, where)

    def test_git_log_dies_of_sigbus_under_lazyfault_run(self):
        d = self.tmpdir()
        rules = write_file(d / "rules.ini", GIT_RULES)
        c = command("run", "-r", rules, "-s", d / "stats.%p.json", "--", self.git, "log", "-p",
                    cwd=self.repo, env=self.env)
        where = f"rc {c.returncode}\nstderr:\n{c.stderr[-3000:]}"
        self.assertEqual(c.returncode, SIGBUS_STATUS, where)
        files = list(d.glob("stats.*.json"))
        self.assertEqual(len(files), 1, where)
        doc = json.loads(files[0].read_text())
        (rule,) = doc["rules"]
        self.assertEqual((rule["name"], rule["action"]), ("bad", "poison"), doc)
        self.assertGreaterEqual(rule["regions"], 1, doc)
        lines = [x for x in c.stderr.splitlines() if re.match(r"lazyfault\[\d+\]: ", x)]
        self.assertPackPoisoned(lines, rule, where + f"\nstats: {doc}")

    def test_git_log_dies_of_sigbus_directly(self):
        l = self.lib([self.git, "log", "-p"], GIT_RULES, env=self.env, cwd=self.repo)
        self.assertEqual(l.rc, -signal.SIGBUS, l.describe())
        self.assertStatsValid(l, pids=1)
        r = self.assertServed(l, "bad")
        self.assertPackPoisoned(l.log_lines, r, l.describe())


# ---------------------------------------------------------------------------
# Bad trigger values


class BadTriggerTest(PoisonCase):
    BAD = {
        "pages = 5-2": "pages",
        "every = 0": "every",
        "probability = -1": "probability",
        "delay = 3 parsecs": "delay",
    }

    def test_refused_with_the_line(self):
        d = self.tmpdir()
        marker = d / "ran"
        for line, key in self.BAD.items():
            with self.subTest(line=line):
                # The bad key is on line 7.
                text = ("[global]\nlog = stderr\n\n[t]\nmatch = anon\naction = poison\n"
                        f"{line}\n")
                f = write_file(d / "bad.ini", text)
                c = command("check", f)
                self.assertEqual(c.returncode, 2, c.stdout + c.stderr)
                self.assertRegex(c.stderr, rf"{re.escape(str(f))}:7\b")
                self.assertIn(key, c.stderr)
                # And nothing runs.
                c = command("run", "-r", f, "--", "/usr/bin/touch", marker)
                self.assertEqual(c.returncode, 2, c.stdout + c.stderr)
                self.assertFalse(marker.exists(), f"the program ran with {line!r}")


if __name__ == "__main__":
    unittest.main()
