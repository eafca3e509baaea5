"""The malloc family under a `match = malloc` rule (lazyfault.ini(5), `match`;
the README on why the library replaces the whole family: glibc maps large
blocks with internal calls no mmap wrapper sees).

Each program runs natively and under the library; the output must be the
same and the statistics must show that the rule served (regions > 0,
faults > 0).  The rule is

    [buf]
    match = malloc
    min_size = 1M

and, where a lower threshold shows more, min_size = 64K or 1 (every block
the program allocates is then a served one, ld.so's and stdio's too).

 - malloc_contract: glibc's contract on served blocks and on blocks handed
   on to glibc (calloc zeros also after reuse, realloc across the
   threshold both ways, realloc(p, 0), every alignment, valloc/pvalloc,
   malloc_usable_size, free keeping errno, overflow -> ENOMEM, glibc's own
   page-aligned blocks freed correctly);
 - malloc_grow: realloc of a served block that grows moves the mapping and
   faults in nothing: pages_zeroed stays tiny (a copy would be 16384+);
 - malloc_threads: 8 threads allocating, reallocing and freeing big and
   small blocks at once, then a malloc/realloc/free churn, with a zero and
   with a load rule;
 - malloc_fork: served blocks used and freed by parent, children and a
   grandchild; every process serves faults of its own;
 - malloc_io: read/write family into and from fresh served blocks, in
   user-mode-only mode (LAZYFAULT_UFFD=user) and in full mode;
 - malloc_source: `load` with `source` on a malloc rule; calloc reads zeros;
 - real programs (python3, xz -T1 / -T2, sort -S 64M, sqlite3, bzip2, zstd,
   perl), output identical, faults served.
"""
import difflib
import hashlib
import random
import shutil

from util import (LFTestCase, MiB, SOURCE_OFFSET, SYS_PYTHON, make_source, prog)


def malloc_rules(min_size="1M", extra=""):
    return f"[buf]\nmatch = malloc\nmin_size = {min_size}\n{extra}"


def load_rules(src, min_size="1M", max_size="8M", offset=SOURCE_OFFSET):
    return (f"[src]\nmatch = malloc\nmin_size = {min_size}\nmax_size = {max_size}\n"
            f"action = load\nsource = {src}\nsource_offset = {offset}\n")


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Native runs of the self-checking programs do not depend on the rules:
# one native run per argv serves every variant of the rules.
_NATIVE = {}


class MallocCase(LFTestCase):
    def native_once(self, argv, **kw):
        key = tuple(map(str, argv))
        if key not in _NATIVE:
            n = self.native(argv, **kw)
            self.assertEqual(n.rc, 0, "native run:\n" + n.describe())
            _NATIVE[key] = n
        return _NATIVE[key]

    def vs_native(self, name, argv, rules, **kw):
        """Run the program `name` (argv) under the rules; it passes all its
        checks, exits 0 and prints what it printed natively."""
        n = self.native_once(argv, timeout=kw.get("timeout", 60))
        self.assertAllChecksPassed(n, name)
        l = self.lib(argv, rules, **kw)
        self.assertNotIn("FAIL:", l.stdout, "a check failed under the library:\n" + l.describe())
        self.assertEqual(l.rc, 0, "run under the library:\n" + l.describe())
        self.assertSameOutput(n, l)
        self.assertNoLibErrors(l)
        return l

    def assertSameOutput(self, n, l):
        if n.stdout != l.stdout:
            diff = list(difflib.unified_diff(n.stdout.splitlines(), l.stdout.splitlines(),
                                             "native", "under the library", lineterm="", n=0))
            self.fail("output differs from the native run:\n" + "\n".join(diff[:60]) + "\n"
                      + l.describe())


class ContractTest(MallocCase):
    """glibc's contract, on served blocks and blocks handed on."""

    SECTIONS = ["malloc", "calloc", "realloc", "aligned", "errors", "foreign", "many"]

    def contract(self, min_size, sections=SECTIONS):
        l = self.vs_native("malloc_contract", [prog("malloc_contract")] + sections,
                           malloc_rules(min_size), timeout=90)
        r = self.assertServed(l, "buf", zeroed=True)
        return r

    def test_contract_min_1M(self):
        r = self.contract("1M")
        # test_many alone makes hundreds of blocks of 1M..3M
        self.assertGreater(r["regions"], 300, r)

    def test_contract_min_64K(self):
        r = self.contract("64K")
        self.assertGreater(r["regions"], 300, r)

    def test_contract_everything_served(self):
        """min_size = 1: every block is served (malloc(1) included)."""
        r = self.contract("1")
        self.assertGreater(r["regions"], 1000, r)

    def test_odd_alignments(self):
        """Alignments below the pointer size or not a power of two, on
        blocks below and above min_size: posix_memalign -> EINVAL, memalign
        rounds up, aligned_alloc does what glibc 2.36 does natively (rounds
        up, like memalign: it returns a block)."""
        self.contract("1M", ["odd"])

    def test_odd_alignments_everything_served(self):
        self.contract("1", ["odd"])


