"""Private file mappings under `match = file` rules, and anonymous memory
loaded from a `source` file.

A `file` rule emulates a private file mapping (anonymous memory at the same
place, the file's bytes loaded on first touch): the program must see exactly
what the kernel shows.  Each test runs a self-checking program of
tests/progs/file_*.c (they create their own data files, in a directory
that the rule's `path` names) natively and under the library, requires exit
status 0 and the same output from both, and requires from the statistics
that the rule really loaded pages (a library that leaves file mappings to
the kernel fails every test here).  Real programs: git reading its pack
files, python3's mmap.ACCESS_COPY.
"""
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from util import (BUILD, LFTestCase, MiB, ROOT, SOURCE_OFFSET, SOURCE_SIZE, SYS_PYTHON, make_source,
                  prog, source_rules)

PAGE = 4096

FILE_RULES = """\
[files]
match = file
path = {dir}/*
min_size = 4K
"""


def file_rules(d, extra=""):
    return FILE_RULES.format(dir=d) + extra


class FileTestCase(LFTestCase):
    def setUp(self):
        # The rule's glob matches the path the library sees (/proc/self/fd).
        self.data = Path(os.path.realpath(self.tmpdir()))
        self.rules = file_rules(self.data)

    def run_prog(self, name, *args, rules=None, **kw):
        """Native and library runs of tests/progs/NAME DATA ARGS: same output,
        every check passed, the rule `files` loaded pages."""
        n, l = self.both([prog(name), self.data, *args], rules or self.rules, **kw)
        self.assertAllChecksPassed(l, name)
        self.assertAllChecksPassed(n, name)
        r = self.assertServed(l, "files", loaded=True)
        self.assertNoLibErrors(l)
        return l, r


