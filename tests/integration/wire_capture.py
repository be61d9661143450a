#!/usr/bin/python3
"""wire_capture.py: capture the bytes Sotto sends on the loopback interface, then check them.

Why: the client's security claims are about what an observer of the network sees. This tool lets
an integration test check the bytes actually sent over TCP on `lo`, not what the code means to send:
  (1) no secret (a key, a message text) appears in clear in any TCP stream, not even split
      across segments;
  (2) every Sphinx packet a client sends to its node has the same size on the wire: the ZMTP
      frames of at least 1000 bytes (CURVE MESSAGE commands) sent to that port are all equal.

How the test uses it (needs root for an AF_PACKET socket; exit code 77 means "skip this test"):
  wire_capture.py record --out cap.pcap --seconds 120 --ports 7001,7002 &
  # wait until cap.pcap.ready exists, run the scenario, then `kill -TERM` the recorder and wait
  wire_capture.py check cap.pcap --forbid-hex KEYHEX --forbid-text 'hello bob' \
      --to-port 7001 --equal-large-frames
--from-port/--to-port limit which streams (one per direction of a connection) both checks look at.
Exit codes: 0 every check passed, 1 a check failed (or the capture is unreadable), 2 usage error.
`wire_capture.py selftest` checks the parsing and reassembly on a synthetic capture (no root).
The .pcap file (LINKTYPE_RAW, IPv4 without link header) opens in Wireshark. Only the Python
standard library is used (Debian's /usr/bin/python3).
"""
import argparse, os, random, signal, socket, struct, sys, time  # noqa: E401 (stdlib only)
from collections import Counter, defaultdict

ETH_P_ALL, PACKET_HOST, LINKTYPE_RAW, SNAPLEN = 0x0003, 0, 101, 262144
SO_TIMESTAMPNS = 35  # Linux; its control message (SCM_TIMESTAMPNS) has the same number
SYN = 0x02
LARGE = 1000  # frames this big or bigger are Sphinx packets (smaller ones are ZMTP/CURVE control)
MOD = 1 << 32


def parse_ipv4_tcp(ip):
    """(src, sport, dst, dport, seq, flags, payload) of an unfragmented IPv4 TCP segment or None."""
    if len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 15) * 4
    total = struct.unpack_from("!H", ip, 2)[0] or len(ip)  # 0: a GSO super-packet ("BIG TCP")
    if struct.unpack_from("!H", ip, 6)[0] & 0x3FFF or total > len(ip) or total < ihl + 20:
        return None
    tcp = ip[ihl:total]
    sport, dport, seq = struct.unpack_from("!HHI", tcp)
    doff = (tcp[12] >> 4) * 4
    if doff < 20 or doff > len(tcp):
        return None
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    return src, sport, dst, dport, seq, tcp[13], bytes(tcp[doff:])


