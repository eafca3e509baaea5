"""PostgreSQL 15 (Debian's postgresql package) as an unprivileged user
(uid 65534), every step under the library: initdb, pg_ctl start (the
server and its processes on a socket in a temporary folder), a psql
workload of a million rows, pg_ctl stop; under anon, malloc and file
rules.  The output must be the native run's, every process must leave its
statistics, and nothing may be left running.  (initdb hung at its start
under the library when its initialisation, run inside setlocale's first
allocation, formatted an error with glibc's strerror: see strerror.c.)"""
import glob
import os
import unittest

from util import LFTestCase, LIB, make_tmp, shared_copy, shared_tmpdir

BIN = "/usr/lib/postgresql/15/bin"
PSQL = "/usr/bin/psql"
NOBODY = 65534
WORK = ("create table t as select g, md5(g::text) as h from generate_series(1, 1000000) g; "
        "select count(*), sum(g), max(h) from t; "
        "create index on t (h); select count(*) from t where h like 'ab%'; drop table t;")
RULES = {
    "anon": "[r]\nmatch = anon\nmin_size = 64K\naction = zero\n",
    "malloc": "[r]\nmatch = malloc\nmin_size = 128K\naction = zero\n",
    "file": "[r]\nmatch = file\nmin_size = 4K\n",
}


def running_in(folder):
    """Processes whose command line names the folder."""
    left = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/cmdline", "rb") as f:
                if str(folder).encode() in f.read():
                    left.append(int(d[6:]))
        except OSError:
            pass
    return left


class PostgresTest(LFTestCase):
    def cycle(self, run):
        """initdb, start, workload, stop in a fresh folder of uid 65534;
        run(argv) runs one step.  Returns each step's output, with the
        folder's name taken out."""
        d = shared_tmpdir()
        os.chown(d, NOBODY, NOBODY)
        data = d / "data"
        steps = [
            [f"{BIN}/initdb", "-D", data, "-A", "trust", "-U", "u", "--no-sync", "-E", "UTF8",
             "--locale=C"],
            [f"{BIN}/pg_ctl", "-D", data, "-o", f"-k {d} -c listen_addresses=''", "-l",
             d / "server.log", "-w", "start"],
            [PSQL, "-X", "-h", d, "-U", "u", "-d", "postgres", "-c", WORK],
            [f"{BIN}/pg_ctl", "-D", data, "-w", "stop"],
        ]
        outs = []
        try:
            for argv in steps:
                r = run(argv)
                self.assertEqual(r.rc, 0, r.describe())
                outs.append(r.stdout.replace(str(d), "D"))
        finally:
            left = running_in(d)
            for pid in left:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        self.assertEqual(left, [], "processes left running after pg_ctl stop")
        return outs

    def test_postgres(self):
        if not os.path.exists(f"{BIN}/initdb"):
            self.skipTest("postgresql-15 is not installed")
        lib = shared_copy(LIB)
        native = self.cycle(lambda argv: self.native(argv, user=NOBODY, timeout=120,
                                                     env={"HOME": "/tmp"}))
        self.assertIn("1000000 | 500000500000", native[2])
        for kind, rules in RULES.items():
            with self.subTest(rules=kind):
                tmp = make_tmp()  # every process's statistics end up here
                runs = []

                def under(argv):
                    r = self.lib(argv, rules, user=NOBODY, lib=lib, tmp=tmp, timeout=120,
                                 env={"HOME": "/tmp"})
                    runs.append(r)
                    return r

                self.assertEqual(self.cycle(under), native)
                last = runs[-1]
                self.assertNoLibErrors(last)
                stats = last.stats  # every statistics file of the folder
                self.assertStatsValid(last)
                # The server and the processes it forked: each wrote its
                # statistics (checkpointer, background writer, walwriter,
                # autovacuum and replication launchers, the psql backend...).
                servers = [p for p, s in stats.items() if s["exe"].endswith("/postgres")]
                by_parent = {}
                for p in servers:
                    by_parent.setdefault(stats[p]["ppid"], []).append(p)
                postmaster = max(by_parent, key=lambda q: len(by_parent[q]))
                self.assertIn(postmaster, stats, last.describe())
                self.assertGreaterEqual(len(by_parent[postmaster]), 6, last.describe())
                if kind != "malloc":
                    # By design: the server's memory is shared (buffers,
                    # dynamic shared memory) or glibc malloc's own (which
                    # no anon rule sees), and it reads its files with
                    # read(): such rules take nothing in any process.
                    for p in stats:
                        self.assertTookNothing(last, "r", pid=p)
                    continue
                served = [p for p in servers if last.rule("r", p)["faults"] > 0]
                self.assertTrue(served, "no server process served a fault")
                self.assertServed(last, "r", pid=served[0])

if __name__ == "__main__":
    unittest.main()