class FileMappingTest(FileTestCase):
    def test_exact_bytes_eof_and_sigbus(self):
        """Offset 0 and 8 pages, read-only and read-write (writes private:
        the file unchanged), a file of 40 pages + 1234 bytes: zeros after EOF
        to the end of the page, SIGBUS (si_addr in the page) on every page
        past it, also as the first touch and for a mapping that starts past
        the end; write()/read() on untouched pages; EFAULT for write() from
        a page past the end."""
        l, r = self.run_prog("file_map")
        self.assertGreaterEqual(r["regions"], 8, r)

    def test_truncated_while_mapped(self):
        """ftruncate to half while mapped: every lost page raises SIGBUS at
        once (never-touched, read before, written before), kept pages are
        right (also those first touched after), a cut inside a page gives
        the file's bytes then zeros; a log line names the file."""
        l, r = self.run_prog("file_trunc")
        for name in ("t.dat", "u.dat"):
            self.assertLogLines(l, re.escape(str(self.data / name)))

    def test_file_grows_again_after_truncation(self):
        """After a truncation and a SIGBUS, the file grows back: the kernel
        shows the page again (zeros, what the file now holds), and so must
        the library (its truncate wrapper empties the poisoned pages)."""
        self.run_prog("file_trunc", "grow")

    def test_changed_by_the_program(self):
        """The program changes its mapped files with pwrite, write, writev,
        pwritev, pwritev2, copy_file_range, sendfile, splice, fallocate,
        open(O_TRUNC) + write, creat, O_APPEND writes and ftruncate, also
        after mremap moved the mapping: before
        each call returns, a page it read shows the new bytes, a page it
        wrote keeps its own, a page past the new end raises SIGBUS (a
        written one too), the new last page reads the file then zeros;
        every byte as natively."""
        l, r = self.run_prog("file_change", "self")
        # 15 files, each mapped twice, 16 pages a mapping: loading each
        # mapping once is at most 16 pages; the rest was loaded again.
        self.assertEqual(r["regions"], 30, r)
        self.assertGreater(r["pages_loaded"], 16 * 30, r)

    def test_changed_by_the_program_user_mode(self):
        """The same in user-mode-only mode."""
        n, l = self.both([prog("file_change"), self.data, "self"], self.rules, uffd="user")
        self.assertAllChecksPassed(l, "file_change")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "files", loaded=True)
        self.assertNoLibErrors(l)

    def test_changed_by_another_process(self):
        """Another process rewrites pages in place, empties the file and
        writes it shorter (as cp does), appends to it; a child of fork
        rewrites pages it shares with the parent, then exits: the library's
        watch sees each change, and the program sees what it sees natively
        (a moment later)."""
        l, r = self.run_prog("file_change", "other")

    def test_writes_racing_with_changes(self):
        """Three threads each empty a page (MADV_DONTNEED), load it again
        and write it, 4000 times, while its 16-page range is rewritten
        without a pause, by the program and by another process: no write is
        lost (a page written while the library drops the clean pages of a
        changed range keeps its bytes).  A drop that scans then empties the
        pages, and one that frees them with MADV_FREE + MADV_PAGEOUT alone,
        both lose writes here."""
        rules = "[global]\nworkers = 2\n\n" + self.rules
        l, r = self.run_prog("file_change", "race", rules=rules, timeout=120)

    def test_changes_on_a_kernel_without_wp_async(self):
        """A build of the library that acts as on a kernel without
        UFFD_FEATURE_WP_ASYNC or PAGEMAP_SCAN (before Linux 6.7): one warn
        line says what is not followed; changes of size still are (SIGBUS
        past a new end, a grown file read where it raised SIGBUS), while
        pages loaded before a change keep the bytes they had."""
        lib = BUILD / "nofollow" / "liblazyfault.so"
        subprocess.run(["make", "-s", f"B={lib.parent}", "CFLAGS=-O2 -g -DLF_TEST_NO_FOLLOW", str(lib)],
                       cwd=ROOT, check=True, timeout=300)
        l = self.lib(["/usr/bin/env", f"LD_PRELOAD={lib}", prog("file_change"), self.data, "self"],
                     self.rules)
        self.assertLogLines(l, r": warn: this kernel lacks UFFD_FEATURE_WP_ASYNC or PAGEMAP_SCAN",
                            count=1)
        for kept in ("O_TRUNC: page 4, past the new end", "O_TRUNC: page 5, written before, past",
                     "O_TRUNC: pages 0-2 (read, written, untouched): the new bytes",
                     "creat: page 1, past the new end", "append: page 7, past the new end",
                     "ftruncate: page 11, written before, past the new end",
                     "pwrite: page 2, written before: keeps its bytes",
                     "pwrite: page 0, outside the change"):
            self.assertIn("\nok: " + kept, l.stdout, l.describe())
        for lost in ("pwrite: page 1, read before: the new bytes",
                     "append: the old last page and page 5",
                     "ftruncate: page 8, read before: 100 bytes of the file, then zeros"):
            self.assertIn("\nFAIL: " + lost, l.stdout, l.describe())
        self.assertServed(l, "files", loaded=True)

    def test_madvise_dontneed_and_free(self):
        """MADV_DONTNEED after writing gives the file's bytes again (also the
        tail after EOF, also after the file changed); MADV_FREE is EINVAL,
        as natively, and changes nothing."""
        self.run_prog("file_madv")

    def test_fork_child_loads_lazily(self):
        """fork: the child and a grandchild read pages the parent never
        touched (the file's bytes, loaded by themselves), see the parent's
        pre-fork writes, not its post-fork ones; writes and DONTNEED stay in
        the process that made them; the parent is right afterwards."""
        l, r = self.run_prog("file_fork")
        self.assertStatsValid(l, pids=3)
        for pid in l.child_pids():
            self.assertServed(l, "files", pid, loaded=True)

    def test_mremap_munmap_mprotect(self):
        """mremap move, grow in place, grow and move, shrink and regrow,
        grow past EOF (SIGBUS), MREMAP_DONTUNMAP; munmap of the middle (the
        part after the hole at its own offsets); mprotect PROT_READ and
        PROT_NONE on parts and back."""
        self.run_prog("file_mremap")

    def test_threads(self):
        """8 threads read the same pages and their own, and write their own,
        of a read-only and a read-write mapping, all at once."""
        self.run_prog("file_threads", "8")

    def test_threads_two_workers_one_page_per_fault(self):
        """The same with two helper threads and one page per fault (most
        races between faults on the same pages)."""
        rules = "[global]\nworkers = 2\n\n" + file_rules(self.data, "readahead = 4K\n")
        l, r = self.run_prog("file_threads", "8", rules=rules)
        self.assertGreaterEqual(r["faults"], 1000, r)

    def test_sparse_scan_loads_what_is_touched(self):
        """1% of the pages of a 64 MiB file touched at random: pages_loaded
        and bytes_read are of the order of the pages touched times the
        readahead (64K = 16 pages), far below the file's 16384 pages; and
        no handoff."""
        l, r = self.run_prog("file_sparse")
        m = re.search(r"touched (\d+) of (\d+) pages", l.stdout)
        self.assertIsNotNone(m, l.describe())
        touched, total = int(m.group(1)), int(m.group(2))
        self.assertEqual(total, 64 * MiB // PAGE)
        self.assertGreaterEqual(r["pages_loaded"], touched, r)
        self.assertLessEqual(r["pages_loaded"], 20 * touched, r)
        self.assertLess(r["pages_loaded"], total // 4, r)
        self.assertLessEqual(r["bytes_read"], 20 * touched * PAGE, r)
        self.assertGreaterEqual(r["bytes_read"], touched * PAGE, r)
        self.assertEqual(r["handoffs"], 0, r)  # random access is no stream

    def test_sequential_scan_loads_each_page_once(self):
        """Every page of a 64 MiB file read in order, with `handoff = no`:
        each page is loaded exactly once (windows clipped to the missing
        pages and to the region), and the window grows for the stream (up to
        4 MiB): far fewer faults than 64 MiB / 64K = 1024."""
        rules = file_rules(self.data, "handoff = no\n")
        l, r = self.run_prog("file_sparse", "64", "seq", rules=rules)
        self.assertIn("read 16384 pages in order", l.stdout)
        self.assertEqual(r["pages_loaded"], 64 * MiB // PAGE, r)
        self.assertEqual(r["bytes_read"], 64 * MiB, r)
        self.assertLess(r["faults"], 128, r)
        self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (0, 0), r)

    def test_sequential_scan_hands_off_to_the_kernel(self):
        """The same read under the default rule: once the stream has grown
        to 256K windows (64K + 128K = 48 pages loaded, 3 faults: the third in
        a row that continues the stream), the library maps the file itself over the whole mapping and the kernel
        serves the rest; a log line says so.  Same bytes."""
        l, r = self.run_prog("file_sparse", "64", "seq", log_level="info")
        self.assertIn("read 16384 pages in order", l.stdout)
        self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (1, 64 * MiB), r)
        self.assertEqual(r["pages_loaded"], 48, r)
        self.assertEqual(r["bytes_read"], 48 * PAGE, r)
        self.assertEqual(r["faults"], 3, r)
        self.assertLogLines(l, r"rule 'files': sequential reading at 0x[0-9a-f]+: the mapping "
                            r"0x[0-9a-f]+-0x[0-9a-f]+ \(file offset 0\) is handed to the kernel")

    def test_handoff_keeps_the_meaning(self):
        """After a handoff the mapping behaves as the kernel's own (DONTNEED,
        fork, mremap of the whole mapping, a truncation by another process);
        a read-write mapping, one made writable by mprotect, one locked by
        mlock2 and one given MADV_DONTFORK are read in order too but never
        handed off (their written bytes stay, the lock stays, a child does
        not get the mapping); nor one whose end was unmapped by a raw system
        call and mapped again (the new mapping is left alone): exactly one
        handoff, of 32 MiB."""
        l, r = self.run_prog("file_handoff")
        self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (1, 32 * MiB), r)
        self.assertEqual(r["regions"], 6, r)

    def test_mlockall_future(self):
        """mlockall(MCL_CURRENT | MCL_FUTURE): a file mapping made before it
        holds the file's bytes (filled at once, through the library); one
        made while MCL_FUTURE is in force is left to the kernel, which fills
        it as it makes it (an info line says so); after munlockall the rule
        takes mappings again."""
        l, r = self.run_prog("file_mlockall", log_level="info")
        self.assertEqual(r["regions"], 2, r)
        self.assertEqual(r["pages_loaded"], 2 * MiB // PAGE, r)
        self.assertLogLines(l, r"b\.dat is left to the kernel \(mlockall\(MCL_FUTURE\) is in force\)",
                            count=1)

    def test_handoff_with_faults_pending(self):
        """8 threads read one mapping in order at once: the handoff comes
        while faults of other threads are pending (their faults inside the
        stream's last window do not break the stream).  With one worker and
        with two (a fill of the other worker in flight)."""
        for workers in (1, 2):
            with self.subTest(workers=workers):
                rules = f"[global]\nworkers = {workers}\n\n" + self.rules
                l, r = self.run_prog("file_handoff", "threads", rules=rules)
                self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (1, 32 * MiB), r)

    def test_user_mode_exact_bytes(self):
        """file_map in user-mode-only mode: the library fills the pages that
        write() and read() touch before the calls (the kernel cannot)."""
        n, l = self.both([prog("file_map"), self.data], self.rules, uffd="user")
        self.assertAllChecksPassed(l, "file_map")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "files", loaded=True)

    def test_shared_mapping_left_to_the_kernel(self):
        """MAP_SHARED (and MAP_SHARED_VALIDATE, read-only shared) mappings
        that a rule matches stay the kernel's, coherent with the file and
        across fork; the rule registers and loads nothing for them, and an
        info line names the rule.  A private mapping beside them is taken."""
        rules = ("[sh]\nmatch = file\npath = {d}/shared.dat\nmin_size = 4K\n\n"
                 .format(d=self.data) + self.rules)
        l, r = self.run_prog("file_shared", rules=rules, log_level="info")
        for pid in [l.pid] + l.child_pids():
            sh = l.rule("sh", pid)
            self.assertEqual((sh["regions"], sh["bytes_registered"], sh["faults"],
                              sh["pages_loaded"], sh["bytes_read"]), (0, 0, 0, 0, 0),
                             f"process {pid}: {sh}\n" + l.describe())
        self.assertEqual(r["bytes_registered"], 256 * PAGE, r)  # private.dat only
        self.assertLogLines(l, r": info: .*'sh'.*shared.*" + re.escape(str(self.data / "shared.dat")))

    def test_shared_mapping_single_rule(self):
        """The same when one rule matches both files: it takes the private
        mapping only, and the info line names it."""
        l, r = self.run_prog("file_shared", log_level="info")
        self.assertEqual(r["bytes_registered"], 256 * PAGE, r)
        self.assertLogLines(l, r": info: .*'files'.*shared.*" + re.escape(str(self.data / "shared.dat")))


