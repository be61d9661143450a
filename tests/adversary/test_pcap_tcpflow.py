"""Capture parsing: pcap records, TCP reassembly, ZMTP framing and link events, on synthetic
captures whose every byte and time is known."""
import os
import random
import struct
import tempfile
import unittest

import _path  # noqa: F401
from harness import kinds, linkevents, pcap, tcpflow

MOD = 1 << 32
GREETING = b"\xff" + bytes(8) + b"\x7f\x03\x01" + b"CURVE".ljust(20, b"\0") + bytes(32)


def command(name, body_len, rng):
    body = bytes([len(name)]) + name.encode() + rng.randbytes(body_len)
    return _frame(0x04, body)


def message(plain_len, rng):
    """A CURVE MESSAGE as libzmq sends it: a data frame whose body starts with \\x07MESSAGE."""
    body = b"\x07MESSAGE" + rng.randbytes(8 + 16 + 1 + plain_len)
    return _frame(0x00, body)


def _frame(flags, body):
    if len(body) > 255:
        return bytes([flags | 2]) + struct.pack("!Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def segments(ends, isn, data, t0, mss=1000, dt=10, syn=True):
    """[(time, ip packet)] carrying `data` in order, one segment every dt µs."""
    out = [(t0, pcap.ip_tcp(*ends, isn, pcap.SYN, b""))] if syn else []
    for k, off in enumerate(range(0, len(data), mss)):
        out.append((t0 + (k + 1) * dt, pcap.ip_tcp(*ends, isn + 1 + off, 0x18,
                                                   data[off:off + mss])))
    return out


def write_pcap(path, recs, link=101):
    with open(path, "wb") as f:
        f.write(pcap.header(link))
        for t, p in recs:
            if link == 1:
                p = bytes(12) + b"\x08\x00" + p
            f.write(pcap.record(t, p))


class PcapTest(unittest.TestCase):
    def test_round_trip_raw_and_ethernet(self):
        rng = random.Random(1)
        pkts = [(1_700_000_000_123_456 + i, pcap.ip_tcp("10.0.0.1", 1, "10.0.0.2", 2, i, 0x18,
                                                        rng.randbytes(i * 7)))
                for i in range(50)]
        with tempfile.TemporaryDirectory() as d:
            for link in (101, 1):
                path = os.path.join(d, f"c{link}.pcap")
                write_pcap(path, pkts, link)
                got = list(pcap.packets(path, chunk=64))  # tiny chunks: records span reads
                self.assertEqual(got, pkts)
                seg = pcap.tcp_segment(got[3][1])
                self.assertEqual((seg.src, seg.sport, seg.dst, seg.dport, seg.seq),
                                 ("10.0.0.1", 1, "10.0.0.2", 2, 3))
                self.assertEqual(len(seg.payload), 21)

    def test_rejects_pcapng_and_garbage(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.pcap")
            with open(path, "wb") as f:
                f.write(b"\x0a\x0d\x0d\x0a" + bytes(40))
            with self.assertRaisesRegex(Exception, "pcapng is not supported"):
                list(pcap.packets(path))

    def test_not_tcp_or_fragment_is_none(self):
        p = bytearray(pcap.ip_tcp("1.1.1.1", 1, "2.2.2.2", 2, 0, 0, b"x"))
        p[9] = 17
        self.assertIsNone(pcap.tcp_segment(bytes(p)))
        p = bytearray(pcap.ip_tcp("1.1.1.1", 1, "2.2.2.2", 2, 0, 0, b"x"))
        p[6] = 0x20  # more fragments
        self.assertIsNone(pcap.tcp_segment(bytes(p)))


class ZmtpStreamTest(unittest.TestCase):
    def stream_of(self, data, shuffle=False, dup=False, isn=MOD - 300, mss=700):
        rng = random.Random(5)
        ends = ("10.0.0.1", 40000, "10.0.0.2", 7001)
        recs = segments(ends, isn, data, 1000, mss=mss)
        body = recs[1:]
        if dup:
            body = body + [body[1], (body[2][0], body[2][1])]
        if shuffle:
            rng.shuffle(body)
        # capture order = list order; times stay those of the original segments
        recs = [recs[0]] + body
        st = tcpflow.ZmtpStream(ends)
        frames = []
        for t, ip in recs:
            s = pcap.tcp_segment(ip)
            frames += st.feed(t, s.seq, s.flags, s.payload)
        st.finish()
        return st, frames

    def test_frames_sizes_and_times(self):
        rng = random.Random(2)
        data = GREETING + command("HELLO", 194, rng) + message(2481, rng) + message(9, rng)
        st, frames = self.stream_of(data, mss=700)
        self.assertEqual(st.mechanism, "CURVE")
        self.assertEqual(st.problems, [])
        self.assertEqual([(f.name, f.size) for f in frames],
                         [("HELLO", 200), ("MESSAGE", 2481 + 33), ("MESSAGE", 9 + 33)])
        # 64 + 202 = 266: the big message starts in segment 1 (bytes 0..699) and ends at byte
        # 266 + 9 + 2514 - 1 = 2788, in segment 4 (2100..2799); segment k arrives at 1000+10k.
        self.assertEqual((frames[1].t_first, frames[1].t_last), (1010, 1040))

    def test_out_of_order_duplicates_and_sequence_wrap(self):
        rng = random.Random(3)
        data = GREETING + b"".join(message(n, rng) for n in (2481, 9, 35, 99, 16651, 3))
        _, frames = self.stream_of(data, shuffle=True, dup=True, isn=MOD - 50)
        self.assertEqual([f.size - kinds.CURVE_OVERHEAD for f in frames],
                         [2481, 9, 35, 99, 16651, 3])

    def test_capture_starting_mid_connection_is_reported_not_guessed(self):
        rng = random.Random(4)
        ends = ("10.0.0.1", 1, "10.0.0.2", 2)
        data = GREETING + message(2481, rng)
        st = tcpflow.ZmtpStream(ends)
        out = []
        for t, ip in segments(ends, 7, data, 0, syn=False)[1:]:
            s = pcap.tcp_segment(ip)
            out += st.feed(t, s.seq, s.flags, s.payload)
        self.assertEqual(out, [])
        self.assertIn("began inside this connection", st.problems[0])

    def test_hole_stops_parsing_and_is_reported(self):
        rng = random.Random(6)
        ends = ("10.0.0.1", 1, "10.0.0.2", 2)
        data = GREETING + message(2481, rng) + message(2481, rng)
        recs = segments(ends, 100, data, 0, mss=500)
        del recs[3]  # bytes 1000..1499 never captured
        st = tcpflow.ZmtpStream(ends)
        out = []
        for t, ip in recs:
            s = pcap.tcp_segment(ip)
            out += st.feed(t, s.seq, s.flags, s.payload)
        st.finish()
        self.assertEqual(out, [])
        self.assertIn("hole in the capture at stream byte 1000", st.problems[0])

    def test_bad_flags_and_version(self):
        st, frames = self.stream_of(GREETING + b"\xf0\x01\x00")
        self.assertIn("bad ZMTP frame flags 0xf0", st.problems[0])
        st, _ = self.stream_of(b"\xff" + bytes(8) + b"\x7f\x02" + bytes(53))
        self.assertIn("ZMTP version 2", st.problems[0])


class LinkEventsTest(unittest.TestCase):
    def test_extract_names_hosts_sizes_kinds(self):
        rng = random.Random(8)
        c, p = ("10.78.0.32", "10.78.0.5")
        up = GREETING + message(2481, rng) + message(35, rng) + message(99, rng)
        down = GREETING + message(9, rng) + message(16651, rng) + message(3, rng)
        recs = segments((c, 50000, p, 7001), 11, up, 100, dt=10)
        recs += segments((p, 7001, c, 50000), 99, down, 105, dt=10)
        recs.sort(key=lambda r: r[0])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "l.pcap")
            write_pcap(path, recs, link=1)
            ev, summ = linkevents.extract(path, {c: "c0", p: "provider-1"},
                                          {"c0": "client", "provider-1": "provider"})
        self.assertEqual(summ["problems"], [])
        self.assertEqual(summ["streams"], 2)
        self.assertEqual({e["conn"] for e in ev}, {0})
        got = sorted((e["src"], e["dst"], e["size"], e["kind"]) for e in ev)
        self.assertEqual(got, sorted([
            ("c0", "provider-1", 2481, "PACKET"), ("c0", "provider-1", 35, "FETCH"),
            ("c0", "provider-1", 99, "ACK8"), ("provider-1", "c0", 9, "PACKET_ACK"),
            ("provider-1", "c0", 16651, "MAIL8"), ("provider-1", "c0", 3, "ACKED")]))
        self.assertEqual(summ["sizes"]["client->provider"], {35: 1, 99: 1, 2481: 1})


if __name__ == "__main__":
    unittest.main()
