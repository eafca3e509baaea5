"""Bad pages of a file (lazyfault.ini(5), BAD PAGES OF A FILE): a `file`
poison rule with `file_pages` names pages by their index in the file, and
every way of reaching one meets the same bad block: a shared mapping (the
kernel's, but for its bad pages), a private mapping (emulated), and, with
`io_error = yes`, the read family and stdio (EIO after a short read).

    badblock DIR N ways     tests/progs/badblock.c: every way of reading
    badblock DIR N shared   writes seen by other processes, fork, mremap...
    badblock DIR N fds      dup, dup2, fork, exec, numbers reused

print "bad pages by WAY: LIST" lines, checked here against the rule (and
`lazyfault check -f`, which decides with the same function), and check
themselves that good pages hold the file's bytes.  Then real databases on a
file with a bad page: sqlite3 with and without `PRAGMA mmap_size`, and LMDB
through lmdb-utils (mdb_load builds it, mdb_dump and mdb_stat read it); each
must fail as on a real disk or give the right answer, never a wrong one.
"""
import re
import signal
import struct
import subprocess
import unittest

from util import BUILD, LFTestCase, prog, run_native

PAGE = 4096
NPAGES = 24
COMMAND = BUILD / "lazyfault"
SQLITE3 = "/usr/bin/sqlite3"
MDB = {name: f"/usr/bin/{name}" for name in ("mdb_load", "mdb_dump", "mdb_stat")}

WAYS = ("shared", "private", "read", "pread", "readv", "preadv", "preadv2", "fread", "fgets",
        "getc", "getline", "sendfile", "copy_file_range", "splice")

# lazyfault[PID]: warn: rule 'R': CALL(fd N, PATH, offset O, N bytes): EIO: page P of the file is bad
EIO_LINE = re.compile(r": warn: rule '(?P<rule>[^']*)': (?P<call>\w+)\(fd (?P<fd>\d+), (?P<path>[^,]+), "
                      r"offset (?P<off>\d+)(?:, \d+ bytes)?\): EIO: page (?P<page>\d+) of the file "
                      r"is bad")
POISON_LINE = re.compile(r": warn: rule '(?P<rule>[^']*)': poisoned page 0x[0-9a-f]+ \(.*, "
                         r"(?P<path>\S+) offset (?P<off>\d+)\), thread \d+")


def disk_rules(body, path="*/bad.dat", name="disk"):
    return f"[{name}]\nmatch = file\npath = {path}\naction = poison\n{body}\n"


def lists(run):
    """WAY -> the pages it found bad, from the program's lines."""
    out = {}
    for m in re.finditer(r"^bad pages by (.+): (.*)$", run.stdout, re.M):
        out[m.group(1)] = [] if m.group(2) == "none" else [int(x) for x in m.group(2).split(",")]
    return out


def check_files(rules_path, *files):
    """`lazyfault check -f FILE... RULES`: its stdout and status."""
    args = [str(COMMAND), "check"]
    for f in files:
        args += ["-f", str(f)]
    r = run_native(args + [str(rules_path)])
    return r.stdout, r.rc


def checked_bad_pages(rules_path, file):
    """The bad pages `lazyfault check -f` prints for the file."""
    out, rc = check_files(rules_path, file)
    m = re.search(r"^file .*: bad pages (.*) \(\d+ of \d+\)", out, re.M)
    if rc != 0 or not m:
        raise AssertionError(f"lazyfault check -f said (status {rc}):\n{out}")
    pages = []
    for item in m.group(1).split(", "):
        if item == "none":
            continue
        a, _, b = item.partition("-")
        pages += range(int(a), int(b or a) + 1)
    return pages


class BadBlockCase(LFTestCase):
    def run_prog(self, mode, rules, **kw):
        d = self.tmpdir()
        argv = [prog("badblock"), d, str(NPAGES), mode]
        l = self.lib(argv, rules, **kw)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "badblock")
        self.assertNoLibErrors(l)
        return d, l

    def assertWays(self, run, ways, pages):
        got = lists(run)
        for way in ways:
            self.assertEqual(got.get(way), pages, f"bad pages by {way}:\n" + run.describe())


