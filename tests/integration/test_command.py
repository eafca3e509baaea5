"""Tests of the lazyfault command that do not need liblazyfault.so to work.

Programs run under a stub library (an empty shared object, through
LAZYFAULT_LIBRARY), so what is tested here is the command alone: arguments,
rule-file errors, program checks, the child's environment, exit statuses,
signal forwarding, the -v summary and `check`'s caller look-up.

Run alone from the top of the tree:
    python3 -m unittest tests/integration/test_command.py
The command is $LF_COMMAND, else build/lazyfault.
"""
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Absolute: some tests run the command from another directory.
COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or ROOT / "build" / "lazyfault")
BAD_RULES = ROOT / "tests" / "rules" / "bad"
GOOD_RULE_FILES = ROOT / "tests" / "rules" / "good"

MARKER_C = r"""
#include <stdio.h>
/* Creates the file named by its first argument (or MARK): proof that it ran. */
int main(int argc, char **argv)
{
    const char *p = argc > 1 ? argv[1] : NULL;
#ifdef MARK
    p = MARK;
#endif
    if (p) { FILE *f = fopen(p, "w"); if (f) fclose(f); }
    return 0;
}
"""

CALLER_C = r"""
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) static void *grab_buffer(size_t n)
{
    void *p = malloc(n);
    if (p) memset(p, 1, n);
    return p;
}
int main(int argc, char **argv)
{
    void *p = grab_buffer((size_t)argc << 20);
    free(p);
    return 0;
}
"""

GOOD_RULES = "[global]\nlog = off\n\n[big]\nmatch = anon\naction = zero\n"