HUGE = 200 << 30


def overcommit_refuses_huge():
    """The kernel refuses a single 200 GiB mapping: the default heuristic
    (vm.overcommit_memory = 0) on a machine with less memory and swap."""
    try:
        mode = int(open("/proc/sys/vm/overcommit_memory").read())
        info = dict(l.split(":", 1) for l in open("/proc/meminfo"))
        total = sum(int(info[k].split()[0]) * 1024 for k in ("MemTotal", "SwapTotal"))
    except (OSError, ValueError, KeyError):
        return False
    return mode == 0 and total < HUGE


class HugeRequestTest(MallocCase):
    """Requests the kernel's accounting refuses are refused under the rules
    too, as glibc's and the kernel's would be: the library's mappings carry
    no MAP_NORESERVE the program did not ask for."""

    def test_huge_requests_fail_as_natively(self):
        """malloc, calloc, realloc (NULL and a served block, which stays
        intact), posix_memalign, aligned_alloc, valloc of 200 GiB: NULL or
        ENOMEM under a malloc rule; mmap of 200 GiB under an anon rule and
        of a 200 GiB file under a file rule: ENOMEM when writable, mapped
        when read only or MAP_NORESERVE.  Small requests are served after
        each refusal."""
        if not overcommit_refuses_huge():
            self.skipTest("this machine's overcommit policy grants 200 GiB natively")
        d = self.tmpdir()
        rules = (malloc_rules() + "\n[anon]\nmatch = anon\nmin_size = 1M\n"
                 f"\n[files]\nmatch = file\npath = {d}/*\n")
        l = self.vs_native("huge", [prog("huge"), d], rules)
        self.assertServed(l, "buf", zeroed=True)
        anon = self.assertServed(l, "anon")
        self.assertGreaterEqual(anon["bytes_registered"], HUGE, anon)  # the MAP_NORESERVE one
        self.assertServed(l, "files", loaded=True)


class GrowTest(MallocCase):
    """realloc of a served block that grows: untouched pages stay untouched."""

    def test_grow_default_readahead(self):
        l = self.vs_native("malloc_grow", [prog("malloc_grow")], malloc_rules())
        r = self.assertServed(l, "buf", zeroed=True)
        self.assertEqual(r["regions"], 1, r)
        # 64 MiB -> 256 MiB -> 1 GiB -> 8 MiB -> 128 MiB with 9 pages
        # touched: a copy of the first block alone would be 16384 pages.
        self.assertLess(r["pages_zeroed"], 1024, r)

    def test_grow_one_page_readahead(self):
        l = self.vs_native("malloc_grow", [prog("malloc_grow")], malloc_rules(extra="readahead = 4K\n"))
        r = self.assertServed(l, "buf", zeroed=True)
        # 9 pages read or written in all: 9 faults, 9 pages, give or take
        self.assertLessEqual(r["pages_zeroed"], 16, r)
        self.assertLessEqual(r["faults"], 16, r)


class ThreadsTest(MallocCase):
    def test_threads_zero_rule(self):
        l = self.vs_native("malloc_threads", [prog("malloc_threads")], malloc_rules(), timeout=90)
        r = self.assertServed(l, "buf", zeroed=True)
        self.assertGreater(r["regions"], 200, r)

    def test_threads_zero_rule_64K(self):
        l = self.vs_native("malloc_threads", [prog("malloc_threads")], malloc_rules("64K"),
                           timeout=90)
        self.assertServed(l, "buf", zeroed=True)

    def test_threads_load_rule(self):
        """Fresh blocks of a load rule read the source's bytes, however the
        threads' frees and reallocs interleave with their mallocs."""
        d = self.tmpdir()
        src = make_source(d / "source.bin")
        argv = [prog("malloc_threads"), "--source", src, str(SOURCE_OFFSET), str(1 * MiB),
                str(8 * MiB)]
        l = self.vs_native("malloc_threads", argv, load_rules(src), timeout=90)
        self.assertServed(l, "src", loaded=True)