class WaysTest(BadBlockCase):
    def test_native_no_page_is_bad(self):
        for mode in ("ways", "shared", "fds"):
            with self.subTest(mode=mode):
                n = self.native([prog("badblock"), self.tmpdir(), str(NPAGES), mode])
                self.assertEqual(n.rc, 0, n.describe())
                self.assertAllChecksPassed(n, "badblock")
                got = lists(n)
                self.assertTrue(got, n.describe())
                self.assertEqual({w: p for w, p in got.items() if p}, {}, n.describe())

    def test_listed_pages_every_way(self):
        """Pages 3, 7, 8 and 23 (the last, partial one): the same in a shared
        mapping, a private one, every read call and every stdio call; the
        statistics count the poisoned pages and the failed and cut reads;
        the log names the file and offset of each."""
        d, l = self.run_prog("ways", disk_rules("file_pages = 3, 7-8, 23\nio_error = yes"))
        want = [3, 7, 8, 23]
        self.assertWays(l, WAYS, want)
        r = self.assertServed(l, "disk", min_faults=8)
        # 4 holes of the shared mapping and 4 pages of the private one
        self.assertEqual(r["pages_poisoned"], 8, r)
        self.assertGreater(r["pages_loaded"], 0, r)
        # every read way but the mappings met each bad page once at least
        self.assertGreaterEqual(r["read_errors"], 4 * (len(WAYS) - 2), r)
        self.assertGreater(r["reads_cut"], 0, r)
        bad = str((d / "bad.dat").resolve())
        poisoned = {(m["path"], int(m["off"])) for m in map(POISON_LINE.search, l.log_lines) if m}
        self.assertEqual(poisoned, {(bad, p * PAGE) for p in want}, l.describe())
        eio = [m.groupdict() for m in map(EIO_LINE.search, l.log_lines) if m]
        calls = {e["call"] for e in eio}
        # getline: built with optimisation, the program calls glibc's __getdelim
        self.assertLessEqual({"read", "pread", "readv", "preadv", "preadv2", "fread", "fgets", "getc",
                              "sendfile", "copy_file_range", "splice"}, calls, l.describe())
        self.assertTrue(calls & {"getline", "__getdelim"}, calls)
        for e in eio:
            self.assertEqual((e["rule"], e["path"]), ("disk", bad), e)
            self.assertEqual(int(e["off"]), int(e["page"]) * PAGE, e)
            self.assertIn(int(e["page"]), want, e)

    def test_probability_drawn_once_per_page(self):
        """file_pages = all with a probability: each page drawn once, from
        the seed, so that every way (and `lazyfault check -f`) agrees."""
        rules = disk_rules("file_pages = all\nprobability = 0.25\nseed = 11\nio_error = yes")
        d, l = self.run_prog("ways", rules)
        rules_path = l.tmp / "rules.ini"
        want = checked_bad_pages(rules_path, d / "bad.dat")
        self.assertTrue(0 < len(want) < NPAGES, want)
        self.assertWays(l, WAYS, want)
        r = self.assertServed(l, "disk")
        self.assertEqual((r["seed"], r["pages_poisoned"]), (11, 2 * len(want)), r)
        d2, l2 = self.run_prog("ways", disk_rules("file_pages = all\nprobability = 0.25\n"
                                                  "seed = 12\nio_error = yes"))
        self.assertNotEqual(lists(l2)["read"], want, "seeds 11 and 12 drew the same pages")

    def test_mappings_only_without_io_error(self):
        d, l = self.run_prog("ways", disk_rules("file_pages = 5, 6"))
        self.assertWays(l, ("shared", "private"), [5, 6])
        self.assertWays(l, [w for w in WAYS if w not in ("shared", "private")], [])
        r = self.assertServed(l, "disk")
        self.assertEqual((r["read_errors"], r["reads_cut"]), (0, 0), r)

    def test_user_mode(self):
        """In user-mode-only mode the wrappers fill the buffers first; the
        bad pages are the same."""
        d, l = self.run_prog("ways", disk_rules("file_pages = 0, 12\nio_error = yes"), uffd="user")
        self.assertMode(l, "user-mode-only")
        self.assertWays(l, WAYS, [0, 12])


