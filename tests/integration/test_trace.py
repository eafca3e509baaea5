"""The fault trace (`trace = PATH`, LAZYFAULT_TRACE, `lazyfault run -t`) and
`lazyfault report`: a C program whose faults are known (count, order, pages,
kinds, threads) is read back exactly; the trace survives the process's death
by the SIGBUS of a poisoned page and by SIGKILL; a trace that is full drops
records and says how many, in the trace and in the statistics; children of
fork get traces of their own; the Perfetto file is JSON whose events are the
trace's; the HTML page, rendered by Debian's chromium, draws something and
its own in-browser checks pass, with the number of faults of the traces.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import unittest
import zlib

from util import BUILD, LFTestCase, MiB, ROOT, prog, run_native

COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or BUILD / "lazyfault")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGE = 4096

KNOWN_RULES = """\
[global]
trace = {d}/trace.%p

[anon]
match = anon
min_size = 1M
max_size = 1M
readahead = 4K

[file]
match = file
path = {d}/data.bin
readahead = 4K
"""

POISON_RULES = """\
[global]
trace = {d}/trace.%p

[poison]
match = anon
min_size = 2M
max_size = 2M
action = poison
pages = 5

[big]
match = anon
min_size = 1M
"""

# trace_known's touches: (region, page, write, thread: 0 main, 1 the other, fill).
KNOWN_FAULTS = [(1, 7, True, 0, "zero"), (1, 3, False, 0, "zero"), (1, 200, True, 0, "zero"),
                (1, 50, False, 0, "zero"), (1, 120, True, 0, "zero"),
                (1, 90, True, 1, "zero"), (1, 30, True, 1, "zero"), (1, 250, False, 1, "zero"),
                (2, 2, False, 0, "copy"), (2, 9, False, 0, "copy"), (1, 7, True, 0, "zero")]


def report(*args, timeout=120):
    return subprocess.run([COMMAND, "report", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def dump(*paths):
    """The traces as --dump gives them: a list of (head, records) per trace."""
    r = report("--dump", *paths)
    if r.returncode != 0:
        raise AssertionError(f"lazyfault report --dump failed ({r.returncode}): {r.stderr}")
    out = []
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        if rec["type"] == "trace":
            out.append((rec, []))
        else:
            out[-1][1].append(rec)
    return out


def of_type(recs, t):
    return [r for r in recs if r["type"] == t]


def png_colours(path):
    """The distinct colours of a PNG (8-bit RGB or RGBA, as chromium writes
    them), and its size: decoded here with zlib, filters undone."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"PNG depth {depth} colour type {ctype}"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp * 3):  # every third pixel is plenty
            colours.add(bytes(line[x:x + 3]))
        prev = line
    return colours, width, height


class TraceTestCase(LFTestCase):
    def known_run(self, *extra, **kw):
        d = self.tmpdir()
        l = self.lib([prog("trace_known"), d / "data.bin", *extra], KNOWN_RULES.format(d=d),
                     tmp=d, **kw)
        return d, l

    def tids(self, l):
        m = re.search(r"^tids (\d+) (\d+)$", l.stdout, re.M)
        self.assertIsNotNone(m, l.describe())
        return int(m.group(1)), int(m.group(2))

    def trace_of(self, d, pid):
        path = d / f"trace.{pid}"
        self.assertTrue(path.is_file(), f"no trace {path}: {sorted(os.listdir(d))}")
        (head, recs), = dump(path)
        return path, head, recs


