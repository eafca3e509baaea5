"""Trust: nothing outside the program's own rights, no silent wrong
configuration, no hang.

- In a set-uid program (AT_SECURE), which the library reaches through
  /etc/ld.so.preload, the library does nothing at all, whatever another
  user's environment asks: tried in a private mount namespace, as uid 65534
  running a set-uid-root copy of a probe.
- The files the library writes: statistics replaced whole (a planted link
  is replaced, never followed; another user's file is left alone; a full
  file system leaves no file and a log line; /dev/zero stays a device),
  logs never through a link nor into someone else's file.
- FIFOs as rule file and as `source` never hang anything; a `source` that
  cannot be read is refused by `check` and `run` (exit 2, naming the line)
  and by the library (one line, then on_error: abort exits with 78).
- The statistics: no size limit (1,000 rules), seeds below 2^53 that jq
  reads back exactly, only on rules that draw, and what says which process
  a file is from; `run -v` summarises every process of the run.
- Messages: sizes too large, binary files, readahead above the cap, rules
  that never fire, values over several lines.
- The suite's runs as another user work from a tree in a private folder.
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
import unittest
from pathlib import Path

from util import (BUILD, LIB, LFTestCase, NOBODY, ROOT, SEED_MAX, ZERO_RULES, make_source,
                  prog, run_native, shared_copy, shared_tmpdir, source_rules, write_file)

COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or BUILD / "lazyfault")
SETPRIV = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
# Every page of the probe's memory poisoned, were the library at work.
POISON_ALL = ("[anon]\nmatch = anon\nmin_size = 1M\naction = poison\n\n"
              "[heap]\nmatch = malloc\nmin_size = 1M\naction = poison\n")
VERSION = re.search(r"^VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)


def needs_root(test):
    def wrapper(self, *a, **kw):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        return test(self, *a, **kw)
    wrapper.__name__ = test.__name__
    wrapper.__doc__ = test.__doc__
    return wrapper


def command_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAZYFAULT_") and k != "LD_PRELOAD"}
    env["LAZYFAULT_LIBRARY"] = str(LIB)
    env.setdefault("LC_ALL", "C")
    env.update(extra)
    return env


def lazyfault(*args, env=None, cwd=None, timeout=60, prefix=()):
    """The command, with a timeout: a hang fails the test, never the suite."""
    return subprocess.run([*prefix, COMMAND, *map(str, args)], capture_output=True,
                          env=env or command_env(), cwd=cwd, timeout=timeout)


def text(b):
    return b.decode("utf-8", errors="replace")


def printable(data):
    """Only newlines, tabs and printable ASCII or UTF-8: no raw bytes."""
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c in "\n\t" or (ord(c) >= 0x20 and not 0x7f <= ord(c) <= 0x9f) for c in s)


# ---------------------------------------------------------------- set-uid

class SecureExecTest(LFTestCase):
    """Through /etc/ld.so.preload the library is in every process, set-uid
    ones too, with the environment of whoever ran them."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: a set-uid-root program and a mount namespace")
        for tool in ("unshare", "setpriv", "mount"):
            if not shutil.which(tool):
                self.skipTest(f"{tool} is needed")
        # What uid 65534 runs must be within its reach, wherever the tree is.
        self.pub = shared_tmpdir()
        self.lib_copy = self.pub / "liblazyfault.so"
        shutil.copy(LIB, self.lib_copy)
        self.probe = self.pub / "probe-setuid"
        self.plain = self.pub / "probe"
        for p in (self.probe, self.plain):
            shutil.copy(prog("secure_probe"), p)
        os.chown(self.probe, 0, 0)
        os.chmod(self.probe, 0o4755)
        os.chmod(self.plain, 0o755)
        self.addCleanup(os.unlink, self.probe)  # no set-uid copy is left behind
        self.rules = write_file(self.pub / "poison.ini", POISON_ALL)
        write_file(self.pub / "ld.so.preload", f"{self.lib_copy}\n")
        (self.pub / "ovl").mkdir()
        # Root's own: a folder only root may write, a log, a secret.
        self.root = self.tmpdir()
        self.root.chmod(0o700)
        self.root_log = write_file(self.root / "root.log", "root's log\n", 0o600)
        self.secret = write_file(self.root / "secret.ini", "[root-only]\nhunter2 = yes\n", 0o600)

    def run_as_nobody(self, program, mode, lib_env):
        """In a private mount namespace whose /etc/ld.so.preload names the
        library: program run as uid 65534 with lib_env (given by env(1)
        after setpriv, so that only the program has it)."""
        pub = self.pub
        if Path("/etc/ld.so.preload").exists():
            preload = f"mount --bind {pub}/ld.so.preload /etc/ld.so.preload"
        else:
            preload = (f"mount -t tmpfs tmpfs {pub}/ovl\nmkdir {pub}/ovl/u {pub}/ovl/w\n"
                       f"mount -t overlay overlay -o lowerdir=/etc,upperdir={pub}/ovl/u,"
                       f"workdir={pub}/ovl/w /etc\ncp {pub}/ld.so.preload /etc/ld.so.preload")
        script = ("set -e\nmount --make-rprivate /\n" + preload + "\n"
                  + "exec " + " ".join(SETPRIV) + " /usr/bin/env "
                  + " ".join(f"{k}={v}" for k, v in lib_env.items()) + ' "$@"\n')
        return run_native(["unshare", "-m", "/bin/sh", "-c", script, "sh", program, mode],
                          cwd=pub, tmp=self.tmpdir())

    def root_files(self):
        return {p.name: p.read_bytes() for p in self.root.iterdir()}

    def test_setuid_program_untouched(self):
        before = self.root_files()
        env = {"LAZYFAULT_RULES": self.rules, "LAZYFAULT_STATS": f"{self.root}/made.%p.json",
               "LAZYFAULT_LOG": self.root_log, "LAZYFAULT_LOG_LEVEL": "debug"}
        r = self.run_as_nobody(self.probe, "off", env)
        self.assertIn("AT_SECURE=1", r.stdout, r.describe())
        self.assertEqual(r.rc, 0, "poisoned, or the probe saw the library at work:\n" + r.describe())
        self.assertAllChecksPassed(r, "secure_probe")
        self.assertEqual(r.stderr, "", "nothing written, not even a warning")
        self.assertEqual(self.root_files(), before, "no file of root's created or changed")

    def test_setuid_program_reads_no_rule_file(self):
        """A root-only file named as the rules: not opened, so no message
        can show a line of it."""
        r = self.run_as_nobody(self.probe, "off", {"LAZYFAULT_RULES": self.secret})
        self.assertEqual(r.rc, 0, r.describe())
        self.assertAllChecksPassed(r, "secure_probe")
        self.assertEqual(r.stderr, "")
        self.assertNotIn("hunter2", r.stdout + r.stderr)

    def test_control_same_program_not_setuid(self):
        """The same probe and rules without the set-uid bit: the library is
        at work (so the runs above prove it was there and held back)."""
        stats = self.pub / "stats"
        stats.mkdir()
        stats.chmod(0o777)
        r = self.run_as_nobody(self.plain, "on", {"LAZYFAULT_RULES": self.rules,
                                                  "LAZYFAULT_STATS": f"{stats}/s.%p.json"})
        self.assertIn("AT_SECURE=0", r.stdout, r.describe())
        self.assertNotIn("FAIL", r.stdout, r.describe())
        self.assertEqual(r.rc, -signal.SIGBUS, r.describe())
        files = list(stats.glob("s.*.json"))
        self.assertEqual(len(files), 1, r.describe())
        doc = json.loads(files[0].read_text())
        self.assertGreaterEqual(doc["rules"][0]["pages_poisoned"], 1, doc)


