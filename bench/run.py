#!/usr/bin/python3
"""The performance tables of the README ("Performance"), for `make bench`.

Every figure is a ratio against a baseline measured in the same invocation:
the cases of a table run interleaved (baseline, variants, then the same in
reverse order, ...), BENCH_RUNS times each (default 5), and each figure is
the median over the runs.  Per run we take:

  work    the wall time the program measures itself around the work
          (zero_touch, file_touch and malloc_churn print work_ns=...);
  process the wall time of the whole process, from fork to reaping;
  RSS     the child's peak RSS: ru_maxrss from wait4.

Both of the last come from bench/spawn, a small launcher that forks the
program, reaps it with wait4 and prints them (we still os.wait4 the launcher
for its status).  Forking the program from Python would not do: ru_maxrss
keeps the high-water mark of the memory a process left at execve, so any
child of Python starts at Python's ~16 MiB, more than the sparse cases use.

The ratio column is median(value) / median(baseline); the range after it is
the smallest and largest ratio of one run to the baseline run next to it,
which shows how noisy the machine was.

Environment: BENCH_RUNS (runs per case), BENCH_MIB (size of the zero-fill
region and of the file, default 1024), BENCH_DATA_DIR (where the test file is
created once, default /tmp/lazyfault-bench), BENCH_MALLOC_OPS (operations per
thread of malloc_churn; default: calibrated to about 1.5 s native), BENCH_ONLY
(a comma-separated subset of zero,thp,load,passthrough,trace: the tables to
run; thp: the sparse zero-fill cases again with THP `always`, where root
may set it, the setting put back whatever happens).

Writes the tables to stdout and to build/bench/results.md.  Standard library
only; runs with Debian's /usr/bin/python3.
"""
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
LIB = os.path.join(BUILD, "liblazyfault.so")
BIN = os.path.join(BUILD, "bench")
WORK = os.path.join(BIN, "work")  # rule files, stats files, program output
RESULTS = os.path.join(BIN, "results.md")
SPAWN = os.path.join(BIN, "spawn")

RUNS = max(1, int(os.environ.get("BENCH_RUNS", "5")))
MIB = int(os.environ.get("BENCH_MIB", "1024"))
DATA_DIR = os.path.abspath(os.environ.get("BENCH_DATA_DIR", "/tmp/lazyfault-bench"))
# A copy of the file on tmpfs: there the library maps page-cache pages with
# UFFDIO_CONTINUE instead of copying them.
SHM_DIR = "/dev/shm/lazyfault-bench"
DATA = os.path.join(DATA_DIR, "data-%dM.bin" % MIB)
PCT = "1"  # sparse / random cases touch 1% of the pages
SEED = "0x5eed1234abcd"
MALLOC_TARGET_S = 1.5
# bench/spawn writes to and frees this much memory before each run, so that
# every case starts from memory the host has not taken back (see spawn.c).
WARM_MIB = MIB + 256
MMAP_CALLS = 300000  # mmap_churn: memory calls of the passthrough case
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "zero,thp,load,passthrough,trace").split(",")))
FIU_RUN = shutil.which("fiu-run") or "/usr/bin/fiu-run"

RULES = {
    "zero": "[big]\nmatch = anon\nmin_size = 1M\naction = zero\n",
    "load": "[data]\nmatch = file\npath = %s/*\naction = load\n" % DATA_DIR,
    "load_served": "[data]\nmatch = file\npath = %s/*\naction = load\nhandoff = no\n" % DATA_DIR,
    "malloc": "[buf]\nmatch = malloc\nmin_size = 1M\n",
    "none": "[none]\nmatch = anon\nmin_size = 1000G\n",
    "none_malloc": "[none_malloc]\nmatch = malloc\nmin_size = 1000G\n",
    "load_signal": "[global]\nserve = signal\n\n[data]\nmatch = file\npath = %s/*\n"
                   "action = load\n" % DATA_DIR,
    "load_shm": "[shm]\nmatch = file\npath = %s/*\naction = load\n" % SHM_DIR,
    "zero_signal": "[global]\nserve = signal\n\n[big]\nmatch = anon\nmin_size = 1M\n"
                   "action = zero\n",
    "malloc_signal": "[global]\nserve = signal\n\n[buf]\nmatch = malloc\nmin_size = 1M\n",
    "zero_trace": "[global]\ntrace = %s/trace.%%p\n\n[big]\nmatch = anon\nmin_size = 1M\n"
                  "action = zero\n" % WORK,
}

OUT = []  # the Markdown report, line by line


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


