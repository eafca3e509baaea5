"""The program cannot break the library: descriptors the library needs
survive close-all loops, closefrom, close_range and dup2 onto their numbers."""
import os
import unittest

from util import LFTestCase, prog, make_tmp


class DescriptorTest(LFTestCase):
    def test_close_everything_then_touch(self):
        tmp = make_tmp()
        data = tmp / "data.bin"
        data.write_bytes(os.urandom(3 * 1024 * 1024 + 123))
        rules = f"""\
[files]
match = file
path = {tmp}/*
min_size = 4K

[big]
match = anon
min_size = 1M
action = zero
"""
        n, l = self.both([prog("closeall"), data], rules)
        self.assertIn("closeall: file sum", n.stdout)
        self.assertServed(l, "files", loaded=True)
        self.assertServed(l, "big", zeroed=True)
        files = l.rule("files")
        # Every byte of the file was read through the library's own
        # descriptor, after the program closed all it could.
        self.assertEqual(files["bytes_read"], 3 * 1024 * 1024 + 123)


if __name__ == "__main__":
    unittest.main()