# ------------------------------------------------------ files the library writes

class WrittenFilesTest(LFTestCase):
    def run_zero(self, **env):
        return self.lib([prog("anon_zero"), "8"], ZERO_RULES, stats=False, env=env)

    @needs_root
    def test_statistics_link_replaced_not_followed(self):
        d = self.tmpdir()
        victim = write_file(d / "victim", "precious\n", 0o644)
        link = d / "stats.json"
        link.symlink_to(victim)
        l = self.run_zero(LAZYFAULT_STATS=str(link))
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(victim.read_text(), "precious\n", "written through the link")
        self.assertFalse(link.is_symlink(), "the link itself is replaced")
        doc = json.loads(link.read_text())
        self.assertEqual(doc["pid"], l.pid)
        self.assertGreater(doc["rules"][0]["faults"], 0, doc)
        self.assertEqual(stat.S_IMODE(link.stat().st_mode), 0o600, "it holds argv: the owner's")

    @needs_root
    def test_statistics_not_over_another_users_file(self):
        d = self.tmpdir()
        theirs = write_file(d / "stats.json", "theirs\n", 0o666)
        os.chown(theirs, NOBODY, NOBODY)
        l = self.run_zero(LAZYFAULT_STATS=str(theirs))
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(theirs.read_text(), "theirs\n")
        self.assertLogLines(l, r": error: cannot write the statistics file .*stats\.json: it exists "
                               r"and belongs to another user", count=1)

    def test_log_link_refused(self):
        d = self.tmpdir()
        victim = write_file(d / "victim", "precious\n", 0o644)
        (d / "log").symlink_to(victim)
        l = self.lib([prog("anon_zero"), "8"], ZERO_RULES, log_level="info",
                     env={"LAZYFAULT_LOG": str(d / "log")})
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(victim.read_text(), "precious\n")
        self.assertLogLines(l, r": warn: cannot use log file .*/log \(a symbolic link\); logging "
                               r"to stderr", count=1)
        self.assertLogLines(l, r": info: \d+ rule\(s\) from ")  # the log went on, on stderr
        self.assertServed(l, "big")

    @needs_root
    def test_log_of_another_user_or_with_two_names_refused(self):
        d = self.tmpdir()
        theirs = write_file(d / "theirs.log", "theirs\n", 0o666)
        os.chown(theirs, NOBODY, NOBODY)
        mine = write_file(d / "mine", "mine\n", 0o600)
        os.link(mine, d / "second-name.log")
        for log, why in ((theirs, "it belongs to another user"),
                         (d / "second-name.log", "it has other names")):
            with self.subTest(log=log.name):
                l = self.run_zero(LAZYFAULT_LOG=str(log))
                self.assertEqual(l.rc, 0, l.describe())
                self.assertLogLines(l, rf"cannot use log file .*{log.name} \({why}", count=1)
        self.assertEqual(theirs.read_text(), "theirs\n")
        self.assertEqual(mine.read_text(), "mine\n")

    def test_log_fifo_does_not_hang(self):
        d = self.tmpdir()
        os.mkfifo(d / "log")
        l = self.lib([prog("anon_zero"), "8"], ZERO_RULES, timeout=30,
                     env={"LAZYFAULT_LOG": str(d / "log")})
        self.assertEqual(l.rc, 0, l.describe())
        self.assertLogLines(l, r"cannot use log file .*/log", count=1)

    def test_own_log_file_appended(self):
        """The control: a log file of one's own is appended to."""
        d = self.tmpdir()
        log = write_file(d / "run.log", "earlier line\n", 0o600)
        l = self.lib([prog("anon_zero"), "8"], ZERO_RULES, log_level="info",
                     env={"LAZYFAULT_LOG": str(log)})
        self.assertEqual(l.rc, 0, l.describe())
        lines = log.read_text().splitlines()
        self.assertEqual(lines[0], "earlier line")
        self.assertTrue(any(re.match(rf"lazyfault\[{l.pid}\]: info: ", x) for x in lines), lines)


