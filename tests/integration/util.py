"""Helpers of the integration suite: run a program natively and under
liblazyfault, collect what it printed and the statistics files it wrote, and
assert on them.

Every run gets a fresh temporary directory (readable and writable by
everyone, so that runs as uid 65534 work): the rules go to `rules.ini`, the
statistics to `stats.<pid>.json` (LAZYFAULT_STATS=.../stats.%p.json).

A run as another user cannot reach the build when the tree is in a folder
that user cannot enter (a 0700 home, `mktemp -d`): `shared_copy()` gives a
copy of the library or a program in a folder every user can read, and
`run_lib(..., lib=shared_copy(LIB))` preloads that copy.

Each subprocess has a timeout and runs in its own session; on timeout the
whole process group is killed and the test fails: a hang never blocks the
suite.

The suite's tests derive from `LFTestCase`:

    n, l = self.both([prog("anon_zero")], ZERO_RULES)   # same output, rc 0
    self.assertServed(l, "big", zeroed=True)            # the rule did work
"""
import atexit
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
# The library under test: $LF_LIBRARY (another build of it, such as the debug
# library that `make test` runs the memory modules against), else the build's.
LIB = Path(os.environ.get("LF_LIBRARY") or BUILD / "liblazyfault.so").resolve()
PROGS = BUILD / "tests" / "progs"
# Programs under test run with Debian's python, never a pyenv shim (a shim is
# a shell script that execs something else, under the library too).
SYS_PYTHON = "/usr/bin/python3"
CPYTHON = "/usr/bin/python3.11"  # Debian's, whose own test suite install-deps.sh installs
NOBODY = 65534
DEFAULT_TIMEOUT = 60
MiB = 1 << 20
STATS_MAX = 64 * MiB  # the command's bound too (injector/statsfile.h)

# The environment variables that change what the library (or the command)
# does: removed from every run, then set as each run asks.
LIB_ENV = ("LD_PRELOAD", "LAZYFAULT_RULES", "LAZYFAULT_STATS", "LAZYFAULT_LOG",
           "LAZYFAULT_LOG_LEVEL", "LAZYFAULT_UFFD", "LAZYFAULT_LIBRARY", "LAZYFAULT_DEFINES",
           "LAZYFAULT_TREE", "LAZYFAULT_TRACE", "LAZYFAULT_TRACE_SIZE")

# `make test` runs the suite twice: as it is (serve = auto: helper threads in
# full mode), and with LAZYFAULT_SERVE=signal, which every run keeps in its
# environment (each process serves its faults in the faulting thread).  A
# test of what one mode alone does says so with helper_only(reason).
SIGNAL_MODE = os.environ.get("LAZYFAULT_SERVE") == "signal"


def helper_only(reason):
    return unittest.skipIf(SIGNAL_MODE, "serve = signal: " + reason)


def zero_rules(match="anon", min_size="1M", name="big"):
    """One rule that zero-fills the `match` memory of min_size or more."""
    return f"[{name}]\nmatch = {match}\nmin_size = {min_size}\naction = zero\n"


ZERO_RULES = zero_rules()

# The test programs' source regions are exactly 3 MiB (SOURCE_REGION in
# tests/progs/lftest.h); every other mapping they make is taken by `big`.
SOURCE_RULES = """\
[src]
match = anon
min_size = 3M
max_size = 3M
action = load
source = {path}
source_offset = {offset}

[big]
match = anon
min_size = 1M
action = zero
"""
SOURCE_OFFSET = 8192
SOURCE_SIZE = 2560 * 1024 + 123  # the 3 MiB region reads past its end


def prog(name):
    """Path of a test program of tests/progs/ (built by `make test-build`)."""
    p = PROGS / name
    if not os.access(p, os.X_OK):
        raise AssertionError(f"{p} is not built: run `make test-build`")
    return str(p)


_TMPDIRS = []


@atexit.register
def _remove_tmpdirs():
    for d in _TMPDIRS:
        shutil.rmtree(d, ignore_errors=True)


def make_tmp():
    """A fresh temporary directory that every user may use (removed when
    the suite ends, if nobody removed it before)."""
    d = Path(tempfile.mkdtemp(prefix="lf-it-"))
    d.chmod(0o777)
    _TMPDIRS.append(d)
    return d


