"""User-mode-only mode: the kernel does not ask the library to fill a page
that a system call touches (the call would fail with EFAULT or come short),
so the library fills the pages of every read/write-family call first.

The read/write-family program (tests/progs/rwfamily.c) does read, pread,
readv, preadv, preadv2, write, pwrite, writev, pwritev, send, sendto,
sendmsg, recv, recvfrom, recvmsg, pipes, fread, fwrite and getrandom with
buffers the program never touched, in a zero region, in a source region and
in a forked child: results must equal the native run.  tests/progs/rwmore.c
does the other entry points.  Every call of the wrappers' table
(preload/wrap_io_table.h) is checked by one of the two, and every such check
fails under a build of the library whose wrappers do not prefault.

It runs as root with LAZYFAULT_UFFD=user, and as uid 65534 where user mode
is all there is (vm.unprivileged_userfaultfd = 0, /dev/userfaultfd 0600):
the stats must say "user-mode-only" and the log must carry the one-time warn
line that says how to get the full mode.
"""
import os
import re
import subprocess
import unittest

from util import (helper_only, BUILD, LIB, LFTestCase, NOBODY, ROOT, SOURCE_OFFSET, SYS_PYTHON, ZERO_RULES,
                  make_source, prog, shared_copy, source_rules)

WARN = r": warn: .*user-mode-only.*vm\.unprivileged_userfaultfd=1.*/dev/userfaultfd"


IO_TABLE = ROOT / "preload" / "wrap_io_table.h"
# The library built with its read/write-family wrappers making straight
# calls (LF_TEST_NO_PREFAULT in preload/wrap_io.c), and nothing else changed.
NO_PREFAULT_DIR = BUILD / "noprefault"
NO_PREFAULT_LIB = NO_PREFAULT_DIR / "liblazyfault.so"


def wrapped_io_calls():
    """Every name the wrappers' table exports: its rows and their aliases."""
    text = re.sub(r"/\*.*?\*/", "", IO_TABLE.read_text(), flags=re.S)
    names = re.findall(r"^LF_IO(?:_ALIAS)?\((\w+),", text, flags=re.M)
    if not names or len(names) != text.count("LF_IO"):
        raise AssertionError(f"{IO_TABLE}: rows not read ({names}): has their format changed?")
    return names


def checks_of_calls(stdout, names):
    """name -> [passed, ...]: the check lines whose description starts
    with the name (the programs name the call they check first)."""
    checks = {name: [] for name in names}
    for line in stdout.splitlines():
        m = re.match(r"(ok|FAIL): (\w+)\b", line)
        if m and m.group(2) in checks:
            checks[m.group(2)].append(m.group(1) == "ok")
    return checks


def unprivileged_uffd():
    try:
        with open("/proc/sys/vm/unprivileged_userfaultfd") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


