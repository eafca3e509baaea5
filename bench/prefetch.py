#!/usr/bin/python3
"""The prefetch rows of the README's performance table, for `make bench`
(bench/bench.mk runs this after bench/run.py).

A second run with `prefetch` of the first run's trace, against the baseline
of the same invocation, the cases interleaved BENCH_RUNS times (default 5),
medians, the range of per-round ratios after each:

  anon zero, 1% of the pages at random (zero_touch mmap rand): the second
    run against the kernel's own first touch (no library);
  file load, 1% of the pages at random (file_touch mmap rand): the second
    run against a first run (no prefetch);
  recording: the first run (trace and written-page tracking) against a run
    of a build without written-page tracking and without a trace, for
    zero_touch seq (every page written) and rand; rand again with the program
    and its helpers pinned to one CPU.

Each row gives the work time (what the program measures around its
touches), the whole process's time, and the faults of the rule from the
statistics (first run, then second).  The trace is recorded once at the
start (a first run of its own) and every second run prefetches from it.

Environment: BENCH_RUNS, BENCH_MIB (region and file size, default 1024),
BENCH_DATA_DIR (as bench/run.py).  Writes to stdout and appends to
build/bench/results.md.  Standard library only.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
LIB = os.path.join(BUILD, "liblazyfault.so")
NOWP_LIB = os.path.join(BUILD, "nofollow", "liblazyfault.so")
BIN = os.path.join(BUILD, "bench")
WORK = os.path.join(BIN, "work-prefetch")
RESULTS = os.path.join(BIN, "results.md")
SPAWN = os.path.join(BIN, "spawn")
RUNS = max(1, int(os.environ.get("BENCH_RUNS", "5")))
MIB = int(os.environ.get("BENCH_MIB", "1024"))
DATA_DIR = os.path.abspath(os.environ.get("BENCH_DATA_DIR", "/tmp/lazyfault-bench"))
DATA = os.path.join(DATA_DIR, "data-%dM.bin" % MIB)
PCT, SEED = "1", "0x5eed1234abcd"

RULES = {
    "zero": "[big]\nmatch = anon\nmin_size = 1M\naction = zero\n",
    "load": "[data]\nmatch = file\npath = %s/*\naction = load\n" % DATA_DIR,
}


def note(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def rules(kind, name, trace=None, prefetch=None):
    text = RULES[kind]
    if prefetch:
        text += "prefetch = %s\n" % prefetch
    if trace:
        text = "[global]\ntrace = %s\n\n" % trace + text
    path = os.path.join(WORK, name + ".ini")
    with open(path, "w") as f:
        f.write(text)
    return path


def run(argv, rules_path=None, lib=LIB, one_cpu=False):
    """One run through bench/spawn: work_ns, wall_ns, and the rule's faults.
    one_cpu: the program and its helpers pinned to the CPU this runs on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAZYFAULT_") and k != "LD_PRELOAD"}
    env["LC_ALL"] = "C"
    stats = os.path.join(WORK, "stats.%p.json")
    for f in os.listdir(WORK):
        if f.startswith("stats."):
            os.unlink(os.path.join(WORK, f))
    if rules_path:
        env.update(LD_PRELOAD=lib, LAZYFAULT_RULES=rules_path, LAZYFAULT_STATS=stats)
    # Memory written and freed just before the run, as bench/run.py does:
    # none of the cases pays for memory the host took back (spawn.c).
    env["SPAWN_WARM_MIB"] = str(MIB + 256)
    cpu = os.sched_getaffinity(0)
    pin = (lambda: os.sched_setaffinity(0, {min(cpu)})) if one_cpu else None
    p = subprocess.run([SPAWN] + argv, env=env, capture_output=True, text=True, preexec_fn=pin)
    fields = dict(kv.split("=", 1) for kv in p.stdout.split() if "=" in kv)
    if p.returncode or fields.get("bad", "0") != "0" or "work_ns" not in fields:
        raise SystemExit("bench: %s failed (%d): %s %s" % (argv, p.returncode, p.stdout, p.stderr[:300]))
    r = {"work": int(fields["work_ns"]), "wall": int(fields["spawn_wall_ns"]), "faults": None}
    if rules_path:
        with open(stats.replace("%p", fields["spawn_pid"])) as f:
            rule = json.load(f)["rules"][0]
        r["faults"], r["prefetched"] = rule["faults"], rule.get("pages_prefetched", 0)
    return r


def interleaved(cases):
    """{name: [runs]} over RUNS rounds, the order reversed every other round."""
    out = {c[0]: [] for c in cases}
    for i in range(RUNS):
        for name, argv, rules_path, lib, *pin in (cases if i % 2 == 0 else list(reversed(cases))):
            r = run(argv, rules_path, lib, bool(pin))
            out[name].append(r)
            note("  run %d %-28s work %.3fs process %.3fs faults %s" % (
                i + 1, name, r["work"] / 1e9, r["wall"] / 1e9, r["faults"]))
    return out