_SHARED = {}


def shared_tmpdir():
    """A fresh folder that every user can enter and read (0755), under the
    system's /tmp rather than $TMPDIR (which may be private too); removed
    when the suite ends."""
    d = Path(tempfile.mkdtemp(prefix="lf-shared-", dir="/tmp" if os.path.isdir("/tmp") else None))
    d.chmod(0o755)
    _TMPDIRS.append(d)
    return d


def _shared_dir():
    """The suite's folder of copies for other users."""
    if "dir" not in _SHARED:
        _SHARED["dir"] = shared_tmpdir()
    return _SHARED["dir"]


def shared_copy(path):
    """A copy of `path` (the library, a test program) that any user can
    read and run, whatever folder the tree is in.  Raises SkipTest, saying
    why, when uid 65534 cannot reach it either."""
    path = Path(path)
    if path not in _SHARED:
        d = _shared_dir()
        sub = d / str(len(_SHARED))
        sub.mkdir()
        sub.chmod(0o755)
        copy = sub / path.name
        shutil.copy2(path, copy)
        copy.chmod(0o755)
        if os.geteuid() == 0:
            r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                                "--clear-groups", "--", "/bin/sh", "-c", 'test -r "$0"',
                                str(copy)])
            if r.returncode != 0:
                raise unittest.SkipTest(f"uid {NOBODY} cannot read {copy}: the folders above "
                                        f"{d} must be open to every user")
        _SHARED[path] = copy
    return str(_SHARED[path])


# Poison, one page at a time in a sweep, each heap block of 64 KiB or more.
HEAP_POISON_RULES = "[global]\nlog = off\n\n[heap]\nmatch = malloc\nmin_size = 64K\naction = poison\n"


def write_file(path, data, mode=0o644):
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    path.chmod(mode)
    return path


def make_source(path, size=SOURCE_SIZE, seed=1):
    """A file of `size` pseudo-random bytes (no zero bytes, so that a page
    of zeros where file bytes belong is always seen)."""
    rnd = random.Random(seed)
    data = bytes(b | 1 for b in rnd.randbytes(size))
    return write_file(path, data)


def source_rules(path, offset=SOURCE_OFFSET):
    return SOURCE_RULES.format(path=path, offset=offset)


class Run:
    """What one run gave: rc (negative: killed by that signal), stdout and
    stderr (str), the statistics files by pid, and the library's log lines."""

    def __init__(self, argv, rc, stdout, stderr, tmp, pid, lib):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.tmp = tmp
        self.pid = pid
        self.lib = lib
        self.stats = {}          # pid -> parsed JSON
        self.stats_errors = []   # (file, error, raw text)
        if lib:
            self._load_stats()

    def _load_stats(self):
        for f in sorted(self.tmp.glob("stats.*.json")):
            # As the command reads one: a regular file, not through a link,
            # of bounded size.
            if not stat.S_ISREG(os.lstat(f).st_mode):
                self.stats_errors.append((f.name, "not a regular file", ""))
                continue
            with open(f, "rb") as fh:
                data = fh.read(STATS_MAX + 1)
            raw = data.decode("utf-8", errors="replace")
            try:
                if len(data) > STATS_MAX:
                    raise ValueError(f"more than {STATS_MAX} bytes")
                # Strictly UTF-8: the library writes nothing else.
                doc = json.loads(data.decode("utf-8"))
                pid = int(f.name.split(".")[1])
                if doc.get("pid") != pid:
                    raise ValueError(f"pid {doc.get('pid')} in a file named for {pid}")
                self.stats[pid] = doc
            except (ValueError, IndexError) as e:
                self.stats_errors.append((f.name, str(e), raw))

    def __iter__(self):
        """rc, stdout, stderr, stats = run"""
        return iter((self.rc, self.stdout, self.stderr, self.stats))

    @property
    def log_lines(self):
        return [l for l in self.stderr.splitlines() if re.match(r"lazyfault\[\d+\]: ", l)]

    @property
    def main_stats(self):
        """The statistics of the process that was started (not its children)."""
        return self.stats.get(self.pid)

    def child_pids(self):
        return sorted(p for p in self.stats if p != self.pid)

    def rule(self, name, pid=None):
        doc = self.stats.get(self.pid if pid is None else pid)
        if doc is None:
            return None
        for r in doc.get("rules", []):
            if r.get("name") == name:
                return r
        return None

    def describe(self):
        s = [f"argv: {' '.join(map(str, self.argv))}", f"rc: {self.rc}"]
        s.append("stdout (tail):\n" + "\n".join(self.stdout.splitlines()[-25:]))
        s.append("stderr (tail):\n" + "\n".join(self.stderr.splitlines()[-25:]))
        if self.lib:
            s.append(f"stats files: {sorted(self.stats)} errors: {self.stats_errors}")
            for pid, doc in sorted(self.stats.items()):
                s.append(f"  {pid}: {json.dumps(doc)}")
        return "\n".join(s)


