"""`lazyfault check RULES PROGRAM` and the traps of `caller` found on real
programs, on small C programs compiled here with gcc -O2, which makes the
clones (.constprop, .isra, .cold) and folds identical functions (-fipa-icf)
as it does for real programs.  Each test first checks, with nm, that gcc
made what the test is about."""
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or ROOT / "build" / "lazyfault")

CLONES_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct cfg { size_t size; int fill; char name[64]; };
/* Always called with the same fill: gcc specialises it (.constprop.0). */
__attribute__((noinline)) static char *make_cache(size_t n, int fill)
{
    char *p = malloc(n);
    if (p) memset(p, fill, n);
    return p;
}
/* A struct passed by value of which two fields are used (.isra.0). */
__attribute__((noinline)) static char *make_buffer(struct cfg c)
{
    char *p = malloc(c.size);
    if (p) memset(p, c.fill, c.size);
    return p;
}
__attribute__((cold, noinline)) void report(const char *m, size_t n)
{
    fprintf(stderr, "%s %zu\n", m, n);
}
/* Its failure path goes to grow_table.cold. */
__attribute__((noinline)) char *grow_table(size_t n)
{
    char *p = malloc(n);
    if (!p) {
        report("grow_table: no memory for", n);
        report("grow_table: giving up", n * 2);
        exit(3);
    }
    memset(p, 3, n);
    return p;
}
/* Two identical bodies: -fipa-icf keeps one, under both names. */
__attribute__((noinline)) static void *alloc_left(size_t n)
{
    char *p = malloc(n); if (p) memset(p, 1, n); return p;
}
__attribute__((noinline)) static void *alloc_right(size_t n)
{
    char *p = malloc(n); if (p) memset(p, 1, n); return p;
}
__attribute__((noinline)) void *grab_small(size_t n) { void *p = malloc(n); if (p) memset(p, 5, n); return p; }
__attribute__((noinline)) void *grab_large(size_t n) { void *p = malloc(n + 9); if (p) memset(p, 2, n); return p; }
int main(int argc, char **argv)
{
    struct cfg c = { (size_t)argc << 20, argc, "x" };
    char *a = make_cache(1 << 20, 7), *b = make_cache(2 << 20, 7), *d = make_buffer(c);
    char *t = grow_table((size_t)argc << 20);
    printf("%d %d %d %d\n", a[1], b[2], d[3], t[4]);
    free(alloc_left((size_t)argc << 20));
    free(alloc_right((size_t)argc << 21));
    free(grab_small(argc));
    free(grab_large(argc));
    return 0;
}
"""


class CheckCallersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(COMMAND, os.X_OK):
            raise RuntimeError(f"{COMMAND} is not built: run `make` first")
        cls.tmp = Path(tempfile.mkdtemp(prefix="lf-callers-"))
        src = cls.tmp / "clones.c"
        src.write_text(CLONES_C)
        cls.prog = cls.tmp / "clones"
        subprocess.run(["gcc", "-O2", "-g", "-o", str(cls.prog), str(src)], check=True)
        nm = subprocess.run(["nm", str(cls.prog)], capture_output=True, text=True, check=True)
        cls.symbols = {}
        for line in nm.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3:
                cls.symbols[parts[2]] = int(parts[0], 16)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, *globs, prog=None):
        rules = self.tmp / "rules.ini"
        rules.write_text("".join(f"[r{i}]\nmatch = malloc\ncaller = {g}\n\n"
                                 for i, g in enumerate(globs)))
        return subprocess.run([COMMAND, "check", str(rules), str(prog or self.prog)],
                              capture_output=True, text=True, timeout=60)

    def test_name_only_as_constprop_clone(self):
        self.assertIn("make_cache.constprop.0", self.symbols)
        self.assertNotIn("make_cache", self.symbols)
        r = self.check("make_cache")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("caller 'make_cache' not found", r.stdout)
        self.assertIn("rule 'r0': caller 'make_cache' exists only as gcc clones: "
                      f"make_cache.constprop.0 in {self.prog}", r.stderr)
        # The name suggested is one that check then finds.
        r = self.check("make_cache.constprop.0")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("found: make_cache.constprop.0", r.stdout)

    def test_name_only_as_isra_clone(self):
        self.assertIn("make_buffer.isra.0", self.symbols)
        r = self.check("make_buffer")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("exists only as gcc clones: make_buffer.isra.0", r.stderr)

    def test_function_with_a_cold_part(self):
        self.assertIn("grow_table", self.symbols)
        self.assertIn("grow_table.cold", self.symbols)
        r = self.check("grow_table")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("found: grow_table in", r.stdout)
        self.assertIn("gcc also made clones of what caller 'grow_table' names: "
                      f"grow_table.cold in {self.prog}", r.stderr)

    def test_glob_matching_several_names_lists_them_all(self):
        r = self.check("grab_*")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("caller 'grab_*' matches 2 functions", r.stdout)
        self.assertIn(f"    grab_small in {self.prog}\n", r.stdout)
        self.assertIn(f"    grab_large in {self.prog}", r.stdout)

    def test_identical_code_folding(self):
        self.assertEqual(self.symbols.get("alloc_left"), self.symbols.get("alloc_right"),
                         "gcc -O2 folded the two identical functions into one address")
        r = self.check("alloc_left")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("alloc_left and alloc_right are at one address", r.stderr)
        self.assertIn("identical code folding", r.stderr)
        self.assertIn("takes calls made from alloc_right too", r.stderr)
        # Both names given: nothing hidden, nothing to say.
        r = self.check("alloc_*")
        self.assertNotIn("at one address", r.stderr)

    def test_stripped_program(self):
        stripped = self.tmp / "clones-stripped"
        shutil.copy(self.prog, stripped)
        subprocess.run(["strip", str(stripped)], check=True)
        r = self.check("grab_small", prog=stripped)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{stripped} has no .symtab (stripped): only its exported functions",
                      r.stderr)

    def test_env_script_checks_the_interpreter_on_path(self):
        script = self.tmp / "tool.py"
        script.write_text("#!/usr/bin/env python3\nprint(1)\n")
        script.chmod(0o755)
        python = shutil.which("python3", path="/usr/bin")
        env = dict(os.environ, PATH="/usr/bin:/bin")
        rules = self.tmp / "rules.ini"
        rules.write_text("[r]\nmatch = malloc\ncaller = PyObject_Malloc\n")
        r = subprocess.run([COMMAND, "check", str(rules), str(script)], capture_output=True,
                           text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"#! script run by {python}, "
                      "which /usr/bin/env finds on PATH as 'python3'", r.stdout)
        self.assertIn("caller 'PyObject_Malloc' found: PyObject_Malloc in", r.stdout)
        self.assertNotIn("/usr/bin/env or its libraries", r.stdout)