def note(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- running one program -------------------------------------------------

def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LAZYFAULT_", "FIU_")) and k != "LD_PRELOAD"}
    env["LC_ALL"] = "C"
    return env


def rules_file(kind):
    path = os.path.join(WORK, "rules-%s.ini" % kind)
    with open(path, "w") as f:
        f.write(RULES[kind])
    return path


class Case:
    """One way of running a program.  `rules`: None (native), a RULES key
    (under the library), or "fiu" (under fiu-run -x, no failure point)."""

    def __init__(self, name, argv, rules=None, one_cpu=False):
        """one_cpu: the program (and the library's helpers, which inherit
        its affinity) pinned to one CPU."""
        self.name, self.argv, self.rules, self.one_cpu = name, argv, rules, one_cpu
        self.runs = []  # dicts: work, wall, rss, stats
        self.errors = []

    def command(self, stats_dir):
        env = clean_env()
        argv = list(self.argv)
        if self.rules == "fiu":
            # -x: the POSIX/libc preload library (it wraps malloc & co.);
            # no -c: no failure point enabled; -f '': no control FIFO.
            argv = [FIU_RUN, "-x", "-f", ""] + argv
        elif self.rules:
            env["LD_PRELOAD"] = LIB
            env["LAZYFAULT_RULES"] = rules_file(self.rules)
            env["LAZYFAULT_STATS"] = os.path.join(stats_dir, "stats.%p.json")
        return argv, env

    def run(self, index):
        stats_dir = os.path.join(WORK, "stats", "%s.%d" % (self.slug(), index))
        shutil.rmtree(stats_dir, ignore_errors=True)
        os.makedirs(stats_dir)
        argv, env = self.command(stats_dir)
        out_path = os.path.join(stats_dir, "stdout")
        err_path = os.path.join(stats_dir, "stderr")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            spawn_env = dict(env, SPAWN_WARM_MIB=str(WARM_MIB))
            pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) \
                if self.one_cpu else None
            p = subprocess.Popen([SPAWN] + argv, env=spawn_env, stdout=out, stderr=err, cwd=ROOT,
                                 preexec_fn=pin)
            _, status, _ = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        text = open(out_path).read()
        fields = dict(kv.split("=", 1) for kv in text.split() if "=" in kv)
        errtext = open(err_path).read().strip()
        if (p.returncode != 0 or "work_ns" not in fields or "spawn_wall_ns" not in fields
                or fields.get("bad", "0") != "0"):
            self.errors.append("run %d: exit %d, %s %s" % (index, p.returncode,
                                                          " ".join(text.split()), errtext[:300]))
            return None
        if errtext:
            self.errors.append("run %d stderr: %s" % (index, errtext.splitlines()[0][:200]))
        stats = None
        if self.rules and self.rules != "fiu":
            f = os.path.join(stats_dir, "stats.%s.json" % fields["spawn_pid"])
            try:
                with open(f) as fh:
                    stats = json.load(fh)
            except (OSError, ValueError) as e:
                # Without its statistics we cannot tell the library ran at
                # all (a preload that fails is only a warning): drop the run.
                self.errors.append("run %d dropped, no stats file: %s" % (index, e))
                return None
        r = {"work": int(fields["work_ns"]), "wall": int(fields["spawn_wall_ns"]),
             "rss": int(fields["spawn_maxrss_kb"]) * 1024, "cpu": int(fields["spawn_cpu_ns"]),
             "pages": int(fields.get("pages", "0")), "stats": stats, "i": index}
        self.runs.append(r)
        return r

    def slug(self):
        return "".join(c if c.isalnum() else "_" for c in self.name)

    def median(self, key):
        vals = [r[key] for r in self.runs]
        return statistics.median(vals) if vals else None

    def rule_stat(self, key):
        """Median over runs of a figure of the (single) rule in the stats."""
        vals = []
        for r in self.runs:
            if r["stats"] and r["stats"].get("rules"):
                vals.append(r["stats"]["rules"][0].get(key, 0))
        return statistics.median(vals) if vals else None


def run_interleaved(title, cases, before_round=None):
    """RUNS rounds; each round runs every case once, in alternating order."""
    note("%s: %d cases x %d runs" % (title, len(cases), RUNS))
    for i in range(RUNS):
        if before_round:
            before_round()
        order = cases if i % 2 == 0 else list(reversed(cases))
        for c in order:
            t = time.monotonic()
            r = c.run(i)
            note("  run %d %-34s %s" % (i + 1, c.name,
                                         "FAILED" if r is None else
                                         "work %.3fs process %.3fs cpu %.3fs rss %.0f MiB" % (
                                             r["work"] / 1e9, r["wall"] / 1e9, r["cpu"] / 1e9,
                                             r["rss"] / 2**20)))


# ---- formatting -----------------------------------------------------------

def fmt_time(ns):
    if ns is None:
        return "n/a"
    s = ns / 1e9
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.1f ms" % (s * 1e3)
    return "%.1f us" % (s * 1e6)


def fmt_rss(b):
    return "n/a" if b is None else "%.1f MiB" % (b / 2**20)


FMT = {"work": fmt_time, "wall": fmt_time, "cpu": fmt_time, "rss": fmt_rss}
LABEL = {"work": "time (in program)", "wall": "time (whole process)",
         "cpu": "CPU time (user+sys, all threads)", "rss": "peak RSS"}


def paired_ratios(value, base, key):
    b = {r["i"]: r[key] for r in base.runs}
    return [r[key] / b[r["i"]] for r in value.runs if b.get(r["i"])]


GOALS = []  # (goal, ratio or None, maximum, basis, met or None, note)


def na_goal(name, goal, why):
    GOALS.append((name, None, goal, "", None, why))


def row(label, base, value, key, goal=None, applicable=True, goal_name=None):
    """One table row: `goal` is a maximum ratio (None: no goal); with
    `goal_name` the row is also one of the goals of the summary."""
    goal_s = "≤ %gx" % goal if goal is not None else "—"
    name = "%s: %s" % (label, LABEL[key])
    if not applicable:
        if goal_name:
            na_goal(goal_name, goal, "not applicable")
        return "| %s | n/a | n/a | n/a | %s | n/a |" % (name, goal_s)
    b, v = base.median(key), value.median(key)
    if b is None or v is None or not b:
        if goal_name:
            GOALS.append((goal_name, None, goal, base.name, False, "a run failed"))
        return "| %s | %s | %s | failed | %s | NO |" % (name, FMT[key](b), FMT[key](v), goal_s)
    ratio = v / b
    pr = paired_ratios(value, base, key)
    spread = " (%.2f–%.2f)" % (min(pr), max(pr)) if len(pr) > 1 else ""
    ok = "—" if goal is None else ("yes" if ratio <= goal else "**NO**")
    if goal_name:
        GOALS.append((goal_name, ratio, goal, "%s, %s" % (base.name, LABEL[key]), ratio <= goal,
                      "%s → %s" % (FMT[key](b), FMT[key](v))))
    return "| %s | %s | %s | %.2fx%s | %s | %s |" % (name, FMT[key](b), FMT[key](v), ratio,
                                                   spread, goal_s, ok)