def _clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in LIB_ENV}
    env.setdefault("LC_ALL", "C")
    if extra:
        env.update(extra)
    return env


def _run(argv, env, timeout, input, cwd, tmp, lib, user=None, stdout_file=None):
    kw = {}
    if user is not None:
        kw.update(user=user, group=user, extra_groups=[])
    out_f = open(stdout_file, "wb") if stdout_file else None
    try:
        p = subprocess.Popen([str(a) for a in argv], env=env, cwd=str(cwd or tmp),
                             stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                             stdout=out_f or subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True, **kw)
    finally:
        if out_f:
            out_f.close()
    try:
        out, err = p.communicate(input=input, timeout=timeout)
        out = out or b""
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        out = out or b""
        raise AssertionError(
            f"timed out after {timeout} s (a hang?): {' '.join(map(str, argv))}\n"
            f"stdout tail: {out[-2000:]!r}\nstderr tail: {err[-2000:]!r}")
    finally:
        # Whatever is left of the group (a daemonised grandchild, say).
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return Run(argv, p.returncode, out.decode(errors="replace"),
               err.decode(errors="replace"), tmp, p.pid, lib)


def run_native(argv, *, env=None, timeout=DEFAULT_TIMEOUT, input=None, cwd=None,
               tmp=None, prefix=(), user=None, stdout_file=None, read_stats=False):
    """Run argv without the library.  stdout_file: the program's standard
    output goes to that file (binary output), Run.stdout is then empty.
    read_stats: argv puts the library in itself (the lazyfault command, with
    `-s TMP/stats.%p.json`): read the statistics files it left in tmp."""
    tmp = tmp or make_tmp()
    return _run(list(prefix) + list(argv), _clean_env(env), timeout, input, cwd, tmp,
                read_stats, user, stdout_file)


def run_lib(argv, rules, *, env=None, uffd=None, log_level=None, timeout=DEFAULT_TIMEOUT,
            input=None, cwd=None, tmp=None, prefix=(), user=None, stats=True, stdout_file=None,
            lib=None):
    """Run argv under liblazyfault with the given rules text.

    prefix: a launcher put before the program (noufd, setpriv, ...); the
    library's variables are then given through /usr/bin/env after it, so
    that the launcher itself runs without the library.
    user: run as this uid/gid (no supplementary groups).
    lib: the library to preload (default LIB; shared_copy(LIB) for a run as
    another user).
    """
    tmp = tmp or make_tmp()
    rules_path = write_file(tmp / "rules.ini", rules)
    lenv = {"LD_PRELOAD": str(lib or LIB), "LAZYFAULT_RULES": str(rules_path)}
    if stats:
        lenv["LAZYFAULT_STATS"] = str(tmp / "stats.%p.json")
    if uffd:
        lenv["LAZYFAULT_UFFD"] = uffd
    if log_level:
        lenv["LAZYFAULT_LOG_LEVEL"] = log_level
    if prefix:
        argv = list(prefix) + ["/usr/bin/env"] + [f"{k}={v}" for k, v in lenv.items()] + list(argv)
        return _run(argv, _clean_env(env), timeout, input, cwd, tmp, True, user, stdout_file)
    r = _run(argv, _clean_env({**(env or {}), **lenv}), timeout, input, cwd, tmp, True, user,
             stdout_file)
    r.serve_asked = (env or {}).get("LAZYFAULT_SERVE")
    return r


