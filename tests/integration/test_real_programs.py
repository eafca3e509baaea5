"""Real Debian programs under the library, compared byte for byte with their
native runs: /usr/bin/python3 (big allocations, a private anonymous mmap of
64 MiB), sort -S 64M on a generated multi-MB file, xz -T1 compress and
decompress.

What each program asks the kernel for decides which rule can take it:
 - python's object arenas (1 MiB) and mmap.mmap(..., MAP_PRIVATE) go
   through mmap(): an `anon` rule takes them;
 - sort's buffer (-S) and xz's dictionary are malloc'd: glibc's malloc maps
   those with its own internal call to the kernel, which no wrapper of mmap
   can see, so only a `malloc` rule serves them.  Under an `anon` rule the
   output is still right and the rule takes nothing: a designed limit (README,
   "Limits"), asserted as such.
"""
import hashlib
import random
import os
import unittest

from util import LFTestCase, MiB, SYS_PYTHON, ZERO_RULES

SORT = "/usr/bin/sort"
XZ = "/usr/bin/xz"

MALLOC_RULES = """\
[heap]
match = malloc
min_size = 1M
action = zero
"""


def gen_text(path, lines, seed=5):
    """A multi-MB text file of random words (deterministic)."""
    r = random.Random(seed)
    words = ["".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(3, 10)))
             for _ in range(5000)]
    with open(path, "w") as f:
        for i in range(lines):
            f.write(f"{r.choice(words)} {r.choice(words)} {r.randint(0, 10**6)}\n")
    path.chmod(0o644)
    return path


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


PY_BIG = r"""
import hashlib, mmap
# big bytearrays (malloc) and many small objects (pymalloc arenas: mmap)
blobs = [bytearray(8 << 20) for _ in range(4)]
for i, b in enumerate(blobs):
    b[::4096] = bytes([i + 1]) * (len(b) // 4096)
objs = [str(i) * 3 for i in range(300000)]
# a private anonymous mmap of 64 MiB: zeros first, then a pattern
m = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_PRIVATE)
print("zeros", m[:] == bytes(64 << 20))
for off in range(0, 64 << 20, 1 << 20):
    m[off : off + 4096] = (off >> 20).to_bytes(1, "little") * 4096
print("sum", sum(m[::512]), sum(sum(b[::4096]) for b in blobs), len("".join(objs)))
print("sha", hashlib.sha256(m[:]).hexdigest())
"""


class PythonTest(LFTestCase):
    def test_python_big_allocations_and_mmap(self):
        n, l = self.both([SYS_PYTHON, "-c", PY_BIG], ZERO_RULES, timeout=90)
        self.assertIn("zeros True", l.stdout)
        r = self.assertServed(l, "big", zeroed=True)
        # the 64 MiB mmap at least
        self.assertGreaterEqual(r["bytes_registered"], 64 * MiB, r)
        self.assertNoLibErrors(l)

    def test_python_subprocess_from_mmap(self):
        """python fills a private mmap, then feeds it to `sort` and `sha256sum`
        started with subprocess (vfork/posix_spawn under the hood), writing
        straight from the mmap; the children run under the library too."""
        script = r"""
import mmap, subprocess, random
r = random.Random(3)
m = mmap.mmap(-1, 16 << 20, flags=mmap.MAP_PRIVATE)
lines = b"".join(b"%08d %s\n" % (r.randint(0, 10**8), b"x" * r.randint(0, 40)) for _ in range(100000))
m[: len(lines)] = lines
out = subprocess.run(["sort"], input=memoryview(m)[: len(lines)], stdout=subprocess.PIPE, check=True).stdout
print(len(out), out[:30], out[-30:])
h = subprocess.run(["sha256sum"], input=memoryview(m)[len(lines) :], stdout=subprocess.PIPE, check=True).stdout
print(h.decode().split()[0])
"""
        n, l = self.both([SYS_PYTHON, "-c", script], ZERO_RULES)
        self.assertServed(l, "big", zeroed=True)

    def test_python_with_malloc_rule(self):
        """The 8 MiB bytearrays are malloc'd: a malloc rule takes them."""
        n, l = self.both([SYS_PYTHON, "-c", PY_BIG], MALLOC_RULES, timeout=90)
        r = self.assertServed(l, "heap", zeroed=True)
        self.assertGreaterEqual(r["bytes_registered"], 32 * MiB, r)


    def test_python_vector_io_user_mode(self):
        """python3's os.preadv / os.pwritev (preadv64v2 / pwritev64v2) and
        os.readv / os.writev into and from a private anonymous mmap never
        touched, in user-mode-only mode."""
        d = self.tmpdir()
        data = d / "data.bin"
        data.write_bytes(bytes(range(256)) * 8192)
        data.chmod(0o644)
        script = f"""
import mmap, os, hashlib
m = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_PRIVATE)
mv = memoryview(m)
fd = os.open({str(data)!r}, os.O_RDONLY)
out = os.open({str(d / "out.bin")!r}, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
def attempt(name, f):
    try:
        print(name, f())
    except OSError as e:
        print(name, "error", e.errno)
attempt("readv", lambda: os.readv(fd, [mv[8 << 20 : 9 << 20]]))
attempt("preadv", lambda: os.preadv(fd, [mv[16 << 20 : 17 << 20]], 4096))
attempt("writev", lambda: os.writev(out, [mv[24 << 20 : 25 << 20]]))
attempt("pwritev", lambda: os.pwritev(out, [mv[32 << 20 : 33 << 20]], 1 << 20))
print(hashlib.sha256(m[:]).hexdigest())
os.lseek(out, 0, 0)
print(hashlib.sha256(os.read(out, 4 << 20)).hexdigest())
"""
        n, l = self.both([SYS_PYTHON, "-c", script], ZERO_RULES, uffd="user")
        self.assertNotIn("error", l.stdout, l.describe())
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "big", zeroed=True)