class SharedMappingTest(BadBlockCase):
    def test_shared_mapping(self):
        """The kernel's mapping but for its bad pages: writes to good pages
        reach the file and other processes, another process's writes are
        seen; the bad pages stay bad in a child of fork, after madvise,
        mprotect, munmap, and an mremap that grows, moves or shrinks it."""
        want = [3, 7, 8, 23]
        d, l = self.run_prog("shared", disk_rules("file_pages = 3, 7-8, 23"))
        got = lists(l)
        half = NPAGES // 2
        expect = {
            "shared": want, "shared in a child of fork": want, "shared after MADV_DONTNEED": want,
            "shared after mprotect": want, "shared first half": [p for p in want if p < half],
            "shared grown by mremap": want, "shared moved by mremap": want,
            "shared shrunk by mremap": [p for p in want if p < half],
            "shared after munmap of page 1": [p for p in want if 2 <= p < half],
        }
        self.assertEqual(got, expect, l.describe())
        self.assertServed(l, "disk")
        # The child of fork (the last one) has the holes, and the poison
        # markers its parent's touches left: its own touches fault no more.
        child = self.assertServed(l, "disk", pid=l.child_pids()[-1], min_faults=0)
        self.assertEqual((child["regions"], child["faults"]), (3, 0), child)
        # The program put the file back as it was: nothing else was written.
        fresh = self.tmpdir()
        n = self.native([prog("badblock"), fresh, str(NPAGES), "ways"])
        self.assertEqual(n.rc, 0, n.describe())
        self.assertEqual((d / "bad.dat").read_bytes(), (fresh / "bad.dat").read_bytes())

    def test_left_to_the_kernel_without_file_pages(self):
        """A poison rule without file_pages still leaves shared mappings to
        the kernel (info line): no page is bad there."""
        d, l = self.run_prog("shared", disk_rules("pages = 3"), log_level="info")
        self.assertEqual({w: p for w, p in lists(l).items() if p}, {}, l.describe())
        self.assertLogLines(l, r": info: rule 'disk': a shared mapping .* is left to the kernel")


class DescriptorTest(BadBlockCase):
    def test_dup_fork_exec_and_reused_numbers(self):
        want = [3, 7, 8, 23]
        d, l = self.run_prog("fds", disk_rules("file_pages = 3, 7-8, 23\nio_error = yes"))
        self.assertWays(l, ("dup", "dup2", "a child of fork", "a program exec'd"), want)
        self.assertWays(l, ("a number reused by open", "a number reused by fopen"), [])
        self.assertIn("badblock exec-child: all checks passed", l.stdout)
        # No mapping here: the failed reads are what the library did.
        self.assertStatsValid(l)
        r = l.rule("disk")
        self.assertEqual(r["read_errors"], 4 * 2, r)  # dup and dup2, in the program itself
        # the child of fork and the program it exec'd counted their own
        children = [l.rule("disk", p) for p in l.child_pids()]
        self.assertEqual(sorted(c["read_errors"] for c in children), [4, 4], children)


class RunVerboseTest(LFTestCase):
    """`lazyfault run -v` says how many reads met a bad page, from the
    statistics of every process, when there were any."""
    READS = re.compile(r"^  rule 'disk': (\d+) reads? failed with EIO, (\d+) cut short before a "
                       r"bad page$", re.M)

    def run_v(self, body):
        d = self.tmpdir()
        rules = d / "rules.ini"
        rules.write_text(disk_rules(body))
        r = run_native([COMMAND, "run", "-v", "-r", rules, "-s", d / "stats.%p.json", "--",
                        prog("badblock"), d, str(NPAGES), "ways"], tmp=d, read_stats=True)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertAllChecksPassed(r, "badblock")
        return r

    def test_read_figures_shown(self):
        r = self.run_v("file_pages = 3, 7-8, 23\nio_error = yes")
        pid, = r.stats
        disk = self.assertServed(r, "disk", pid=pid, min_faults=8)
        self.assertGreater(disk["read_errors"], 0, disk)
        self.assertGreater(disk["reads_cut"], 0, disk)
        self.assertIn("lazyfault: reads of files with bad pages (io_error):", r.stderr)
        m = self.READS.findall(r.stderr)
        self.assertEqual(m, [(str(disk["read_errors"]), str(disk["reads_cut"]))], r.describe())

    def test_nothing_said_without_failed_reads(self):
        r = self.run_v("file_pages = 5, 6")
        pid, = r.stats
        disk = self.assertServed(r, "disk", pid=pid)
        self.assertEqual((disk["read_errors"], disk["reads_cut"]), (0, 0), disk)
        self.assertIn("lazyfault: each rule:", r.stderr)
        self.assertNotIn("reads of files with bad pages", r.stderr)