class ForkTest(MallocCase):
    def test_fork(self):
        l = self.vs_native("malloc_fork", [prog("malloc_fork")], malloc_rules())
        # parent, child, second child, grandchild
        self.assertStatsValid(l, pids=4)
        self.assertServed(l, "buf", zeroed=True)
        for pid in l.child_pids():
            self.assertServed(l, "buf", pid, zeroed=True)

    def test_fork_two_workers(self):
        l = self.vs_native("malloc_fork", [prog("malloc_fork")],
                           "[global]\nworkers = 2\n\n" + malloc_rules("2M"))
        self.assertStatsValid(l, pids=4)
        for pid in [l.pid] + l.child_pids():
            self.assertServed(l, "buf", pid, zeroed=True)


class IoTest(MallocCase):
    def io(self, **kw):
        d = self.tmpdir()
        data = d / "data.bin"
        data.write_bytes(random.Random(3).randbytes(9 * MiB))
        data.chmod(0o644)
        out_n, out_l = d / "native", d / "lib"
        out_n.mkdir(mode=0o777)
        out_l.mkdir(mode=0o777)
        n = self.native([prog("malloc_io"), data, out_n])
        self.assertEqual(n.rc, 0, n.describe())
        self.assertAllChecksPassed(n, "malloc_io")
        l = self.lib([prog("malloc_io"), data, out_l], malloc_rules(), **kw)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(n.stdout, l.stdout, "output differs from the native run:\n" + l.describe())
        for f in ("out.bin", "out2.bin"):
            self.assertEqual(sha(out_n / f), sha(out_l / f), f"{f} differs:\n" + l.describe())
        self.assertNoLibErrors(l)
        return l

    def test_io_user_mode(self):
        l = self.io(uffd="user")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "buf", zeroed=True)

    def test_io_full_mode(self):
        l = self.io()
        self.assertMode(l, "full")
        self.assertServed(l, "buf", zeroed=True)


class SourceTest(MallocCase):
    def test_load_source_malloc_and_calloc(self):
        d = self.tmpdir()
        src = make_source(d / "source.bin")
        argv = [prog("malloc_source"), src, str(SOURCE_OFFSET)]
        l = self.vs_native("malloc_source", argv, load_rules(src))
        # malloc'd blocks loaded, calloc'd ones zeroed
        self.assertServed(l, "src", loaded=True, zeroed=True)

    def test_load_source_user_mode(self):
        d = self.tmpdir()
        src = make_source(d / "source.bin")
        argv = [prog("malloc_source"), src, str(SOURCE_OFFSET)]
        l = self.vs_native("malloc_source", argv, load_rules(src), uffd="user")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "src", loaded=True, zeroed=True)


# ---- real programs -----------------------------------------------------

def gen_words(path, size, seed=5):
    """About `size` bytes of lines of random words (deterministic)."""
    r = random.Random(seed)
    words = ["".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(3, 10)))
             for _ in range(5000)]
    with open(path, "w") as f:
        while f.tell() < size:
            f.write("".join(f"{r.choice(words)} {r.choice(words)} {r.randint(0, 10**6)}\n"
                            for _ in range(1000)))
    path.chmod(0o644)
    return path


def gen_repetitive(path, size, seed=7):
    """About `size` bytes of text made of one 400 KB chunk repeated with
    variations: xz's default preset compresses 30 MB of it in seconds."""
    r = random.Random(seed)
    words = ["".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(3, 9)))
             for _ in range(2000)]
    chunk = "".join(f"{r.choice(words)} {r.choice(words)} {r.randint(0, 99999)}\n"
                    for _ in range(20000)).encode()
    with open(path, "wb") as f:
        i = 0
        while f.tell() < size:
            f.write(b"block %d\n" % i)
            f.write(chunk[: len(chunk) - i * 7])
            i += 1
    path.chmod(0o644)
    return path