# ------------------------------------------------------------- FIFOs, sources

class InputsTest(LFTestCase):
    def setUp(self):
        self.d = self.tmpdir()
        self.marker = self.d / "ran"

    def marker_argv(self):
        return ["/bin/sh", "-c", f"touch {self.marker}"]

    def test_fifo_rule_file_never_hangs(self):
        fifo = self.d / "rules.ini"
        os.mkfifo(fifo)
        r = lazyfault("check", fifo, timeout=20)
        self.assertEqual(r.returncode, 2, text(r.stderr))
        self.assertIn(b"rules.ini: cannot open: a FIFO, not a regular file", r.stderr)
        for args, env in ((["run", "-r", fifo], None),
                          (["run"], command_env(LAZYFAULT_RULES=str(fifo)))):
            r = lazyfault(*args, *self.marker_argv(), env=env, timeout=20)
            self.assertEqual(r.returncode, 2, text(r.stderr))
            self.assertIn(b"a FIFO", r.stderr)
            self.assertFalse(self.marker.exists())
        # Preloaded into every process, timeout(1) included: each starts.
        n = self.native(["timeout", "20", "/bin/sh", "-c", "echo started"], timeout=30,
                        env={"LD_PRELOAD": str(LIB), "LAZYFAULT_RULES": str(fifo)})
        self.assertEqual((n.rc, n.stdout), (0, "started\n"), n.describe())
        lines = [x for x in n.stderr.splitlines() if ": error: " in x]
        self.assertTrue(lines and all("a FIFO, not a regular file" in x and "passthrough" in x
                                      for x in lines), n.describe())

    def source_case(self, source, why, line=4):
        """A rule whose source cannot be used: refused before anything runs
        by check and run (exit 2, the line named), and by the library."""
        rules = write_file(self.d / "r.ini",
                           f"[src]\nmatch = anon\naction = load\nsource = {source}\n")
        r = lazyfault("check", rules, timeout=20)
        self.assertEqual(r.returncode, 2, text(r.stderr))
        self.assertEqual(r.stdout, b"")
        self.assertIn(f"r.ini:{line}: key 'source': rule 'src': cannot use ".encode(), r.stderr)
        self.assertIn(why.encode(), r.stderr)
        r = lazyfault("run", "-r", rules, *self.marker_argv(), timeout=20)
        self.assertEqual(r.returncode, 2, text(r.stderr))
        self.assertIn(why.encode(), r.stderr)
        self.assertFalse(self.marker.exists(), "the program ran")
        # The library alone (its rules beside the source): one line, and the
        # program runs untouched...
        text_rules = rules.read_text()
        n, l = self.both([prog("anon_zero"), "8"], text_rules, timeout=30, tmp=self.d)
        self.assertMode(l, "passthrough")
        errs = [x for x in l.log_lines if ": error: " in x]
        self.assertEqual(len(errs), 1, l.describe())
        self.assertIn(why, errs[0])
        self.assertIn("on_error = passthrough", errs[0])
        # ... said even with log = off ...
        l = self.lib([prog("anon_zero"), "8"], "[global]\nlog = off\n" + text_rules, timeout=30,
                     tmp=self.d)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertLogLines(l, "on_error = passthrough", count=1)
        # ... or, with on_error = abort, does not run: status 78.
        l = self.lib([prog("anon_zero"), "8"], "[global]\non_error = abort\n" + text_rules,
                     timeout=30, tmp=self.d)
        self.assertEqual(l.rc, 78, l.describe())
        self.assertEqual(l.stdout, "")
        self.assertLogLines(l, r"exiting with status 78", count=1)

    def test_misspelt_source(self):
        self.source_case("no-such-file.bin", "No such file or directory")

    def test_fifo_source(self):
        os.mkfifo(self.d / "data.fifo")
        self.source_case("data.fifo", "a FIFO, not a regular file")

    def test_directory_source(self):
        (self.d / "data").mkdir()
        self.source_case("data", "a directory, not a regular file")

    def test_device_and_proc_sources(self):
        self.source_case("/dev/urandom", "a character device")
        self.source_case("/proc/self/maps", "a file of /proc or /sys")

    def test_source_beside_the_rule_file(self):
        """`source = source.bin` is the file beside the rules, whatever
        directory the program runs in."""
        make_source(self.d / "source.bin")
        elsewhere = self.tmpdir()
        rules = source_rules("source.bin")
        n, l = self.both([prog("srcread"), self.d / "source.bin", "8192"], rules, cwd=elsewhere,
                         tmp=self.d, compare=False)
        self.assertAllChecksPassed(l, "srcread")
        self.assertServed(l, "src", loaded=True)

    @needs_root
    def test_block_device_source(self):
        src = make_source(self.d / "disk.img", size=4 << 20)
        r = subprocess.run(["losetup", "-f", "--show", "-r", str(src)], capture_output=True,
                           text=True)
        if r.returncode != 0:
            self.skipTest(f"no loop device: {r.stderr.strip()}")
        dev = r.stdout.strip()
        self.addCleanup(subprocess.run, ["losetup", "-d", dev])
        l = self.lib([prog("srcread"), src, "8192"], source_rules(dev))
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "srcread")
        self.assertServed(l, "src", loaded=True)

    @needs_root
    def test_unreadable_source_as_another_user(self):
        pub = shared_tmpdir()
        secret = write_file(pub / "secret.bin", "root only\n", 0o600)
        rules = write_file(pub / "r.ini", "[s]\nmatch = malloc\naction = load\nsource = secret.bin\n")
        r = subprocess.run([*SETPRIV, shared_copy(COMMAND), "check", str(rules)],
                           capture_output=True, env=command_env(), timeout=20)
        self.assertEqual(r.returncode, 2, text(r.stderr))
        self.assertIn(f"r.ini:4: key 'source': rule 's': cannot use {secret}: Permission denied"
                      .encode(), r.stderr)