@unittest.skipUnless(os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK),
                     "no writable /dev/shm")
class ShmemFileTest(FileTestCase):
    """The same programs on a tmpfs file: the library maps the file for real
    and serves its minor faults with UFFDIO_CONTINUE (the page-cache pages
    themselves, no copy); the program must see exactly the same."""

    def setUp(self):
        self.data = Path(tempfile.mkdtemp(prefix="lf-shm-", dir="/dev/shm"))
        self.data.chmod(0o777)
        self.addCleanup(shutil.rmtree, self.data, ignore_errors=True)
        self.rules = file_rules(self.data)

    def run_shmem(self, name, *args, **kw):
        l, r = self.run_prog(name, *args, log_level="info", **kw)
        self.assertLogLines(l, r"\(shmem\) mapped at .*CONTINUE")
        return l, r

    def test_exact_bytes_eof_and_sigbus(self):
        self.run_shmem("file_map")

    def test_truncated_while_mapped(self):
        self.run_shmem("file_trunc")

    def test_madvise_dontneed_and_free(self):
        self.run_shmem("file_madv")

    def test_fork(self):
        self.run_shmem("file_fork")

    def test_mremap_munmap_mprotect(self):
        self.run_shmem("file_mremap")

    def test_threads(self):
        self.run_shmem("file_threads", "8")

    def test_changed_by_the_program(self):
        self.run_shmem("file_change", "self")

    def test_changed_by_another_process(self):
        self.run_shmem("file_change", "other")

    def test_sequential_scan_hands_off_to_the_kernel(self):
        """A read in order: once the stream has grown to 256K windows (the
        third fault), the region, the program's own mapping of the file, is
        unregistered and the kernel serves the rest; same bytes."""
        l, r = self.run_shmem("file_sparse", "64", "seq")
        self.assertIn("read 16384 pages in order", l.stdout)
        self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (1, 64 * MiB), r)
        self.assertEqual((r["faults"], r["pages_loaded"]), (3, 48), r)
        self.assertLogLines(l, r"rule 'files': sequential reading at 0x[0-9a-f]+: the mapping "
                            r"0x[0-9a-f]+-0x[0-9a-f]+ \(file offset 0\) is handed to the kernel")

    def test_handoff_keeps_the_meaning(self):
        """file_handoff on tmpfs: the kernel's meaning after the handoff, and
        no handoff of the mappings that may not have one (as on a disk
        file): exactly one, of 32 MiB."""
        l, r = self.run_shmem("file_handoff")
        self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (1, 32 * MiB), r)
        self.assertEqual(r["regions"], 6, r)

    def test_handoff_with_faults_pending(self):
        """8 threads read one tmpfs mapping in order at once: the region is
        unregistered while other threads wait in it (the kernel wakes them
        with the unregistration), with one worker and with two."""
        for workers in (1, 2):
            with self.subTest(workers=workers):
                rules = f"[global]\nworkers = {workers}\n\n" + self.rules
                l, r = self.run_shmem("file_handoff", "threads", rules=rules)
                self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (1, 32 * MiB), r)


