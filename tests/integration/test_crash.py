"""What happened when a program met a page the library poisoned: a system
call that failed with EFAULT or came back short on it (the warn line and
the statistics), and the crash report of a process that died of it.

    poison_efault   read, write, readv whose buffer holds a poisoned page
plus sqlite3 reading its SQL from standard input through a poisoned stdio
buffer: it exits 0 with no output, and only our warn line says why.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess

from util import helper_only, BUILD, HEAP_POISON_RULES, LFTestCase, prog, write_file

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

    @helper_only("glibc's internal read into the stream's buffer is the kernel's access: "
                 "it gets EFAULT with no fault to serve, as in user-mode-only mode")
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
        # Where the region was allocated: by main itself, with mmap.
        self.assertRegex(p.stderr, r"lazyfault: where the regions with a poisoned page were "
                         r"allocated:\n  pid \d+, region 1 of rule 'p': main\+0x[0-9a-f]+ "
                         r"\(poison_efault\) < ")


# Page 5 of crash_target's table of 16 pages.
def table_rules(kind="anon", extra=""):
    return (f"[global]\nlog = off\n\n[table]\nmatch = {kind}\nmin_size = 64K\nmax_size = 64K\n"
            f"action = poison\n{extra}")


PROG_NAME = re.escape(str(prog("crash_target")))
FRAME = r"    #(?P<n>\d+) (?P<fn>[\w.]+)\+0x[0-9a-f]+ \((?P<obj>[^)]+)\)\n"


def report_frames(text, after):
    """The functions of the frames listed after the line `after`."""
    i = text.index(after) + len(after)
    out = []
    for m in re.finditer(FRAME, text[i:]):
        if m.start() != sum(len(x) for x in out):
            break
        out.append(m.group(0))
    return [re.match(FRAME, x).group("fn") for x in out]


class CrashReportTest(LFTestCase):
    def run_command(self, *args, uffd=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("LAZYFAULT_") and k != "LD_PRELOAD"}
        if uffd:
            env["LAZYFAULT_UFFD"] = uffd
        return subprocess.run([COMMAND, *map(str, args)], capture_output=True, text=True,
                              env=env, timeout=60)

    def check_report(self, p, sig, page=None, touched=(), allocated=()):
        """lazyfault run's crash report: the signal, the page, and the
        touching and allocating functions, innermost first."""
        m = re.search(r"^lazyfault: pid (?P<pid>\d+) died of (?P<sig>SIG\w+)(?: at 0x(?P<addr>[0-9a-f]+))?"
                      r" \(ip 0x[0-9a-f]+\)(?P<rest>.*)$", p.stderr, re.M)
        self.assertIsNotNone(m, p.stderr)
        self.assertEqual(m["sig"], sig, p.stderr)
        tid = re.search(r"^  thread (\d+) was in:$", p.stderr, re.M)
        self.assertIsNotNone(tid, p.stderr)
        fns = report_frames(p.stderr, tid.group(0) + "\n")
        self.assertEqual(fns[:len(touched)], list(touched), p.stderr)
        if page is None:
            self.assertEqual(m["rest"], "", p.stderr)
            self.assertNotIn("was allocated in", p.stderr)
            return m, tid
        self.assertEqual(m["rest"], f", in page {page} of region 1 of rule 'table', which the "
                         "library poisoned", p.stderr)
        fns = report_frames(p.stderr, "  region 1 of rule 'table' was allocated in:\n")
        self.assertEqual(fns[:len(allocated)], list(allocated), p.stderr)
        self.assertRegex(p.stderr, rf"#0 make_table\+0x[0-9a-f]+ \({PROG_NAME}\)")
        return m, tid

    def test_run_names_the_touching_and_allocating_functions(self):
        tmp = self.tmpdir()
        for kind, how in (("anon", "mmap"), ("malloc", "malloc")):
            for uffd in (None, "user"):
                with self.subTest(kind=kind, uffd=uffd):
                    rules = write_file(tmp / f"{kind}.ini", table_rules(kind, "pages = 5\n"))
                    p = self.run_command("run", "-s", tmp / "stats.%p.json", "-r", rules, "--",
                                         prog("crash_target"), how, uffd=uffd)
                    self.assertEqual(p.returncode, 128 + 7, p.stdout + p.stderr)
                    self.assertEqual(p.stdout, "")
                    m, _ = self.check_report(p, "SIGBUS", page=5,
                                             touched=("read_entry", "sum_entries", "main"),
                                             allocated=("make_table", "main"))
                    # The statistics file the command kept holds the same.
                    doc = json.loads((tmp / f"stats.{m['pid']}.json").read_text())
                    c = doc["crash"]
                    self.assertEqual((c["signal"], c["poisoned"]["rule"], c["poisoned"]["region"],
                                      c["poisoned"]["page"]), (7, "table", 1, 5), c)
                    self.assertEqual(c["address"] & ~4095, c["poisoned"]["page_address"], c)
                    self.assertEqual(c["address"], int(m["addr"], 16))
                    self.assertEqual(c["thread"], int(m["pid"]))
                    self.assertEqual(doc["rules"][0]["pages_poisoned"], 1)
                    self.assertEqual(doc["mode"], "user-mode-only" if uffd else "full")
                    self.assertEqual([s["rule"] for s in doc["allocation_sites"]], ["table"])

    def test_thread(self):
        tmp = self.tmpdir()
        rules = write_file(tmp / "r.ini", table_rules("anon", "pages = 5\n"))
        # -v: the report comes with the summary.
        p = self.run_command("run", "-v", "-r", rules, "--", prog("crash_target"), "thread")
        self.assertEqual(p.returncode, 128 + 7, p.stdout + p.stderr)
        self.assertIn("lazyfault: statistics of 1 process under the library", p.stderr)
        m, tid = self.check_report(p, "SIGBUS", page=5,
                                   touched=("read_entry", "sum_entries", "run_sums"),
                                   allocated=("make_table", "main"))
        self.assertNotEqual(tid.group(1), m["pid"], "the faulting thread is the second one")

    def test_child_process(self):
        """The program's child dies, the program goes on: the child is
        reported, by its pid."""
        tmp = self.tmpdir()
        rules = write_file(tmp / "r.ini", table_rules("anon", "pages = 5\n"))
        p = self.run_command("run", "-r", rules, "--", "/bin/sh", "-c",
                             f"{prog('crash_target')} mmap; echo after $?")
        self.assertEqual((p.returncode, p.stdout), (0, "after 135\n"), p.stderr)
        m, tid = self.check_report(p, "SIGBUS", page=5, touched=("read_entry", "sum_entries"),
                                   allocated=("make_table", "main"))
        self.assertEqual(tid.group(1), m["pid"])
        self.assertEqual(p.stderr.count("died of"), 1, p.stderr)

    def test_segv_not_ours(self):
        """A crash the library had no part in: no page, no allocation."""
        tmp = self.tmpdir()
        rules = write_file(tmp / "r.ini", table_rules("anon", "pages = 5\n"))
        p = self.run_command("run", "-r", rules, "--", prog("crash_target"), "segv")
        self.assertEqual(p.returncode, 128 + 11, p.stdout + p.stderr)
        m, _ = self.check_report(p, "SIGSEGV", touched=("write_through", "main"))
        self.assertEqual(m["addr"], "0")
        # And no report at all for a run that does not crash.
        rules = write_file(tmp / "r.ini", table_rules("anon", "pages = 99\n"))
        p = self.run_command("run", "-v", "-r", rules, "--", prog("crash_target"), "mmap")
        self.assertEqual((p.returncode, p.stdout), (0, "sum 1\n"), p.stderr)
        self.assertNotIn("died of", p.stderr)
        self.assertRegex(p.stderr, r"table +poison +1 ")

    def test_sweep_reports_each_crash(self):
        tmp = self.tmpdir()
        rules = write_file(tmp / "r.ini", table_rules())
        out = tmp / "out"
        p = subprocess.run([COMMAND, "sweep", "-r", str(rules), "-o", str(out), "--",
                            prog("crash_target"), "mmap"], capture_output=True, text=True,
                           cwd=str(tmp), stdin=subprocess.DEVNULL, timeout=300)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        doc = json.loads((out / "summary.json").read_text())
        # Fault 1 is fill_table's first write, of page 0; faults 2-16 are
        # the reads of pages 1-15 (page 0 is present by then).
        self.assertEqual(len(doc["runs"]), 16, p.stdout)
        for x in doc["runs"]:
            self.assertEqual(x["outcome"], "crash", x)
            c = x["crash"]
            self.assertEqual((c["rule"], c["region"]), ("table", 1), c)
            self.assertRegex(c["allocated_in"][0], rf"^make_table\+0x[0-9a-f]+ \({PROG_NAME}\)$")
            want = "fill_table" if x["fault"] == 1 else "read_entry"
            self.assertRegex(c["touched_in"][0], rf"^{want}\+0x[0-9a-f]+ ", c)
            self.assertEqual(c["page"], 0 if x["fault"] == 1 else x["fault"] - 1, x)
        self.assertEqual(len(re.findall(r"^      touched in: read_entry\+0x[0-9a-f]+ \(.*\) < "
                                        r"sum_entries\+", p.stdout, re.M)), 15, p.stdout)
        self.assertEqual(len(re.findall(r"^      allocated in: make_table\+0x[0-9a-f]+ \(.*\) < "
                                        r"main\+", p.stdout, re.M)), 16, p.stdout)

    def test_sweep_sqlite3_names_the_allocator(self):
        """A real, stripped program: its exported functions are named
        (.dynsym), the others shown as object and offset."""
        tmp = self.sqlite3_db()
        query = write_file(tmp / "q.sql", "select count(*), sum(a) from t;\n")
        rules = write_file(tmp / "heap.ini", HEAP_POISON_RULES)
        out = tmp / "out"
        p = subprocess.run([COMMAND, "sweep", "-r", str(rules), "--max", "4", "--stdin", str(query),
                            "-o", str(out), "--", "sqlite3", "t.db"], capture_output=True,
                           text=True, cwd=str(tmp), stdin=subprocess.DEVNULL, timeout=300)
        self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
        doc = json.loads((out / "summary.json").read_text())
        crashes = [x for x in doc["runs"] if x["outcome"] == "crash"]
        self.assertTrue(crashes, p.stdout)
        for x in crashes:
            c = x["crash"]
            self.assertEqual(c["rule"], "heap", c)
            self.assertTrue(c["report"].startswith("died of SIGBUS at 0x") and
                            c["report"].endswith(f"in page {c['page']} of region {c['region']} of "
                                                 "rule 'heap', which the library poisoned"), c)
            self.assertTrue(any(f.startswith("sqlite3Malloc+0x") and "libsqlite3" in f
                                for f in c["allocated_in"]), c)
            self.assertTrue(all("libsqlite3" in f or "libc" in f or "sqlite3" in f
                                for f in c["touched_in"]), c)
        self.assertRegex(p.stdout, r"(?m)^      allocated in: .*sqlite3Malloc\+0x[0-9a-f]+ "
                                   r"\(libsqlite3[^)]*\)")
