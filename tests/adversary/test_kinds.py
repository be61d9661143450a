"""The observer's size → kind mapping, against papers/network-spec.md §3."""
import unittest

import _path  # noqa: F401
from harness import kinds


class KindsTest(unittest.TestCase):
    def test_spec_sizes(self):
        c = kinds.classify
        self.assertEqual(kinds.PACKET, 1 + 8 + 2472)
        self.assertEqual(c(2481, "client", "provider"), "PACKET")
        self.assertEqual(c(2481, "mix", "mix"), "PACKET")
        self.assertEqual(c(9, "mix", "provider"), "PACKET_ACK")
        self.assertEqual(c(35, "client", "provider"), "FETCH")
        self.assertEqual(c(35 + 8 * 8, "client", "provider"), "ACK8")
        self.assertEqual(c(3 + 2081 * 8, "provider", "client"), "MAIL8")
        self.assertEqual(c(16651, "provider", "client"), "MAIL8")
        self.assertEqual(c(2084, "provider", "client"), "MAIL1")
        self.assertEqual(c(3, "provider", "client"), "ACKED")
        self.assertEqual(c(9, "mix", "directory"), "GET_CONSENSUS")
        self.assertEqual(c(1, "directory", "mix"), "POSTED")
        self.assertEqual(c(2639, "directory", "client"), "CONSENSUS")
        self.assertEqual(c(30, "directory", "mix"), "ERROR")
        self.assertEqual(c(606, "provider", "directory"), "POST_DESCRIPTOR")
        # The same size means different things at different ends; unknown sizes are "other".
        self.assertEqual(c(35, "provider", "client"), "other")
        self.assertEqual(c(2482, "mix", "mix"), "other")
        self.assertEqual(kinds.CURVE_OVERHEAD, 8 + 8 + 16 + 1)

    def test_roles(self):
        self.assertEqual(kinds.roles(["directory", "mix-1", "c0"], {"mix-1": "mix"}),
                         {"directory": "directory", "mix-1": "mix", "c0": "client"})


if __name__ == "__main__":
    unittest.main()