class SourceTest(LFTestCase):
    """`action = load` with `source =` on an anonymous rule."""

    def test_source_offsets(self):
        """Region byte X = source byte offset+X, zeros past the end of the
        source (no SIGBUS: anonymous memory); DONTNEED gives zeros; a grow
        in place adds zeros.  Offsets: page-aligned, unaligned, past the end
        of the file."""
        d = self.tmpdir()
        src = make_source(d / "source.bin")
        for off in (SOURCE_OFFSET, 12345, SOURCE_SIZE + 4096):
            with self.subTest(offset=off):
                n, l = self.both([prog("file_source"), src, str(off)], source_rules(src, off))
                self.assertAllChecksPassed(l, "file_source")
                self.assertNoLibErrors(l)
                r = self.assertServed(l, "src", loaded=off < SOURCE_SIZE)
                self.assertGreater(r["pages_loaded"] + r["pages_zeroed"], 0, r)
                if off < SOURCE_SIZE:
                    # the first region was read whole: every byte from the offset on
                    self.assertGreaterEqual(r["bytes_read"], SOURCE_SIZE - off, r)
                else:
                    self.assertEqual(r["bytes_read"], 0, r)


# ---- real programs ----------------------------------------------------------

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "TZ": "UTC",
}

PACK_RULES = """\
[packs]
match = file
path = */objects/pack/*
min_size = 4K
"""


