"""The build itself: how the library is linked, what a header change
rebuilds, the debug library, and `make install` / `make uninstall`.

The dependency checks ask make about the tree's own build/ (`make -q`,
`make -n`: nothing is written), which `make test-build` has brought up to
date; the install test builds into a private build directory (B=...), so
that it never rewrites build/ under the other tests.
"""
import os
import re
import subprocess
import unittest
from pathlib import Path

from util import BUILD, LIB, LFTestCase, ROOT, SYS_PYTHON, ZERO_RULES, write_file

DEBUG_LIB = BUILD / "debug" / "liblazyfault.so"
PREFIX = "/usr/local"


def make_env():
    """The caller's environment without what a make that runs us passed
    down (its jobserver's descriptors are not ours)."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}


def make(*args, timeout=600):
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *map(str, args)],
                          capture_output=True, text=True, env=make_env(), timeout=timeout)


def dynamic_flags(lib):
    """The FLAGS and FLAGS_1 entries of the dynamic section (readelf -d)."""
    r = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True)
    if r.returncode != 0 or "(NEEDED)" not in r.stdout:
        raise AssertionError(f"readelf -d {lib}: no dynamic section?\n{r.stdout}{r.stderr}")
    return " ".join(l for l in r.stdout.splitlines() if re.search(r"\(FLAGS(_1)?\)", l))


def compile_line(out, target, *opts):
    """The command make would run to build `target` (make -n), joined."""
    r = make("-n", *opts, target)
    if r.returncode != 0:
        raise AssertionError(f"make -n {target}: {r.stderr}")
    text = r.stdout.replace("\\\n", " ")
    lines = [" ".join(l.split()) for l in text.splitlines() if f"-o {out} " in l]
    if len(lines) != 1:
        raise AssertionError(f"make -n {target}: no single command writing {out}:\n{r.stdout}")
    return lines[0]


class LinkTest(unittest.TestCase):
    def test_library_is_bound_now(self):
        """-z now: every symbol of the library is bound when it is loaded, so
        a helper thread's first call of a function never enters the
        loader's lazy resolver (which takes the loader's lock)."""
        for lib in (LIB, DEBUG_LIB):
            with self.subTest(lib=str(lib)):
                self.assertTrue(lib.exists(), f"{lib} is not built: run `make test-build`")
                flags = dynamic_flags(lib)
                self.assertRegex(flags, r"\(FLAGS\)\s.*\bBIND_NOW\b|\(FLAGS_1\)\s.*\bNOW\b", flags)


class DependencyTest(unittest.TestCase):
    """What make rebuilds when a header changes (make -q -W HEADER TARGET:
    exit 1 means TARGET would be rebuilt were HEADER newer)."""

    @classmethod
    def setUpClass(cls):
        r = make("-q", "test-build")
        if r.returncode != 0:
            raise AssertionError("build/ is not up to date: run `make test-build` first")

    def out_of_date(self, header, target):
        r = make("-q", "-W", header, target)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return r.returncode == 1

    def test_header_changes_rebuild(self):
        for header, target in (("tests/progs/lftest.h", "build/tests/progs/anon_zero"),
                               ("tests/progs/lftest.h", "build/tests/progs/file_map"),
                               ("tests/progs/file_util.h", "build/tests/progs/file_map"),
                               ("preload/lf.h", "build/liblazyfault.so"),
                               ("preload/lf.h", "build/debug/liblazyfault.so"),
                               ("common/rules.h", "build/lazyfault"),
                               ("common/rules.h", "build/tests/unit/test_rules"),
                               ("injector/lazyfault.h", "build/lazyfault")):
            with self.subTest(header=header, target=target):
                self.assertTrue(self.out_of_date(header, target),
                                f"{target} is not rebuilt when {header} changes")

    def test_a_program_depends_on_the_headers_it_includes(self):
        """The programs' dependencies come from what each includes (gcc
        -MMD): one that does not include file_util.h is left alone."""
        self.assertFalse(self.out_of_date("tests/progs/file_util.h", "build/tests/progs/anon_zero"))
        self.assertFalse(self.out_of_date("preload/lf.h", "build/tests/progs/anon_zero"))


class DebugLibraryTest(unittest.TestCase):
    def test_debug_library_is_the_same_build_with_lf_debug(self):
        """build/debug/liblazyfault.so: the very command that builds the
        library, from the same sources, with -DLF_DEBUG -O1 -g added."""
        main = compile_line("build/liblazyfault.so", "build/liblazyfault.so", "-W", "preload/lf.h")
        debug = compile_line("build/debug/liblazyfault.so", "build/debug/liblazyfault.so",
                             "-W", "preload/lf.h")
        self.assertNotIn("-DLF_DEBUG", main)
        self.assertIn(" -DLF_DEBUG -O1 -g ", debug)
        self.assertEqual(debug.replace(" -DLF_DEBUG -O1 -g ", " ")
                         .replace("build/debug/liblazyfault.so", "build/liblazyfault.so"), main)


class InstallTest(LFTestCase):
    """make install DESTDIR=... PREFIX=/usr/local, the installed command run
    from there, then make uninstall."""

    EXPECTED = {"bin/lazyfault", "lib/lazyfault/liblazyfault.so", "share/man/man1/lazyfault.1",
                "share/man/man5/lazyfault.ini.5", "share/man/man5/lazyfault-trace.5"} | {
        f"share/lazyfault/examples/{p.name}" for p in (ROOT / "examples").iterdir()
        if p.suffix in (".ini", ".c")}
    # Directories others share: uninstall leaves them.
    SHARED_DIRS = {"usr", "usr/local", "usr/local/bin", "usr/local/lib", "usr/local/share",
                   "usr/local/share/man", "usr/local/share/man/man1", "usr/local/share/man/man5"}

    def files_under(self, root):
        return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}

    def test_install_run_uninstall(self):
        tmp = self.tmpdir()
        build, dest = tmp / "build", tmp / "root"
        r = make(f"B={build}", f"DESTDIR={dest}", f"PREFIX={PREFIX}", "install")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        top = dest / PREFIX.lstrip("/")
        self.assertEqual(self.files_under(top), self.EXPECTED)
        self.assertEqual(self.files_under(dest), {f"usr/local/{f}" for f in self.EXPECTED})

        # The installed command is the one `make` built: no install path in it.
        cmd = top / "bin" / "lazyfault"
        self.assertEqual(cmd.read_bytes(), (build / "lazyfault").read_bytes())
        self.assertNotIn(f"{PREFIX}/lib".encode(), cmd.read_bytes())

        # Run from DESTDIR, with LAZYFAULT_LIBRARY unset (util removes it):
        # the program maps the installed library, which serves its faults.
        lib = (top / "lib" / "lazyfault" / "liblazyfault.so").resolve()
        rules = write_file(tmp / "rules.ini", ZERO_RULES)
        script = ("import mmap\n"
                  "m = mmap.mmap(-1, 16 << 20, flags=mmap.MAP_PRIVATE)\n"
                  "m[::4096] = b'x' * 4096\n"
                  "print(sorted({l.split()[-1] for l in open('/proc/self/maps') "
                  "if 'liblazyfault' in l}))\n")
        run_dir = self.tmpdir()
        l = self.native([cmd, "run", "-r", rules, "-s", run_dir / "stats.%p.json", "--",
                         SYS_PYTHON, "-c", script], tmp=run_dir, read_stats=True)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(l.stdout.strip(), repr([str(lib)]), l.describe())
        (pid,) = l.child_pids()
        self.assertServed(l, "big", pid, zeroed=True)

        r = make(f"DESTDIR={dest}", f"PREFIX={PREFIX}", "uninstall")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.files_under(dest), set(), "left behind by make uninstall")
        left = {str(p.relative_to(dest)) for p in dest.rglob("*")}
        self.assertEqual(left, self.SHARED_DIRS, "directories left by make uninstall")

    def test_command_alone_finds_no_library(self):
        """The command looks beside itself and in ../lib/lazyfault, nowhere
        else: a copy of it alone in a directory says where it looked."""
        tmp = self.tmpdir()
        cmd = tmp / "bin" / "lazyfault"
        cmd.parent.mkdir()
        cmd.write_bytes((BUILD / "lazyfault").read_bytes())
        cmd.chmod(0o755)
        rules = write_file(tmp / "rules.ini", ZERO_RULES)
        r = self.native([cmd, "run", "-r", rules, "--", "/bin/true"])
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn(f"cannot find liblazyfault.so (looked for {tmp}/bin/liblazyfault.so, "
                      f"{tmp}/bin/../lib/lazyfault/liblazyfault.so); set LAZYFAULT_LIBRARY",
                      r.stderr)


if __name__ == "__main__":
    unittest.main()