class RealProgramCase(LFTestCase):
    RULES = malloc_rules()

    def need(self, *names):
        for n in names:
            if shutil.which(n) is None:
                self.skipTest(f"no {n}")

    def filter_both(self, argv, out_name, **kw):
        """argv writes its output to stdout (binary): natively and under the
        library into files of their own; same bytes.  Returns (lib run,
        path of the lib output)."""
        d = self.tmpdir()
        on, ol = d / (out_name + ".native"), d / (out_name + ".lib")
        n = self.native(argv, stdout_file=on, timeout=kw.get("timeout", 90))
        self.assertEqual(n.rc, 0, n.describe())
        l = self.lib(argv, self.RULES, stdout_file=ol, **kw)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(sha(on), sha(ol), f"{out_name}: output differs:\n" + l.describe())
        return l, ol

    def served(self, run, min_bytes=1 * MiB):
        r = self.assertServed(run, "buf", zeroed=True)
        self.assertGreaterEqual(r["bytes_registered"], min_bytes, r)
        self.assertNoLibErrors(run)
        return r


PY_SCRIPT = r"""
import hashlib, zlib
h = hashlib.sha256()
# big bytearrays: zeros first, then patterns
blobs = [bytearray(8 << 20) for _ in range(4)]
print("zeros", all(b.count(0) == len(b) for b in blobs))
for i, b in enumerate(blobs):
    b[::4096] = bytes([i + 1]) * (len(b) // 4096)
    b[-100:] = bytes(range(100))
    h.update(b)
print("blobs", h.hexdigest())
# bytes concatenation: new objects, small to large
s = b""
for i in range(24):
    s += bytes([i]) * (512 << 10) + str(i).encode()
print("concat", len(s), hashlib.sha256(s).hexdigest())
# a bytearray grown by realloc across the threshold, then shrunk
ba = bytearray()
for i in range(40):
    ba.extend(bytes([i % 251]) * (1 << 20))
del ba[: 30 << 20]
ba.extend(b"tail" * 1000)
print("bytearray", len(ba), hashlib.sha256(ba).hexdigest())
# a list of big strings: joined, split, compressed, transformed
strs = [("%06d-" % i) * (300000 // 7) + chr(65 + i % 26) * (1 << 20) for i in range(30)]
joined = "\n".join(strs)
print("strings", len(joined), hashlib.sha256(joined.encode()).hexdigest())
parts = joined.split("\n")
print("split", len(parts), sum(len(p) for p in parts))
z = zlib.compress(joined.encode(), 6)
print("zlib", len(z), zlib.decompress(z) == joined.encode())
up = joined.upper().replace("A", "ab")
print("upper", len(up), hashlib.md5(up.encode()).hexdigest())
del blobs, strs, parts
big = bytes(64 << 20)
print("big zeros", big.count(0))
"""


class PythonTest(RealProgramCase):
    def test_python_big_objects(self):
        n, l = self.both([SYS_PYTHON, "-c", PY_SCRIPT], self.RULES, timeout=90)
        self.assertIn("zeros True", l.stdout)
        self.assertIn("big zeros 67108864", l.stdout)
        r = self.served(l, 64 * MiB)
        self.assertGreater(r["regions"], 50, r)