def gcc(out, src, *flags):
    """Compile src (text) to out; True when it worked."""
    c = Path(str(out) + ".c")
    c.write_text(src)
    r = subprocess.run(["gcc", "-O1", *flags, "-o", str(out), str(c)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


class CommandTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(COMMAND, os.X_OK):
            raise RuntimeError(f"{COMMAND} is not built: run `make` first")
        if shutil.which("gcc") is None:
            raise unittest.SkipTest("gcc is needed to build the test programs")
        cls.tmp = Path(tempfile.mkdtemp(prefix="lf-command-"))
        cls.stub = cls.tmp / "libstub.so"
        cls.stub2 = cls.tmp / "libstub2.so"
        for so in (cls.stub, cls.stub2):
            if not gcc(so, "void lf_stub_%s(void) {}\n" % so.stem[3:], "-shared", "-fPIC"):
                raise RuntimeError("gcc cannot build a shared object")
        cls.marker_prog = cls.tmp / "marker"
        assert gcc(cls.marker_prog, MARKER_C)
        cls.caller_prog = cls.tmp / "caller"
        assert gcc(cls.caller_prog, CALLER_C, "-g")
        cls.static_prog = cls.tmp / "marker-static"
        cls.have_static = gcc(cls.static_prog, MARKER_C, "-static")
        cls.rules = cls.tmp / "good.ini"
        cls.rules.write_text(GOOD_RULES)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(dir=self.tmp))
        self.marker = self.dir / "marker-was-run"

    # -- helpers ---------------------------------------------------------

    def env(self, **extra):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("LAZYFAULT_") and k != "LD_PRELOAD"}
        e["LAZYFAULT_LIBRARY"] = str(self.stub)
        e.update(extra)
        return e

    def lf(self, *args, env=None, cwd=None, timeout=60):
        return subprocess.run([COMMAND, *map(str, args)], capture_output=True, text=True,
                              env=env if env is not None else self.env(),
                              cwd=cwd, timeout=timeout)

    def assert_usage_error(self, r):
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("Usage:", r.stderr)
        self.assertEqual(r.stdout, "")

    def assert_not_run(self):
        self.assertFalse(self.marker.exists(), "the program ran")

    def write(self, name, text, mode=None):
        p = self.dir / name
        p.write_text(text)
        if mode is not None:
            p.chmod(mode)
        return p

    # -- help, version, usage --------------------------------------------

    def test_help(self):
        for opt in ("--help", "-h"):
            r = self.lf(opt)
            self.assertEqual(r.returncode, 0)
            self.assertIn("Usage:", r.stdout)
            self.assertIn("lazyfault run", r.stdout)
            self.assertIn("lazyfault check", r.stdout)
            self.assertEqual(r.stderr, "")
        r = self.lf("run", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage:", r.stdout)

    def test_version(self):
        r = self.lf("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^lazyfault \d+\.\d+\.\d+\n$")
        m = re.search(r"^VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
        if m:
            self.assertEqual(r.stdout, f"lazyfault {m.group(1)}\n")

    def test_usage_errors(self):
        m = str(self.marker)
        cases = [
            [],
            ["frobnicate"],
            ["--bogus"],
            ["run"],
            ["run", "-r", self.rules],
            ["run", "-r"],
            ["run", "-x", "-r", self.rules, self.marker_prog, m],
            ["run", "--bogus", "-r", self.rules, self.marker_prog, m],
            ["check"],
            ["check", "--bogus", self.rules],
            ["check", self.rules, self.marker_prog, m],
        ]
        for args in cases:
            with self.subTest(args=args):
                self.assert_usage_error(self.lf(*args))
                self.assert_not_run()

    def test_run_without_rules_is_usage_error(self):
        r = self.lf("run", self.marker_prog, self.marker)
        self.assert_usage_error(r)
        self.assertIn("LAZYFAULT_RULES", r.stderr)
        self.assert_not_run()

    def test_rules_from_environment(self):
        r = self.lf("run", self.marker_prog, self.marker,
                    env=self.env(LAZYFAULT_RULES=str(self.rules)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.marker.exists())

    # -- bad rule files ----------------------------------------------------

    def check_bad(self, path, line, word):
        """Both commands refuse the file with exit 2, name the line and the
        word, and never run the program."""
        r = self.lf("check", path, self.marker_prog)
        self.assertEqual(r.returncode, 2, f"check {path}: {r.stderr}")
        self.assertIn(f":{line}:", r.stderr)
        self.assertIn(word, r.stderr)
        self.assertEqual(r.stdout, "", "nothing printed as understood")
        r = self.lf("run", "-r", path, self.marker_prog, self.marker)
        self.assertEqual(r.returncode, 2, f"run {path}: {r.stderr}")
        self.assertIn(f":{line}:", r.stderr)
        self.assertIn(word, r.stderr)
        self.assert_not_run()
        # The same file given through the environment.
        r = self.lf("run", self.marker_prog, self.marker,
                    env=self.env(LAZYFAULT_RULES=str(path)))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_not_run()

    def test_bad_rule_files_of_the_suite(self):
        files = sorted(BAD_RULES.glob("*.ini"))
        if not files:
            self.skipTest(f"no rule files in {BAD_RULES}")
        for f in files:
            with self.subTest(file=f.name):
                # (bytes: some of these files are not UTF-8 text on purpose)
                first = f.read_bytes().decode("utf-8", "replace").split("\n")[0]
                m = re.match(r"#\s*expect:\s*(\d+)\s+(\S+)", first)
                self.assertIsNotNone(m, f"{f}: first line must be '# expect: LINE WORD'")
                self.check_bad(f, m.group(1), m.group(2))

    def test_good_rule_files_of_the_suite(self):
        """tests/rules/good/*.ini and the examples' rule files: `check`
        accepts each, says nothing on stderr, and prints every rule."""
        files = sorted(GOOD_RULE_FILES.glob("*.ini")) + sorted((ROOT / "examples").glob("*.ini"))
        self.assertTrue(files)
        section = re.compile(r"^\s*\[([^\]]+)\]", re.M)
        for f in files:
            with self.subTest(file=str(f.relative_to(ROOT))):
                r = self.lf("check", f)
                self.assertEqual((r.returncode, r.stderr), (0, ""))
                given = [s.strip() for s in section.findall(f.read_text(encoding="utf-8-sig"))]
                printed = section.findall(r.stdout)
                given, printed = ([s for s in l if s != "global"] for l in (given, printed))
                self.assertEqual(printed, given, r.stdout)

    def test_bad_rule_files_inline(self):
        cases = [
            ("[r]\nmatch = anon\nbogus = 1\n", 3, "bogus"),
            ("[global]\nlog = off\n[r]\nmatch = anon\nmin_size = lots\n", 5, "min_size"),
            ("[dup]\nmatch = anon\n[dup]\nmatch = anon\n", 3, "dup"),
        ]
        for i, (text, line, word) in enumerate(cases):
            with self.subTest(text=text):
                self.check_bad(self.write(f"bad{i}.ini", text), line, word)

    def test_missing_rule_file(self):
        missing = self.dir / "no-such-rules.ini"
        for args in (["check", missing], ["run", "-r", missing, self.marker_prog, self.marker]):
            r = self.lf(*args)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("no-such-rules.ini", r.stderr)
        self.assert_not_run()

    # -- programs refused ----------------------------------------------------

    def refused(self, prog, word, *args):
        r = self.lf("run", "-r", self.rules, prog, self.marker, *args)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(word, r.stderr)
        self.assert_not_run()
        r = self.lf("check", self.rules, prog)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("cannot run under lazyfault", r.stdout)
        self.assertIn(word, r.stdout)

    def test_static_program_refused(self):
        if not self.have_static:
            self.skipTest("gcc -static does not work here")
        self.refused(self.static_prog, "statically linked")

    def test_script_with_static_interpreter_refused(self):
        if not self.have_static:
            self.skipTest("gcc -static does not work here")
        script = self.write("script", f"#!{self.static_prog}\n", 0o755)
        self.refused(script, "statically linked")
        r = self.lf("run", "-r", self.rules, script)
        self.assertIn("interpreter", r.stderr)

    def test_setuid_and_setgid_refused(self):
        for bits, word in ((stat.S_ISUID, "set-uid"), (stat.S_ISGID, "set-gid")):
            with self.subTest(word=word):
                p = self.dir / f"marker-{word}"
                shutil.copy(self.marker_prog, p)
                os.chmod(p, 0o755 | bits)
                self.assertTrue(os.stat(p).st_mode & bits, "the bit was set")
                self.refused(p, word)

    def test_foreign_architecture_refused(self):
        # The marker program with e_machine (offset 18) changed to AArch64,
        # or to x86-64 on an AArch64 machine.
        b = bytearray(self.marker_prog.read_bytes())
        machine = int.from_bytes(b[18:20], "little")
        other = 183 if machine != 183 else 62
        b[18:20] = other.to_bytes(2, "little")
        p = self.dir / "foreign"
        p.write_bytes(bytes(b))
        p.chmod(0o755)
        self.refused(p, "built for")

    def test_not_a_program_refused(self):
        p = self.write("data", "just some text\n", 0o755)
        self.refused(p, "neither an ELF program nor a #! script")

    # -- finding the program ----------------------------------------------------

    def test_program_not_found(self):
        for prog in ("lazyfault-no-such-program-xyz", self.dir / "nope"):
            with self.subTest(prog=prog):
                r = self.lf("run", "-r", self.rules, prog)
                self.assertEqual(r.returncode, 127, r.stderr)
                self.assertIn("nope" if isinstance(prog, Path) else prog, r.stderr)
                r = self.lf("check", self.rules, prog)
                self.assertEqual(r.returncode, 1)

    def test_program_not_executable(self):
        p = self.dir / "noexec"
        shutil.copy(self.marker_prog, p)
        p.chmod(0o644)
        r = self.lf("run", "-r", self.rules, p, self.marker)
        self.assertEqual(r.returncode, 126, r.stderr)
        self.assert_not_run()

    def test_program_found_through_path(self):
        bindir = self.dir / "bin"
        bindir.mkdir()
        shutil.copy(self.marker_prog, bindir / "lf-marker")
        env = self.env(PATH=f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        r = self.lf("run", "-r", self.rules, "lf-marker", self.marker, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.marker.exists())

    # -- running ----------------------------------------------------------------

    def test_exit_status_passes_through(self):
        for script, want in (("exit 0", 0), ("exit 3", 3), ("exit 255", 255),
                             ("kill -TERM $$", 128 + signal.SIGTERM),
                             ("kill -BUS $$", 128 + signal.SIGBUS),
                             ("kill -KILL $$", 128 + signal.SIGKILL)):
            with self.subTest(script=script):
                r = self.lf("run", "-r", self.rules, "/bin/sh", "-c", script)
                self.assertEqual(r.returncode, want, r.stderr)

    def test_child_environment(self):
        env = self.env(LD_PRELOAD=str(self.stub2))
        # Relative paths, resolved against the command's directory.
        r = self.lf("run", "-r", "good.ini", "-s", "out/st.%p.json", "--", "env",
                    env=env, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        self.assertEqual(got["LAZYFAULT_RULES"], str(self.rules.resolve()))
        self.assertEqual(got["LD_PRELOAD"], f"{self.stub.resolve()}:{self.stub2}")
        self.assertEqual(got["LAZYFAULT_STATS"], f"{self.tmp.resolve()}/out/st.%p.json")

    def test_child_environment_without_preload(self):
        r = self.lf("run", "-r", self.rules, "env")
        got = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        self.assertEqual(got["LD_PRELOAD"], str(self.stub.resolve()))
        self.assertNotIn("LAZYFAULT_STATS", got, "no -s, no -v: the stats are the rules' business")

    def test_program_arguments_are_not_options(self):
        r = self.lf("run", "-r", self.rules, "/bin/sh", "-c", 'echo "$@"', "sh", "-v", "-r", "x")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "-v -r x\n")

    def test_missing_library(self):
        env = self.env(LAZYFAULT_LIBRARY=str(self.dir / "libnothing.so"))
        r = self.lf("run", "-r", self.rules, self.marker_prog, self.marker, env=env)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("libnothing.so", r.stderr)
        self.assert_not_run()

    def wait_for(self, path, timeout=10):
        end = time.monotonic() + timeout
        while not path.exists():
            self.assertLess(time.monotonic(), end, f"{path} never appeared")
            time.sleep(0.02)

    def wait_for_child(self, pid, timeout=10):
        """Until process pid has a child (so lazyfault has forked)."""
        end = time.monotonic() + timeout
        while True:
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        st = Path(f"/proc/{d}/stat").read_text()
                    except OSError:
                        continue
                    # The parent pid is the 2nd field after the ")" of the name.
                    if int(st.rsplit(")", 1)[1].split()[1]) == pid:
                        return
            self.assertLess(time.monotonic(), end, f"{pid} never forked")
            time.sleep(0.02)

    def test_signals_are_forwarded(self):
        ready = self.dir / "ready"
        # The program reports the signal it got through its exit status; it
        # gives up by itself after about 30 s, so that a failure leaves
        # nothing behind.
        script = self.write("trap.sh", f"""#!/bin/sh
trap 'exit 10' INT
trap 'exit 11' TERM
trap 'exit 12' HUP
trap 'exit 13' USR1
trap 'exit 14' USR2
trap 'exit 15' QUIT
echo $$ > {ready}.tmp && mv {ready}.tmp {ready}
i=0
while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
exit 99
""", 0o755)
        for sig, want in ((signal.SIGINT, 10), (signal.SIGTERM, 11), (signal.SIGHUP, 12),
                          (signal.SIGUSR1, 13), (signal.SIGUSR2, 14), (signal.SIGQUIT, 15)):
            with self.subTest(sig=sig.name):
                if ready.exists():
                    ready.unlink()
                p = subprocess.Popen([COMMAND, "run", "-r", str(self.rules), str(script)],
                                     env=self.env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                try:
                    self.wait_for(ready)
                    p.send_signal(sig)
                    out, err = p.communicate(timeout=10)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.communicate()
                    if ready.exists():  # the program itself, should it outlive us
                        try:
                            os.kill(int(ready.read_text()), signal.SIGKILL)
                        except (ProcessLookupError, ValueError):
                            pass
                self.assertEqual(p.returncode, want, err)

    def test_signal_that_kills_the_child(self):
        # `sleep 30` ends early only if the SIGTERM sent to lazyfault reaches it.
        p = subprocess.Popen([COMMAND, "run", "-r", str(self.rules), "sleep", "30"],
                             env=self.env(), stderr=subprocess.DEVNULL)
        try:
            self.wait_for_child(p.pid)
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=40)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 128 + signal.SIGTERM)
        self.assertLess(time.monotonic() - t0, 10, "sleep 30 was not signalled")

    # -- the -v summary -------------------------------------------------------

    FAKE_STATS = """#!/bin/sh
# Writes a statistics file as the library would, at $LAZYFAULT_STATS.
f=$(printf '%s' "$LAZYFAULT_STATS" | sed "s/%p/$$/g")
printf '%s\\n' "$$" > {where}.pid
printf '%s\\n' "$f" > {where}.path
cat > "$f" <<EOF
{{"pid": $$, "mode": "user-mode-only", "rules": [
  {{"name": "big", "action": "zero", "regions": 1, "bytes_registered": 1073741824, "faults": 512, "pages_zeroed": 262144, "pages_loaded": 0, "bytes_read": 0, "pages_poisoned": 0, "seed": 0, "fault_ns_p50": 30000, "fault_ns_p99": 90000}},
  {{"name": "crash", "action": "poison", "regions": 2, "bytes_registered": 262144, "faults": 17, "pages_zeroed": 13, "pages_loaded": 0, "bytes_read": 0, "pages_poisoned": 4, "seed": 987654321, "fault_ns_p50": 4000, "fault_ns_p99": 8000}},
  {{"name": "data", "action": "load", "regions": 1, "bytes_registered": 1073741824, "faults": 7, "pages_zeroed": 0, "pages_loaded": 1008, "bytes_read": 4128768, "pages_poisoned": 0, "handoffs": 1, "bytes_handed_off": 1073741824, "seed": 0, "fault_ns_p50": 500000, "fault_ns_p99": 900000}}
]}}
EOF
exit 5
"""

    def fake_stats_program(self):
        where = self.dir / "where"
        return self.write("fake.sh", self.FAKE_STATS.format(where=where), 0o755), where

    def test_verbose_summary_private_file(self):
        prog, where = self.fake_stats_program()
        r = self.lf("run", "-v", "-r", self.rules, prog)
        self.assertEqual(r.returncode, 5, r.stderr)
        pid = Path(f"{where}.pid").read_text().strip()
        path = Path(Path(f"{where}.path").read_text().strip())
        # the process's line: pid, no ppid in the file, its mode
        self.assertRegex(r.stderr, rf"\n  {pid} +- +user-mode-only ")
        rows = {line.split()[0]: line.split() for line in r.stderr.splitlines()
                if line.strip().startswith(("big ", "crash ", "data "))}
        self.assertEqual(rows["big"][1:5], ["zero", "1", "1.0G", "512"])
        # read, then handed off to the kernel
        self.assertEqual(rows["data"][1:9], ["load", "1", "1.0G", "7", "0", "1008", "3.9M", "1.0G"])
        self.assertEqual(rows["crash"][1], "poison")
        self.assertIn("987654321", rows["crash"], "the seed of a poison rule is shown")
        self.assertIn("4", rows["crash"])
        self.assertFalse(path.exists(), "the private statistics file was removed")
        self.assertFalse(path.parent.exists(), "the private directory was removed")

    def test_verbose_summary_with_stats_option(self):
        prog, where = self.fake_stats_program()
        tmpl = self.dir / "stats.%p.json"
        r = self.lf("run", "-v", "-s", tmpl, "-r", self.rules, prog)
        self.assertEqual(r.returncode, 5, r.stderr)
        pid = Path(f"{where}.pid").read_text().strip()
        kept = self.dir / f"stats.{pid}.json"
        self.assertTrue(kept.exists(), "a -s file is the user's: kept")
        self.assertIn(f"kept as {tmpl}", r.stderr)
        self.assertIn("crash", r.stderr)

    def test_verbose_no_statistics(self):
        r = self.lf("run", "-v", "-r", self.rules, self.marker_prog, self.marker)
        self.assertEqual(r.returncode, 0)
        self.assertIn("no statistics were written", r.stderr)
        self.assertTrue(self.marker.exists())

    def test_verbose_truncated_statistics(self):
        # A file cut short (the writer was killed) is reported as missing.
        prog = self.write("half.sh", """#!/bin/sh
f=$(printf '%s' "$LAZYFAULT_STATS" | sed "s/%p/$$/g")
printf '{"pid": %s, "mode": "full", "rules": [\\n  {"name": "big", "act' "$$" > "$f"
""", 0o755)
        r = self.lf("run", "-v", "-r", self.rules, prog)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no statistics were written", r.stderr)

    def stats_planted(self, plant):
        """run -v where the program leaves `plant` (shell) at its statistics path."""
        prog = self.write("plant.sh", "#!/bin/sh\n"
                          "f=$(printf '%s' \"$LAZYFAULT_STATS\" | sed \"s/%p/$$/g\")\n"
                          + plant + "\n", 0o755)
        return self.lf("run", "-v", "-s", self.dir / "stats.%p.json", "-r", self.rules, prog,
                       timeout=20)

    def test_verbose_statistics_through_a_symlink_not_read(self):
        target = self.write("elsewhere.json", '{"pid": 1, "mode": "full", "rules": []}')
        r = self.stats_planted(f'ln -s {target} "$f"')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("is a symbolic link: not read", r.stderr)
        self.assertNotIn("statistics of", r.stderr, "no table from a file not read")

    def test_verbose_statistics_fifo_not_waited_for(self):
        # A FIFO would block a reader that opened it without O_NONBLOCK.
        r = self.stats_planted('mkfifo "$f"')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("not a regular file: not read", r.stderr)

    def test_verbose_statistics_not_json(self):
        r = self.stats_planted('printf \'{"pid": 1, "rules": []} trailing\' > "$f"')
        self.assertIn("not JSON", r.stderr)

    def test_verbose_seed_above_int64(self):
        # The library's seeds are below 2^53; a file from elsewhere may hold
        # any unsigned 64-bit one: read back whole.
        r = self.stats_planted('printf \'{"pid": %s, "mode": "full", "rules": [\\n'
                               '{"name": "p", "action": "poison", "faults": 3, '
                               '"seed": 18446744073709551557}\\n]}\\n\' $$ > "$f"')
        self.assertEqual(r.returncode, 0, r.stderr)
        row = [l.split() for l in r.stderr.splitlines() if l.strip().startswith("p ")]
        self.assertEqual(row[0][1], "poison", r.stderr)
        self.assertEqual(row[0][4], "3", r.stderr)
        self.assertEqual(row[0][-1], "18446744073709551557", r.stderr)
        self.assertEqual(row[0][2], "-", "a counter the file lacks shows as '-'")

    # -- check --------------------------------------------------------------------

    def test_check_prints_rules(self):
        r = self.lf("check", self.rules)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("[big]", r.stdout)
        self.assertRegex(r.stdout, r"match\s*=\s*anon")

    def test_check_good_program(self):
        r = self.lf("check", self.rules, self.marker_prog)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("can run under lazyfault", r.stdout)

    def caller_rules(self, *globs):
        text = "".join(f"[r{i}]\nmatch = malloc\ncaller = {g}\n\n" for i, g in enumerate(globs))
        return self.write("callers.ini", text)

    def test_check_caller_found(self):
        rules = self.caller_rules("grab_*", "malloc")
        r = self.lf("check", rules, self.caller_prog)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, rf"'grab_\*' found: grab_buffer in {re.escape(str(self.caller_prog))}")
        self.assertRegex(r.stdout, r"'malloc' found: malloc in /\S*libc\.so")

    def test_check_caller_not_found(self):
        rules = self.caller_rules("grab_*", "no_such_function_*")
        r = self.lf("check", rules, self.caller_prog)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("found: grab_buffer", r.stdout)
        self.assertIn(f"'no_such_function_*' not found in {self.caller_prog} or its libraries",
                      r.stdout)

    def test_check_caller_in_stripped_program(self):
        stripped = self.dir / "caller-stripped"
        shutil.copy(self.caller_prog, stripped)
        subprocess.run(["strip", str(stripped)], check=True)
        rules = self.caller_rules("grab_*")
        r = self.lf("check", rules, stripped)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("not found", r.stdout)
        self.assertIn(f"{stripped} has no .symtab", r.stderr)

    def test_check_does_not_run_the_program(self):
        # A program that leaves a mark whenever it starts, arguments or not.
        prog = self.dir / "marks-always"
        self.assertTrue(gcc(prog, MARKER_C, f'-DMARK="{self.marker}"'))
        rules = self.caller_rules("main")
        r = self.lf("check", rules, prog)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"found: main in {prog}", r.stdout)
        self.assert_not_run()
        # The control: run does run it.
        r = self.lf("run", "-r", rules, prog)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.marker.exists())


if __name__ == "__main__":
    unittest.main()
