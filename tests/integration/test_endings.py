"""The library never changes whether, when and how a program ends: the last
thread leaving by pthread_exit (the main thread; a thread that forked, in
the child) ends the process, as do exec from another thread, exit while
faults are served, SIGKILL during a fault and vfork children.  A helper
thread that glibc counted kept such processes alive for ever (a zombie
leader with one thread in read() on the userfaultfd)."""
import unittest

from util import LFTestCase, ZERO_RULES, prog, zero_rules


class EndingsTest(LFTestCase):
    def run_mode(self, mode, rc=0):
        n, l = self.both([prog("endings"), mode], ZERO_RULES, rc=rc, timeout=30)
        self.assertServed(l, "big", zeroed=True)
        return n, l

    def test_main_thread_pthread_exit(self):
        n, l = self.run_mode("main-exit")
        self.assertIn("ok: the last thread's memory", l.stdout)
        self.assertIn("ok: exit handlers ran", l.stdout)

    def test_pthread_exit_in_child_of_thread(self):
        n, l = self.run_mode("fork-thread")
        self.assertAllChecksPassed(l, "endings")
        child = l.child_pids()
        self.assertEqual(len(child), 1, l.describe())
        self.assertServed(l, "big", pid=child[0], zeroed=True)

    def test_exec_from_thread(self):
        n, l = self.run_mode("exec-thread")
        self.assertAllChecksPassed(l, "endings")

    def test_exit_while_faulting(self):
        n, l = self.run_mode("exit-race", rc=3)
        self.assertIn("ok: exit handlers ran", l.stdout)

    def test_kill_during_fault(self):
        n, l = self.run_mode("kill-fault")
        self.assertAllChecksPassed(l, "endings")

    def test_vfork(self):
        n, l = self.run_mode("vfork")
        self.assertAllChecksPassed(l, "endings")
        # The exec'd child writes its own statistics; the one that _exits
        # without exec writes none: its figures are its parent's.
        kids = l.child_pids()
        self.assertEqual(len(kids), 1, l.describe())
        self.assertEqual(l.stats[kids[0]]["argv"][1:], ["vfork-exec"])

    def test_vfork_child_before_any_region(self):
        """A vfork child that maps and faults before its parent took any
        region must start no helper: one would die with the child, and the
        parent's next fault would wait for ever."""
        n, l = self.run_mode("vfork-first")
        self.assertAllChecksPassed(l, "endings")

    def test_vfork_child_resets_a_signal(self):
        """A vfork child's sigaction is its own: the library's record of its
        handlers is the parent's, and must not change there."""
        n, l = self.run_mode("vfork-signal")
        self.assertAllChecksPassed(l, "endings")

    def test_cpython_join_in_forked_from_thread(self):
        """CPython's own test: forks from a worker thread, which in the child
        ends with pthread_exit; its parent waits for the child."""
        argv = self.cpython_test("test_threading", "-m", "test_3_join_in_forked_from_thread")
        n, l = self.both(argv, zero_rules(min_size="64K"), compare=False, timeout=60)
        self.assertIn("Tests result: SUCCESS", l.stdout)
        self.assertServed(l, "big", zeroed=True)


if __name__ == "__main__":
    unittest.main()