class CheckCommandTest(LFTestCase):
    def test_check_prints_the_bad_pages(self):
        d = self.tmpdir()
        (d / "bad.dat").write_bytes(b"x" * (10 * PAGE + 1))
        (d / "other.dat").write_bytes(b"y" * PAGE)
        rules = d / "rules.ini"
        rules.write_text(disk_rules("file_pages = 2, 4-6, 100\nio_error = yes"))
        out, rc = check_files(rules, d / "bad.dat", d / "other.dat")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"file .*/bad\.dat: 11 pages .*rule 'disk' \(mappings and reads, "
                         r"io_error = yes\): bad pages 2, 4-6 \(4 of 11\); file_pages also names "
                         r"pages past its end")
        self.assertRegex(out, r"file .*/other\.dat: 1 page .*no rule with file_pages takes it")
        rules.write_text(disk_rules("file_pages = all\nprobability = 0.5"))
        out, rc = check_files(rules, d / "bad.dat")
        self.assertEqual(rc, 0, out)
        self.assertIn("drawn from a seed chosen at each start", out)
        out, rc = check_files(rules, d / "missing.dat")
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"file .*missing\.dat: cannot be read")

    def test_check_escapes_names_and_takes_a_list_over_lines(self):
        """A file's name is shown with its bytes escaped, never sent raw to
        the terminal; file_pages goes on on the next line after a comma,
        as pages does."""
        d = self.tmpdir()
        odd = d / "bad\x1b]0;title\x07.dat"
        odd.write_bytes(b"x" * (8 * PAGE))
        rules = d / "rules.ini"
        rules.write_text(disk_rules("file_pages = 1,\n  3-4,\n  6", path="*/bad*.dat"))
        out, rc = check_files(rules, odd, d / "gone\x1b[31m.dat")
        self.assertEqual(rc, 1, out)
        self.assertNotIn("\x1b", out)
        self.assertRegex(out, r"file .*/bad\\x1b\]0;title\\x07\.dat: 8 pages .*bad pages 1, "
                         r"3-4, 6 \(4 of 8\)")
        self.assertRegex(out, r"file .*gone\\x1b\[31m\.dat: cannot be read")


# ---------------------------------------------------------------------------
# Databases


class SqliteTest(LFTestCase):
    """A table of 3000 rows; one of its leaf pages (sqlite's page size is the
    page size here: database page P is file page P - 1) is bad."""
    QUERY = "SELECT count(*), sum(length(b)), max(a) FROM t;"
    POINT = "SELECT b FROM t WHERE a = 1;"  # the first leaf only

    def setUp(self):
        self.dir = self.tmpdir()
        self.db = self.dir / "t.db"
        r = run_native([SQLITE3, self.db,
                        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);"
                        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000)"
                        " INSERT INTO t SELECT x, printf('%0200d', x) FROM c;"
                        "SELECT pageno FROM dbstat WHERE name = 't' AND pagetype = 'leaf' "
                        "ORDER BY pageno LIMIT 1 OFFSET 40;"])
        self.assertEqual(r.rc, 0, r.describe())
        self.bad_page = int(r.stdout.strip()) - 1
        self.rules = disk_rules(f"file_pages = {self.bad_page}\nio_error = yes", path="*/t.db")

    def sqlite(self, *sql):
        n = self.native([SQLITE3, self.db, *sql])
        self.assertEqual(n.rc, 0, n.describe())
        return n, self.lib([SQLITE3, self.db, *sql], self.rules)

    def test_read_gets_eio_and_says_the_database_is_malformed(self):
        """Without mmap sqlite reads with pread: EIO, which sqlite 3.40 reports
        as SQLITE_CORRUPT ('database disk image is malformed', exit status
        11), as it would for the same error from a disk: no answer."""
        n, l = self.sqlite(self.QUERY)
        self.assertEqual(n.stdout, "3000|600000|3000\n")
        self.assertEqual(l.rc, 11, l.describe())
        self.assertIn("database disk image is malformed", l.stderr)
        self.assertEqual(l.stdout, "", "an answer in spite of the bad page:\n" + l.describe())
        r = l.rule("disk")
        self.assertGreaterEqual(r["read_errors"], 1, r)
        self.assertLogLines(l, rf"pread\(fd \d+, .*t\.db, offset {self.bad_page * PAGE}, 4096 "
                            rf"bytes\): EIO")
        n, l = self.sqlite(self.POINT)  # a query that never reads the page
        self.assertEqual((l.rc, l.stdout), (0, n.stdout), l.describe())

    def test_mmap_dies_of_sigbus(self):
        """With PRAGMA mmap_size sqlite maps the database MAP_SHARED and reads
        it through the mapping: the bad page raises SIGBUS, which kills it
        (nothing in sqlite3 catches it): no answer either."""
        pragma = "PRAGMA mmap_size = 268435456;"
        n, l = self.sqlite(pragma, self.QUERY)
        self.assertEqual(n.stdout, "268435456\n3000|600000|3000\n")
        self.assertEqual(l.rc, -signal.SIGBUS, l.describe())
        self.assertNotIn("3000|", l.stdout, l.describe())
        r = self.assertServed(l, "disk")
        self.assertEqual((r["regions"], r["pages_poisoned"]), (1, 1), r)
        self.assertLogLines(l, rf"poisoned page .*t\.db offset {self.bad_page * PAGE}\)", 1)
        n, l = self.sqlite(pragma, self.POINT)
        self.assertEqual((l.rc, l.stdout), (0, n.stdout), l.describe())


