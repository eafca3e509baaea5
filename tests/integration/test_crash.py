"""What happened when a program met a page the library poisoned: a system
call that failed with EFAULT or came back short on it (the warn line and
the statistics), and the crash report of a process that died of it.

    poison_efault   read, write, readv whose buffer holds a poisoned page
plus sqlite3 reading its SQL from standard input through a poisoned stdio
buffer: it exits 0 with no output, and only our warn line says why.
"""
import os
import re
import shutil
import sqlite3
import subprocess

from util import BUILD, LFTestCase, prog, write_file

COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or BUILD / "lazyfault")

# Page 1 of the four-page mapping of poison_efault.
EFAULT_RULES = """\
[global]
log_level = warn

[p]
match = anon
min_size = 16K
max_size = 16K
action = poison
pages = 1
"""

# lazyfault[PID]: warn: CALL(FD, 0xBUF, LEN): HOW: the buffer holds page
# 0xPAGE, poisoned by rule 'R' (page N of region M)
MET_LINE = re.compile(
    r"warn: (?P<call>\w+)\((?P<fd>\d+), 0x(?P<buf>[0-9a-f]+), (?P<len>\d+)\)(?: in (?P<via>\w+))?: "
    r"(?P<how>EFAULT|cut short after (?P<moved>\d+) bytes): the (?:stream's )?buffer holds page "
    r"0x(?P<page>[0-9a-f]+), poisoned by rule '(?P<rule>[^']+)' \(page (?P<index>\d+) of region "
    r"(?P<region>\d+)\)$")


def met_lines(run):
    return [m.groupdict() for m in map(MET_LINE.search, run.log_lines) if m]


class EfaultTest(LFTestCase):
    def check_efault_program(self, uffd):
        l = self.lib([prog("poison_efault")], EFAULT_RULES, uffd=uffd)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "poison_efault")
        self.assertMode(l, "full" if uffd is None else "user-mode-only")
        r = self.assertServed(l, "p")
        self.assertEqual(r["pages_poisoned"], 1, r)
        met = met_lines(l)
        # The four calls that met page 1, in order, and not the read that
        # came back short for want of data.
        self.assertEqual([(m["call"], m["how"].split(" ")[0], m["len"]) for m in met],
                         [("read", "cut", "12288"), ("read", "EFAULT", "4096"),
                          ("write", "EFAULT", "100"), ("readv", "EFAULT", "100")], l.describe())
        self.assertEqual(met[0]["moved"], "4096")
        page = int(met[0]["page"], 16)
        base = int(met[0]["buf"], 16)
        self.assertEqual(page, base + 4096, met[0])
        for m in met:
            self.assertEqual((m["rule"], m["index"], m["region"], int(m["page"], 16)),
                             ("p", "1", "1", page), m)
        self.assertEqual(int(met[1]["buf"], 16), page)
        self.assertEqual((r["calls_efault"], r["calls_short"]), (3, 1), r)
        doc = l.stats[l.pid]
        self.assertEqual(doc["poisoned_unrecorded"], 0)
        self.assertRegex(doc["poisoned_call"], r"^read\(\d+, 0x[0-9a-f]+, 12288\): cut short")

    def test_calls_full_mode(self):
        self.check_efault_program(None)

    def test_calls_user_mode(self):
        self.check_efault_program("user")

    def test_sqlite3_stdin_read_efault(self):
        """sqlite3 reads its SQL from standard input with fgets, into the
        stream's buffer: poisoned, glibc's internal read(0, ...) fails with
        EFAULT, and sqlite3 takes that for the end of its input."""
        if not shutil.which("sqlite3"):
            self.skipTest("sqlite3 is not installed")
        tmp = self.tmpdir()
        db = sqlite3.connect(tmp / "t.db")
        db.execute("create table t(a)")
        db.executemany("insert into t values (?)", [(i,) for i in range(100)])
        db.commit()
        db.close()
        query = b"select count(*) from t;\n"
        n = self.native(["sqlite3", "t.db"], input=query, cwd=tmp)
        self.assertEqual((n.rc, n.stdout), (0, "100\n"), n.describe())
        # The buffers glibc gives its streams, page 0 of each poisoned.
        rules = ("[global]\nlog_level = warn\n\n[stdio]\nmatch = malloc\nmin_size = 1K\n"
                 "caller = _IO_file_doallocate\naction = poison\npages = 0\n")
        l = self.lib(["sqlite3", "t.db"], rules, input=query, cwd=tmp)
        self.assertEqual((l.rc, l.stdout), (0, ""), "sqlite3 sees no input:\n" + l.describe())
        r = self.assertServed(l, "stdio")
        self.assertGreaterEqual(r["pages_poisoned"], 1, r)
        stdin = [m for m in met_lines(l) if m["fd"] == "0"]
        self.assertEqual(len(stdin), 1, l.describe())
        self.assertEqual((stdin[0]["call"], stdin[0]["via"], stdin[0]["how"], stdin[0]["rule"]),
                         ("read", "fgets", "EFAULT", "stdio"), stdin[0])
        self.assertGreaterEqual(r["calls_efault"], 1, r)

    def test_run_verbose_says_it(self):
        tmp = self.tmpdir()
        rules = write_file(tmp / "rules.ini", EFAULT_RULES.replace("warn", "error"))
        p = subprocess.run([COMMAND, "run", "-v", "-r", str(rules), "--", prog("poison_efault")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("lazyfault: system calls whose buffer held a poisoned page:\n"
                      "  rule 'p': 3 calls failed with EFAULT, 1 came back short\n", p.stderr)
        self.assertRegex(p.stderr, r"  pid \d+, first: read\(\d+, 0x[0-9a-f]+, 12288\): cut short "
                         r"after 4096 bytes: the buffer holds page 0x[0-9a-f]+, poisoned by rule "
                         r"'p' \(page 1 of region 1\)\n")
