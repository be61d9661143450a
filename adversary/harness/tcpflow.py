"""TCP reassembly and ZMTP framing, incrementally, with the time each frame crossed the link.

One `ZmtpStream` per direction of a TCP connection. `feed()` takes segments in capture order;
sequence numbers count from the SYN (ISN + 1) when it was captured, else from the first segment
seen, modulo 2^32. Out-of-order segments wait until the gap before them is filled; duplicates
and overlapping retransmissions are merged (the first copy of a byte wins). Each byte gets the
capture time of the segment that made it contiguous, so a frame's `t_first`/`t_last` are when
its first/last byte had crossed the link.

ZMTP 3.x (RFC 23): a 64-byte greeting (signature 0xFF..0x7F, version 3, the mechanism name in
clear), then frames: a flags byte (bit 0 MORE, bit 1 LONG, bit 2 COMMAND), a 1- or 8-byte size,
the body. With CURVE (RFC 26) the handshake commands (HELLO, WELCOME, INITIATE, READY) and then
every message frame is a MESSAGE command (libzmq sends these with the COMMAND flag clear); the
command name is in clear, the rest is a nonce and a box. So an observer learns each message's
size and time and nothing else; this module reads exactly that (the command name and size),
never a body byte beyond the name.

A stream that loses bytes (a hole the capture never filled), or that began before the capture
(no greeting), is reported in `problems` and parsed no further — never guessed."""
from collections import deque, namedtuple

MOD = 1 << 32
Frame = namedtuple("Frame", "t_first t_last size command name more")
GREETING = 64


class ZmtpStream:
    def __init__(self, key):
        self.key = key                  # (src, sport, dst, dport)
        self.base = None                # sequence number of stream offset 0
        self.syn = False
        self.next = 0                   # stream offset of the next byte not yet received
        self.pending = {}               # offset -> (time, bytes), segments after a hole
        self.buf = bytearray()          # contiguous bytes not yet parsed
        self.buf_off = 0                # stream offset of buf[0]
        self.chunks = deque()           # (end offset, time) of the bytes in buf
        self.mechanism = None
        self.state = "greeting"         # greeting | frames | dead
        self.problems = []
        self.frames = 0
        self.bytes = 0
        self.conn = None                # connection number (set by the caller)
        self.paired = False             # whether the other direction has been seen

    def _rel(self, seq):
        d = (seq - self.base) % MOD
        return d - MOD if d >= MOD // 2 else d

    def feed(self, t, seq, flags, payload):
        """Adds one segment; returns the frames it completed."""
        if self.base is None:
            if flags & 0x02:
                self.base, self.syn = (seq + 1) % MOD, True
            elif payload:
                self.base = seq
                self._fail("the capture began inside this connection (no SYN, no greeting)")
            else:
                return []
        if self.state == "dead" or not payload:
            return []
        off = self._rel(seq)
        end = off + len(payload)
        if end <= self.next:
            return []  # a retransmission of bytes we have
        if off > self.next:
            if off not in self.pending or len(self.pending[off][1]) < len(payload):
                self.pending[off] = (t, payload)
            return []
        self._append(t, payload[self.next - off:])
        while self.pending:
            ready = [o for o in self.pending if o <= self.next]
            if not ready:
                break
            for o in sorted(ready):
                pt, pp = self.pending.pop(o)
                if o + len(pp) > self.next:
                    # Made contiguous by this segment: its bytes count from now.
                    self._append(max(pt, t), pp[self.next - o:])
        return self._parse()

    def _append(self, t, data):
        self.buf += data
        self.next += len(data)
        self.bytes += len(data)
        self.chunks.append((self.next, t))

    def _time_of(self, offset):
        for end, t in self.chunks:
            if end > offset:
                return t
        return self.chunks[-1][1]

    def _consume(self, n):
        del self.buf[:n]
        self.buf_off += n
        # The last chunk ends at self.next, past every byte still in buf, so it stays.
        while self.chunks and self.chunks[0][0] <= self.buf_off:
            self.chunks.popleft()

    def _fail(self, why):
        self.state = "dead"
        self.problems.append(why)
        self.buf.clear()
        self.pending.clear()

    def _parse(self):
        out = []
        while self.state != "dead":
            b = self.buf
            if self.state == "greeting":
                if len(b) >= 1 and b[0] != 0xFF or len(b) >= 10 and b[9] != 0x7F:
                    self._fail("no ZMTP greeting at the start of the stream")
                    break
                if len(b) >= 11 and b[10] < 3:
                    self._fail(f"ZMTP version {b[10]} (only 3.x is parsed)")
                    break
                if len(b) < GREETING:
                    break
                self.mechanism = bytes(b[12:32]).rstrip(b"\0").decode("ascii", "replace")
                self._consume(GREETING)
                self.state = "frames"
                continue
            if not b:
                break
            flags = b[0]
            if flags & 0xF8:
                self._fail(f"bad ZMTP frame flags 0x{flags:02x} at stream byte {self.buf_off}")
                break
            head = 9 if flags & 2 else 2
            if len(b) < head:
                break
            size = int.from_bytes(b[1:9], "big") if flags & 2 else b[1]
            if len(b) < head + size:
                break
            # A command's name is in clear (a length byte, then ASCII). libzmq sends CURVE's
            # MESSAGE commands with the COMMAND flag clear, so a data frame whose body starts
            # with the same name-length + "MESSAGE" is a CURVE message too.
            name = None
            if size >= 1 and b[head] <= size - 1 and (flags & 4 or b[head] == 7):
                name = bytes(b[head + 1:head + 1 + b[head]]).decode("ascii", "replace")
                if not flags & 4 and name != "MESSAGE":
                    name = None
            t_first = self._time_of(self.buf_off)
            t_last = self._time_of(self.buf_off + head + size - 1)
            out.append(Frame(t_first, t_last, size, bool(flags & 4), name, bool(flags & 1)))
            self.frames += 1
            self._consume(head + size)
        return out

    def finish(self):
        """Call at the end of the capture: reports bytes that never became contiguous."""
        if self.state != "dead" and self.pending:
            first = min(self.pending)
            self.problems.append(f"hole in the capture at stream byte {self.next} "
                                 f"({len(self.pending)} later segments, from byte {first}, "
                                 "not parsed)")
        elif self.state == "frames" and self.buf:
            self.problems.append(f"the capture ends inside a frame ({len(self.buf)} bytes)")
