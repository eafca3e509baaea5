"""`lazyfault sweep`: a campaign of poisoned runs, each classified against a
reference run without poison.

The main target is tests/progs/sweep_target, whose outcome for each of its
nine faults is known in advance (see its header): faults 1-2 survived, 3-4
error-exit, 5-6 wrong-output, 7-8 crash (SIGBUS), 9 hang.  Every test that
counts on the library checks the statistics it wrote: the poisoned page is
in the runs classified crash.
"""
import csv
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from util import HEAP_POISON_RULES, LFTestCase, ROOT, SYS_PYTHON, prog, write_file

COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or ROOT / "build" / "lazyfault")

TARGET_RULES = """\
[global]
log = off

[bad]
match = anon
min_size = 2M
max_size = 2M
action = poison
"""

EXPECTED = {1: "survived", 2: "survived", 3: "error-exit", 4: "error-exit",
            5: "wrong-output", 6: "wrong-output", 7: "crash", 8: "crash", 9: "hang"}


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAZYFAULT_") and k != "LD_PRELOAD"}
    env["LC_ALL"] = "C"
    env.update(extra)
    return env


class SweepTest(LFTestCase):
    def sweep(self, *args, cwd, env=None, timeout=120):
        return subprocess.run([COMMAND, "sweep", *map(str, args)], capture_output=True,
                              text=True, cwd=str(cwd), env=env or clean_env(),
                              stdin=subprocess.DEVNULL, timeout=timeout)

    def summary(self, out):
        doc = json.loads((out / "summary.json").read_text())
        with open(out / "summary.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        return doc, rows

    def run_stats(self, out, run):
        """The statistics the library wrote in a run of the sweep (the main
        process's: the one file of that run)."""
        files = sorted(out.glob(f"run-{run:04d}.stats.*.json"))
        self.assertEqual(len(files), 1, f"statistics files of run {run}: {files}")
        return json.loads(files[0].read_text())

    def target_sweep(self, *extra):
        tmp = self.tmpdir()
        rules = write_file(tmp / "rules.ini", TARGET_RULES)
        out = tmp / "out"
        r = self.sweep("-r", rules, "--timeout", "2", "-j", "2", "-o", out, *extra,
                       "--", prog("sweep_target"), cwd=tmp)
        return tmp, out, r

    # -- the target of known outcomes ---------------------------------------

    def test_every_fault_classified_as_known(self):
        tmp, out, r = self.target_sweep()
        self.assertEqual(r.returncode, 1, "some runs did not survive: status 1\n" + r.stderr)
        doc, rows = self.summary(out)
        ref = doc["reference"]
        self.assertEqual(ref["status"], 0)
        self.assertEqual((out / "reference.out").read_text(), "sum = 22\n")
        self.assertEqual(ref["rules"], [{"name": "bad", "after": 0, "every": 1, "faults": 9,
                                         "candidates": 9}])
        got = {run["fault"]: run["outcome"] for run in doc["runs"]}
        self.assertEqual(got, EXPECTED, r.stdout)
        self.assertEqual(doc["outcomes"], {"survived": 2, "error-exit": 2, "wrong-output": 2,
                                           "crash": 2, "hang": 1})
        for run in doc["runs"]:
            n = run["fault"]
            if run["outcome"] == "crash":
                self.assertEqual((run["signal"], run["signal_number"], run["status"]),
                                 ("SIGBUS", 7, None))
                # The library poisoned that very fault: its statistics say so.
                st = self.run_stats(out, run["run"])
                bad = [x for x in st["rules"] if x["name"] == "bad"][0]
                self.assertEqual(bad["pages_poisoned"], 1, st)
                self.assertEqual(bad["faults"], n, st)
                self.assertEqual((run["poisoned"], run["faults"]), (1, n))
            elif run["outcome"] == "hang":
                self.assertGreaterEqual(run["duration_s"], 1.9)
                self.assertIsNone(run["status"])
            elif run["outcome"] == "error-exit":
                self.assertEqual(run["status"], 3)
            else:
                self.assertEqual(run["status"], 0)
            if run["outcome"] == "survived":
                # The poison was there, and handled: still one page poisoned.
                self.assertEqual(run["poisoned"], 1, run)
                self.assertIsNone(run["replay"])
                self.assertFalse((out / f"run-{run['run']:04d}.ini").exists())
            else:
                ini = Path(run["rules_file"])
                self.assertTrue(ini.exists(), run)
                self.assertIn(f"after = {n - 1}\n", ini.read_text())
                self.assertIn("times = 1\n", ini.read_text())
                self.assertTrue(run["replay"].startswith(f"{COMMAND} run -r {ini} -- "), run)
        # The CSV has the same runs.
        self.assertEqual([(int(x["fault"]), x["outcome"]) for x in rows],
                         [(x["fault"], x["outcome"]) for x in doc["runs"]])
        self.assertEqual([x["signal"] for x in rows if x["outcome"] == "crash"], ["SIGBUS"] * 2)
        # The table on the terminal.
        self.assertRegex(r.stdout, r"bad\s+9\s+9\s+9\s+2\s+2\s+2\s+2\s+1")
        self.assertIn("fault 7", r.stdout)

    def test_replay_of_a_crash_reproduces_it(self):
        tmp, out, r = self.target_sweep("--max", "1")  # the middle one: fault 5
        doc, _ = self.summary(out)
        self.assertEqual([x["fault"] for x in doc["runs"]], [5])
        tmp, out, r = self.target_sweep()
        doc, _ = self.summary(out)
        crash = [x for x in doc["runs"] if x["outcome"] == "crash"][0]
        before = set(out.glob(f"run-{crash['run']:04d}.stats.*.json"))
        p = subprocess.run(crash["replay"], shell=True, cwd=doc["cwd"], env=clean_env(),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 128 + 7, p.stderr)
        new = set(out.glob(f"run-{crash['run']:04d}.stats.*.json")) - before
        self.assertEqual(len(new), 1, "the replay wrote its own statistics")
        st = json.loads(new.pop().read_text())
        self.assertEqual([(x["pages_poisoned"], x["faults"]) for x in st["rules"]],
                         [(1, crash["fault"])])

    def test_choosing_candidates(self):
        for opt, faults in ((("--max", "3"), [1, 5, 9]), (("--every", "4"), [1, 5, 9]),
                            (("--max", "20"), list(range(1, 10)))):
            with self.subTest(opt=opt):
                _, out, r = self.target_sweep(*opt, "--rule", "bad")
                doc, _ = self.summary(out)
                self.assertEqual([x["fault"] for x in doc["runs"]], faults, r.stderr)
                self.assertEqual({x["fault"]: x["outcome"] for x in doc["runs"]},
                                 {f: EXPECTED[f] for f in faults})

    def test_compare_status_and_stdout(self):
        _, out, r = self.target_sweep("--compare", "status")
        doc, _ = self.summary(out)
        got = {x["fault"]: x["outcome"] for x in doc["runs"]}
        self.assertEqual(got, {**EXPECTED, 5: "survived", 6: "survived"})
        _, out, r = self.target_sweep("--compare", "stdout")
        doc, _ = self.summary(out)
        got = {x["fault"]: x["outcome"] for x in doc["runs"]}
        # An exit before printing: other output, whatever the status.
        self.assertEqual(got, {**EXPECTED, 3: "wrong-output", 4: "wrong-output"})

    def test_plan_run_by_gnu_parallel_then_collect(self):
        if not shutil.which("parallel"):
            self.skipTest("GNU parallel is not installed (tests/install-deps.sh installs it)")
        tmp = self.tmpdir()
        rules = write_file(tmp / "rules.ini", TARGET_RULES)
        out, plan = tmp / "out", tmp / "plan.txt"
        r = self.sweep("-r", rules, "--timeout", "2", "-o", out, "--plan", plan,
                       "--", prog("sweep_target"), cwd=tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = plan.read_text().splitlines()
        self.assertEqual(len(lines), 9)
        self.assertEqual(shlex.split(lines[0]), [COMMAND, "sweep", "-o", str(out), "--one", "1"])
        self.assertFalse(list(out.glob("*.result.json")), "a plan runs nothing")
        # Before every run has a result, --collect says so.
        c = self.sweep("--collect", out, cwd=tmp)
        self.assertEqual(c.returncode, 2, c.stdout + c.stderr)
        self.assertIn("9 runs have no result yet", c.stdout)
        p = subprocess.run(["parallel", "--will-cite", "-j", "4"], stdin=open(plan),
                           capture_output=True, text=True, env=clean_env(), cwd="/",
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        c = self.sweep("--collect", out, cwd="/")
        self.assertEqual(c.returncode, 1, c.stdout + c.stderr)
        doc, rows = self.summary(out)
        self.assertEqual({x["fault"]: x["outcome"] for x in doc["runs"]}, EXPECTED)
        self.assertEqual(len(rows), 9)
        for x in doc["runs"]:
            if x["outcome"] == "crash":
                self.assertEqual(x["poisoned"], 1, x)

    def test_seeds(self):
        tmp = self.tmpdir()
        rules = write_file(tmp / "rules.ini", TARGET_RULES + "probability = 0.5\n")
        out = tmp / "out"
        r = self.sweep("-r", rules, "--timeout", "2", "-o", out, "--seeds", "4",
                       "--", prog("sweep_target"), cwd=tmp)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        doc, rows = self.summary(out)
        self.assertEqual([(x["seed"], x["fault"]) for x in doc["runs"]],
                         [(k, None) for k in (1, 2, 3, 4)])
        for x in doc["runs"]:
            if x["outcome"] != "survived":
                text = Path(x["rules_file"]).read_text()
                self.assertIn(f"seed = {x['seed']}\n", text)
                self.assertIn("probability = 0.5", text)
            if x["outcome"] == "crash":
                self.assertGreaterEqual(x["poisoned"], 1)

    # -- what the sweep refuses -------------------------------------------------

    def test_refusals(self):
        tmp = self.tmpdir()
        zero = write_file(tmp / "zero.ini", "[z]\nmatch = anon\naction = zero\n")
        good = write_file(tmp / "rules.ini", TARGET_RULES)
        target = prog("sweep_target")
        for args, msg in (
                (("-r", zero, "--", target), "no poison rule"),
                (("-r", good, "--rule", "nope", "--", target), "no rule 'nope'"),
                (("-r", good, "--every", "2", "--max", "3", "--", target), "at most one of"),
                (("-r", good, "--jobs", "0", "--", target), "positive whole number"),
                (("-r", good, "--compare", "bytes", "--", target), "--compare takes"),
                (("-r", good), "no PROGRAM"),
                (("-r", good, "--stdin", tmp, "--", target), "not a regular file"),
        ):
            with self.subTest(args=args):
                r = self.sweep(*args, cwd=tmp)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn(msg, r.stderr)
        # A directory that holds a sweep already is not overwritten.
        out = tmp / "out"
        r = self.sweep("-r", good, "--max", "1", "-o", out, "--", target, cwd=tmp)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        r = self.sweep("-r", good, "--max", "1", "-o", out, "--", target, cwd=tmp)
        self.assertEqual(r.returncode, 2)
        self.assertIn("holds a sweep already", r.stderr)

    def test_reference_that_crashes_is_refused(self):
        tmp = self.tmpdir()
        rules = write_file(tmp / "rules.ini", TARGET_RULES)
        script = write_file(tmp / "dies.sh", "#!/bin/sh\nkill -SEGV $$\n", 0o755)
        r = self.sweep("-r", rules, "-o", tmp / "out", "--", script, cwd=tmp)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("reference run (no poison) was killed by SIGSEGV", r.stderr)

    # -- real programs --------------------------------------------------------------

    def test_sqlite3_small_database(self):
        tmp = self.sqlite3_db()
        query = write_file(tmp / "q.sql", "select count(*), sum(a), max(b) from t;\n")
        rules = write_file(tmp / "rules.ini", HEAP_POISON_RULES)
        out = tmp / "out"
        r = self.sweep("-r", rules, "--max", "8", "--timeout", "20", "--stdin", query,
                       "-o", out, "--", "sqlite3", "t.db", cwd=tmp)
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"lazyfault sweep: 8 runs of /usr/bin/sqlite3")
        doc, rows = self.summary(out)
        self.assertEqual((out / "reference.out").read_text().split("|")[:2], ["3000", "4498500"])
        heap = doc["reference"]["rules"][0]
        self.assertGreaterEqual(heap["faults"], 8, "sqlite3's page cache takes heap faults")
        self.assertEqual(len(doc["runs"]), 8)
        for x in doc["runs"]:
            self.assertIn(x["outcome"], ("survived", "error-exit", "wrong-output", "crash", "hang"))
            if x["outcome"] == "crash":
                self.assertEqual((x["poisoned"], x["faults"]), (1, x["fault"]), x)
        self.assertTrue(any(x["outcome"] == "crash" for x in doc["runs"]), r.stdout)

    def test_python3(self):
        tmp = self.tmpdir()
        rules = write_file(tmp / "rules.ini", "[global]\nlog = off\n\n[arena]\nmatch = anon\n"
                           "min_size = 256K\naction = poison\n")
        out = tmp / "out"
        code = "import json; print(sum(json.loads(json.dumps(list(range(50000))))))"
        r = self.sweep("-r", rules, "--max", "6", "--timeout", "30", "-o", out,
                       "--", SYS_PYTHON, "-c", code, cwd=tmp, env=clean_env(PYTHONHASHSEED="0"))
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)
        self.assertIn("Results: ", r.stdout)
        doc, rows = self.summary(out)
        self.assertEqual((out / "reference.out").read_text(), f"{sum(range(50000))}\n")
        self.assertGreater(doc["reference"]["rules"][0]["faults"], 6)
        self.assertEqual(len(rows), 6)
        crashes = [x for x in doc["runs"] if x["outcome"] == "crash"]
        self.assertTrue(crashes, r.stdout)
        for x in crashes:
            self.assertEqual(x["poisoned"], 1, x)