class XzTest(RealProgramCase):
    def setUp(self):
        self.need("xz")
        self.dir = self.tmpdir()
        self.input = gen_repetitive(self.dir / "input.txt", 30 * MiB)

    def roundtrip(self, threads, preset):
        c, xl = self.filter_both(["xz", f"-T{threads}", preset, "-c", self.input], "xz",
                                 timeout=120)
        self.assertLess(xl.stat().st_size, self.input.stat().st_size // 10)
        back = self.dir / "back.txt"
        d = self.lib(["xz", f"-T{threads}", "-d", "-c", xl], self.RULES, stdout_file=back)
        self.assertEqual(d.rc, 0, d.describe())
        self.assertEqual(sha(back), sha(self.input), "decompressed bytes differ:\n" + d.describe())
        return c, d

    def test_xz_T1_default_preset(self):
        c, d = self.roundtrip(1, "-6")
        r = self.served(c, 64 * MiB)   # the encoder's match finder and dictionary
        self.served(d, 8 * MiB)        # the decoder's dictionary

    def test_xz_T2(self):
        c, d = self.roundtrip(2, "-3")
        r = self.served(c, 64 * MiB)   # one encoder per thread, the block buffers
        self.assertGreater(r["regions"], 4, r)
        self.served(d)


class SortTest(RealProgramCase):
    def test_sort_64M_buffer(self):
        self.need("sort")
        d = self.tmpdir()
        inp = gen_words(d / "input.txt", 6 * MiB)
        out_n, out_l = d / "native.out", d / "lib.out"
        n = self.native(["sort", "-S", "64M", "-o", out_n, inp])
        self.assertEqual(n.rc, 0, n.describe())
        l = self.lib(["sort", "-S", "64M", "-o", out_l, inp], self.RULES)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(sha(out_n), sha(out_l), "sorted output differs:\n" + l.describe())
        self.served(l, 64 * MiB)


SQL = """\
PRAGMA cache_size=-65536;
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, v REAL);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000)
INSERT INTO t SELECT x, (x * 7919) % 1000,
  printf('name-%08d-%s', (x * 104729) % 1000003, substr('abcdefghijklmnopqrstuvwxyz', x % 26 + 1, 5)),
  x * 0.5 FROM c;
COMMIT;
CREATE INDEX tk ON t(k);
CREATE INDEX tn ON t(name, v);
SELECT count(*), sum(k), min(name), max(name), sum(v) FROM t;
SELECT k, count(*), sum(id) FROM t GROUP BY k ORDER BY k LIMIT 5;
SELECT k, count(*), avg(v) FROM t WHERE k BETWEEN 100 AND 110 GROUP BY k;
SELECT count(DISTINCT substr(name, 15)), count(DISTINCT v % 977) FROM t;
SELECT name FROM t ORDER BY name DESC LIMIT 3;
SELECT group_concat(id) FROM (SELECT id FROM t WHERE k = 17 ORDER BY id LIMIT 10);
SELECT sum(length(s)), max(s) FROM (SELECT substr(name, 15) || '-' || id AS s FROM t ORDER BY s);
PRAGMA integrity_check;
"""


class SqliteTest(RealProgramCase):
    def test_sqlite_large_cache(self):
        """The sorter of CREATE INDEX and ORDER BY grows its buffer by
        realloc up to the cache size: served blocks grown in place."""
        self.need("sqlite3")
        n = self.native(["sqlite3", "-bail", "db.sqlite"], input=SQL.encode())
        self.assertEqual(n.rc, 0, n.describe())
        l = self.lib(["sqlite3", "-bail", "db.sqlite"], self.RULES, input=SQL.encode())
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(n.stdout, l.stdout, "output differs:\n" + l.describe())
        self.assertIn("200000|", l.stdout)
        self.assertTrue(l.stdout.rstrip().endswith("ok"), l.describe())
        self.served(l)


class CompressorsTest(RealProgramCase):
    def setUp(self):
        self.dir = self.tmpdir()
        self.input = gen_words(self.dir / "input.txt", 8 * MiB)

    def test_bzip2_9(self):
        """bzip2 -9: its 900 kB block sorter arrays (about 7 MiB) are malloc'd;
        decompression mallocs about 3.5 MiB."""
        self.need("bzip2")
        c, out = self.filter_both(["bzip2", "-9", "-c", self.input], "bz2")
        self.served(c, 4 * MiB)
        back = self.dir / "back.txt"
        d = self.lib(["bzip2", "-d", "-c", out], self.RULES, stdout_file=back)
        self.assertEqual(d.rc, 0, d.describe())
        self.assertEqual(sha(back), sha(self.input), d.describe())
        self.served(d, 2 * MiB)

    def test_zstd_9(self):
        self.need("zstd")
        c, out = self.filter_both(["zstd", "-q", "-9", "-T1", "-c", self.input], "zst")
        self.served(c, 8 * MiB)
        back = self.dir / "back.txt"
        d = self.lib(["zstd", "-q", "-d", "-c", out], self.RULES, stdout_file=back)
        self.assertEqual(d.rc, 0, d.describe())
        self.assertEqual(sha(back), sha(self.input), d.describe())
        self.served(d)

    def test_perl_big_strings(self):
        self.need("perl")
        script = r"""
my $x = "ab" x (20 << 20);
my $y = $x . ("c" x (10 << 20));
$y =~ tr/a/z/;
print length($y), " ", substr($y, 0, 8), " ", substr($y, -4), "\n";
my @a = map { ("x" x (1 << 20)) . $_ } 1 .. 20;
my $j = join(",", @a);
print scalar(@a), " ", length($j), " ", ($j =~ tr/x//), "\n";
my $s = "";
$s .= ("%" x 100000) . $_ for 1 .. 100;
print length($s), "\n";
"""
        n, l = self.both(["perl", "-e", script], self.RULES)
        r = self.served(l, 32 * MiB)
        self.assertGreater(r["regions"], 10, r)