def table_head():
    say("| case | baseline | value | ratio | goal | ok? |")
    say("|---|---|---|---|---|---|")


def errors_of(cases):
    n = len(OUT)
    for c in cases:
        seen = set()
        for e in c.errors:
            key = e.split(":", 1)[-1]
            if key in seen:
                continue
            seen.add(key)
            say("- `%s`: %s" % (c.name, e.replace("|", "\\|").replace("\n", " ")))
    if len(OUT) > n:
        say()


# ---- set-up ---------------------------------------------------------------

def machine_lines():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 2**20)
    distro = ""
    try:
        with open("/etc/os-release") as f:
            d = dict(l.rstrip().split("=", 1) for l in f if "=" in l)
            distro = d.get("PRETTY_NAME", "").strip('"')
    except OSError:
        pass
    thp = machine.thp()
    kind, told = machine.kind()
    try:
        rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = "?"
    u = os.uname()
    return [
        "- machine: **%s** (%s); THP `%s`" % (kind, told, thp),
        "- nproc: %d" % len(os.sched_getaffinity(0)),
        "- model name: %s" % model,
        "- kernel: %s %s %s (%s)" % (u.sysname, u.release, u.machine, u.version),
        "- memory: %s; %s; THP: %s" % (mem, distro, thp),
        "- free pages reported to the host (virtio balloon): %s; before every run bench/spawn "
        "writes to and frees %d MiB, so that no case pays for memory the host took back"
        % ("yes" if machine.free_page_reporting() else "no", WARM_MIB),
        "- library: %s (git %s, sha256 %s)" % (os.path.relpath(LIB, ROOT), rev, lib_digest()),
        "- runs per case: %d (BENCH_RUNS); size %d MiB (BENCH_MIB); tables: %s; "
        "load average at start: %s" % (RUNS, MIB, ",".join(sorted(ONLY)),
                                       " ".join(open("/proc/loadavg").read().split()[:3])),
    ]


def prepare_data():
    """Create the test file once (later runs reuse it)."""
    os.makedirs(DATA_DIR, exist_ok=True)
    ok = False
    try:
        if os.path.getsize(DATA) == MIB << 20:
            with open(DATA, "rb") as f:  # the last page starts with its index
                f.seek((MIB << 20) - 4096)
                ok = int.from_bytes(f.read(8), "little") == (MIB << 20) // 4096 - 1
    except OSError:
        pass
    if not ok:
        note("creating %s" % DATA)
        subprocess.run([os.path.join(BIN, "file_touch"), "create", DATA, str(MIB)], check=True)


def warm_cache():
    """Put the file in the page cache the same way before every round: drop
    it, then read it in order.  How the kernel's own mmap performs depends
    on the folios the cache holds (a file read in order gets large folios,
    which the kernel maps whole, with PMD entries); the file may also have
    been evicted since the last round by the rest of the machine."""
    with open(DATA, "rb", buffering=0) as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        buf = bytearray(16 << 20)
        while f.readinto(buf):
            pass


def probe_malloc():
    """Does a `malloc` rule take a large malloc block yet?"""
    c = Case("probe malloc rule", [os.path.join(BIN, "zero_touch"), "malloc", "seq", "16"],
             "malloc")
    r = c.run(0)
    if r and r["stats"] and r["stats"].get("rules"):
        rule = r["stats"]["rules"][0]
        return rule.get("regions", 0) > 0 and rule.get("faults", 0) > 0, c
    return False, c


