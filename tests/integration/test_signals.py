"""serve = signal: the faulting thread serves its own faults from the
library's SIGBUS handler (UFFD_FEATURE_SIGBUS), while the program sees its
own signals as natively: its SIGBUS handler gets every SIGBUS that is not
the library's (a poisoned page above all), with the flags it gave
(SA_RESETHAND, SA_NODEFER, SA_ONSTACK, its sa_mask); SIG_IGN and a blocked
SIGBUS behave as the kernel makes them (a synchronous SIGBUS kills, a
kill(SIGBUS) is dropped or stays pending for sigtimedwait and signalfd);
fork and exec keep their meaning; a handler that runs while ppoll waits
with SIGBUS in its mask is served; many threads fault at once (README,
"Signal mode"; lazyfault.ini(5), serve).

tests/progs/sigplay.c runs one case per test and checks what the program
sees (the poison rule poisons the first page touched, once: a second touch
that reached the rule again would get zeros, where the kernel raises SIGBUS
again); the test checks how it ended and, from the statistics, that the
faults were served in signal mode (serve = signal, the zero rule's faults)
and that the poison rule poisoned its page: a library that served by
helpers, or let the program's handler take SIGBUS from it, fails here.
"""
import os
import signal
import unittest

from util import BUILD, LFTestCase, prog, write_file

COMMAND = os.path.abspath(os.environ.get("LF_COMMAND") or BUILD / "lazyfault")

RULES = """\
[z]
match = anon
min_size = 4M
max_size = 4M

[p]
match = anon
min_size = 32K
max_size = 32K
action = poison
times = 1
"""
SIGNAL = {"LAZYFAULT_SERVE": "signal"}
KILLED_BY_SIGBUS = -signal.SIGBUS


class SignalModeTest(LFTestCase):
    def play(self, case, *, rc=0, poisoned=1, env=SIGNAL, serve="signal"):
        l = self.lib([prog("sigplay"), case], RULES, env=env, timeout=60)
        self.assertEqual(l.rc, rc, l.describe())
        self.assertNotIn("FAIL:", l.stdout, l.describe())
        self.assertEqual(l.stats[l.pid]["serve"], serve, l.describe())
        self.assertServed(l, "z", zeroed=True)
        self.assertEqual(l.rule("p")["pages_poisoned"], poisoned, l.describe())
        if rc == 0:
            self.assertAllChecksPassed(l, "sigplay")
        return l

    def test_program_handler_gets_the_poisoned_page(self):
        l = self.play("handler")
        self.assertIn("ok: in the handler SIGBUS is blocked", l.stdout)
        self.assertIn("ok: a served page touched in the handler reads zeros", l.stdout)

    def test_sa_nodefer(self):
        l = self.play("nodefer")
        self.assertIn("ok: in the handler SIGBUS is not blocked", l.stdout)

    def test_sa_resethand_then_default_kills(self):
        l = self.play("resethand", rc=KILLED_BY_SIGBUS)
        self.assertIn("ok: SA_RESETHAND: the disposition is SIG_DFL after", l.stdout)
        self.assertIn("touching the poisoned page again", l.stdout)

    def test_sig_ign_is_served_and_a_poisoned_page_kills(self):
        l = self.play("ignore", rc=KILLED_BY_SIGBUS)
        self.assertIn("ok: a kill(SIGBUS) is ignored", l.stdout)
        self.assertIn("ok: served after: pages 64-127", l.stdout)

    def test_blocked_sigbus_is_served(self):
        l = self.play("blocked", rc=KILLED_BY_SIGBUS)
        for line in ("ok: served while blocked", "ok: a new thread inherits the blocked SIGBUS",
                     "ok: sigtimedwait takes it, sent by this process", "ok: served after"):
            self.assertIn(line, l.stdout)

    def test_signalfd_reads_sigbus_and_sigusr1(self):
        self.play("signalfd", poisoned=0)

    def test_handler_on_the_alternate_stack(self):
        l = self.play("altstack")
        self.assertIn("ok: the handler ran on the alternate stack", l.stdout)

    def test_fork_child_served_and_handled(self):
        l = self.play("fork")
        self.assertIn("sigplay child: all checks passed", l.stdout)
        kids = l.child_pids()
        self.assertEqual(len(kids), 1, l.describe())
        self.assertEqual(l.stats[kids[0]]["serve"], "signal", l.describe())
        self.assertServed(l, "z", pid=kids[0], zeroed=True)
        self.assertEqual(l.rule("p", kids[0])["pages_poisoned"], 1, l.describe())

    def test_exec_keeps_ignored_and_blocked_sigbus(self):
        n, l = self.both([prog("sigplay"), "exec"], RULES, env=SIGNAL)
        self.assertIn("ok: after exec: SIGBUS still ignored", l.stdout)
        doc = l.stats[l.pid]  # the image exec started, same pid
        self.assertEqual(doc["argv"][1:], ["exec_child"], l.describe())
        self.assertEqual(doc["serve"], "signal", l.describe())
        self.assertServed(l, "z", zeroed=True)

    def test_many_threads_fault_at_once(self):
        l = self.play("threads", poisoned=0)
        z = l.rule("z")
        self.assertEqual(z["pages_zeroed"] >= 1024, True, z)

    def test_handler_during_ppoll_with_sigbus_in_its_mask(self):
        n, l = self.both([prog("sigplay"), "ppoll"], RULES, env=SIGNAL)
        self.assertIn("ok: a served page touched in the handler reads zeros", l.stdout)
        self.assertEqual(l.stats[l.pid]["serve"], "signal", l.describe())
        self.assertServed(l, "z", zeroed=True)

    def test_run_serve_option(self):
        """`lazyfault run --serve=signal` asks for signal mode over the rule
        file's `serve = helper`; a mode it does not know is refused."""
        d = self.tmpdir()
        rules = write_file(d / "rules.ini", "[global]\nserve = helper\n\n" + RULES)
        argv = [COMMAND, "run", "--serve=signal", "-r", rules, "-s", d / "stats.%p.json",
                prog("sigplay"), "threads"]
        r = self.native(argv, tmp=d, read_stats=True)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertAllChecksPassed(r, "sigplay")
        self.assertEqual(len(r.stats), 1, r.describe())
        [(pid, doc)] = r.stats.items()  # the program's: the command is not preloaded
        self.assertEqual(doc["serve"], "signal", r.describe())
        self.assertServed(r, "z", pid=pid, zeroed=True)
        bad = self.native([COMMAND, "run", "--serve=threads", "-r", rules, prog("sigplay"), "threads"])
        self.assertEqual(bad.rc, 2, bad.describe())
        self.assertIn("--serve=threads: give auto, helper or signal", bad.stderr)
        self.assertNotIn("sigplay", bad.stdout)

    def test_helper_mode_shows_the_same(self):
        """With helpers the wrappers are straight calls: the same cases see
        the same, served by helper threads."""
        helper = {"LAZYFAULT_SERVE": "helper"}
        self.play("handler", env=helper, serve="helper")
        self.play("nodefer", env=helper, serve="helper")
        self.play("signalfd", env=helper, serve="helper", poisoned=0)


if __name__ == "__main__":
    unittest.main()