class KnownFaultsTest(TraceTestCase):
    def test_known_faults_read_back_exactly(self):
        d, l = self.known_run()
        self.assertEqual(l.rc, 0, l.describe())
        self.assertAllChecksPassed(l, "trace_known")
        anon = self.assertServed(l, "anon", zeroed=True)
        filed = self.assertServed(l, "file", loaded=True)
        tids = self.tids(l)
        path, head, recs = self.trace_of(d, l.pid)
        where = "\n".join(map(json.dumps, [head] + recs))
        self.assertEqual((head["pid"], head["version"], head["ended"], head["end_signal"],
                          head["dropped"], head["torn"], head["forked"]),
                         (l.pid, 1, True, 0, 0, 0, False), where)
        self.assertEqual(head["exe"], prog("trace_known"))
        self.assertEqual(head["argv"], f"{prog('trace_known')} {d / 'data.bin'}")
        self.assertEqual([r["name"] for r in of_type(recs, "rule")], ["anon", "file"])
        # The statistics agree with the trace.
        self.assertEqual(l.main_stats["trace_records"], head["claimed"], where)
        self.assertEqual(l.main_stats["trace_dropped"], 0)
        self.assertEqual(anon["faults"] + filed["faults"], len(KNOWN_FAULTS))
        # The file holds the room it had: 1 MiB at first (a small unused
        # end is not given back).
        self.assertEqual(path.stat().st_size, 4096 + 64 * head["capacity"])
        self.assertEqual(path.stat().st_size, MiB)

        r1, r2 = of_type(recs, "region")
        self.assertEqual((r1["id"], r1["number"], r1["rule"], r1["match"], r1["len"], r1["file"],
                          r1["tid"]), (1, 1, "anon", "anon", MiB, None, tids[0]), r1)
        self.assertTrue(r1["site"] and r1["site"][0]["name"].startswith("make_region+"), r1)
        self.assertEqual(r1["site"][0]["object"], prog("trace_known"), r1)
        self.assertTrue(r1["site"][1]["name"].startswith("main+"), r1)
        st = os.stat(d / "data.bin")
        self.assertEqual((r2["id"], r2["rule"], r2["match"], r2["src"], r2["len"], r2["offset"],
                          r2["file"], r2["ino"], r2["dev"], r2["file_size"]),
                         (2, "file", "file", "file", 16 * PAGE, 0, str(d / "data.bin"),
                          st.st_ino, st.st_dev, 16 * PAGE), r2)
        start = {1: r1["start"], 2: r2["start"]}

        faults = of_type(recs, "fault")
        got = [(f["region"], f["page"], f["write"], tids.index(f["tid"]) if f["tid"] in tids else
                f["tid"], f["fill"]) for f in faults]
        self.assertEqual(got, KNOWN_FAULTS, where)
        for f in faults:
            self.assertEqual(f["addr"], start[f["region"]] + f["page"] * PAGE, f)
            self.assertEqual(f["window"], [f["addr"], PAGE], f)
            self.assertGreater(f["service_ns"], 0, f)
            self.assertFalse(f["stream"], f)
        self.assertEqual([f["t"] for f in faults], sorted(f["t"] for f in faults))

        # In the order of the file: ten faults, the DONTNEED of page 7, the
        # eleventh fault, then region 1 leaves in pieces (the DONTNEED cut
        # it), then region 2.
        kinds = [r["type"] for r in recs if r["type"] != "rule"]
        kinds = [k for k in kinds if k not in ("region", "written")]
        self.assertEqual(kinds[:12], ["fault"] * 10 + ["drop", "fault"], where)
        # Written pages (where the kernel tells them): page 7 as its DONTNEED
        # empties it, then those region 1 holds as it leaves.
        written = of_type(recs, "written")
        if written:
            pages = sorted(p for w in written for first, n in w["runs"] for p in range(first, first + n))
            self.assertEqual(pages, [7, 7, 30, 90, 120, 200], written)
            self.assertEqual({w["region"] for w in written}, {1}, written)
        self.assertEqual(set(kinds[12:]), {"release"}, where)
        drop, = of_type(recs, "drop")
        self.assertEqual((drop["start"], drop["end"], drop["tid"]),
                         (start[1] + 7 * PAGE, start[1] + 8 * PAGE, tids[0]))
        rel = of_type(recs, "release")
        self.assertEqual(rel[-1]["region"], 2)
        pieces = sorted((r["start"], r["end"]) for r in rel if r["region"] == 1)
        self.assertEqual(pieces[0][0], start[1])
        self.assertEqual(pieces[-1][1], start[1] + MiB)
        for a, b in zip(pieces, pieces[1:]):
            self.assertEqual(a[1], b[0], pieces)

    def test_trace_survives_sigkill(self):
        """SIGKILL after the threads' touches: no handler runs, yet every
        fault served is in the file (the page cache has it)."""
        d, l = self.known_run("kill", stats=False)
        self.assertEqual(l.rc, -signal.SIGKILL, l.describe())
        tids = self.tids(l)
        _, head, recs = self.trace_of(d, l.pid)
        self.assertFalse(head["ended"], head)
        self.assertEqual(head["torn"], 0, head)
        got = [(f["region"], f["page"], f["write"], tids.index(f["tid"]), f["fill"])
               for f in of_type(recs, "fault")]
        self.assertEqual(got, KNOWN_FAULTS[:8])

    def test_vfork_child_leaves_the_trace_alone(self):
        """A vfork child shares its parent's memory, trace mapping included:
        its _exit must not close the parent's trace."""
        d, l = self.known_run("vfork")
        self.assertAllChecksPassed(l, "trace_known")
        self.assertServed(l, "anon")
        _, head, recs = self.trace_of(d, l.pid)
        self.assertEqual((head["ended"], head["dropped"]), (True, 0), head)
        self.assertEqual(len(of_type(recs, "fault")), len(KNOWN_FAULTS))

    def test_env_overrides_global_trace(self):
        d = self.tmpdir()
        rules = KNOWN_RULES.format(d=d)
        l = self.lib([prog("trace_known"), d / "data.bin"], rules, tmp=d,
                     env={"LAZYFAULT_TRACE": str(d / "env.%p")})
        self.assertAllChecksPassed(l, "trace_known")
        self.assertServed(l, "anon")
        self.assertFalse((d / f"trace.{l.pid}").exists())
        (head, recs), = dump(d / f"env.{l.pid}")
        self.assertEqual(len(of_type(recs, "fault")), len(KNOWN_FAULTS))

    def test_trace_never_written_through_a_symlink(self):
        """A link planted where the trace goes is replaced, never followed:
        the file it points to stays as it was."""
        d = self.tmpdir()
        victim = d / "victim"
        victim.write_text("keep me\n")
        os.symlink(victim, d / "trace.link")
        l = self.lib([prog("trace_known"), d / "data.bin"], KNOWN_RULES.format(d=d).replace(
            "trace.%p", "trace.link"), tmp=d)
        self.assertAllChecksPassed(l, "trace_known")
        self.assertServed(l, "anon")
        self.assertEqual(victim.read_text(), "keep me\n")
        self.assertFalse(os.path.islink(d / "trace.link"))
        (head, recs), = dump(d / "trace.link")
        self.assertEqual(len(of_type(recs, "fault")), len(KNOWN_FAULTS))