def calibrate_malloc():
    """Operations per thread for about MALLOC_TARGET_S native: scale twice
    (the start-up, first touch of the heap, weighs on short runs)."""
    if os.environ.get("BENCH_MALLOC_OPS"):
        return int(os.environ["BENCH_MALLOC_OPS"])
    ops = 400000
    for i in range(2):
        r = Case("calibrate", [os.path.join(BIN, "malloc_churn"), str(ops), "2"]).run(i)
        if not r:
            break
        ops = max(10000, int(ops * MALLOC_TARGET_S * 1e9 / r["work"]) // 10000 * 10000)
    note("malloc_churn: %d operations per thread" % ops)
    return ops


# ---- the tables -----------------------------------------------------------


def zero_cases(malloc_ok, tag=""):
    """The zero-fill cases of one THP setting (tag: a suffix of the names)."""
    zt = os.path.join(BIN, "zero_touch")
    uf = os.path.join(BIN, "uffd_floor")
    m = str(MIB)
    sparse = [m, PCT, SEED]
    c = {
        "rnd_n": Case("zero sparse native" + tag, [zt, "mmap", "rand"] + sparse),
        "rnd_l": Case("zero sparse lazyfault" + tag, [zt, "mmap", "rand"] + sparse, "zero"),
        # The floors: the smallest handler that does the work, no library
        # (bench/uffd_floor.c).
        "floor": Case("zero sparse floor helper" + tag, [uf] + sparse),
        "floor_sig": Case("zero sparse floor in-thread COPY" + tag, [uf, "signal"] + sparse),
        "floor_sigz": Case("zero sparse floor in-thread ZEROPAGE" + tag,
                           [uf, "signal-zeropage"] + sparse),
    }
    if not tag:
        c["seq_n"] = Case("zero seq native", [zt, "mmap", "seq", m])
        c["seq_l"] = Case("zero seq lazyfault", [zt, "mmap", "seq", m], "zero")
        c["floor_move"] = Case("zero seq floor MOVE 2 MiB", [uf, "move", m])
        c["floor_1cpu"] = Case("zero sparse floor helper one cpu", [uf] + sparse + ["same-cpu"])
        # The library on one CPU too: there a fault costs a steady ~10 us,
        # where a cross-CPU wake-up on a virtual machine swings several-fold
        # from run to run and drowns what the library adds.
        c["rnd_l1"] = Case("zero sparse lazyfault one cpu", [zt, "mmap", "rand"] + sparse, "zero",
                           one_cpu=True)
    c["rnd_s"] = Case("zero sparse lazyfault serve=signal" + tag,
                      [zt, "mmap", "rand"] + sparse, "zero_signal")
    c["mrnd_s"] = Case("zero sparse malloc lazyfault serve=signal" + tag,
                       [zt, "malloc", "rand"] + sparse, "malloc_signal")
    if malloc_ok:
        c["mrnd_n"] = Case("zero sparse malloc native" + tag, [zt, "malloc", "rand"] + sparse)
        c["mrnd_l"] = Case("zero sparse malloc lazyfault" + tag, [zt, "malloc", "rand"] + sparse,
                           "malloc")
        if not tag:
            c["mseq_n"] = Case("zero seq malloc native", [zt, "malloc", "seq", m])
            c["mseq_l"] = Case("zero seq malloc lazyfault", [zt, "malloc", "seq", m], "malloc")
    return c


def sparse_rows(c, thp_name):
    t = " (THP %s)" % thp_name
    say(row("anon sparse 1%%, vs native%s" % t, c["rnd_n"], c["rnd_l"], "work"))
    say(row("anon sparse 1%%, vs the floor helper%s" % t, c["floor"], c["rnd_l"], "work", 1.15,
            goal_name="anon zero sparse, helper, vs floor" + t))
    say(row("anon sparse 1%%%s" % t, c["rnd_n"], c["rnd_l"], "rss", 2.0,
            goal_name="peak RSS, anon sparse" + t))
    say(row("floor helper, vs native%s" % t, c["rnd_n"], c["floor"], "work"))
    say(row("floor in-thread COPY, vs the floor helper%s" % t, c["floor"], c["floor_sig"],
            "work"))
    say(row("floor in-thread ZEROPAGE, vs the floor helper%s" % t, c["floor"], c["floor_sigz"],
            "work"))
    if "mrnd_l" in c:
        say(row("malloc sparse 1%%, vs native%s" % t, c["mrnd_n"], c["mrnd_l"], "work"))
        say(row("malloc sparse 1%%, vs the floor helper%s" % t, c["floor"], c["mrnd_l"], "work",
                1.15, goal_name="malloc zero sparse, helper, vs floor" + t))
        say(row("malloc sparse 1%%%s" % t, c["mrnd_n"], c["mrnd_l"], "rss", 2.0,
                goal_name="peak RSS, malloc sparse" + t))
    say(row("anon sparse 1%%, serve = signal, vs the floor helper%s" % t, c["floor"],
            c["rnd_s"], "work", 0.8, goal_name="anon zero sparse, serve = signal" + t))
    say(row("malloc sparse 1%%, serve = signal, vs the floor helper%s" % t, c["floor"],
            c["mrnd_s"], "work", 0.8, goal_name="malloc zero sparse, serve = signal" + t))


def zero_fill(malloc_ok):
    c = zero_cases(malloc_ok)
    run_interleaved("zero-fill", list(c.values()))
    say("## Zero-fill: first touch (one write per page) of %d MiB of anonymous memory" % MIB)
    say()
    say("Baseline: the same program without the library. `lazyfault`: rule `[big] match = anon, "
        "min_size = 1M, action = zero`; malloc rows: `[buf] match = malloc, min_size = 1M` on "
        "one malloc(%d MiB) block. Sparse: %s%% of the pages, distinct, random order, fixed seed. "
        "Floors (bench/uffd_floor.c, no library): the smallest handler that does the case's "
        "work, on the same touches: a helper thread that reads a message and COPYs one page "
        "of zeros with its wake-up (`floor helper`; `one CPU`: program and helper pinned to one "
        "CPU); the faulting thread's own SIGBUS handler (UFFD_FEATURE_SIGBUS) doing UFFDIO_COPY "
        "or UFFDIO_ZEROPAGE (`in-thread`); for the sequential case a helper that zeroes a 2 MiB "
        "huge page in its own scratch and UFFDIO_MOVEs it in (`MOVE 2 MiB`)."
        % (MIB, PCT))
    say()
    table_head()
    say(row("anon seq, vs native 4 KiB first touch", c["seq_n"], c["seq_l"], "work", 0.4,
            goal_name="anon zero seq, vs kernel"))
    say(row("anon seq", c["seq_n"], c["seq_l"], "wall"))
    say(row("anon seq", c["seq_n"], c["seq_l"], "rss", 1.05, goal_name="peak RSS, anon seq"))
    say(row("floor MOVE 2 MiB, vs native", c["seq_n"], c["floor_move"], "work"))
    say(row("anon seq, vs the MOVE floor", c["floor_move"], c["seq_l"], "work"))
    if malloc_ok:
        say(row("malloc seq, vs native 4 KiB first touch", c["mseq_n"], c["mseq_l"], "work", 0.4,
                goal_name="malloc zero seq, vs kernel"))
        say(row("malloc seq", c["mseq_n"], c["mseq_l"], "rss", 1.05,
                goal_name="peak RSS, malloc seq"))
    else:
        na_goal("malloc zero seq, vs kernel", 0.4, "a malloc rule takes no block")
    sparse_rows(c, machine.thp())
    say(row("floor helper one CPU, vs the floor helper", c["floor"], c["floor_1cpu"], "work"))
    say(row("anon sparse 1%, helper, both on one CPU, vs the floor helper on one CPU",
            c["floor_1cpu"], c["rnd_l1"], "work", 1.15,
            goal_name="anon zero sparse, helper, vs floor, both on one CPU (THP %s)" % machine.thp()))
    say()
    errors_of(list(c.values()))
    pairs = {"zero seq": (c["seq_n"], c["seq_l"]), "zero sparse 1%": (c["rnd_n"], c["rnd_l"])}
    if malloc_ok:
        pairs.update({"malloc zero seq": (c["mseq_n"], c["mseq_l"]),
                      "malloc zero sparse 1%": (c["mrnd_n"], c["mrnd_l"])})
    return pairs


def zero_fill_thp_always(malloc_ok):
    """The sparse cases again with THP `always`, where root may set it; the
    setting is put back however the bench ends."""
    if machine.thp() == "always":
        say("THP is `always` already: the sparse rows above are the `always` rows.")
        say()
        return
    if not machine.thp_settable():
        na_goal("anon and malloc zero sparse, helper, vs floor (THP always)", 1.15,
                "the THP setting cannot be changed here (not root, or read-only)")
        say("THP `always` rows: n/a (not root, or the setting is read-only).")
        say()
        return
    c = zero_cases(malloc_ok, " THP always")
    with machine.thp_set("always"):
        run_interleaved("zero-fill sparse, THP always", list(c.values()))
    say("## Zero-fill sparse with THP `always` (set for these runs, then put back)")
    say()
    say("The same sparse cases and floors with `transparent_hugepage/enabled = always`: "
        "without MADV_NOHUGEPAGE on its ranges a handler's every write fault would first make "
        "the kernel allocate and zero a 2 MiB page (the floors give their range that advice, "
        "as the library does).")
    say()
    table_head()
    sparse_rows(c, "always")
    say()
    errors_of(list(c.values()))


def lazy_loading():
    prepare_data()
    ft = os.path.join(BIN, "file_touch")
    cases = {}
    for mode in ("seq", "rand"):
        extra = [PCT, SEED] if mode == "rand" else []
        cases["mmap " + mode] = Case("file %s kernel mmap" % mode, [ft, "mmap", mode, DATA] + extra)
        cases["read " + mode] = Case("file %s read-all" % mode, [ft, "read", mode, DATA] + extra)
        cases["lf " + mode] = Case("file %s lazyfault" % mode, [ft, "mmap", mode, DATA] + extra,
                                   "load")
    cases["lf seq served"] = Case("file seq lazyfault handoff=no", [ft, "mmap", "seq", DATA],
                                  "load_served")
    # The floor: a helper that preads the faulting page and COPYs it.
    cases["floor rand"] = Case("file random floor pread+COPY",
                               [os.path.join(BIN, "uffd_floor"), "load", DATA, PCT, SEED])
    # In-thread service: the library's serve = signal, and its floor (the
    # faulting thread's own SIGBUS handler doing the pread and the COPY).
    cases["lf rand signal"] = Case("file random lazyfault serve=signal",
                                   [ft, "mmap", "rand", DATA, PCT, SEED], "load_signal")
    cases["floor rand signal"] = Case("file random floor in-thread pread+COPY",
                                      [os.path.join(BIN, "uffd_floor"), "signal-load", DATA, PCT,
                                       SEED])
    run_interleaved("lazy loading", list(cases.values()), warm_cache)
    say("## Lazy loading: a %d MiB file mapped MAP_PRIVATE, PROT_READ" % MIB)
    say()
    say("File in the page cache (before each round: dropped with posix_fadvise, then read in "
        "order with read(), so that every round finds the same large folios). `lazyfault`: rule `[data] match = file, "
        "path = %s/*, action = load` (default readahead, default `handoff = yes`: once a "
        "read in order has grown to 256 KiB windows, the file itself is mapped over the rest of "
        "the mapping and the kernel serves it; the `handoff = no` rows serve and copy every "
        "page). Baselines: `read()` of the whole file "
        "into an anonymous buffer, then the same touches (read-all); the kernel's own `mmap` of "
        "the file (kernel mmap). Time in program: from open() to the last touch; each touch "
        "reads a page's first word (checked after the timed part)." % DATA_DIR)
    say()
    table_head()
    c = cases
    say(row("seq vs kernel mmap", c["mmap seq"], c["lf seq"], "work", 1.15,
            goal_name="load seq (handoff), vs kernel mmap"))
    say(row("seq vs kernel mmap", c["mmap seq"], c["lf seq"], "wall"))
    say(row("seq vs kernel mmap", c["mmap seq"], c["lf seq"], "rss", 1.05,
            goal_name="peak RSS, load seq"))
    say(row("seq, handoff = no, vs kernel mmap", c["mmap seq"], c["lf seq served"], "work"))
    say(row("seq, handoff = no, vs kernel mmap", c["mmap seq"], c["lf seq served"], "rss"))
    say(row("seq vs read-all", c["read seq"], c["lf seq"], "work", 0.5))
    say(row("seq vs read-all", c["read seq"], c["lf seq"], "wall", 0.5))
    say(row("seq vs read-all", c["read seq"], c["lf seq"], "rss"))
    say(row("random 1% vs read-all", c["read rand"], c["lf rand"], "work", 0.06,
            goal_name="load random 1%, vs read() of the whole file"))
    say(row("random 1% vs read-all", c["read rand"], c["lf rand"], "wall"))
    say(row("random 1% vs read-all", c["read rand"], c["lf rand"], "rss"))
    say(row("random 1%, floor pread+COPY, vs read-all", c["read rand"], c["floor rand"], "work"))
    say(row("random 1%, vs the floor pread+COPY", c["floor rand"], c["lf rand"], "work"))
    say(row("random 1%, vs the floor pread+COPY", c["floor rand"], c["lf rand"], "rss", 2.0,
            goal_name="peak RSS, load random 1%, vs the floor"))
    say(row("random 1%, serve = signal, vs read-all", c["read rand"], c["lf rand signal"],
            "work", 0.06, goal_name="load random 1%, serve = signal, vs read() of the whole file"))
    say(row("random 1%, floor in-thread pread+COPY, vs read-all", c["read rand"],
            c["floor rand signal"], "work"))
    say(row("random 1%, serve = signal, vs the in-thread floor", c["floor rand signal"],
            c["lf rand signal"], "work"))
    say(row("random 1% vs kernel mmap", c["mmap rand"], c["lf rand"], "work"))
    say(row("random 1% vs kernel mmap", c["mmap rand"], c["lf rand"], "wall"))
    say(row("random 1% vs kernel mmap", c["mmap rand"], c["lf rand"], "rss"))
    say()
    errors_of(list(cases.values()))
    return {"load seq": (c["mmap seq"], c["lf seq"]),
            "load seq, handoff = no": (c["mmap seq"], c["lf seq served"]),
            "load random 1%": (c["mmap rand"], c["lf rand"])}


def lazy_loading_shmem():
    """The same sequential scan of a copy of the file on tmpfs (/dev/shm)."""
    if not os.access("/dev/shm", os.W_OK):
        note("no writable /dev/shm: tmpfs table skipped")
        return {}
    os.makedirs(SHM_DIR, exist_ok=True)
    shm = os.path.join(SHM_DIR, os.path.basename(DATA))
    if not os.path.exists(shm) or os.path.getsize(shm) != os.path.getsize(DATA):
        shutil.copyfile(DATA, shm)
    ft = os.path.join(BIN, "file_touch")
    cases = {"mmap": Case("tmpfs seq kernel mmap", [ft, "mmap", "seq", shm]),
             "lf": Case("tmpfs seq lazyfault", [ft, "mmap", "seq", shm], "load_shm")}
    try:
        run_interleaved("lazy loading, tmpfs", list(cases.values()))
    finally:
        shutil.rmtree(SHM_DIR, ignore_errors=True)  # give the memory back
    say("## Lazy loading from tmpfs: the same file copied to %s, read in order" % SHM_DIR)
    say()
    say("`lazyfault`: rule `[shm] match = file, path = %s/*, action = load`. A private mapping "
        "of a shmem file is served with UFFDIO_CONTINUE: the page-cache pages are mapped, not "
        "copied; with the default `handoff = yes` the read in order is handed to the kernel "
        "at its third fault (the region is unregistered)." % SHM_DIR)
    say()
    table_head()
    for key in ("work", "wall", "rss"):
        say(row("tmpfs seq vs kernel mmap", cases["mmap"], cases["lf"], key,
                1.5 if key != "rss" else None))
    say()
    errors_of(list(cases.values()))
    return {"load seq, tmpfs": (cases["mmap"], cases["lf"])}


def passthrough(malloc_ok):
    ops = calibrate_malloc()
    mc = [os.path.join(BIN, "malloc_churn"), str(ops), "2"]
    native = Case("malloc_churn native", mc)
    none = Case("malloc_churn lazyfault [none] anon", mc, "none")
    fiu = Case("malloc_churn fiu-run -x", mc, "fiu")
    cases = [native, none, fiu]
    none_m = None
    if malloc_ok:
        none_m = Case("malloc_churn lazyfault [none_malloc]", mc, "none_malloc")
        cases.append(none_m)
    mm = [os.path.join(BIN, "mmap_churn"), str(MMAP_CALLS)]
    mm_native = Case("mmap_churn native", mm)
    mm_none = Case("mmap_churn lazyfault [none] anon", mm, "none")
    mm_none_m = Case("mmap_churn lazyfault [none_malloc]", mm, "none_malloc")
    cases += [mm_native, mm_none, mm_none_m]
    run_interleaved("passthrough", cases)
    say("## Passthrough: malloc-heavy program under rules that match nothing")
    say()
    say("`malloc_churn %d 2`: 2 threads x %d malloc/calloc/realloc/free of 16 B..256 KiB "
        "(80%% ≤ 1 KiB), each block written. Rules: `[none] match = anon, min_size = 1000G`; "
        "`[none_malloc] match = malloc, min_size = 1000G`. For comparison: libfiu's `fiu-run -x` "
        "(POSIX/libc wrappers, which wrap malloc & co.) with no failure point enabled "
        "(no `-c`) and no control FIFO (`-f ''`); its whole-process time includes the start of "
        "the fiu-run shell script. CPU time: user + system of all the threads (wait4), less "
        "sensitive than wall time to the other load on the machine." % (ops, ops))
    say()
    table_head()
    keys = ("work", "wall", "cpu", "rss")
    goal = {"work": 1.02, "rss": 1.05}
    for key in keys:
        say(row("anon rule, no match", native, none, key, goal.get(key),
                goal_name=("passthrough, anon rule, malloc_churn" if key == "work" else
                           "peak RSS, passthrough anon" if key == "rss" else None)))
    for key in keys:
        if none_m:
            say(row("malloc rule, no match", native, none_m, key, goal.get(key),
                    goal_name="passthrough, malloc rule, malloc_churn" if key == "work" else None))
        else:
            say(row("malloc rule, no match", None, None, key, goal.get(key), applicable=False))
    for key in ("work", "cpu", "rss"):
        # (its peak RSS, 1.5 MiB, is mostly the library's own fixed tables:
        # no goal there)
        say(row("mmap_churn %d calls, anon rule, no match" % MMAP_CALLS, mm_native, mm_none, key,
                goal.get(key) if key != "rss" else None, goal_name=("passthrough, anon rule, %d mm calls" % MMAP_CALLS
                                          if key == "work" else None)))
    for key in ("work", "cpu"):
        say(row("mmap_churn %d calls, malloc rule, no match" % MMAP_CALLS, mm_native, mm_none_m,
                key, goal.get(key), goal_name=("passthrough, malloc rule, %d mm calls"
                                               % MMAP_CALLS if key == "work" else None)))
    for key in keys:
        say(row("fiu-run -x (comparison)", native, fiu, key))
    if none_m is None:
        say()
        say("malloc rule row: n/a — the library does not take malloc blocks yet, so a "
            "`match = malloc` rule costs nothing to measure.")
    say()
    errors_of(cases)
    instructions()


def callgrind_count(rules, argv=None):
    """Instructions executed by a program (callgrind, malloc_churn unless
    argv): the same for the same binary and input whatever else the machine
    does."""
    env = clean_env()
    if rules:
        env["LD_PRELOAD"] = LIB
        env["LAZYFAULT_RULES"] = rules_file(rules)
    argv = argv or [os.path.join(BIN, "malloc_churn"), "100000", "2"]
    out = os.path.join(WORK, "callgrind.%s.%s.out" % (rules or "native",
                                                      os.path.basename(argv[0])))
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv,
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    return int(m.group(1)) if m else None


def instructions():
    """The passthrough cost without the machine's noise: instruction counts."""
    if not shutil.which("valgrind"):
        note("no valgrind: instruction counts skipped")
        return
    say("Instructions executed (callgrind, user space only; deterministic, so one run each; "
        "the library's own start-up included):")
    say()
    say("| case | native | lazyfault | ratio | goal | ok? |")
    say("|---|---|---|---|---|---|")
    mm = [os.path.join(BIN, "mmap_churn"), str(MMAP_CALLS)]
    for prog, argv in (("malloc_churn 100000 2", None), ("mmap_churn %d" % MMAP_CALLS, mm)):
        native = callgrind_count(None, argv)
        for label, rules in (("anon rule, no match", "none"),
                             ("malloc rule, no match", "none_malloc")):
            n = callgrind_count(rules, argv)
            if native and n and argv:
                # Its native user-space instructions are few (the work is
                # the kernel's): what counts is what each call adds.
                say("| `%s`, %s: instructions | %.2f M | %.2f M | +%.0f a call | — | — |"
                    % (prog, label, native / 1e6, n / 1e6, (n - native) / MMAP_CALLS))
            elif native and n:
                ratio = n / native
                GOALS.append(("passthrough instructions, %s, %s" % (label, prog), ratio, 1.02,
                              "native instructions", ratio <= 1.02,
                              "%.2f M → %.2f M" % (native / 1e6, n / 1e6)))
                say("| `%s`, %s: instructions | %.2f M | %.2f M | %.3fx | ≤ 1.02x | %s |"
                    % (prog, label, native / 1e6, n / 1e6, ratio,
                       "yes" if ratio <= 1.02 else "**NO**"))
    say()


def latency(pairs):
    say("## Fault service latency (from the statistics files of the runs above)")
    say()
    say("fault_ns_p50 / fault_ns_p99 of the rule (time from reading a fault message to the end "
        "of its fill), median over the runs. A fault serves a window of pages, so the baseline "
        "is what the kernel spent, in the baseline run of the same case, on the touches that "
        "one fault covers on average: its in-program time per touched page x (pages touched / "
        "faults). Native first touch for zero-fill, kernel mmap for loading. A random write "
        "served by its page alone is counted before the COPY that installs it and wakes its "
        "thread: its time ends there. There is no goal; the second table gives the counts "
        "behind it.")
    say()
    table_head()
    for name, (base, lf) in pairs.items():
        per_fault = None
        faults = lf.rule_stat("faults")
        if base.runs and lf.runs and faults:
            per_page = statistics.median(r["work"] / max(1, r["pages"]) for r in base.runs)
            touched = statistics.median(r["pages"] for r in lf.runs)
            per_fault = per_page * touched / faults
        for pct in ("p50", "p99"):
            v = lf.rule_stat("fault_ns_" + pct)
            ratio = "%.2fx" % (v / per_fault) if v is not None and per_fault else "n/a"
            say("| %s: fault %s | %s | %s | %s | — | — |"
                % (name, pct, fmt_time(per_fault), fmt_time(v), ratio))
    say()
    say("| case | pages touched | faults | pages installed | pages per fault | bytes read | "
        "handed to the kernel | lazyfault time per touched page | CPU time, baseline → lazyfault |")
    say("|---|---|---|---|---|---|---|---|---|")
    for name, (base, lf) in pairs.items():
        if not lf.runs:
            say("| %s | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a |" % name)
            continue
        faults = lf.rule_stat("faults") or 0
        installed = (lf.rule_stat("pages_zeroed") or 0) + (lf.rule_stat("pages_loaded") or 0)
        touched = statistics.median(r["pages"] for r in lf.runs)
        per_touch = statistics.median(r["work"] / max(1, r["pages"]) for r in lf.runs)
        say("| %s | %d | %d | %d | %.1f | %.1f MiB | %.1f MiB | %s | %s → %s |"
            % (name, touched, faults, installed, installed / faults if faults else 0,
               (lf.rule_stat("bytes_read") or 0) / 2**20,
               (lf.rule_stat("bytes_handed_off") or 0) / 2**20, fmt_time(per_touch),
               fmt_time(base.median("cpu")), fmt_time(lf.median("cpu"))))
    say()


def trace_overhead():
    """The fault trace's cost on the sparse case, where faults are densest
    in time: the same runs with a trace and without, interleaved."""
    zt = os.path.join(BIN, "zero_touch")
    argv = [zt, "mmap", "rand", str(MIB), PCT, SEED]
    off = Case("zero sparse lazyfault, no trace", argv, "zero")
    on = Case("zero sparse lazyfault, trace on", argv, "zero_trace")
    run_interleaved("fault trace", [off, on])
    for r in on.runs:  # each run's trace must hold its faults
        if not (r["stats"] or {}).get("trace_records", 0) > r["stats"]["rules"][0]["faults"]:
            on.errors.append("run %d: the trace holds fewer records than faults" % r["i"])
    say("## The fault trace's cost: anon sparse %s%%, `trace` on against off" % PCT)
    say()
    say("The zero-fill sparse case above (rule `[big] match = anon, min_size = 1M, action = zero`), "
        "with `trace = PATH` in `[global]` against without. Goal: at most 5% slower. CPU time: user "
        "+ system of all the threads, helpers included (wait4).")
    say()
    table_head()
    for key, goal in (("work", 1.05), ("wall", 1.05), ("cpu", None), ("rss", None)):
        say(row("anon sparse 1%, trace on vs off", off, on, key, goal))
    say()
    errors_of([off, on])


def goals_summary():
    """Every goal of the issue's table, as a ratio to the kernel or to the
    floor measured in the same run: met, missed, or not measurable here."""
    say("## Goals")
    say()
    kind, _ = machine.kind()
    say("Machine: %s, THP `%s`. Each ratio is of medians over the runs of this invocation; "
        "the baseline is named." % (kind, machine.thp()))
    say()
    say("| goal | baseline | ratio | goal | met? | figures |")
    say("|---|---|---|---|---|---|")
    for name, ratio, goal, basis, met, what in GOALS:
        say("| %s | %s | %s | ≤ %gx | %s | %s |" % (
            name, basis or "—", "%.2fx" % ratio if ratio is not None else "n/a", goal,
            "n/a" if met is None else ("met" if met else "**missed**"), what))
    met = sum(1 for g in GOALS if g[4])
    missed = sum(1 for g in GOALS if g[4] is False)
    say()
    say("%d goals met, %d missed, %d not measured." % (met, missed, len(GOALS) - met - missed))
    say()


def lib_digest():
    try:
        with open(LIB, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:12]
    except OSError:
        return "missing"


def main():
    for prog in ("spawn", "zero_touch", "file_touch", "malloc_churn", "uffd_floor", "mmap_churn"):
        if not os.access(os.path.join(BIN, prog), os.X_OK):
            sys.exit("bench: %s missing: run `make bench`" % os.path.join(BIN, prog))
    if not os.path.exists(LIB):
        sys.exit("bench: %s missing: run `make`" % LIB)
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    t0 = time.monotonic()
    say("# lazyfault benchmarks")
    say()
    for line in machine_lines():
        say(line)
    say()
    digest = lib_digest()
    malloc_ok, probe = probe_malloc()
    note("malloc rule works: %s" % malloc_ok)
    pairs = {}
    if "zero" in ONLY:
        pairs.update(zero_fill(malloc_ok))
    if "thp" in ONLY:
        zero_fill_thp_always(malloc_ok)
    if "load" in ONLY:
        pairs.update(lazy_loading())
        pairs.update(lazy_loading_shmem())
    if "passthrough" in ONLY:
        passthrough(malloc_ok)
    if "trace" in ONLY:
        trace_overhead()
    if pairs:
        latency(pairs)
    goals_summary()
    if lib_digest() != digest:
        say("**Warning: %s changed during the bench (rebuilt?): runs may mix two versions.**"
            % os.path.relpath(LIB, ROOT))
        say()
    say("Total bench time %.0f s; load average at the end: %s." % (
        time.monotonic() - t0, " ".join(open("/proc/loadavg").read().split()[:3])))
    with open(RESULTS, "w") as f:
        f.write("\n".join(OUT) + "\n")
    note("tables written to %s" % os.path.relpath(RESULTS, ROOT))


if __name__ == "__main__":
    main()