def fast_import_stream(commits=300, files=40, seed=11):
    """A git fast-import stream: `commits` commits on main, each changing
    three of `files` text files (lines of random words and numbers), every
    tenth one adding a file of random hex (little to compress)."""
    rnd = random.Random(seed)
    words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9)))
             for _ in range(800)]
    content = {f"src/file{i:02d}.txt": [" ".join(rnd.choice(words) for _ in range(8))
                                        for _ in range(120)] for i in range(files)}
    out = []

    def data(b):
        out.append(b"data %d\n" % len(b))
        out.append(b + b"\n")

    for c in range(commits):
        t = 1700000000 + c * 3600
        out.append(b"commit refs/heads/main\nmark :%d\n" % (c + 1))
        out.append(b"author Ann Tester <ann@example.org> %d +0000\n" % t)
        out.append(b"committer Ann Tester <ann@example.org> %d +0000\n" % t)
        data(f"change {c}: {rnd.choice(words)} {rnd.choice(words)}".encode())
        if c:
            out.append(b"from :%d\n" % c)
        names = sorted(content) if c == 0 else rnd.sample(sorted(content), 3)
        for name in names:
            lines = content[name]
            for _ in range(rnd.randint(1, 6)):
                lines[rnd.randrange(len(lines))] = " ".join(rnd.choice(words) for _ in range(8))
            if rnd.random() < 0.3:
                lines.insert(rnd.randrange(len(lines)), f"line {c} {rnd.randint(0, 10**9)}")
            out.append(f"M 100644 inline {name}\n".encode())
            data("\n".join(lines).encode() + b"\n")
        if c % 10 == 0:
            out.append(f"M 100644 inline blobs/r{c:03d}.hex\n".encode())
            data(rnd.randbytes(6000).hex().encode())
        out.append(b"\n")
    return b"".join(out)