def lmdb_root(data):
    """The root page of an LMDB database's main tree, from its newest meta
    page (pages 0 and 1: page header 16 bytes, then the meta: magic,
    version, address, map size, two trees of 48 bytes each whose root is
    their last field, the last page, the transaction id)."""
    best = None
    for p in (0, 1):
        meta = data[p * PAGE:(p + 1) * PAGE]
        magic, = struct.unpack_from("<I", meta, 16)
        if magic != 0xBEEFC0DE:
            raise AssertionError(f"meta page {p}: magic {magic:#x}")
        root, = struct.unpack_from("<Q", meta, 40 + 48 + 40)
        txn, = struct.unpack_from("<Q", meta, 40 + 96 + 8)
        if best is None or txn > best[0]:
            best = (txn, root)
    return best[1]


class LmdbTest(LFTestCase):
    def setUp(self):
        self.env = self.tmpdir() / "env"
        self.env.mkdir()
        pairs = "".join(f"key{i:05d}\nvalue-{i:05d}-{'x' * 150}\n" for i in range(3000))
        r = run_native([MDB["mdb_load"], "-T", "-f", "/dev/stdin", self.env], input=pairs.encode())
        self.assertEqual(r.rc, 0, r.describe())
        self.root = lmdb_root((self.env / "data.mdb").read_bytes())
        self.assertGreater(self.root, 1)

    def rules(self, page):
        return disk_rules(f"file_pages = {page}\nio_error = yes", path="*/data.mdb")

    def test_bad_root_page(self):
        """LMDB maps its file MAP_SHARED, read-only, and walks the tree in the
        mapping: mdb_dump meets the bad root page and dies of SIGBUS, with no
        output; mdb_stat reads only the meta pages and gives its native
        answer (the library made the hole, and nothing touched it)."""
        n = self.native([MDB["mdb_dump"], "-p", self.env])
        self.assertEqual(n.rc, 0, n.describe())
        self.assertIn("key02999", n.stdout)
        l = self.lib([MDB["mdb_dump"], "-p", self.env], self.rules(self.root))
        self.assertEqual(l.rc, -signal.SIGBUS, l.describe())
        self.assertNotIn("key0", l.stdout, l.describe())
        r = self.assertServed(l, "disk")
        self.assertEqual(r["pages_poisoned"], 1, r)
        self.assertLogLines(l, rf"poisoned page .*data\.mdb offset {self.root * PAGE}\)", 1)
        n, l = self.both([MDB["mdb_stat"], self.env], self.rules(self.root))
        r = self.assertServed(l, "disk", min_faults=0)
        self.assertEqual((r["regions"], r["faults"]), (1, 0), r)

    def test_bad_meta_page_fails_the_open(self):
        """The meta pages are read with pread when the environment opens:
        EIO, and LMDB says so."""
        l = self.lib([MDB["mdb_stat"], self.env], self.rules(0))
        self.assertEqual(l.rc, 1, l.describe())
        self.assertIn("Input/output error", l.stderr + l.stdout)
        self.assertGreaterEqual(l.rule("disk")["read_errors"], 1)


if __name__ == "__main__":
    unittest.main()