# ------------------------------------------------------------------ statistics

class StatisticsTest(LFTestCase):
    def test_a_thousand_rules(self):
        """Far past the 64 KiB the file was once cut at: whole JSON."""
        rules = "".join(f"[r{i:04}]\nmatch = anon\nmin_size = {2000 + i}M\nmax_size = {2000 + i}M\n\n"
                        for i in range(1000)) + ZERO_RULES
        n, l = self.both([prog("anon_zero"), "8"], rules)
        self.assertServed(l, "big", zeroed=True)
        self.assertEqual(len(l.main_stats["rules"]), 1001)
        self.assertGreater((l.tmp / f"stats.{l.pid}.json").stat().st_size, 200 << 10)

    @needs_root
    def test_full_file_system(self):
        """A 16 KiB tmpfs: the file does not fit, and nothing of it is left
        there; the log says so."""
        d = self.tmpdir()
        (d / "small").mkdir()
        rules = write_file(d / "r.ini", "".join(
            f"[r{i:04}]\nmatch = anon\nmin_size = {2000 + i}M\nmax_size = {2000 + i}M\n\n"
            for i in range(200)) + ZERO_RULES)
        script = (f'mount -t tmpfs -o size=16k tmpfs {d}/small || exit 9\n'
                  f'env LD_PRELOAD={LIB} LAZYFAULT_RULES={rules} LAZYFAULT_STATS={d}/small/s.json '
                  f'{prog("anon_zero")} 8 > /dev/null\n'
                  f'echo "rc=$?"; ls -A {d}/small\n')
        r = self.native(["unshare", "-m", "/bin/sh", "-c", script])
        self.assertEqual(r.stdout, "rc=0\n", "the program ran, and the tmpfs holds nothing:\n"
                         + r.describe())
        self.assertRegex(r.stderr, r"lazyfault\[\d+\]: error: cannot write the statistics file "
                                   rf"{d}/small/s\.json: No space left on device")

    def test_dev_zero_and_dev_full(self):
        """Not statistics files: never read (without bound), never replaced."""
        for dev in ("/dev/zero", "/dev/full"):
            with self.subTest(dev=dev):
                before = os.stat(dev)
                rules = write_file(self.tmpdir() / "r.ini", ZERO_RULES)
                # -v: the processes write into run's own directory, then the
                # copy to DEV is refused.  A 4 GiB address-space limit turns
                # an unbounded read into a quick failure (not for a command
                # built with ASan, whose shadow memory needs more).
                asan = b"__asan_init" in Path(COMMAND).read_bytes()
                r = lazyfault("run", "-v", "-s", dev, "-r", rules, prog("anon_zero"), "8",
                              prefix=[] if asan else ["prlimit", "--as=4294967296"], timeout=60)
                self.assertEqual(r.returncode, 0, text(r.stderr))
                self.assertIn(f"cannot write {dev}: it exists and is not a regular file".encode(),
                              r.stderr)
                self.assertIn(b"statistics of 1 process", r.stderr)
                # without -v: the library refuses it
                r = lazyfault("run", "-s", dev, "-r", rules, prog("anon_zero"), "8", timeout=60)
                self.assertEqual(r.returncode, 0, text(r.stderr))
                self.assertRegex(text(r.stderr), rf"error: cannot write the statistics file {dev}: "
                                                 "it exists and is not a regular file")
                after = os.stat(dev)
                self.assertTrue(stat.S_ISCHR(after.st_mode))
                self.assertEqual(after.st_rdev, before.st_rdev)

    def test_seeds_read_back_with_jq(self):
        """jq 1.6 reads numbers as doubles: a seed above 2^53 would come
        back as another seed, which replays other pages."""
        jq = shutil.which("jq")
        if not jq:
            raise AssertionError("jq is not installed (tests/install-deps.sh installs it)")
        rules = ("[p]\nmatch = anon\nmin_size = 100G\naction = poison\nprobability = 0.5\n\n"
                 "[q]\nmatch = anon\nmin_size = 100G\naction = poison\ntimes = 3\n\n" + ZERO_RULES)
        n, l = self.both([prog("fork")], rules)
        self.assertStatsValid(l)
        self.assertGreaterEqual(len(l.stats), 4)
        for pid, doc in l.stats.items():
            f = l.tmp / f"stats.{pid}.json"
            got = subprocess.run([jq, "-c", "[.rules[] | [.name, .seed, has(\"seed\")]]", str(f)],
                                 capture_output=True, text=True, check=True).stdout
            want = [[r["name"], r.get("seed"), "seed" in r] for r in doc["rules"]]
            self.assertEqual(json.loads(got), want, f"jq read {got} from {f.read_text()}")
            p = {r["name"]: r for r in doc["rules"]}
            self.assertLessEqual(p["p"]["seed"], SEED_MAX)
            self.assertNotIn("seed", p["q"], "a rule that does not draw has no seed")
            self.assertNotIn("seed", p["big"])

    def test_which_process(self):
        odd = "caf\udce9\x01"  # bytes 0xe9 and 0x01: not UTF-8, a control character
        t0 = time.time()
        l = self.lib([prog("anon_zero"), "8", odd], ZERO_RULES)
        t1 = time.time()
        self.assertEqual(l.rc, 0, l.describe())
        self.assertStatsValid(l)
        raw = (l.tmp / f"stats.{l.pid}.json").read_bytes()
        doc = json.loads(raw.decode("utf-8"))  # strictly UTF-8
        self.assertEqual(doc["exe"], os.path.realpath(prog("anon_zero")))
        self.assertEqual(doc["argv"], [prog("anon_zero"), "8", "caf\ufffd\x01"])
        self.assertIn(b"\\u0001", raw, "the control character escaped")
        self.assertEqual(doc["ppid"], os.getpid())
        self.assertLessEqual(t0 - 1, doc["start_time"])
        self.assertLessEqual(doc["start_time"], doc["end_time"])
        self.assertLessEqual(doc["end_time"], t1 + 1)
        self.assertEqual(doc["page_size"], os.sysconf("SC_PAGE_SIZE"))
        self.assertEqual(doc["version"], VERSION)
        if shutil.which("jq"):
            subprocess.run(["jq", "-e", ".argv[2]"], input=raw, capture_output=True, check=True)

    def test_fork_children_name_their_parent(self):
        n, l = self.both([prog("fork")], ZERO_RULES)
        self.assertStatsValid(l)
        for pid in l.child_pids():
            self.assertIn(l.stats[pid]["ppid"], l.stats, "a child's parent is one of the run's")
            self.assertGreaterEqual(l.stats[pid]["start_time"],
                                    l.stats[l.stats[pid]["ppid"]]["start_time"])


