"""Classic pcap files: read packets one by one (Ethernet, raw IP or Linux cooked capture) and
parse IPv4/TCP headers. Only headers are interpreted here; payload bytes are passed on.

`packets(path)` yields (time_us, ip_packet); `tcp_segment(ip)` returns a Segment or None.
pcapng is not read (tcpdump -w writes classic pcap). Microsecond and nanosecond timestamp
formats are both accepted; times are integers in microseconds since the Unix epoch, the clock
of the recording nodes and of the harness itself."""
import socket
import struct
from collections import namedtuple

from .errors import HarnessError

MAGIC_US, MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D
LINK_STRIP = {1: 14, 101: 0, 228: 0, 113: 16}  # Ethernet, raw, raw IPv4, Linux SLL

Segment = namedtuple("Segment", "src sport dst dport seq flags payload")
SYN, FIN, RST = 0x02, 0x01, 0x04


def header(link=101, snaplen=262144):
    return struct.pack("<IHHiIII", MAGIC_US, 2, 4, 0, 0, snaplen, link)


def record(time_us, pkt):
    return struct.pack("<IIII", time_us // 1_000_000, time_us % 1_000_000, len(pkt),
                       len(pkt)) + pkt


def packets(path, chunk=1 << 22):
    """Yields (time_us, IPv4 packet bytes) from a classic pcap file, streaming."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise HarnessError(f"cannot read capture {path}: {e.strerror}")
    with f:
        head = f.read(24)
        if len(head) < 24:
            raise HarnessError(f"{path}: too short for a pcap file")
        for e in "<>":
            magic = struct.unpack(e + "I", head[:4])[0]
            if magic in (MAGIC_US, MAGIC_NS):
                break
        else:
            raise HarnessError(f"{path}: not a classic pcap file (pcapng is not supported)")
        nano = magic == MAGIC_NS
        link = struct.unpack(e + "I", head[20:24])[0] & 0xFFFF
        strip = LINK_STRIP.get(link)
        if strip is None:
            raise HarnessError(f"{path}: unsupported link type {link}")
        rec = struct.Struct(e + "IIII")
        buf, pos = b"", 0
        while True:
            if len(buf) - pos < 16:
                more = f.read(chunk)
                buf = buf[pos:] + more
                pos = 0
                if len(buf) < 16:
                    return  # end (a truncated last record is ignored)
            sec, frac, incl, _orig = rec.unpack_from(buf, pos)
            if len(buf) - pos < 16 + incl:
                more = f.read(max(chunk, incl + 16))
                buf = buf[pos:] + more
                pos = 0
                if len(buf) < 16 + incl:
                    return
            pkt = buf[pos + 16:pos + 16 + incl]
            pos += 16 + incl
            t = sec * 1_000_000 + (frac // 1000 if nano else frac)
            if strip == 14:
                if pkt[12:14] == b"\x81\x00":  # one VLAN tag
                    pkt = pkt[4:]
                if pkt[12:14] != b"\x08\x00":
                    continue
            elif strip == 16 and pkt[14:16] != b"\x08\x00":
                continue
            yield t, pkt[strip:]


def tcp_segment(ip):
    """The TCP segment of an unfragmented IPv4 packet, or None."""
    if len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 15) * 4
    total = struct.unpack_from("!H", ip, 2)[0] or len(ip)  # 0: a GSO super-packet
    if struct.unpack_from("!H", ip, 6)[0] & 0x3FFF or total > len(ip) or total < ihl + 20:
        return None
    sport, dport, seq = struct.unpack_from("!HHI", ip, ihl)
    doff = (ip[ihl + 12] >> 4) * 4
    if doff < 20 or ihl + doff > total:
        return None
    return Segment(socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport,
                   seq, ip[ihl + 13], ip[ihl + doff:total])


def ip_tcp(src, sport, dst, dport, seq, flags, payload):
    """An IPv4/TCP packet (for tests and synthetic captures)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % (1 << 32), 0, 5 << 4, flags, 65535, 0, 0)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + tcp + payload