class SortTest(LFTestCase):
    def setUp(self):
        self.dir = self.tmpdir()
        self.input = gen_text(self.dir / "input.txt", 250000)   # ~5 MB
        if not os.access(SORT, os.X_OK):
            self.skipTest("no sort")

    def sort(self, rules, **kw):
        out_n, out_l = self.dir / "native.out", self.dir / "lib.out"
        n = self.native([SORT, "-S", "64M", "-o", out_n, self.input])
        self.assertEqual(n.rc, 0, n.describe())
        l = self.lib([SORT, "-S", "64M", "-o", out_l, self.input], rules, **kw)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertEqual(sha(out_n), sha(out_l), "sorted output differs:\n" + l.describe())
        self.assertGreater(out_l.stat().st_size, 4 * MiB)
        self.assertStatsValid(l)
        return l

    def test_sort_anon_rule_takes_nothing(self):
        """The output is right, and the rule takes nothing: sort -S 64M
        mallocs its buffer, which glibc maps with its internal mmap, which
        no `anon` rule sees (the README's limit).  A `malloc` rule takes it:
        test_sort_malloc_rule_serves_faults."""
        l = self.sort(ZERO_RULES)
        self.assertTookNothing(l, "big")

    def test_sort_malloc_rule_serves_faults(self):
        l = self.sort(MALLOC_RULES)
        r = self.assertServed(l, "heap", zeroed=True)
        self.assertGreaterEqual(r["bytes_registered"], 64 * MiB, r)

    def test_sort_user_mode_malloc_rule(self):
        """sort in user-mode-only mode: it reads its input with
        fread_unlocked into its (malloc'd, registered) buffer."""
        l = self.sort(MALLOC_RULES, uffd="user")
        self.assertMode(l, "user-mode-only")
        self.assertServed(l, "heap", zeroed=True)


class XzTest(LFTestCase):
    def setUp(self):
        self.dir = self.tmpdir()
        self.input = gen_text(self.dir / "input.txt", 80000)   # ~1.6 MB
        if not os.access(XZ, os.X_OK):
            self.skipTest("no xz")

    def roundtrip(self, rules):
        """Compress natively and under the library: the same .xz bytes;
        decompress that under the library: the input again."""
        xn, xl, back = self.dir / "native.xz", self.dir / "lib.xz", self.dir / "back.txt"
        n = self.native([XZ, "-T1", "-c", self.input], stdout_file=xn, timeout=90)
        self.assertEqual(n.rc, 0, n.describe())
        c = self.lib([XZ, "-T1", "-c", self.input], rules, stdout_file=xl, timeout=90)
        self.assertEqual(c.rc, 0, c.describe())
        self.assertEqual(sha(xn), sha(xl), "compressed bytes differ:\n" + c.describe())
        self.assertLess(xl.stat().st_size, self.input.stat().st_size)
        d = self.lib([XZ, "-T1", "-d", "-c", xl], rules, stdout_file=back, timeout=90)
        self.assertEqual(d.rc, 0, d.describe())
        self.assertEqual(sha(back), sha(self.input), "decompressed bytes differ:\n" + d.describe())
        self.assertStatsValid(c)
        self.assertStatsValid(d)
        return c, d

    def test_xz_anon_rule_takes_nothing(self):
        """The round trip is right, and the rule takes nothing: xz does not
        mmap, its dictionary and buffers are malloc'd (glibc's internal
        mmap, which no `anon` rule sees: the README's limit), in the
        compressor and the decompressor.  A `malloc` rule takes them:
        test_xz_malloc_rule_serves_faults."""
        c, d = self.roundtrip(ZERO_RULES)
        self.assertTookNothing(c, "big")
        self.assertTookNothing(d, "big")

    def test_xz_malloc_rule_serves_faults(self):
        c, d = self.roundtrip(MALLOC_RULES)
        r = self.assertServed(c, "heap", zeroed=True)
        # preset 6: the encoder's match finder and dictionary (~90 MiB)
        self.assertGreaterEqual(r["bytes_registered"], 32 * MiB, r)
        self.assertServed(d, "heap", zeroed=True)


if __name__ == "__main__":
    unittest.main()