STAT_FIELDS = ("regions", "bytes_registered", "faults", "pages_zeroed", "pages_loaded",
               "bytes_read", "pages_poisoned", "handoffs", "bytes_handed_off",
               "fault_ns_p50", "fault_ns_p99")
# What says which process a file is from.
PROCESS_FIELDS = {"pid": int, "ppid": int, "exe": str, "argv": list, "version": str, "serve": str,
                  "page_size": int, "start_time": (int, float), "end_time": (int, float)}
# The largest seed: every JSON tool keeps integers up to 2^53 exact.
SEED_MAX = (1 << 53) - 1


class LFTestCase(unittest.TestCase):
    """Base of the suite's tests: temporary directories, runs, assertions."""
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        if not LIB.exists():
            raise AssertionError(f"{LIB} is not built: run `make`")

    def tmpdir(self):
        d = make_tmp()
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        return d

    def cpython_test(self, module, *args):
        """argv of one module of CPython's own test suite, run by CPYTHON;
        skips the test when the suite is not installed."""
        if not os.path.exists(f"/usr/lib/python3.11/test/{module}.py"):
            self.skipTest("libpython3.11-testsuite is not installed")
        return [CPYTHON, "-m", "test", module, *args]

    def sqlite3_db(self):
        """A fresh directory holding t.db for Debian's sqlite3: a table t(a, b)
        of 3000 rows, a = 0..2999, b 40 x's then a; skips the test without
        sqlite3."""
        if not shutil.which("sqlite3"):
            self.skipTest("sqlite3 is not installed")
        tmp = self.tmpdir()
        db = sqlite3.connect(tmp / "t.db")
        db.execute("create table t(a integer, b text)")
        db.executemany("insert into t values (?, ?)", [(i, "x" * 40 + str(i)) for i in range(3000)])
        db.commit()
        db.close()
        return tmp

    def native(self, argv, **kw):
        kw.setdefault("tmp", self.tmpdir())
        return run_native(argv, **kw)

    def lib(self, argv, rules, **kw):
        kw.setdefault("tmp", self.tmpdir())
        return run_lib(argv, rules, **kw)

    def both(self, argv, rules, *, rc=0, native_kw=None, compare=True, **kw):
        """Run natively and under the library; both must exit with `rc` and,
        unless compare is False, print the same stdout.  Returns both runs."""
        n = self.native(argv, **(native_kw if native_kw is not None else
                                 {k: v for k, v in kw.items()
                                  if k in ("env", "timeout", "input", "cwd", "prefix", "user")}))
        self.assertEqual(n.rc, rc, "native run:\n" + n.describe())
        l = self.lib(argv, rules, **kw)
        self.assertEqual(l.rc, rc, "run under the library:\n" + l.describe())
        if compare:
            self.assertEqual(n.stdout, l.stdout, "output differs from the native run:\n" + l.describe())
        return n, l

    # ---- statistics ------------------------------------------------------

    def assertStatsValid(self, run, pids=None, mode=None, pid=None):
        """Every statistics file is complete JSON with every field; at least
        the started process (or `pid`) wrote one (or exactly `pids` files)."""
        self.assertFalse(run.stats_errors, "broken statistics file:\n" + run.describe())
        self.assertIn(pid or run.pid, run.stats,
                      "no statistics file for the process:\n" + run.describe())
        if pids is not None:
            self.assertEqual(len(run.stats), pids, "statistics files:\n" + run.describe())
        # (run.describe() only on a failure: a file may have many rules.)
        for p, doc in run.stats.items():
            bad = [f for f, t in PROCESS_FIELDS.items() if not isinstance(doc.get(f), t)]
            # The suite's second pass (LAZYFAULT_SERVE=signal) serves in
            # the faulting thread in every process the library runs in.
            # A run that asked for a mode itself (env) gets that one.
            asked = getattr(run, "serve_asked", None) or ("signal" if SIGNAL_MODE else None)
            wrong_serve = doc.get("serve") not in ("helper", "signal") or (
                asked and doc.get("mode") != "passthrough" and doc.get("serve") != asked)
            if (bad or wrong_serve or doc["pid"] != p
                    or doc.get("mode") not in ("full", "user-mode-only", "passthrough")
                    or (mode and doc.get("mode") != mode) or not isinstance(doc.get("rules"), list)
                    or not all(isinstance(a, str) for a in doc["argv"])
                    or doc["end_time"] < doc["start_time"]):
                self.fail(f"statistics of {p}: bad fields {bad}:\n" + run.describe())
            for r in doc["rules"]:
                bad = [f for f in STAT_FIELDS if not isinstance(r.get(f), int) or r[f] < 0]
                if not isinstance(r.get("name"), str) or r.get("action") not in (
                        "zero", "load", "poison", "fail") or bad:
                    self.fail(f"rule {r.get('name')!r} of {p}: bad fields {bad}:\n"
                              + run.describe())
                # A seed only on a rule that draws (a poison or fail rule
                # with a probability), below 2^53.
                for f in ("seed", "rule_seed"):
                    if f in r and not (r["action"] in ("poison", "fail")
                                       and isinstance(r[f], int) and 0 <= r[f] <= SEED_MAX):
                        self.fail(f"{f} of rule {r['name']!r} of {p}:\n" + run.describe())

    def assertServed(self, run, rule, pid=None, *, zeroed=False, loaded=False, min_faults=1):
        """The rule took memory and served faults in that process (the one
        started, unless pid is given): a library that silently passes
        everything through to the kernel fails here."""
        self.assertStatsValid(run, pid=pid)
        r = run.rule(rule, pid)
        self.assertIsNotNone(r, f"no rule {rule} in the statistics of {pid or run.pid}:\n"
                             + run.describe())
        where = f"rule {rule} in process {pid or run.pid}: {r}\n" + run.describe()
        self.assertNotEqual(run.stats[pid or run.pid]["mode"], "passthrough", where)
        self.assertGreater(r["regions"], 0, where)
        self.assertGreater(r["bytes_registered"], 0, where)
        self.assertGreaterEqual(r["faults"], min_faults, where)
        if zeroed:
            self.assertGreater(r["pages_zeroed"], 0, where)
        if loaded:
            self.assertGreater(r["pages_loaded"], 0, where)
            self.assertGreater(r["bytes_read"], 0, where)
        if r["faults"]:
            self.assertGreater(r["fault_ns_p99"], 0, where)
            self.assertGreaterEqual(r["fault_ns_p99"], r["fault_ns_p50"], where)
        return r

    def assertTookNothing(self, run, rule, pid=None):
        """The library ran in that process (statistics written, not in
        passthrough) and the rule took no memory: for a designed limit,
        memory a rule cannot see."""
        self.assertStatsValid(run, pid=pid)
        r = run.rule(rule, pid)
        where = f"rule {rule} in process {pid or run.pid}: {r}\n" + run.describe()
        self.assertIsNotNone(r, where)
        self.assertNotEqual(run.stats[pid or run.pid]["mode"], "passthrough", where)
        self.assertEqual((r["regions"], r["bytes_registered"], r["faults"]), (0, 0, 0), where)
        return r

    def assertMode(self, run, mode, pid=None):
        self.assertStatsValid(run)
        self.assertEqual(run.stats[pid or run.pid]["mode"], mode, run.describe())

    # ---- output ------------------------------------------------------------

    def assertAllChecksPassed(self, run, name):
        self.assertNotIn("FAIL:", run.stdout, run.describe())
        self.assertIn(f"{name}: all checks passed", run.stdout, run.describe())

    def assertNoLibErrors(self, run):
        bad = [l for l in run.log_lines if ": error: " in l]
        self.assertFalse(bad, "the library logged errors:\n" + run.describe())

    def assertLogLines(self, run, pattern, count=None):
        """Log lines of the library matching the regex; exactly `count` when
        given, at least one otherwise."""
        hits = [l for l in run.log_lines if re.search(pattern, l)]
        if count is None:
            self.assertTrue(hits, f"no log line matches {pattern!r}:\n" + run.describe())
        else:
            self.assertEqual(len(hits), count,
                             f"log lines matching {pattern!r}: {hits}\n" + run.describe())
        return hits
