"""Injection where the tester means it: the Nth region or allocation of a
rule (`regions`), one program of a tree (`program`), keys from the command
line (`-D`), seeds that replay a whole tree, allocations that fail (`action =
fail`) and run-time control (`control = yes`, `lazyfault ctl`), each against
the real kernel.

Programs (tests/progs/):
    nth_alloc      several same-sized regions, each page touched, SIGBUS reported
    poison_touch   one region, each page touched (test_poison.py's)
    fail_alloc     every allocation call once, each result checked
    ctl_target     waits for orders on stdin, for `lazyfault ctl` in between
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

from util import BUILD, LIB, LFTestCase, NOBODY, SYS_PYTHON, prog, write_file

COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or BUILD / "lazyfault")
PAGE = 4096
SEED_MAX = (1 << 53) - 1


def sigbus_by_region(out, who=""):
    """{region number: [pages that raised SIGBUS]} from nth_alloc's output
    (who: "child " for the lines of its child)."""
    got = {}
    for m in re.finditer(rf"^{who}region (\d+): sigbus (none|pages ([0-9,]+))$", out, re.M):
        got[int(m.group(1))] = [int(x) for x in m.group(3).split(",")] if m.group(3) else []
    return got


def sigbus_lines(out):
    return re.findall(r"^sigbus pages: .*$", out, re.M)


class TriggersCase(LFTestCase):
    """Runs through `lazyfault run`, whose statistics files land in the run's
    directory (the program's pid is not the command's)."""

    def cmd_env(self, **extra):
        env = {"LAZYFAULT_LIBRARY": str(LIB)}
        env.update(extra)
        return env

    def lf_run(self, rules, argv, *, defines=(), tmp=None, env=None, input=None, name="rules.ini"):
        tmp = tmp or self.tmpdir()
        rules_path = write_file(tmp / name, rules)
        args = [COMMAND, "run", "-r", rules_path, "-s", tmp / "stats.%p.json"]
        for d in defines:
            args += ["-D", d]
        return self.native(args + ["--"] + list(argv), tmp=tmp, read_stats=True,
                           env=self.cmd_env(**(env or {})), input=input)

    def lf_cmd(self, *args, env=None, **kw):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("LAZYFAULT_") and k != "LD_PRELOAD"}
        e.update(self.cmd_env(**(env or {})))
        return subprocess.run([COMMAND, *map(str, args)], capture_output=True, text=True,
                              env=e, timeout=60, **kw)

    def rules_of(self, run, name):
        """(pid, stats of rule `name`) for every process that wrote statistics."""
        out = []
        for pid, doc in sorted(run.stats.items()):
            for r in doc["rules"]:
                if r["name"] == name:
                    out.append((pid, r))
        return out

    def only_process(self, run):
        self.assertStatsValid(run, pid=min(run.stats) if run.stats else run.pid)
        self.assertEqual(len(run.stats), 1, run.describe())
        return next(iter(run.stats))


# ---------------------------------------------------------------- regions

class RegionsTest(TriggersCase):
    def test_second_of_four_mallocs_and_nothing_else(self):
        """regions = 2 on four mallocs of one size: every page of the second
        raises SIGBUS, no page of the others; the rule numbered four, took
        one, and the log names region 2 for each poisoned page."""
        rules = ("[second]\nmatch = malloc\nmin_size = 64K\nmax_size = 64K\n"
                 "action = poison\nregions = 2\n")
        n = self.native([prog("nth_alloc"), "malloc", "4", "16"])
        self.assertEqual(sigbus_by_region(n.stdout), {1: [], 2: [], 3: [], 4: []}, n.stdout)
        l = self.lib([prog("nth_alloc"), "malloc", "4", "16"], rules)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "nth_alloc")
        self.assertEqual(sigbus_by_region(l.stdout), {1: [], 2: list(range(16)), 3: [], 4: []},
                         l.describe())
        r = self.assertServed(l, "second")
        self.assertEqual((r["regions"], r["regions_numbered"], r["region_numbers"]), (1, 4, "2"),
                         l.describe())
        self.assertEqual((r["faults"], r["pages_poisoned"]), (16, 16), l.describe())
        lines = self.assertLogLines(l, r"rule 'second': poisoned page 0x[0-9a-f]+ \(page \d+ of region 2, ",
                                    16)
        self.assertLogLines(l, r"poisoned page", len(lines))

    def test_pages_and_triggers_count_inside_the_chosen_regions(self):
        """pages count within each chosen region; the triggers number the
        faults of the chosen regions only (region 1's are not the rule's)."""
        argv = [prog("nth_alloc"), "anon", "3", "8"]
        base = "[p]\nmatch = anon\nmin_size = 32K\nmax_size = 32K\naction = poison\n"
        l = self.lib(argv, base + "regions = 2-3\npages = 1\n")
        self.assertEqual(sigbus_by_region(l.stdout), {1: [], 2: [1], 3: [1]}, l.describe())
        r = self.assertServed(l, "p")
        self.assertEqual((r["regions"], r["region_numbers"], r["faults"], r["pages_poisoned"]),
                         (2, "2-3", 16, 2), l.describe())
        # the 10th fault of the rule is page 1 of region 3 (region 2 served 8)
        l = self.lib(argv, base + "regions = 2-3\nafter = 9\ntimes = 1\n")
        self.assertEqual(sigbus_by_region(l.stdout), {1: [], 2: [], 3: [1]}, l.describe())
        self.assertEqual(self.assertServed(l, "p")["pages_poisoned"], 1)

    def test_a_forked_child_goes_on_with_its_parents_numbers(self):
        """The parent numbers two regions; its child's next is number 3,
        which regions = 3 takes in the child alone."""
        rules = ("[third]\nmatch = anon\nmin_size = 32K\nmax_size = 32K\naction = poison\n"
                 "regions = 3\n")
        l = self.lib([prog("nth_alloc"), "anon", "2", "8", "fork"], rules)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "nth_alloc")
        self.assertEqual(sigbus_by_region(l.stdout), {1: [], 2: []}, l.describe())
        self.assertEqual(sigbus_by_region(l.stdout, "child "), {1: [], 2: [], 3: list(range(8))},
                         l.describe())
        (child,) = l.child_pids()
        r = self.assertServed(l, "third", child)
        self.assertEqual((r["regions_numbered"], r["region_numbers"], r["pages_poisoned"]),
                         (3, "3", 8), l.describe())
        self.assertEqual(l.stats[child]["tree_position"], "/f1")
        parent = l.rule("third")
        self.assertEqual((parent["regions_numbered"], parent["regions"]), (2, 0), l.describe())

    def test_regions_of_a_zero_rule_and_the_next_rule(self):
        """A region the rule does not choose goes on to the next rule; the
        program's memory is what it is without the library."""
        rules = ("[odd]\nmatch = anon\nmin_size = 32K\nmax_size = 32K\nregions = 1,3\n"
                 "[rest]\nmatch = anon\nmin_size = 32K\nmax_size = 32K\n")
        n, l = self.both([prog("nth_alloc"), "anon", "4", "8"], rules)
        odd, rest = self.assertServed(l, "odd"), self.assertServed(l, "rest")
        self.assertEqual((odd["regions"], odd["region_numbers"], odd["regions_numbered"]),
                         (2, "1,3", 4), l.describe())
        self.assertEqual((rest["regions"], rest["region_numbers"]), (2, "1-2"), l.describe())

    def test_the_trace_numbers_regions_as_the_statistics_do(self):
        """The fault trace's REGION records carry each region's number in its
        rule, the number `regions` chose and the statistics list; a fail
        rule is named as one."""
        tmp = self.tmpdir()
        rules = ("[odd]\nmatch = anon\nmin_size = 32K\nmax_size = 32K\nregions = 1,3\n"
                 "[rest]\nmatch = anon\nmin_size = 32K\nmax_size = 32K\n"
                 "[never]\nmatch = malloc\nmin_size = 1G\naction = fail\n")
        l = self.lib([prog("nth_alloc"), "anon", "4", "8"], rules, tmp=tmp,
                     env={"LAZYFAULT_TRACE": str(tmp / "t.%p.trace")})
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(self.assertServed(l, "odd")["region_numbers"], "1,3", l.describe())
        d = subprocess.run([COMMAND, "report", "--dump", tmp / f"t.{l.pid}.trace"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(d.returncode, 0, d.stderr)
        recs = [json.loads(x) for x in d.stdout.splitlines()]
        numbers = [(r["rule"], r["number"]) for r in recs if r["type"] == "region"]
        self.assertEqual(numbers, [("odd", 1), ("rest", 1), ("odd", 3), ("rest", 2)], d.stdout)
        actions = {r["name"]: r["action"] for r in recs if r["type"] == "rule"}
        self.assertEqual(actions, {"odd": "zero", "rest": "zero", "never": "fail"}, d.stdout)


# ---------------------------------------------------------------- program

class ProgramTest(TriggersCase):
    def setUp(self):
        # A second name for poison_touch: the same program under a path the
        # glob can tell apart (a copy: /proc/self/exe resolves symlinks).
        self.bin = self.tmpdir()
        self.b = self.bin / "toucher_b"
        shutil.copy(prog("poison_touch"), self.b)

    def script(self):
        return ["/bin/sh", "-c", f"{prog('poison_touch')} anon 32; {self.b} anon 32"]

    def test_rule_program_under_sh(self):
        """program = */toucher_b: under sh -c 'a; b' only b is poisoned;
        sh and a ran under the library (their statistics) and the rule took
        nothing in them."""
        rules = ("[p]\nmatch = anon\nmin_size = 128K\nmax_size = 128K\naction = poison\n"
                 "program = */toucher_b\n")
        l = self.lib(self.script(), rules, log_level="info")
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(sigbus_lines(l.stdout),
                         ["sigbus pages: none", "sigbus pages: " + ",".join(map(str, range(32)))],
                         l.describe())
        per = self.rules_of(l, "p")
        self.assertGreaterEqual(len(per), 2, l.describe())  # a and b at least (and sh)
        applies = [(pid, r) for pid, r in per if r["applies"]]
        self.assertEqual(len(applies), 1, l.describe())
        self.assertServed(l, "p", applies[0][0])
        self.assertEqual(applies[0][1]["pages_poisoned"], 32)
        for pid, r in per:
            if not r["applies"]:
                self.assertTookNothing(l, "p", pid)
        self.assertLogLines(l, r"program '\*/toucher_b' does not match .*/poison_touch: the rule is off")

    def test_global_program_leaves_the_rest_of_the_tree_alone(self):
        """[global] program: the library stays off in sh and in a (no
        statistics, nothing poisoned), and works in b."""
        rules = ("[global]\nprogram = */toucher_b\n[p]\nmatch = anon\nmin_size = 128K\n"
                 "max_size = 128K\naction = poison\npages = 3\n")
        l = self.lib(self.script(), rules, log_level="info")
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(sigbus_lines(l.stdout), ["sigbus pages: none", "sigbus pages: 3"],
                         l.describe())
        pid = self.only_process(l)
        r = self.assertServed(l, "p", pid)
        self.assertEqual((r["pages_poisoned"], r["applies"]), (1, True))
        self.assertLogLines(l, r"program '\*/toucher_b' does not match .*: the library stays off")

    def test_check_shows_which_programs(self):
        """check prints each rule's program, and with PROGRAM whether it
        matches the path the library will see (/bin/sh is dash)."""
        tmp = self.tmpdir()
        rules = write_file(tmp / "r.ini", "[global]\nprogram = */sh\n[p]\nmatch = anon\n"
                           "program = */dash\n[q]\nmatch = anon\n")
        r = self.lf_cmd("check", rules, "/bin/sh")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("program = */dash\n", r.stdout)
        self.assertIn("# program: any program\n", r.stdout)
        real = os.path.realpath("/bin/sh")
        self.assertIn(f"program /bin/sh: the library sees it as {real}\n", r.stdout)
        self.assertIn(f"[global]: program '*/sh' does not match {real}: the library stays off",
                      r.stdout)
        self.assertIn(f"rule 'p': program '*/dash' matches {real}\n", r.stdout)


# ---------------------------------------------------------------- -D

BAD_VALUES = [
    ("after", "x"), ("after", "-1"), ("every", "0"), ("probability", "1.5"), ("pages", "9-2"),
    ("regions", "0"), ("regions", "last"), ("readahead", "1M"), ("seed", "9007199254740992"),
    ("delay", "5"), ("caller_depth", "3"), ("path", "/x"), ("fill", "poison"), ("nosuch", "1"),
]


class DefineTest(TriggersCase):
    RULE = "[p]\nmatch = anon\nmin_size = 32K\nmax_size = 32K\naction = poison\n"

    def test_the_same_result_as_the_edited_file(self):
        """-D p.regions=3 -D p.pages=0,2 gives what the file with those keys
        gives: the same output, the same statistics."""
        argv = [prog("nth_alloc"), "anon", "4", "8"]
        edited = self.lf_run(self.RULE + "regions = 3\npages = 0,2\n", argv)
        defined = self.lf_run(self.RULE, argv, defines=["p.regions=3", "p.pages=0,2"])
        for run in (edited, defined):
            self.assertEqual(run.rc, 0, run.describe())
            self.assertEqual(sigbus_by_region(run.stdout), {1: [], 2: [], 3: [0, 2], 4: []},
                             run.describe())
        self.assertEqual(edited.stdout, defined.stdout)
        keys = ("regions", "regions_numbered", "region_numbers", "faults", "pages_poisoned",
                "pages_zeroed")
        (pe, re_), = self.rules_of(edited, "p")
        (pd, rd), = self.rules_of(defined, "p")
        self.assertServed(defined, "p", pd)
        self.assertEqual({k: re_[k] for k in keys}, {k: rd[k] for k in keys}, defined.describe())

    def test_a_global_key(self):
        """-D global.KEY: here the log level, which makes the library say
        where it stands in its tree."""
        l = self.lf_run(self.RULE, [prog("nth_alloc"), "anon", "1", "8"],
                        defines=["global.log_level=info"])
        self.assertEqual(l.rc, 0, l.describe())
        self.assertRegex(l.stderr, r"lazyfault\[\d+\]: info: 1 rule\(s\) from .*, at / in the tree")

    def test_the_same_errors_as_the_file(self):
        """Each bad value: run, check and sweep refuse it with exit 2 and the
        file's own message, the define named in place of FILE:LINE; the
        program never runs."""
        tmp = self.tmpdir()
        marker = tmp / "ran"
        good = write_file(tmp / "good.ini", self.RULE)
        for key, value in BAD_VALUES:
            with self.subTest(key=key, value=value):
                bad = write_file(tmp / "bad.ini", f"{self.RULE}{key} = {value}\n")
                r = self.lf_cmd("check", bad)
                self.assertEqual(r.returncode, 2, r.stderr)
                m = re.match(r"lazyfault: (.*?):6: (key .*)$", r.stderr.strip())
                self.assertIsNotNone(m, r.stderr)
                self.assertEqual(m.group(1), str(bad))
                want = f"lazyfault: -D p.{key}={value}: {m.group(2)}"
                for cmd in (["check", "-D", f"p.{key}={value}", good],
                            ["run", "-r", good, "-D", f"p.{key}={value}", "--", "/usr/bin/touch", marker],
                            ["sweep", "-r", good, "-o", tmp / "sw", "-D", f"p.{key}={value}",
                             "--", "/usr/bin/touch", marker]):
                    r = self.lf_cmd(*cmd)
                    self.assertEqual((r.returncode, r.stderr.strip(), r.stdout), (2, want, ""),
                                     f"{cmd}")
                self.assertFalse(marker.exists(), "the program ran")

    def test_refused_defines(self):
        tmp = self.tmpdir()
        good = write_file(tmp / "good.ini", self.RULE)
        for define, msg in (("q.after=1", f"-D q.after=1: no rule 'q' in {good}"),
                            ("after=1", "-D after=1: expected RULE.KEY=VALUE or global.KEY=VALUE"),
                            ("global.after=1", "-D global.after=1: key 'after': not a [global] key")):
            with self.subTest(define=define):
                r = self.lf_cmd("run", "-r", good, "-D", define, "--", "/bin/true")
                self.assertEqual(r.returncode, 2)
                self.assertTrue(r.stderr.startswith("lazyfault: " + msg), r.stderr)
        r = self.lf_cmd("run", "-r", good, "-D", "p.after=1", "-D", "p.after=2", "--", "/bin/true")
        self.assertEqual((r.returncode, r.stderr.strip()),
                         (2, "lazyfault: -D p.after=2: key 'after': given twice (first as -D p.after=1)"))


# ---------------------------------------------------------------- seeds

class TreeSeedTest(TriggersCase):
    RULES = "[p]\nmatch = anon\nmin_size = 256K\nmax_size = 256K\naction = poison\nprobability = 0.3\n"

    def tree(self, defines=()):
        touch = prog("poison_touch")
        run = self.lf_run(self.RULES, ["/bin/sh", "-c", f"{touch} anon 64; {touch} anon 64"],
                          defines=defines)
        self.assertEqual(run.rc, 0, run.describe())
        self.assertStatsValid(run, pid=min(run.stats) if run.stats else 0)
        touched = {}
        seeds = set()
        for pid, doc in run.stats.items():
            (r,) = [x for x in doc["rules"] if x["name"] == "p"]
            seeds.add(r["rule_seed"])
            self.assertLessEqual(r["seed"], SEED_MAX)
            self.assertLessEqual(r["rule_seed"], SEED_MAX)
            if r["regions"]:
                self.assertServed(run, "p", pid)
                touched[doc["tree_position"]] = (r["seed"], r["pages_poisoned"])
        self.assertEqual(len(seeds), 1, "every process reports the rule's one seed:\n" + run.describe())
        self.assertEqual(len(touched), 2, run.describe())
        return run, seeds.pop(), touched

    def test_two_process_tree_replayed_from_the_recorded_seed(self):
        """sh -c 'p; p': the two p draw from seeds of their own (other pages
        poisoned); giving the recorded rule seed back replays both exactly,
        and another seed does not."""
        first, seed, touched = self.tree()
        lines = sigbus_lines(first.stdout)
        self.assertEqual(len(lines), 2, first.describe())
        self.assertNotEqual(lines[0], lines[1], "both processes drew the same:\n" + first.describe())
        a, b = sorted(touched)
        self.assertNotEqual(touched[a][0], touched[b][0])
        again, seed2, touched2 = self.tree([f"p.seed={seed}"])
        self.assertEqual(again.stdout, first.stdout, again.describe())
        self.assertEqual((seed2, touched2), (seed, touched))
        other, _, _ = self.tree([f"p.seed={(seed + 1) % SEED_MAX}"])
        self.assertNotEqual(other.stdout, first.stdout)

    def test_children_started_without_fork_handlers(self):
        """posix_spawn and a child that builds its own environment (python's
        subprocess with env=) are numbered as forked children are."""
        touch = prog("poison_touch")
        code = ("import os, subprocess, sys\n"
                f"pid = os.posix_spawn({touch!r}, [{touch!r}, 'anon', '64'], os.environ)\n"
                "os.waitpid(pid, 0)\n"
                f"subprocess.run([{touch!r}, 'anon', '64'], env=dict(os.environ), check=True)\n")
        run = self.lf_run(self.RULES, [SYS_PYTHON, "-c", code])
        self.assertEqual(run.rc, 0, run.describe())
        touched = sorted(doc["tree_position"] for doc in run.stats.values()
                         if doc["rules"][0]["regions"])
        self.assertEqual(touched, ["/f1/e", "/f2/e"], run.describe())

    def test_every_way_of_starting_a_child(self):
        """vfork + execve with an environment that lacks the variable, fork +
        fexecve, fork + execveat, posix_spawn: four children, four places,
        four seeds."""
        run = self.lf_run(self.RULES, [prog("spawn_kinds"), prog("poison_touch"), "anon", "64"])
        self.assertEqual(run.rc, 0, run.describe())
        self.assertAllChecksPassed(run, "spawn_kinds")
        touched = {doc["tree_position"]: doc["rules"][0]["seed"] for doc in run.stats.values()
                   if doc["rules"][0]["regions"]}
        self.assertEqual(sorted(touched), ["/f1/e", "/f2/e", "/f3/e", "/f4/e"], run.describe())
        self.assertEqual(len(set(touched.values())), 4, run.describe())

    def test_places_in_the_tree(self):
        """The places the statistics record: the shell at /, its children
        /fN/e (forked, then exec'd), numbered in the order started."""
        run, _, touched = self.tree()
        places = {doc["tree_position"] for doc in run.stats.values()}
        self.assertIn("/", places, run.describe())
        self.assertEqual(sorted(touched), ["/f1/e", "/f2/e"], run.describe())


# ---------------------------------------------------------------- action = fail

class FailTest(TriggersCase):
    SIZE = 256 * 1024
    CALLS = ["malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign",
             "valloc", "pvalloc", "helper_alloc", "mmap"]

    def fail_rules(self, malloc_keys, anon_keys=None):
        r = f"[m]\nmatch = malloc\nmin_size = 256K\nmax_size = 256K\naction = fail\n{malloc_keys}"
        if anon_keys is not None:
            r += f"[a]\nmatch = anon\nmin_size = 256K\nmax_size = 256K\naction = fail\n{anon_keys}"
        return r

    def failed_calls(self, run):
        self.assertEqual(run.rc, 0, run.describe())
        self.assertAllChecksPassed(run, "fail_alloc")
        got = dict(re.findall(r"^(\w+): (ok|failed)$", run.stdout, re.M))
        self.assertEqual(sorted(got), sorted(self.CALLS), run.describe())
        return [c for c in self.CALLS if got[c] == "failed"]

    def test_chosen_allocations_fail_as_the_real_calls_do(self):
        """regions = 2,3,9 of the malloc rule (calloc, realloc and the
        malloc of helper_alloc) and the anon rule's mmap fail, with ENOMEM, a
        failed realloc leaving its block; every other call works."""
        argv = [prog("fail_alloc"), str(self.SIZE)]
        n = self.native(argv)
        self.assertEqual(self.failed_calls(n), [])
        l = self.lib(argv, self.fail_rules("regions = 2,3,9\n", ""))
        self.assertEqual(self.failed_calls(l), ["calloc", "realloc", "helper_alloc", "mmap"])
        self.assertIn("ok: a failed realloc leaves the old block as it was", l.stdout)
        self.assertStatsValid(l)
        m, a = l.rule("m"), l.rule("a")
        self.assertEqual((m["allocations_failed"], m["region_numbers"], m["regions_numbered"]),
                         (3, "2-3,9", 9), l.describe())
        self.assertEqual((a["allocations_failed"], a["region_numbers"]), (1, "1"))
        self.assertEqual((m["regions"], m["faults"]), (0, 0))
        for call, number, rule in (("calloc", 2, "m"), ("realloc", 3, "m"), ("malloc", 9, "m"),
                                   ("mmap", 1, "a")):
            self.assertLogLines(l, rf"warn: rule '{rule}': {call}\({self.SIZE}\) fails with ENOMEM "
                                rf"\(allocation {number} of the rule\)", 1)
        self.assertLogLines(l, "fails with ENOMEM", 4)

    def test_times_probability_seed_and_caller(self):
        argv = [prog("fail_alloc"), str(self.SIZE)]
        # times: the first two the rule takes
        l = self.lib(argv, self.fail_rules("times = 2\n"))
        self.assertEqual(self.failed_calls(l), ["malloc", "calloc"])
        self.assertEqual(l.rule("m")["allocations_failed"], 2)
        # caller: only what helper_alloc asks for
        l = self.lib(argv, self.fail_rules("caller = helper_alloc\n"))
        self.assertEqual(self.failed_calls(l), ["helper_alloc"])
        # probability with a seed: the same failures every time; another seed
        # (one of the first few) fails others
        runs = {}
        for seed in (1, 1, 2, 3, 4, 5):
            l = self.lib(argv, self.fail_rules(f"probability = 0.5\nseed = {seed}\n"))
            failed = self.failed_calls(l)
            self.assertEqual(l.rule("m")["allocations_failed"], len(failed))
            self.assertEqual(l.rule("m")["seed"], seed)
            runs.setdefault(seed, []).append(failed)
        self.assertEqual(runs[1][0], runs[1][1])
        self.assertTrue(any(runs[s][0] != runs[1][0] for s in (2, 3, 4, 5)), runs)
        self.assertTrue(0 < len(runs[1][0]) < 9 or any(0 < len(runs[s][0]) < 9 for s in runs), runs)

    def test_sqlite_reports_out_of_memory(self):
        """sqlite3 with one allocation failing, then with every allocation
        from some point on: it says out of memory and exits 1, no signal."""
        sql = ("create table t(x); insert into t select randomblob(1000) from "
               "generate_series(1, 20000); select count(*), sum(length(x)) from t;\n")
        n = self.native(["sqlite3", ":memory:"], input=sql.encode())
        self.assertEqual((n.rc, n.stdout), (0, "20000|20000000\n"), n.describe())
        base = "[oom]\nmatch = malloc\nmin_size = 0\naction = fail\n"
        # how many allocations the rule numbers in a run where none fails
        l = self.lib(["sqlite3", ":memory:"], base + "regions = 1000000000\n", input=sql.encode())
        self.assertEqual((l.rc, l.stdout), (0, n.stdout), l.describe())
        total = l.rule("oom")["regions_numbered"]
        self.assertGreater(total, 1000, l.describe())
        for regions, failures in ((f"{total // 2}", 1), (f"{total // 2}-1000000000", None)):
            with self.subTest(regions=regions):
                l = self.lib(["sqlite3", ":memory:"], base + f"regions = {regions}\n",
                             input=sql.encode())
                self.assertEqual(l.rc, 1, l.describe())
                self.assertIn("out of memory", l.stderr, l.describe())
                self.assertNotIn("20000|", l.stdout)
                self.assertStatsValid(l)
                got = l.rule("oom")["allocations_failed"]
                if failures:
                    self.assertEqual(got, failures, l.describe())
                else:
                    self.assertGreaterEqual(got, 1, l.describe())

    def test_python_raises_memory_error(self):
        code = ("try:\n    b = bytearray(64 << 20)\n    print('allocated', len(b))\n"
                "except MemoryError:\n    print('MemoryError')\n")
        n = self.native([SYS_PYTHON, "-c", code])
        self.assertEqual(n.stdout, f"allocated {64 << 20}\n", n.describe())
        l = self.lib([SYS_PYTHON, "-c", code], "[big]\nmatch = malloc\nmin_size = 32M\naction = fail\n")
        self.assertEqual((l.rc, l.stdout), (0, "MemoryError\n"), l.describe())
        self.assertStatsValid(l)
        self.assertEqual(l.rule("big")["allocations_failed"], 1, l.describe())
        self.assertLogLines(l, r"rule 'big': malloc\(\d+\) fails with ENOMEM \(allocation 1 of the rule\)", 1)


# ---------------------------------------------------------------- control

class Target:
    """ctl_target under `lazyfault run`, driven line by line."""

    def __init__(self, case, rules, env=None, user=None):
        self.case = case
        self.tmp = case.tmpdir()
        rules_path = write_file(self.tmp / "rules.ini", rules)
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("LAZYFAULT_") and k not in ("LD_PRELOAD", "XDG_RUNTIME_DIR")}
        e.update(case.cmd_env(**(env or {})))
        self.env = e
        kw = dict(user=user, group=user, extra_groups=[]) if user is not None else {}
        self.p = subprocess.Popen([COMMAND, "run", "-r", rules_path, "-s", self.tmp / "stats.%p.json",
                                   "--", prog("ctl_target")], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=e, cwd=self.tmp, start_new_session=True, **kw)
        self.pending = b""  # read from stdout, not yet a whole line
        case.addCleanup(self.kill)
        line = self.readline()
        m = re.match(r"ready (\d+)$", line)
        case.assertIsNotNone(m, line)
        self.pid = int(m.group(1))

    def readline(self, timeout=20):
        """One line of its output, read from the pipe itself (a buffered
        reader would hide a second line from select)."""
        fd = self.p.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                self.kill()
                raise AssertionError(f"ctl_target did not answer (a hang?): {self.pending!r}")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def order(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        return self.readline()

    def touch(self, region, page):
        got = self.order(f"touch {region} {page}")
        self.case.assertRegex(got, rf"^{region} {page}: (sigbus|ok)$")
        return got.split(": ")[1]

    def ctl(self, *args, user=None):
        kw = dict(user=user, group=user, extra_groups=[]) if user is not None else {}
        return subprocess.run([COMMAND, "ctl", str(self.pid), *args], capture_output=True,
                              text=True, env=self.env, timeout=30, **kw)

    def quit(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.flush()
        out, err = self.p.communicate(timeout=30)
        out = self.pending.decode() + out
        self.case.assertEqual(self.p.returncode, 0, err)
        self.case.assertIn("ctl_target: all checks passed", out)
        with open(self.tmp / f"stats.{self.pid}.json") as f:
            return json.load(f), err

    def kill(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()


def threads_named(pid, name):
    n = 0
    for t in Path(f"/proc/{pid}/task").iterdir():
        try:
            n += (t / "comm").read_text().strip() == name
        except OSError:
            pass
    return n


class ControlTest(TriggersCase):
    RULES = "[global]\ncontrol = yes\n[p]\nmatch = anon\nmin_size = 64K\naction = poison\n"

    def private_runtime_dir(self):
        d = self.tmpdir()
        d.chmod(0o700)
        return d

    def test_disable_enable_and_set_in_a_running_program(self):
        """A disabled rule poisons nothing in the region it took (served
        with zeros instead) and takes no new region; enabled again, it
        poisons; set changes what it poisons.  The faults say so."""
        rt = self.private_runtime_dir()
        t = Target(self, self.RULES, env={"XDG_RUNTIME_DIR": str(rt)})
        self.assertEqual(t.order("map 32"), "mapped 1")
        self.assertEqual(t.touch(1, 0), "sigbus")
        r = t.ctl("disable", "p")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "rule 'p': disabled\n", ""))
        self.assertEqual(t.touch(1, 1), "ok")
        self.assertEqual(t.order("map 32"), "mapped 2")
        self.assertEqual(t.touch(2, 0), "ok")
        self.assertEqual(t.ctl("enable", "p").returncode, 0)
        self.assertEqual(t.touch(1, 2), "sigbus")
        r = t.ctl("set", "p.pages=5")
        self.assertEqual((r.returncode, r.stdout), (0, "rule 'p': pages=5\n"), r.stderr)
        self.assertEqual((t.touch(1, 3), t.touch(1, 5)), ("ok", "sigbus"))
        r = t.ctl("list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"process {t.pid}: {os.path.realpath(prog('ctl_target'))}, at / in the tree\n",
                      r.stdout)
        self.assertRegex(r.stdout, r"(?m)^p: enabled=yes applies=yes action=poison regions=1 "
                         r"numbered=2 region_numbers=1 faults=5 pages_poisoned=3 "
                         r"allocations_failed=0 probability=1 after=0 every=1 times=-1 pages=5$")
        stats, err = t.quit()
        (p,) = stats["rules"]
        self.assertEqual((p["regions"], p["faults"], p["pages_poisoned"], p["pages_zeroed"]),
                         (1, 5, 3, 2), stats)
        self.assertEqual(len(re.findall(r"rule 'p': poisoned page", err)), 3, err)

    def test_refused_requests_name_what_is_wrong(self):
        """set is checked as -D is (the same message); a key that cannot
        change at run time, a rule that does not exist: refused, exit 2, the
        rule unchanged."""
        t = Target(self, self.RULES, env={"XDG_RUNTIME_DIR": str(self.private_runtime_dir())})
        t.order("map 16")
        tmp = self.tmpdir()
        good = write_file(tmp / "r.ini", self.RULES)
        for text in ("p.after=x", "p.every=0", "p.pages=4-1", "p.probability=7"):
            with self.subTest(set=text):
                d = self.lf_cmd("check", "-D", text, good)
                self.assertEqual(d.returncode, 2)
                why = d.stderr.strip().split(f"-D {text}: ", 1)[1]
                r = t.ctl("set", text)
                self.assertEqual((r.returncode, r.stdout), (2, ""))
                self.assertEqual(r.stderr.strip(), f"lazyfault: ctl: process {t.pid}: set {text}: {why}")
        r = t.ctl("set", "p.match=file")
        self.assertEqual(r.returncode, 2)
        self.assertIn("key 'match' cannot be changed at run time (only probability, after, every, "
                      "times, pages)", r.stderr)
        r = t.ctl("disable", "nosuch")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no rule 'nosuch' (the rules are 'p')", r.stderr)
        self.assertEqual(t.touch(1, 0), "sigbus", "the rule is as it was")
        t.quit()

    def test_the_socket_is_the_users_alone(self):
        """$XDG_RUNTIME_DIR/lazyfault, mode 0700, the socket 0600; another
        user can neither connect nor have ctl do it."""
        rt = self.private_runtime_dir()
        t = Target(self, self.RULES, env={"XDG_RUNTIME_DIR": str(rt)})
        d, s = rt / "lazyfault", rt / "lazyfault" / f"{t.pid}.sock"
        st = os.lstat(d)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (os.geteuid(), 0o700))
        st = os.lstat(s)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (os.geteuid(), 0o600))
        # nobody: cannot even reach the socket, let alone connect
        probe = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
                 "try:\n    s.connect(sys.argv[1])\n    print('connected')\n"
                 "except PermissionError:\n    print('refused')\n")
        rt.chmod(0o711)  # let nobody try the path itself, past the runtime dir
        r = subprocess.run([SYS_PYTHON, "-c", probe, str(s)], capture_output=True, text=True,
                           user=NOBODY, group=NOBODY, extra_groups=[], timeout=30)
        rt.chmod(0o700)
        self.assertEqual(r.stdout, "refused\n", r.stderr)
        r = t.ctl("list", user=NOBODY)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertEqual(t.ctl("list").returncode, 0)
        t.quit()
        self.assertFalse(s.exists(), "the socket outlived the process")

    def test_tmp_fallback_and_what_is_refused_there(self):
        """Without a usable XDG_RUNTIME_DIR (here: group-writable) the socket
        is in /tmp/lazyfault-UID; for a user whose directory there is a
        symlink or someone else's, no socket at all, and the program runs."""
        bad = self.tmpdir()
        bad.chmod(0o770)
        t = Target(self, self.RULES, env={"XDG_RUNTIME_DIR": str(bad)})
        mine = Path(f"/tmp/lazyfault-{os.geteuid()}")
        self.assertTrue((mine / f"{t.pid}.sock").exists())
        self.assertFalse((bad / "lazyfault").exists())
        st = os.lstat(mine)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (os.geteuid(), 0o700))
        self.assertEqual(t.ctl("list").returncode, 0)
        t.quit()

        theirs = Path(f"/tmp/lazyfault-{NOBODY}")
        if os.path.lexists(theirs):
            self.skipTest(f"{theirs} exists already: not ours to replace")
        elsewhere = self.tmpdir()
        for plant in ("symlink", "root's"):
            with self.subTest(plant=plant):
                if plant == "symlink":
                    os.symlink(elsewhere, theirs)
                else:
                    theirs.mkdir(mode=0o777)
                    theirs.chmod(0o777)
                try:
                    t = Target(self, self.RULES, user=NOBODY)
                    self.assertEqual(t.order("map 16"), "mapped 1")
                    self.assertEqual(t.touch(1, 0), "sigbus", "the library works without a socket")
                    r = t.ctl("list")
                    self.assertEqual(r.returncode, 2)
                    self.assertIn("refused", r.stderr)
                    _, err = t.quit()
                    self.assertIn(f"control = yes: {theirs}: ", err)
                    self.assertIn("refused: no control socket", err)
                    self.assertEqual(list(elsewhere.iterdir()), [])
                finally:
                    if theirs.is_symlink():
                        theirs.unlink()
                    else:
                        shutil.rmtree(theirs, ignore_errors=True)

    def test_a_forked_child_has_its_own(self):
        """After fork the child has a control thread and socket of its own
        (the parent's keeps working), at its own place in the tree."""
        rt = self.private_runtime_dir()
        t = Target(self, self.RULES, env={"XDG_RUNTIME_DIR": str(rt)})
        t.p.stdin.write("fork\n")
        t.p.stdin.flush()
        m = re.match(r"child (\d+)$", t.readline())
        self.assertIsNotNone(m)
        child = int(m.group(1))
        self.assertEqual(t.readline(), "forked")
        r = subprocess.run([COMMAND, "ctl", str(child), "list"], capture_output=True, text=True,
                           env=t.env, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"process {child}: ", r.stdout)
        self.assertIn("at /f1 in the tree", r.stdout)
        self.assertEqual(threads_named(child, "lazyfault-ctl"), 1)
        self.assertTrue((rt / "lazyfault" / f"{child}.sock").exists())
        self.assertIn("at / in the tree", t.ctl("list").stdout)
        self.assertEqual(t.order("reap"), "reaped")
        t.quit()

    def test_nothing_starts_when_control_is_off(self):
        rt = self.private_runtime_dir()
        off = Target(self, self.RULES.replace("control = yes", "control = no"),
                     env={"XDG_RUNTIME_DIR": str(rt)})
        on = Target(self, self.RULES, env={"XDG_RUNTIME_DIR": str(rt)})
        for t in (off, on):
            t.order("map 16")
            self.assertEqual(t.touch(1, 0), "sigbus")
        self.assertEqual(threads_named(off.pid, "lazyfault-ctl"), 0)
        self.assertEqual(threads_named(on.pid, "lazyfault-ctl"), 1)
        self.assertEqual(sorted(p.name for p in (rt / "lazyfault").iterdir()), [f"{on.pid}.sock"])
        r = off.ctl("list")
        self.assertEqual(r.returncode, 2)
        self.assertIn("control = yes?", r.stderr)
        off.quit()
        on.quit()