class VerboseTest(LFTestCase):
    """run -v: every process of the run, and the reason a file is missing."""

    def rows(self, stderr):
        """The per-process lines: pid -> [ppid, mode, regions, registered,
        faults, zeroed, loaded, poisoned, program...], and the total line."""
        lines = stderr.splitlines()
        head = next(i for i, x in enumerate(lines) if re.match(r"\s+pid\s+ppid\s+mode", x))
        rows, total = {}, None
        for x in lines[head + 1:]:
            f = x.split()
            if f[0] == "total":
                total = f
                break
            rows[int(f[0])] = f[1:]
        return rows, total

    def run_two(self, d, stats):
        """run -v of sh running two programs, one after the other: three
        processes under the library.  Returns stderr."""
        rules = write_file(d / "r.ini", ZERO_RULES)
        a = prog("anon_zero")
        r = lazyfault("run", "-v", "-s", d / stats, "-r", rules, "--", "/bin/sh", "-c",
                      f"{a} 8 > /dev/null; {a} 16 > /dev/null; exit 0", timeout=60)
        err = text(r.stderr)
        self.assertEqual(r.returncode, 0, err)
        self.assertIn("statistics of 3 processes", err)
        return err

    def test_every_process_summarised_and_kept(self):
        d = self.tmpdir()
        a = prog("anon_zero")
        err = self.run_two(d, "stats.%p.json")
        rows, total = self.rows(err)
        self.assertEqual(len(rows), 3, err)
        sh = [p for p, f in rows.items() if "/bin/sh" in " ".join(f[8:]) or f[8] == "/bin/sh"]
        self.assertEqual(len(sh), 1, err)
        kids = [p for p in rows if p != sh[0]]
        for k in kids:
            self.assertEqual(int(rows[k][0]), sh[0], "a's and b's parent is sh")
            self.assertIn(a, " ".join(rows[k][8:]))
        self.assertEqual(total[1:3], ["3", "processes"])
        self.assertEqual(int(total[5]), sum(int(f[4]) for f in rows.values()), "total faults")
        kept = sorted(d.glob("stats.*.json"))
        self.assertEqual(sorted(int(f.name.split(".")[1]) for f in kept), sorted(rows), err)
        for f in kept:
            self.assertEqual(json.loads(f.read_text())["pid"], int(f.name.split(".")[1]))

    def test_without_p_the_started_program_is_kept(self):
        d = self.tmpdir()
        err = self.run_two(d, "one.json")
        rows, _ = self.rows(err)
        sh = [p for p, f in rows.items() if int(f[0]) not in rows]
        self.assertEqual(json.loads((d / "one.json").read_text())["pid"], sh[0], err)
        self.assertIn("the statistics of 2 other processes are not kept", err)
        self.assertEqual(sorted(p.name for p in d.iterdir()), ["one.json", "r.ini"])

    def test_sigkill_named(self):
        rules = write_file(self.tmpdir() / "r.ini", ZERO_RULES)
        r = lazyfault("run", "-v", "-r", rules, "--", "/bin/sh", "-c", "kill -KILL $$")
        self.assertEqual(r.returncode, 128 + signal.SIGKILL)
        self.assertIn(b"killed by SIGKILL, which nothing can catch", r.stderr)

    @needs_root
    def test_on_error_abort_named(self):
        """The library gives up inside the program (no userfaultfd there):
        -v says status 78 is on_error = abort, not a SIGKILL."""
        rules = write_file(shared_tmpdir() / "r.ini", "[global]\non_error = abort\n\n" + ZERO_RULES)
        r = lazyfault("run", "-v", "-r", rules, "--", prog("noufd"), "--",
                      shared_copy(prog("anon_zero")), "8",
                      env=command_env(LAZYFAULT_LIBRARY=shared_copy(LIB)))
        err = text(r.stderr)
        self.assertEqual(r.returncode, 78, err)
        self.assertIn("it exited with status 78, the status of on_error = abort", err)
        self.assertNotIn("SIGKILL", err)


