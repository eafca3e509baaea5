#!/usr/bin/env python3
"""`make test-cpython`: CPython's own test package (Debian's python3.11 and
libpython3.11-testsuite) natively and under the library, module by module;
every test that passes natively must pass under the library.  Too slow for
`make test`.  Usage: cpython_suite.py LIBRARY [MODULE...]"""
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

PYTHON = "/usr/bin/python3.11"  # Debian's: /usr/bin/python3 may be another on PATH
MODULES = ["test_threading", "test_subprocess", "test_os", "test_signal", "test_mmap",
           "test_multiprocessing_fork"]
RULES = "[zero]\nmatch = anon\nmin_size = 64K\naction = zero\n\n" \
        "[big]\nmatch = malloc\nmin_size = 128K\naction = zero\n"


def run(module, env, tmp, name, only=None):
    """Runs one module; returns {test id: "ok" | "failure" | "error" |
    "skipped"} from regrtest's JUnit file, and the time taken."""
    xml = os.path.join(tmp, name + ".xml")
    t0 = time.time()
    subprocess.run([PYTHON, "-m", "test", "--junit-xml", xml, module]
                   + (["-m", only.rsplit(".", 1)[1]] if only else []), env=env, cwd=tmp,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
    took = time.time() - t0
    if not os.path.exists(xml):
        return {}, took
    results = {}
    for case in ET.parse(xml).iter("testcase"):
        kids = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        results[case.get("name")] = kids[0] if kids else "ok"
    return results, took


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
            native, tn = run(m, base, tmp, "native")
            env = dict(base, LD_PRELOAD=lib, LAZYFAULT_RULES=rules,
                       LAZYFAULT_STATS=os.path.join(tmp, "stats.%p.json"))
            under, tl = run(m, env, tmp, "lib")
            stats = [n for n in os.listdir(tmp) if n.startswith("stats.")]
            lost = sorted(t for t, r in native.items() if r == "ok" and under.get(t) != "ok")
            print(f"{m}: {sum(r == 'ok' for r in native.values())} pass natively ({tn:.0f} s), "
                  f"{sum(r == 'ok' for r in under.values())} under the library ({tl:.0f} s, "
                  f"{len(stats)} processes left statistics); lost: {len(lost)}")
            for t in lost:
                # Again alone: a test that fails only among the others is
                # order- or load-dependent, and still counted.
                alone, _ = run(m, env, tmp, "alone", only=t)
                print(f"  {t}: {under.get(t, 'not run')}; alone under the library: "
                      f"{alone.get(t, 'not run')}")
            if not stats or not native:
                print(f"  {m}: nothing ran, or no statistics")
                bad += 1
            bad += len(lost)
    print("test-cpython:", "every test that passes natively passes under the library"
          if not bad else f"{bad} failures")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