class GitTest(LFTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if shutil.which("git") is None:
            raise unittest.SkipTest("no git")

    def git(self, repo, *args, input=None):
        r = self.native(["git", *args], cwd=repo, env={**GIT_ENV, "HOME": str(repo)}, input=input)
        self.assertEqual(r.rc, 0, r.describe())
        return r

    def make_repo(self):
        d = Path(os.path.realpath(self.tmpdir()))
        repo = d / "repo"
        repo.mkdir()
        self.git(repo, "init", "-q", "-b", "main")
        self.git(repo, "fast-import", "--quiet", input=fast_import_stream())
        self.git(repo, "reset", "-q", "--hard")
        self.git(repo, "gc", "--quiet")
        packs = sorted((repo / ".git" / "objects" / "pack").glob("*.pack"))
        self.assertTrue(packs, "git gc made no pack")
        self.assertGreater(sum(p.stat().st_size for p in packs), 256 * 1024)
        return repo

    def test_git_log_and_fsck_read_packs(self):
        """`git log -p` and `git fsck` with the pack files (and their
        indexes) mapped under a `file` rule: the same output as natively,
        exit 0, and pages loaded from the packs."""
        repo = self.make_repo()
        env = {**GIT_ENV, "HOME": str(repo)}
        loaded = 0
        for args in (["--no-pager", "log", "-p", "--stat"],
                     ["fsck", "--full", "--strict", "--no-progress"],
                     ["--no-pager", "log", "--format=%H %s", "--all", "--", "src/file07.txt"]):
            with self.subTest(git=args[1] if args[0] == "--no-pager" else args[0]):
                n, l = self.both(["git", *args], PACK_RULES, cwd=repo, env=env, timeout=60)
                self.assertNoLibErrors(l)
                self.assertStatsValid(l)
                if "-p" in args:
                    self.assertGreater(len(n.stdout), 100000, n.describe())
                got = sum(r["pages_loaded"] for doc in l.stats.values() for r in doc["rules"]
                          if r["name"] == "packs")
                faults = sum(r["faults"] for doc in l.stats.values() for r in doc["rules"]
                             if r["name"] == "packs")
                self.assertGreater(got, 0, "no pack pages loaded:\n" + l.describe())
                self.assertGreater(faults, 0, l.describe())
                loaded += got
        self.assertGreater(loaded, 0)


PY_ACCESS_COPY = r"""
import hashlib, mmap, sys
path = sys.argv[1]
with open(path, "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
print("len", len(m))
print("tail", m[-100:].hex())
print("middle", hashlib.sha256(m[3 << 20 : (3 << 20) + 5000]).hexdigest())
print("all", hashlib.sha256(m[:]).hexdigest())
# private writes: slices, single bytes, a write as a page's first touch
m2 = None
with open(path, "rb") as f:
    m2 = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
m2[5 << 20 : (5 << 20) + 100] = b"x" * 100
m2[100] = 0
m2[len(m2) - 1] = 255
m2.seek(1 << 20)
m2.write(b"written through seek/write")
m2.seek((1 << 20) - 10)
print("read", m2.read(40).hex())
print("find", m2.find(b"written through"))
print("after writes", hashlib.sha256(m2[:]).hexdigest())
print("first untouched", hashlib.sha256(m2[7 << 20 : (7 << 20) + 8192]).hexdigest())
print("other mapping unchanged", hashlib.sha256(m[:]).hexdigest())
m.close(); m2.close()
with open(path, "rb") as f:
    print("file", hashlib.sha256(f.read()).hexdigest())
"""


class PythonMmapTest(LFTestCase):
    def test_python_mmap_access_copy(self):
        """python3 mmap.mmap(fd, 0, access=mmap.ACCESS_COPY) (a private
        read-write file mapping) read whole and in slices, then written:
        the same output as natively, the file unchanged, pages loaded."""
        d = Path(os.path.realpath(self.tmpdir()))
        data = d / "data.bin"
        data.write_bytes(random.Random(3).randbytes(8 * MiB + 123))
        data.chmod(0o644)
        want = hashlib.sha256(data.read_bytes()).hexdigest()
        n, l = self.both([SYS_PYTHON, "-c", PY_ACCESS_COPY, data], file_rules(d))
        self.assertIn(f"file {want}", l.stdout, l.describe())
        self.assertIn(f"all {want}", l.stdout, l.describe())
        self.assertIn(f"other mapping unchanged {want}", l.stdout, l.describe())
        r = self.assertServed(l, "files", loaded=True)
        self.assertGreaterEqual(r["bytes_read"], 8 * MiB, r)
        self.assertGreaterEqual(r["regions"], 2, r)
        self.assertNoLibErrors(l)

    def test_python_read_only_mapping_handed_off(self):
        """python3 hashes a 64 MiB file through a read-only private mapping
        (hashlib reads it in order): the same digest as natively and as the
        file's, the first windows loaded by the library, the rest handed to
        the kernel."""
        d = Path(os.path.realpath(self.tmpdir()))
        data = d / "data.bin"
        data.write_bytes(random.Random(4).randbytes(64 * MiB))
        data.chmod(0o644)
        want = hashlib.sha256(data.read_bytes()).hexdigest()
        code = ("import hashlib, mmap, sys; f = open(sys.argv[1], 'rb'); "
                "m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ); "
                "print('sha256', hashlib.sha256(m).hexdigest())")
        n, l = self.both([SYS_PYTHON, "-c", code, data], file_rules(d))
        self.assertIn(f"sha256 {want}", l.stdout, l.describe())
        r = self.assertServed(l, "files", loaded=True)
        self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (1, 64 * MiB), r)
        self.assertNoLibErrors(l)

    def test_python_write_from_mapping_user_mode(self):
        """User-mode-only mode: python3 writes a read-only private mapping of
        a 64 MiB file to another file in one write(); the library fills the
        buffer before the call, in the calling thread, and that thread
        hands the mapping off: the copy is the file, byte for byte."""
        d = Path(os.path.realpath(self.tmpdir()))
        data = d / "data.bin"
        data.write_bytes(random.Random(5).randbytes(64 * MiB))
        data.chmod(0o644)
        want = hashlib.sha256(data.read_bytes()).hexdigest()
        out = Path(self.tmpdir()) / "copy.bin"
        code = ("import mmap, os, sys; f = open(sys.argv[1], 'rb'); "
                "m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ); "
                "fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644); "
                "print('wrote', os.write(fd, m))")
        l = self.lib([SYS_PYTHON, "-c", code, data, out], file_rules(d), uffd="user")
        self.assertEqual(l.rc, 0, l.describe())
        self.assertIn(f"wrote {64 * MiB}", l.stdout, l.describe())
        self.assertEqual(hashlib.sha256(out.read_bytes()).hexdigest(), want)
        self.assertMode(l, "user-mode-only")
        r = self.assertServed(l, "files", loaded=True)
        self.assertEqual((r["handoffs"], r["bytes_handed_off"]), (1, 64 * MiB), r)
        self.assertNoLibErrors(l)


if __name__ == "__main__":
    unittest.main()
