#!/usr/bin/env python3
"""`make test-cpython`: CPython's own test package (Debian's python3.11 and
libpython3.11-testsuite) natively and under the library, module by module;
every test that passes natively must pass under the library.  Too slow for
`make test`.  Usage: cpython_suite.py LIBRARY [MODULE...]"""
import os
import re
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3.11"  # Debian's: /usr/bin/python3 may be another on PATH
MODULES = ["test_threading", "test_subprocess", "test_os", "test_signal", "test_mmap",
           "test_multiprocessing_fork"]
RULES = "[zero]\nmatch = anon\nmin_size = 64K\naction = zero\n\n" \
        "[big]\nmatch = malloc\nmin_size = 128K\naction = zero\n"
# "test_x (test.mod.Class.test_x) ... ok", the docstring maybe on a line of
# its own before the dots, the library's warn lines maybe between the dots
# and the result.
RESULT = re.compile(r"^(test\w+) \(([\w.]+)\)(?:\n.*?)? \.\.\. "
                    r"(?:[^\n]*lazyfault\[\d+\][^\n]*\n)*(ok|FAIL|ERROR|skipped|expected failure)",
                    re.M)


def run(module, env, tmp):
    t0 = time.time()
    p = subprocess.run([PYTHON, "-m", "test", "-v", module], env=env, cwd=tmp,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)
    out = p.stdout.decode(errors="replace")
    return {c if c.endswith(t) else f"{c}.{t}": r for t, c, r in RESULT.findall(out)}, \
        time.time() - t0, out


def main():
    lib = os.path.abspath(sys.argv[1])
    modules = sys.argv[2:] or MODULES
    bad = 0
    for m in modules:
        with tempfile.TemporaryDirectory() as tmp:
            rules = os.path.join(tmp, "rules.ini")
            with open(rules, "w") as f:
                f.write(RULES)
            base = {k: v for k, v in os.environ.items() if not k.startswith("LAZYFAULT")}
            native, tn, _ = run(m, base, tmp)
            env = dict(base, LD_PRELOAD=lib, LAZYFAULT_RULES=rules,
                       LAZYFAULT_STATS=os.path.join(tmp, "stats.%p.json"))
            under, tl, out = run(m, env, tmp)
            stats = [n for n in os.listdir(tmp) if n.startswith("stats.")]
            lost = sorted(t for t, r in native.items() if r == "ok" and under.get(t) != "ok")
            print(f"{m}: {sum(r == 'ok' for r in native.values())} pass natively ({tn:.0f} s), "
                  f"{sum(r == 'ok' for r in under.values())} under the library ({tl:.0f} s, "
                  f"{len(stats)} processes left statistics); lost: {len(lost)}")
            for t in lost:
                print(f"  {t}: {under.get(t, 'not run')}")
            if not stats or not native:
                print(f"  {m}: nothing ran, or no statistics")
                bad += 1
            bad += len(lost)
    print("test-cpython:", "every test that passes natively passes under the library"
          if not bad else f"{bad} failures")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