# --------------------------------------------------------------------- messages

class MessagesTest(LFTestCase):
    def check(self, rules_text):
        f = write_file(self.tmpdir() / "r.ini", rules_text)
        return lazyfault("check", f)

    def test_size_too_large(self):
        r = self.check("[a]\nmatch = anon\nmin_size = 99999999999G\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"r.ini:3: key 'min_size': '99999999999G' is too large", r.stderr)

    def test_binary_file_not_echoed(self):
        # Bytes without NUL, in a line that reads as a key: each byte but
        # NUL, newline, '=', ';', '#' and '['.
        junk = bytes(b for b in range(1, 256) if b not in b"\n=;#[")
        crafted = self.tmpdir() / "junk.ini"
        crafted.write_bytes(b"[r]\nmatch = anon\n" + junk + b" = 1\n")
        for f in ("/bin/true", prog("anon_zero"), crafted):
            with self.subTest(f=f):
                r = lazyfault("check", f)
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stdout, b"")
                self.assertTrue(printable(r.stderr), r.stderr)
                self.assertIn(b"is this a text file?", r.stderr)

    def test_readahead_above_the_cap(self):
        r = self.check("[a]\nmatch = anon\nreadahead = 100M\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"key 'readahead': '100M' is too large (at most 4M)", r.stderr)
        r = self.check("[a]\nmatch = anon\nreadahead = 4M\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"readahead = 4194304 ; 4M", r.stdout)

    def test_rules_that_never_fire_warned(self):
        text_rules = ("[p]\nmatch = anon\nmin_size = 100G\naction = poison\nprobability = 0\n\n"
                      "[a]\nmatch = anon\n\n[b]\nmatch = anon\nmin_size = 1M\n")
        r = self.check(text_rules)
        self.assertEqual(r.returncode, 0, r.stderr)
        err = text(r.stderr)
        self.assertIn("warning: ", err)
        self.assertIn("r.ini:5: key 'probability': rule 'p' never poisons a page", err)
        self.assertIn("r.ini:10: rule 'b': never takes a region: rule 'a' (line 7)", err)
        self.assertIn("[b]", text(r.stdout), "still printed: a warning, not an error")
        f = write_file(self.tmpdir() / "r2.ini", text_rules)
        r = lazyfault("run", "-r", f, "/bin/true")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"never poisons a page", r.stderr)

    def test_pages_over_several_lines(self):
        """A page list that goes on after a comma: the library poisons the
        page named on the second line."""
        rules = ("[poison]\nmatch = anon\nmin_size = 2M\nmax_size = 2M\naction = poison\n"
                 "pages = 100, 200,\n    300, 5\n\n" + ZERO_RULES)
        l = self.lib([prog("exitways"), "poisoned"], rules)
        self.assertEqual(l.rc, -signal.SIGBUS, l.describe())
        self.assertLogLines(l, r": warn: .*'poison'.*page 5", count=1)


# ------------------------------------------------------- the suite, anywhere

class ReachTest(LFTestCase):
    @needs_root
    def test_runs_as_another_user_from_a_private_folder(self):
        """The tree in a folder uid 65534 cannot enter (a 0700 home): the
        library there cannot be preloaded by it; its shared copy can."""
        private = self.tmpdir()
        private.chmod(0o700)
        lib = private / "liblazyfault.so"
        shutil.copy(LIB, lib)
        argv = [shared_copy(prog("anon_zero")), "8"]
        l = self.lib(argv, ZERO_RULES, prefix=SETPRIV, lib=lib)
        self.assertIn("cannot be preloaded", l.stderr, l.describe())
        self.assertEqual(l.stats, {})
        l = self.lib(argv, ZERO_RULES, prefix=SETPRIV, lib=shared_copy(lib))
        self.assertEqual(l.rc, 0, l.describe())
        self.assertServed(l, "big", zeroed=True)


if __name__ == "__main__":
    unittest.main()