class UserModeTest(LFTestCase):
    def setUp(self):
        self.dir = self.tmpdir()
        self.src = make_source(self.dir / "source.bin")
        self.rules = source_rules(self.src)

    def check_rw(self, l, mode):
        self.assertAllChecksPassed(l, "rwfamily")
        self.assertMode(l, mode)
        self.assertServed(l, "big", zeroed=True)
        self.assertServed(l, "src", loaded=True)
        # the forked child served its own faults, in the same mode
        self.assertEqual(len(l.child_pids()), 1, l.describe())
        self.assertMode(l, mode, l.child_pids()[0])
        self.assertServed(l, "big", l.child_pids()[0], zeroed=True)

    def test_full_mode_as_root(self):
        """Control: the same program in full mode, no user-mode line."""
        if os.geteuid() != 0:
            self.skipTest("needs root for the full mode")
        argv = [prog("rwfamily"), "--source", self.src, str(SOURCE_OFFSET)]
        n, l = self.both(argv, self.rules)
        self.check_rw(l, "full")
        self.assertLogLines(l, "user-mode-only", count=0)

    def test_forced_user_mode_as_root(self):
        argv = [prog("rwfamily"), "--source", self.src, str(SOURCE_OFFSET)]
        n, l = self.both(argv, self.rules, uffd="user")
        self.check_rw(l, "user-mode-only")
        self.assertLogLines(l, WARN, count=1)
        self.assertNoLibErrors(l)

    def test_user_mode_as_nobody(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to become uid 65534")
        if unprivileged_uffd():
            self.skipTest("vm.unprivileged_userfaultfd = 1: uid 65534 gets the full mode")
        argv = [shared_copy(prog("rwfamily")), "--source", self.src, str(SOURCE_OFFSET)]
        setpriv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        n, l = self.both(argv, self.rules, prefix=setpriv, lib=shared_copy(LIB))
        self.check_rw(l, "user-mode-only")
        self.assertLogLines(l, WARN, count=1)
        self.assertNoLibErrors(l)

    def test_memory_programs_in_user_mode(self):
        """Every memory-behaviour program passes in user-mode-only mode too."""
        for name, args in (("anon_zero", ["16"]), ("fork", ["--source"]), ("mremap", ["--source"]),
                           ("madvise", ["--source"]), ("munmap", ["--source"]),
                           ("mprotect", []), ("threads", ["8"]), ("exec", [])):
            if args == ["--source"]:
                args = ["--source", str(self.src), str(SOURCE_OFFSET)]
            with self.subTest(prog=name):
                n, l = self.both([prog(name)] + args, self.rules, uffd="user")
                self.assertAllChecksPassed(l, name)
                self.assertMode(l, "user-mode-only")
                self.assertServed(l, "big", zeroed=True)

    def test_python_as_nobody(self):
        """A real program in user mode: python reads a file into a private
        anonymous mmap it never touched (mmap.readinto -> read(2))."""
        if os.geteuid() != 0:
            self.skipTest("needs root to become uid 65534")
        data = self.dir / "data.bin"
        data.write_bytes(os.urandom(3 << 20))
        data.chmod(0o644)
        script = f"""
import mmap, hashlib
m = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE)
with open({str(data)!r}, "rb", buffering=0) as f:
    n = f.readinto(memoryview(m)[1 << 20 : 5 << 20])
print("read", n, hashlib.sha256(m[:]).hexdigest())
"""
        setpriv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        n, l = self.both([SYS_PYTHON, "-c", script], ZERO_RULES, prefix=setpriv,
                         lib=shared_copy(LIB))
        self.assertIn("read 3145728", l.stdout, l.describe())
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "big", zeroed=True)

    def test_other_entry_points_full_mode(self):
        """Control for the next test: fread_unlocked, fwrite_unlocked,
        preadv64v2, pwritev64v2, the _chk entry points, and the address and
        control buffers of recvfrom/recvmsg, in full mode."""
        n, l = self.both([prog("rwmore")], ZERO_RULES)
        self.assertAllChecksPassed(l, "rwmore")
        self.assertServed(l, "big", zeroed=True)

    def test_other_entry_points_user_mode(self):
        """The same in user-mode-only mode: real programs call these (sort:
        fread_unlocked; python3: preadv64v2/pwritev64v2; git: __fread_chk;
        every fortified program: __read_chk and friends), and recvfrom /
        recvmsg write their address and control buffers too."""
        n, l = self.both([prog("rwmore")], ZERO_RULES, uffd="user")
        self.assertAllChecksPassed(l, "rwmore")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "big", zeroed=True)

    def test_signal_handler_io_full_mode(self):
        """Control: a timer's handler write()s from fresh pages while the
        main loop read()s into fresh pages, then munmap, 4 rounds."""
        n, l = self.both([prog("sigio")], ZERO_RULES)
        self.assertAllChecksPassed(l, "sigio")
        self.assertServed(l, "big", zeroed=True)

    def test_signal_handler_io_user_mode(self):
        """The same in user-mode-only mode, where the library fills pages in
        the calling thread: a handler's call that lands inside the main
        loop's fill must not corrupt the library's state (a watchdog in the
        program turns a hang into a failure)."""
        n, l = self.both([prog("sigio")], ZERO_RULES, uffd="user")
        self.assertAllChecksPassed(l, "sigio")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "big", zeroed=True)

    def io_programs(self, lib=None):
        """rwfamily (zero and source regions) and rwmore in user-mode-only
        mode, under the library or, given `lib`, under that build of it:
        the check lines of every call of the table, over both programs."""
        names = wrapped_io_calls()
        checks = {name: [] for name in names}
        for argv, rules in (([prog("rwfamily"), "--source", self.src, str(SOURCE_OFFSET)], self.rules),
                            ([prog("rwmore")], ZERO_RULES)):
            if lib:
                argv = ["/usr/bin/env", f"LD_PRELOAD={lib}"] + argv
            l = self.lib(argv, rules, uffd="user")
            self.assertMode(l, "user-mode-only")
            self.assertServed(l, "big", zeroed=True)
            for name, results in checks_of_calls(l.stdout, names).items():
                checks[name] += results
            if not lib:
                self.assertAllChecksPassed(l, os.path.basename(argv[0]))
        return checks

    def test_every_wrapped_call_is_checked(self):
        """Every name of the wrappers' table, aliases included, is called
        by rwfamily or rwmore in a check of its own (one that starts with
        the name), and passes in user-mode-only mode."""
        checks = self.io_programs()
        missing = [name for name, results in checks.items() if not results]
        self.assertFalse(missing, f"calls of {IO_TABLE.name} that no check of rwfamily or "
                         "rwmore names first: add one")

    def test_every_check_needs_the_prefault(self):
        """The same runs under a build whose wrappers make straight calls:
        every check of every call of the table must fail (the kernel meets
        pages nobody filled: EFAULT, or a short count), so that each check
        proves its wrapper did the work, and none passes on memory filled
        some other way (a page touched before, a window around it)."""
        subprocess.run(["make", "-s", f"B={NO_PREFAULT_DIR}", "CFLAGS=-O2 -g -DLF_TEST_NO_PREFAULT",
                        str(NO_PREFAULT_LIB)], cwd=ROOT, check=True, timeout=300)
        checks = self.io_programs(NO_PREFAULT_LIB)
        missing = [name for name, results in checks.items() if not results]
        self.assertFalse(missing, "calls with no check line in the runs without prefault")
        passed = [name for name, results in checks.items() if any(results)]
        self.assertFalse(passed, "calls with a check that passes without the prefault: "
                         "it does not show that the wrapper filled the pages")

    @helper_only("the kernel's accesses to unfilled pages fail with EFAULT, as in "
                 "user-mode-only mode (the user-mode tests here show it)")
    def test_other_system_calls_full_mode(self):
        """Control for the next test: fstat, stat, getcwd, readlink, uname,
        pipe, getdents64, clock_gettime, sysinfo and getsockname into
        never-touched served memory all work in full mode."""
        n, l = self.both([prog("kernelwrites")], ZERO_RULES)
        self.assertAllChecksPassed(l, "kernelwrites")
        self.assertMode(l, "full")
        self.assertServed(l, "big", zeroed=True)

    def test_other_system_calls_fail_in_user_mode(self):
        """The designed limit of user-mode-only mode, as the README's
        "Limits" states it: the kernel does not ask the library for the
        pages a system call writes, and the library fills them first only
        for the read/write family, so each of these calls fails with EFAULT
        (natively, and in full mode, they all work).  Fails if any of them
        starts working, or fails otherwise, or the README's list differs."""
        n = self.native([prog("kernelwrites")])
        self.assertEqual(n.rc, 0, n.describe())
        self.assertAllChecksPassed(n, "kernelwrites")
        l = self.lib([prog("kernelwrites")], ZERO_RULES, uffd="user")
        self.assertEqual(l.rc, 1, l.describe())
        self.assertMode(l, "user-mode-only")
        # the one page the program writes itself (getsockname's length)
        self.assertServed(l, "big", zeroed=True)
        checks = [c for c in l.stdout.splitlines() if c.startswith(("ok: ", "FAIL: "))]
        self.assertEqual(len(checks), len([c for c in n.stdout.splitlines() if c.startswith("ok: ")]))
        for c in checks:
            self.assertRegex(c, r"^FAIL: \S+ .*into an untouched \w+: Bad address$", l.describe())
        failing = {c.split()[1] for c in checks}
        self.assertEqual(failing, readme_user_mode_limit(), "README.md, Limits, user-mode-only mode")


def readme_user_mode_limit():
    """The calls that the README's Limits section says fail with EFAULT in
    user-mode-only mode (the names in backquotes of that item)."""
    text = (ROOT / "README.md").read_text()
    limits = text[text.index("\n## Limits\n"):]
    limits = limits[:limits.index("\n## ", 1)]
    item = next(i for i in limits.split("\n- ") if i.startswith("In user-mode-only mode"))
    assert "EFAULT" in item, item
    return set(re.findall(r"`(\w+)`", item))


if __name__ == "__main__":
    unittest.main()