def kernel_time(ancillary):
    """The kernel's receive time (struct timespec of SCM_TIMESTAMPNS), else the time now."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack_from("qq", data)
            return sec + nsec / 1e9
    return time.time()


def pcap_header():
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_RAW)


def pcap_record(ts, pkt):
    return struct.pack("<IIII", int(ts), int(ts % 1 * 1e6), len(pkt), len(pkt)) + pkt


def read_pcap(data):
    """IPv4 packets of a classic pcap file (raw IP, Ethernet or Linux cooked link layer)."""
    for e in "<>":
        if len(data) >= 24 and struct.unpack_from(e + "I", data)[0] in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise ValueError("not a classic pcap file (pcapng is not supported)")
    link = struct.unpack_from(e + "I", data, 20)[0] & 0xFFFF
    strip = {101: 0, 228: 0, 1: 14, 113: 16}.get(link)
    if strip is None:
        raise ValueError(f"unsupported link type {link}")
    pos, packets = 24, []
    while pos + 16 <= len(data):
        incl = struct.unpack_from(e + "I", data, pos + 8)[0]
        pkt, pos = data[pos + 16:pos + 16 + incl], pos + 16 + incl
        if not strip or pkt[strip - 2:strip] == b"\x08\x00":
            packets.append(pkt[strip:])
    return packets


def collect(packets, from_port=None, to_port=None):
    """TCP segments by direction: {(src, sport, dst, dport): [(seq, flags, payload), ...]}."""
    streams = defaultdict(list)
    for pkt in packets:
        seg = parse_ipv4_tcp(pkt)
        if seg and (not from_port or seg[1] == from_port) and (not to_port or seg[3] == to_port):
            streams[seg[:4]].append(seg[4:])
    return streams


def name(key):
    return f"{key[0]}:{key[1]}->{key[2]}:{key[3]}"


def reassemble(segs):
    """([(offset, bytes), ...] contiguous runs, SYN captured?) for one direction of a connection.

    Offsets count from the first data byte (ISN+1) when the SYN was captured, else from the first
    segment seen. Sequence numbers wrap modulo 2^32. Duplicates and overlapping retransmissions
    are merged (the first copy of a byte wins); a hole in the capture starts a new run."""
    syns = [seq for seq, flags, _ in segs if flags & SYN]
    base = (syns[0] + 1) % MOD if syns else segs[0][0]

    def rel(seq, flags):
        d = (seq + (1 if flags & SYN else 0) - base) % MOD
        return d - MOD if d >= MOD // 2 else d

    runs = []
    for off, payload in sorted((rel(s, f), p) for s, f, p in segs if p):
        if runs and off <= runs[-1][0] + len(runs[-1][1]):
            end = runs[-1][0] + len(runs[-1][1])
            if off + len(payload) > end:
                runs[-1][1] += payload[end - off:]
        else:
            runs.append([off, bytearray(payload)])
    return [(o, bytes(b)) for o, b in runs], bool(syns)


def find_forbidden(streams, patterns, out):
    """True if no pattern occurs in a reassembled run or in a single segment of any stream."""
    hits, total = 0, 0
    for key, segs in sorted(streams.items()):
        runs, _ = reassemble(segs)
        total += sum(len(b) for _, b in runs)
        chunks = runs + [(None, p) for _, _, p in segs if p]
        for label, pattern in patterns:
            for off, buf in chunks:
                i = buf.find(pattern)
                if i >= 0:
                    where = "a single segment" if off is None else f"stream offset {off + i}"
                    out(f"FAIL: {label} found in {name(key)} at {where}")
                    hits += 1
                    break
    if not hits:
        out(f"ok: none of {len(patterns)} forbidden patterns found in {len(streams)} streams "
            f"({total} bytes)")
    return hits == 0


def zmtp_frames(buf):
    """(mechanism, frame sizes, note) for a ZMTP 3.x byte stream from its first byte.

    The note says why parsing stopped early (no greeting, truncated last frame, bad flags)."""
    if len(buf) < 64 or buf[0] != 0xFF or buf[9] != 0x7F or buf[10] != 3:
        return None, [], "no ZMTP 3.x greeting, skipped"
    mechanism = buf[12:32].rstrip(b"\0").decode("ascii", "replace")
    sizes, pos = [], 64
    while pos < len(buf):
        flags = buf[pos]
        if flags & 0xF8:
            return mechanism, sizes, f"bad frame flags 0x{flags:02x} at byte {pos}, rest skipped"
        head = 9 if flags & 2 else 2
        if pos + head > len(buf):
            return mechanism, sizes, "capture ends inside a frame header (truncated last frame)"
        size = struct.unpack_from("!Q", buf, pos + 1)[0] if flags & 2 else buf[pos + 1]
        if pos + head + size > len(buf):
            return mechanism, sizes, f"truncated last frame ({size} bytes declared), not counted"
        sizes.append(size)
        pos += head + size
    return mechanism, sizes, None


def check_equal_frames(streams, port, out):
    """True if all ZMTP frames of >= LARGE bytes sent to `port` have one size (and exist)."""
    hist, mechanisms, parsed = Counter(), Counter(), 0
    for key, segs in sorted(streams.items()):
        if key[3] != port:
            continue
        runs, syn = reassemble(segs)
        if not syn or (runs and runs[0][0] != 0):
            out(f"  {name(key)}: start of stream (SYN) not captured, skipped")
            continue
        if not runs:
            continue
        mechanism, sizes, note = zmtp_frames(runs[0][1])
        if note:
            out(f"  {name(key)}: {note}")
        if len(runs) > 1:
            out(f"  {name(key)}: hole in the capture after byte {len(runs[0][1])}, rest skipped")
        if mechanism is not None:
            parsed += 1
            mechanisms[mechanism] += 1
            hist.update(sizes)
    large = {s: c for s, c in hist.items() if s >= LARGE}
    mech = ", ".join(f"{m} x{c}" for m, c in sorted(mechanisms.items())) or "none"
    out(f"frames to port {port}: {sum(hist.values())} in {parsed} ZMTP streams (mechanism {mech})")
    sizes = ", ".join(f"{s}: {c}" for s, c in sorted(hist.items())) or "none"
    out(f"  frame sizes (size: count): {sizes}")
    out(f"  large frames (>= {LARGE} bytes): {sum(large.values())}")
    if not large:
        out(f"FAIL: no frame of >= {LARGE} bytes sent to port {port}; the check proves nothing")
    elif len(large) > 1:
        out(f"FAIL: large frames to port {port} differ in size: {sorted(large)}")
    else:
        out(f"ok: all large frames to port {port} are {next(iter(large))} bytes")
    return len(large) == 1


def run_checks(packets, patterns, from_port, to_port, equal_frames, out):
    streams = collect(packets, from_port, to_port)
    ok = find_forbidden(streams, patterns, out) if patterns else True
    return check_equal_frames(streams, to_port, out) and ok if equal_frames else ok


def usage(msg):
    print(f"wire_capture: {msg}", file=sys.stderr)
    sys.exit(2)


def cmd_check(a):
    patterns = []
    for i, h in enumerate(a.forbid_hex, 1):
        try:
            patterns.append((f"forbid-hex #{i} ({h[:8].lower()}...)", bytes.fromhex(h)))
        except ValueError:
            usage(f"--forbid-hex #{i} ({h[:8]}...) is not an even-length hex string")
    for i, t in enumerate(a.forbid_text, 1):
        patterns.append((f"forbid-text #{i} ({t.encode().hex()[:8]}...)", t.encode()))
    if any(not p for _, p in patterns):
        usage("a forbidden pattern is empty")
    if a.equal_large_frames and not a.to_port:
        usage("--equal-large-frames needs --to-port PORT (the port clients send Sphinx packets to)")
    if not patterns and not a.equal_large_frames:
        usage("nothing to check: give --forbid-hex, --forbid-text or --equal-large-frames")
    try:
        with open(a.pcap, "rb") as f:
            packets = read_pcap(f.read())
    except (OSError, ValueError) as e:
        print(f"FAIL: cannot read capture {a.pcap}: {e}")
        return 1
    ok = run_checks(packets, patterns, a.from_port, a.to_port, a.equal_large_frames, print)
    return 0 if ok else 1


def cmd_record(a):
    ports = set()
    for p in filter(None, (a.ports or "").split(",")):
        if not p.strip().isdigit() or not 0 < int(p) < 65536:
            usage(f"--ports: '{p}' is not a port number")
        ports.add(int(p))
    if os.geteuid() != 0:
        print("wire_capture: skipped: capturing on lo needs root (AF_PACKET raw socket)")
        return 77
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind(("lo", 0))
    except (AttributeError, OSError) as e:
        print(f"wire_capture: skipped: no AF_PACKET capture on lo here ({e})")
        return 77
    try:  # a big kernel buffer so a burst of traffic is not dropped while we write
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 64 << 20)
    except OSError:
        pass
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    ready = a.out + ".ready"
    try:
        if os.path.exists(ready):
            os.unlink(ready)
        out = open(a.out, "wb")
        out.write(pcap_header())
        with open(ready, "w") as f:
            f.write(f"{os.getpid()}\n")
    except OSError as e:
        print(f"wire_capture: cannot write {e.filename}: {e.strerror}")
        return 1
    try:  # kernel receive timestamps: the time a packet crossed lo, not when Python read it
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        stamped = True
    except OSError:
        stamped = False
    sock.settimeout(0.2)
    deadline, count, nbytes, drain_until = time.monotonic() + a.seconds, 0, 0, None
    while drain_until is None or time.monotonic() < drain_until:
        if drain_until is None and (stop or time.monotonic() >= deadline):
            drain_until = time.monotonic() + 2  # time is up: save what the kernel already queued
            sock.setblocking(False)
        try:
            frame, ancillary, _, addr = sock.recvmsg(SNAPLEN, 64)
        except BlockingIOError:
            break
        except (socket.timeout, InterruptedError):
            continue
        # Each packet on lo is seen twice (PACKET_OUTGOING, then PACKET_HOST): keep one copy.
        if addr[2] != PACKET_HOST or frame[12:14] != b"\x08\x00":
            continue
        seg = parse_ipv4_tcp(frame[14:])
        if not seg or not (seg[6] or seg[5] & SYN):  # keep data and SYNs (stream starts)
            continue
        if ports and seg[1] not in ports and seg[3] not in ports:
            continue
        out.write(pcap_record(kernel_time(ancillary) if stamped else time.time(), frame[14:]))
        count += 1 if seg[6] else 0
        nbytes += len(seg[6])
    out.close()
    drops = struct.unpack("II", sock.getsockopt(263, 6, 8))[1]  # SOL_PACKET, PACKET_STATISTICS
    sock.close()
    if drops:
        print(f"warning: the kernel dropped {drops} packets; the capture may have holes")
    print(f"captured {count} segments, {nbytes} payload bytes")
    return 0


def selftest():
    rng = random.Random(7)
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)

    def ip_tcp(src, sport, dst, dport, seq, flags, payload):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % MOD, 0, 5 << 4, flags, 65535, 0, 0)
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0,
                           socket.inet_aton(src), socket.inet_aton(dst)) + tcp + payload

    def stream(sport, dport, isn, data, syn=True, mss=700):
        ends = (("10.0.0.1", sport, "127.0.0.1", dport) if dport == 5555
                else ("127.0.0.1", sport, "10.0.0.1", dport))
        pkts = [ip_tcp(*ends, isn, SYN, b"")] if syn else []
        offsets = range(0, len(data), mss)
        pkts += [ip_tcp(*ends, isn + 1 + o, 0x18, data[o:o + mss]) for o in offsets]
        pkts.append(ip_tcp(*ends, isn + 1 + mss // 2, 0x18, data[mss // 2:mss // 2 + mss]))
        pkts.append(pkts[2])  # an exact duplicate
        rng.shuffle(pkts)
        return pkts

    def frame(size, long=False):
        if long or size > 255:
            return b"\x06" + struct.pack("!Q", size) + rng.randbytes(size)
        return b"\x04" + bytes([size]) + rng.randbytes(size)

    greeting = b"\xff" + bytes(8) + b"\x7f\x03\x00" + b"CURVE".ljust(20, b"\0") + bytes(32)
    zmtp = greeting + frame(30) + frame(2500) + frame(2500) + frame(300, long=True)
    key, text = rng.randbytes(32), "attack at dawn"
    reply = rng.randbytes(1390) + key + rng.randbytes(500)  # the key spans two segments
    sent = zmtp + frame(2500)[:1000]  # the capture ends inside the last frame
    pkts = (stream(40000, 5555, MOD - 100, sent)  # sequence numbers wrap around 2^32
            + stream(5555, 40000, 77, reply)
            + stream(40001, 5555, MOD - 900, rng.randbytes(100) + frame(2600) * 2, syn=False))
    packets = read_pcap(pcap_header() + b"".join(pcap_record(1.5, p) for p in pkts))
    streams = collect(packets)
    expect(packets == pkts and len(streams) == 3, "pcap round trip / stream split")
    runs, syn = reassemble(streams[("10.0.0.1", 40000, "127.0.0.1", 5555)])
    expect(syn and runs == [(0, sent)], "reassembly: out of order, duplicates, sequence wrap")
    runs, syn = reassemble(streams[("127.0.0.1", 5555, "10.0.0.1", 40000)])
    expect(runs == [(0, reply)], "reassembly of the reply stream")
    runs, syn = reassemble(streams[("10.0.0.1", 40001, "127.0.0.1", 5555)])
    expect(not syn and len(runs) == 1, "reassembly without SYN, first segment seen is not first")
    lines = []
    expect(not find_forbidden(streams, [("k", key)], lines.append), "key split across segments")
    expect(any("k found in 127.0.0.1:5555->10.0.0.1:40000 at stream offset 1390" in s
               for s in lines), "forbidden hit names stream and offset")
    expect(find_forbidden(streams, [("t", text.encode())], lines.append), "absent text not found")
    lines = []
    expect(check_equal_frames(streams, 5555, lines.append), "equal large frames pass")
    out = "\n".join(lines)
    for want in ("30: 1, 300: 1, 2500: 2", "large frames (>= 1000 bytes): 2", "SYN) not captured",
                 "truncated last frame", "mechanism CURVE x1"):
        expect(want in out, f"frame check output mentions '{want}'")
    c2 = ("10.0.0.2", 1, "127.0.0.1", 5555)
    unequal = [ip_tcp(*c2, 9, SYN, b""), ip_tcp(*c2, 10, 0, greeting + frame(2500) + frame(2501))]
    expect(not run_checks(packets + unequal, [], None, 5555, True, lines.append), "unequal frames")
    small = stream(40002, 5555, 1, greeting + frame(30) + frame(999))  # + a hole, then a frame:
    small.append(ip_tcp("10.0.0.1", 40002, "127.0.0.1", 5555, 9000, 0x18, frame(2500)))
    expect(not run_checks(read_pcap(pcap_header() + b"".join(pcap_record(0, p) for p in small)),
                          [], None, 5555, True, lines.append), "no large frame must fail")
    expect("hole in the capture after byte 1104" in "\n".join(lines), "a hole is reported")
    for f in failures:
        print(f"selftest FAIL: {f}")
    print("selftest: ok" if not failures else f"selftest: {len(failures)} failures")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description="Capture and check TCP bytes on lo (Sotto tests).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record", help="capture TCP segments on lo into a pcap file (root)")
    r.add_argument("--out", required=True)
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--ports", help="comma-separated: keep only segments from or to these ports")
    c = sub.add_parser("check", help="check a capture for forbidden bytes and equal frame sizes")
    c.add_argument("pcap")
    c.add_argument("--forbid-hex", action="append", default=[], metavar="HEX")
    c.add_argument("--forbid-text", action="append", default=[], metavar="TEXT")
    c.add_argument("--from-port", type=int, help="only look at streams sent from this port")
    c.add_argument("--to-port", type=int, help="only look at streams sent to this port")
    c.add_argument("--equal-large-frames", action="store_true")
    sub.add_parser("selftest", help="test parsing and reassembly on a synthetic capture")
    a = ap.parse_args()
    return {"record": cmd_record, "check": cmd_check}.get(a.cmd, lambda _: selftest())(a)


if __name__ == "__main__":
    sys.exit(main())