class DeathAndDropsTest(TraceTestCase):
    def poisoned(self, **kw):
        d = self.tmpdir()
        l = self.lib([prog("exitways"), "poisoned"], POISON_RULES.format(d=d), tmp=d, **kw)
        self.assertEqual(l.rc, -signal.SIGBUS, l.describe())
        path, head, recs = self.trace_of(d, l.pid)
        where = "\n".join(map(json.dumps, [head] + recs))
        self.assertEqual((head["ended"], head["end_signal"], head["torn"]), (True, 7, 0), where)
        region, = [r for r in of_type(recs, "region") if r["rule"] == "poison"]
        poison, = of_type(recs, "poison")
        self.assertEqual((poison["rule"], poison["region"], poison["page"], poison["addr"],
                          poison["why"]),
                         ("poison", region["id"], 5, region["start"] + 5 * PAGE, None), where)
        last = of_type(recs, "fault")[-1]
        self.assertEqual((last["fill"], last["page"], last["region"], last["tid"]),
                         ("poison", 5, region["id"], poison["tid"]), where)
        sig, = of_type(recs, "signal")
        self.assertEqual((sig["signal"], sig["tid"]), (signal.SIGBUS, poison["tid"]), where)
        self.assertEqual(sig["addr"] // PAGE, poison["addr"] // PAGE, where)
        self.assertEqual(recs.index(sig), len(recs) - 1, where)
        return l, path

    def test_trace_survives_sigbus_of_poisoned_page(self):
        l, _ = self.poisoned()
        p = self.assertServed(l, "poison")
        self.assertEqual(p["pages_poisoned"], 1, p)
        self.assertServed(l, "big", zeroed=True)

    def test_trace_alone_gets_the_fatal_signal(self):
        """Without a statistics file the library still catches the fatal
        signal for the trace's sake (and the program still dies of it)."""
        self.poisoned(stats=False)

    def test_full_trace_drops_and_counts(self):
        """LAZYFAULT_TRACE_SIZE = 68K holds 1024 records: of 3000 faults,
        the rest are dropped, and the trace, the statistics and -v say how
        many."""
        d = self.tmpdir()
        rules = d / "rules.ini"
        rules.write_text("[many]\nmatch = anon\nmin_size = 2M\nreadahead = 4K\n")
        r = run_native([COMMAND, "run", "-v", "-r", rules, "-t", d / "trace.%p",
                        "-s", d / "stats.%p.json", "--", prog("trace_known"), "-", "many", "3000"],
                       tmp=d, read_stats=True, env={"LAZYFAULT_TRACE_SIZE": "68K"})
        self.assertEqual(r.rc, 0, r.describe())
        pid, = r.stats
        many = self.assertServed(r, "many", pid=pid, zeroed=True)
        self.assertEqual(many["faults"], 3000, many)
        (head, recs), = dump(d / f"trace.{pid}")
        faults = of_type(recs, "fault")
        self.assertEqual(head["capacity"], 1024)
        self.assertLessEqual(head["claimed"], 1024)
        self.assertGreater(head["dropped"], 0, head)
        # With written-page tracking, the 3000 written pages (single-page
        # runs, two to a WRITTEN record) are recorded at the end too, and
        # dropped with the rest.
        written = 1500 if many["pages_written"] else 0
        self.assertIn(many["pages_written"], (0, 3000), many)
        self.assertEqual(len(faults) + len(of_type(recs, "written")) + head["dropped"],
                         3000 + written, head)
        self.assertEqual(r.stats[pid]["trace_dropped"], head["dropped"])
        self.assertIn(f"fault trace: {head['claimed']} records, {head['dropped']} dropped (it was "
                      "full)", r.stderr)
        self.assertRegex(r.stderr, r"wall time [\d.]+ m?s; threads blocked in faults [\d.]+ [mun]?s")
        # The faults kept are the first ones, every other page.
        self.assertEqual([f["page"] for f in faults[:5]], [0, 2, 4, 6, 8])

    def test_fork_children_have_their_own_traces(self):
        d = self.tmpdir()
        l = self.lib([prog("fork")], POISON_RULES.format(d=d), tmp=d)
        self.assertEqual(l.rc, 0, l.describe())
        self.assertServed(l, "big", zeroed=True)
        pids = [l.pid] + l.child_pids()
        self.assertEqual(len(pids), 4, l.describe())
        heads = {}
        for pid in pids:
            _, head, recs = self.trace_of(d, pid)
            heads[pid] = head
            faults = of_type(recs, "fault")
            self.assertEqual(len(faults), l.rule("big", pid)["faults"], (pid, head))
            if pid != l.pid:
                self.assertTrue(head["forked"], head)
                inherited = [r for r in of_type(recs, "region") if r["inherited"]]
                self.assertTrue(inherited, recs)
        self.assertIn(heads[pids[1]]["ppid"], pids)
        self.assertFalse(heads[l.pid]["forked"])

    def test_no_percent_p_children_not_traced(self):
        d = self.tmpdir()
        rules = POISON_RULES.format(d=d).replace("trace.%p", "one.trace")
        l = self.lib([prog("fork")], rules, tmp=d, log_level="info")
        self.assertEqual(l.rc, 0, l.describe())
        self.assertServed(l, "big")
        self.assertEqual(sorted(p.name for p in d.glob("one.trace*")), ["one.trace"])
        (head, _), = dump(d / "one.trace")
        self.assertEqual(head["pid"], l.pid)
        self.assertLogLines(l, r"info: the fault trace .*one\.trace has no %p: process \d+ is "
                            r"not traced")


class ReportTest(TraceTestCase):
    def traces(self):
        """Traces of several processes: trace_known, the four processes of
        fork, a poisoned page's SIGBUS, and a file mapping handed off."""
        d = self.tmpdir()
        l = self.lib([prog("trace_known"), d / "data.bin"], KNOWN_RULES.format(d=d), tmp=d)
        self.assertServed(l, "anon")
        k = self.lib([prog("fork")], POISON_RULES.format(d=d), tmp=d)
        self.assertServed(k, "big")
        p = self.lib([prog("exitways"), "poisoned"], POISON_RULES.format(d=d), tmp=d)
        self.assertServed(p, "poison")
        h = self.lib([prog("file_handoff"), d, "threads"],
                     f"[global]\ntrace = {d}/trace.%p\n\n[files]\nmatch = file\npath = {d}/*\n"
                     "min_size = 4K\n", tmp=d)
        self.assertEqual(h.rc, 0, h.describe())
        self.assertEqual(self.assertServed(h, "files", loaded=True)["handoffs"], 1)
        paths = sorted(d.glob("trace.*"))
        self.assertEqual(len(paths), 7, paths)
        return d, paths, {"known": l.pid, "poisoned": p.pid, "handoff": h.pid}

    def test_report_errors(self):
        d = self.tmpdir()
        (d / "junk").write_bytes(b"\0" * 8192)
        os.symlink(d / "junk", d / "link")
        for args, text in ((["--dump"], "no TRACE given"), ([d / "junk"], "nothing to write"),
                           (["--dump", d / "none"], "none: No such file"),
                           (["--dump", d / "junk"], "junk: not a lazyfault fault trace"),
                           (["--dump", d / "link"], "link: is a symbolic link"),
                           (["--bogus", d / "junk"], "unknown option")):
            r = report(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(text, r.stderr, args)

    def test_perfetto_events_match_the_traces(self):
        d, paths, pids = self.traces()
        out = d / "perfetto.json"
        r = report(*paths, "--perfetto", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(out.read_text())
        events = doc["traceEvents"]
        traces = dump(*paths)
        base = min(h["start_real_ns"] for h, _ in traces)
        for head, recs in traces:
            pid = head["pid"]
            mine = [e for e in events if e["pid"] == pid]
            names = {e["name"]: e for e in mine if e["ph"] == "M" and e["name"] == "process_name"}
            self.assertIn(f"(pid {pid})", names["process_name"]["args"]["name"])
            faults = of_type(recs, "fault")
            slices = [e for e in mine if e["ph"] == "X"]
            self.assertEqual(len(slices), len(faults), pid)
            for f, e in zip(sorted(faults, key=lambda f: f["t"]), slices):
                self.assertEqual((e["tid"], e["name"], e["args"]["page"], e["args"]["region"]),
                                 (f["tid"], "fault: " + f["fill"], f["page"], f["region"]))
                self.assertAlmostEqual(e["ts"], (head["start_real_ns"] - base + f["t"]) / 1000,
                                       delta=0.002)
                self.assertAlmostEqual(e["dur"], f["service_ns"] / 1000, delta=0.002)
            threads = {e["tid"] for e in mine if e["ph"] == "M" and e["name"] == "thread_name"}
            self.assertLessEqual({f["tid"] for f in faults}, threads)
            poisons = [e for e in mine if e["ph"] == "i" and e["name"] == "poison"]
            self.assertEqual(len(poisons), len(of_type(recs, "poison")))
            handoffs = [e for e in mine if e["ph"] == "i" and e["name"] == "handoff"]
            self.assertEqual(len(handoffs), len(of_type(recs, "handoff")))
        # The known program: pages present in `anon` go 1..8, down to 7 at
        # the DONTNEED, 8 again, then to 0 as the pieces are released.
        counter = [e["args"]["pages"] for e in events
                   if e["pid"] == pids["known"] and e["ph"] == "C" and e["name"] == "pages present: anon"]
        self.assertEqual(counter, [1, 2, 3, 4, 5, 6, 7, 8, 7, 8, 7, 6, 0])
        poison, = [e for e in events if e["pid"] == pids["poisoned"] and e["name"] == "poison"]
        self.assertEqual((poison["ph"], poison["s"], poison["args"]["page"]), ("i", "t", 5))
        sig, = [e for e in events if e["pid"] == pids["poisoned"] and e["name"] == "signal SIGBUS"]
        self.assertEqual(sig["ph"], "i")
        handoff, = [e for e in events if e["pid"] == pids["handoff"] and e["name"] == "handoff"]
        self.assertEqual(handoff["args"]["bytes"], 32 * MiB)

    def chromium(self, *args, timeout=120):
        if not os.access(CHROMIUM, os.X_OK):
            raise AssertionError(f"{CHROMIUM} is missing: tests/install-deps.sh installs "
                                 "Debian's chromium")
        profile = self.tmpdir()
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                            *args], capture_output=True, text=True, timeout=timeout,
                           start_new_session=True)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        return r

    def test_report_page_in_chromium(self):
        d, paths, _ = self.traces()
        page = d / "report.html"
        r = report(*paths, "-o", page)
        self.assertEqual(r.returncode, 0, r.stderr)
        html = page.read_text()
        # Self-contained: nothing to fetch.
        self.assertNotRegex(html, r"(?i)<(link|img|iframe)\b|\bsrc\s*=|https?://")
        total = sum(len(of_type(recs, "fault")) for _, recs in dump(*paths))
        dom = self.chromium("--dump-dom", page.as_uri()).stdout
        m = re.search(r'<body data-checks="(\w+)"', dom)
        self.assertIsNotNone(m, dom[:2000])
        checks = re.search(r'<p id="checks">([^<]*)</p>', dom).group(1)
        self.assertEqual(m.group(1), "pass", checks)
        self.assertEqual(int(re.search(r'id="faults-total">(\d+)<', dom).group(1)), total)
        self.assertEqual(int(re.search(r'id="faults-counted">(\d+)<', dom).group(1)), total)
        self.assertIn(f"pass: {total} faults shown", checks)
        self.assertEqual(dom.count('<section class="proc"'), 7)
        shot = d / "shot.png"
        self.chromium(f"--screenshot={shot}", "--window-size=1400,1800", page.as_uri())
        colours, w, h = png_colours(shot)
        self.assertEqual((w, h), (1400, 1800))
        self.assertGreater(len(colours), 24, f"{len(colours)} colours: a blank page?")


if __name__ == "__main__":
    unittest.main()