def ratio(runs, base, key):
    med = statistics.median(r[key] for r in runs) / statistics.median(r[key] for r in base)
    per = [a[key] / b[key] for a, b in zip(runs, base)]
    return "%.2fx (%.2f-%.2f)" % (med, min(per), max(per))


def faults(runs):
    return "%d" % statistics.median(r["faults"] for r in runs) if runs[0]["faults"] is not None else "-"


LINES = []


def say(line=""):
    print(line, flush=True)
    LINES.append(line)


def row(label, runs, base, goal, first=None):
    f = faults(runs) if first is None else "%s -> %s" % (faults(first), faults(runs))
    say("| %s | %s | %s | %s | %s |" % (label, ratio(runs, base, "work"), ratio(runs, base, "wall"), f, goal))


def main():
    for prog in ("spawn", "zero_touch", "file_touch"):
        if not os.path.exists(os.path.join(BIN, prog)):
            raise SystemExit("bench: %s is not built (make bench-build)" % prog)
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    os.makedirs(DATA_DIR, exist_ok=True)
    if not os.path.exists(DATA):
        subprocess.run([os.path.join(BIN, "file_touch"), "create", DATA, str(MIB)], check=True)
    subprocess.run(["make", "-s", "B=%s" % os.path.dirname(NOWP_LIB),
                    "CFLAGS=-O2 -g -DLF_TEST_NO_FOLLOW", NOWP_LIB], cwd=ROOT, check=True)
    zt = [os.path.join(BIN, "zero_touch"), "mmap", "rand", str(MIB), PCT, SEED]
    zseq = [os.path.join(BIN, "zero_touch"), "mmap", "seq", str(MIB)]
    ft = [os.path.join(BIN, "file_touch"), "mmap", "rand", DATA, PCT, SEED]
    # The records the second runs prefetch from: one first run each.
    ztrace, ftrace = os.path.join(WORK, "zero.trace"), os.path.join(WORK, "load.trace")
    run(zt, rules("zero", "zero-record", trace=ztrace))
    run(ft, rules("load", "load-record", trace=ftrace))
    note("prefetch: %d rounds" % RUNS)
    res = interleaved([
        ("kernel zero", zt, None, LIB),
        ("zero first run", zt, rules("zero", "zero-first"), LIB),
        ("zero second run", zt, rules("zero", "zero-second", prefetch=ztrace), LIB),
        ("load first run", ft, rules("load", "load-first"), LIB),
        ("load second run", ft, rules("load", "load-second", prefetch=ftrace), LIB),
        ("zero rand, recording", zt, rules("zero", "rec-rand", trace=os.path.join(WORK, "r1")), LIB),
        ("zero rand, neither", zt, rules("zero", "none-rand"), NOWP_LIB),
        ("zero seq, recording", zseq, rules("zero", "rec-seq", trace=os.path.join(WORK, "r2")), LIB),
        ("zero seq, neither", zseq, rules("zero", "none-seq"), NOWP_LIB),
        # The same on one CPU: a cross-CPU wake-up, whose cost on a virtual
        # machine swings several-fold between runs, drowns what recording
        # adds to a random fault; on one CPU a fault costs a steady ~10 us.
        ("zero rand, recording, one CPU", zt,
         rules("zero", "rec-rand-1", trace=os.path.join(WORK, "r3")), LIB, True),
        ("zero rand, neither, one CPU", zt, rules("zero", "none-rand-1"), NOWP_LIB, True),
    ])
    say()
    say("### Prefetch (%d MiB, %s%% of the pages, %d runs, medians)" % (MIB, PCT, RUNS))
    say()
    say("| case | work | process | faults | goal |")
    say("|---|---|---|---|---|")
    row("anon zero 1% random, second run with `prefetch`, vs the kernel's first touch",
        res["zero second run"], res["kernel zero"], "<= 1.0x, >= 90% fewer faults",
        first=res["zero first run"])
    row("load 1% random, second run with `prefetch`, vs its first run",
        res["load second run"], res["load first run"], "<= 0.5x, >= 90% fewer faults",
        first=res["load first run"])
    row("recording (trace, written pages), zero 1% random, vs neither",
        res["zero rand, recording"], res["zero rand, neither"], "<= 1.05x")
    row("recording (trace, written pages), zero every page, vs neither",
        res["zero seq, recording"], res["zero seq, neither"], "<= 1.05x")
    row("recording (trace, written pages), zero 1% random, vs neither, program and helper "
        "on one CPU", res["zero rand, recording, one CPU"], res["zero rand, neither, one CPU"],
        "<= 1.05x")
    with open(RESULTS, "a") as f:
        f.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
