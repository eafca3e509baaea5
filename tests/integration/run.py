#!/usr/bin/env python3
"""The integration suite's runner.

    python3 tests/integration/run.py [NAME...]

Discovers tests/integration/test_*.py (unittest), runs them all, or only the
modules whose name contains one of the NAMEs (a NAME that matches no module
is an error), prints one line per test and, last, exactly one summary line:
`N passed, N failed` (`, N skipped` when some were skipped).  An expected
failure counts as passed (and is shown as XFAIL, with its reason in the
test's docstring); an unexpected success, an error and a failure count as
failed.  Exit status 1 when any failed.

LF_LIBRARY=PATH runs the suite against another build of the library (see
util.py); `make test` runs the memory modules so against the debug library.
"""
import importlib
import sys
import time
import traceback
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.passed = 0
        self.nfailed = 0
        self.nskipped = 0
        self.details = []
        self._t0 = {}
        self._sub_failed = set()
        self._counted = set()   # tests whose outcome was already counted

    def startTest(self, test):
        super().startTest(test)
        self._t0[test] = time.monotonic()

    def _line(self, test, tag, extra=""):
        self._counted.add(test.id())
        t = time.monotonic() - self._t0.get(test, time.monotonic())
        print(f"{tag:6} {test.id()} ({t:.1f} s){extra}", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line(test, "PASS")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.nfailed += 1
        self._line(test, "FAIL")
        self.details.append(("FAIL", test, self._exc_info_to_string(err, test)))

    def addError(self, test, err):
        super().addError(test, err)
        self.nfailed += 1
        self._line(test, "ERROR")
        self.details.append(("ERROR", test, self._exc_info_to_string(err, test)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.nskipped += 1
        self._line(test, "SKIP", f": {reason}")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        self._line(test, "XFAIL")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.nfailed += 1
        self._line(test, "XPASS", ": expected to fail, but passed: remove @expectedFailure")
        self.details.append(("XPASS", test, "marked expectedFailure, but it passed\n"))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "FAIL" if issubclass(err[0], test.failureException) else "ERROR"
            self.details.append((kind, subtest, self._exc_info_to_string(err, test)))
            self._sub_failed.add(test.id())
            print(f"  {kind} subtest {subtest.id()}", flush=True)

    def stopTest(self, test):
        super().stopTest(test)
        # unittest reports neither success nor failure for a test whose
        # subtests failed (only the subtests): count it as failed once.
        if test.id() in self._sub_failed and test.id() not in self._counted:
            self.nfailed += 1
            self._line(test, "FAIL", ": a subtest failed")
        self._counted.discard(test.id())


def main(argv):
    names = argv[1:]
    sys.path.insert(0, str(HERE))
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    result = Result()
    modules = sorted(f.stem for f in HERE.glob("test_*.py"))
    for n in names:
        if not any(n in name for name in modules):
            # A name that selects nothing would pass by running nothing.
            result.nfailed += 1
            print(f"ERROR  {n}: no module test_*.py has this in its name", flush=True)
    for name in modules:
        if names and not any(n in name for n in names):
            continue
        try:
            mod = importlib.import_module(name)
        except Exception:
            result.nfailed += 1
            print(f"ERROR  {name} (cannot be imported)", flush=True)
            result.details.append(("ERROR", name, traceback.format_exc()))
            continue
        suite.addTests(loader.loadTestsFromModule(mod))
    t0 = time.monotonic()
    suite.run(result)
    for kind, test, text in result.details:
        print("=" * 70)
        print(f"{kind}: {test if isinstance(test, str) else test.id()}")
        print("-" * 70)
        print(text.rstrip())
    if result.details:
        print("=" * 70)
    print(f"({time.monotonic() - t0:.0f} s)")
    line = f"{result.passed} passed, {result.nfailed} failed"
    if result.nskipped:
        line += f", {result.nskipped} skipped"
    print(line, flush=True)
    return 1 if result.nfailed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
