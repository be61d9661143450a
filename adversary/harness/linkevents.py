"""The observer's view: a capture turned into link events, one per ZMTP message.

    {"t": T_LAST_US, "t0": T_FIRST_US, "src": HOST, "dst": HOST, "size": PLAINTEXT_BYTES,
     "kind": KIND, "conn": N}

`src`/`dst` are hosts named by their address (an observer of a real network sees addresses;
the run's host table names them), `size` is the frame size minus the CURVE overhead, `kind` is
what kinds.classify infers from the size and the two ends, `conn` numbers the TCP connections.
Content is never read: only TCP headers, ZMTP frame headers and command names.

`extract(pcap, hosts, roles)` returns (events sorted by t, summary); the summary lists every
connection's mechanism, frame count and problems, a size histogram per (src role, dst role),
and the kinds found, so that a reader can check the inferred mapping against network-spec §3."""
import json
from collections import Counter, defaultdict

from . import kinds, pcap, tcpflow


def extract(pcap_path, addr_to_host, host_roles):
    streams, every, events = {}, [], []
    segs = 0
    for t, ip in pcap.packets(pcap_path):
        seg = pcap.tcp_segment(ip)
        if seg is None:
            continue
        segs += 1
        key = (seg.src, seg.sport, seg.dst, seg.dport)
        st = streams.get(key)
        if st is None or (seg.flags & pcap.SYN and st.bytes > 0):  # new, or the 4-tuple reused
            st = streams[key] = tcpflow.ZmtpStream(key)
            rev = streams.get((seg.dst, seg.dport, seg.src, seg.sport))
            # A connection's two directions share a number: the second direction to appear
            # (the SYN-ACK's) takes the first one's, unless that one is an older connection's.
            st.conn = rev.conn if rev is not None and not rev.paired else len(every)
            if rev is not None and not rev.paired:
                rev.paired = st.paired = True
            every.append(st)
        for fr in st.feed(t, seg.seq, seg.flags, seg.payload):
            if fr.command and fr.name != "MESSAGE":
                continue  # the CURVE handshake
            size = fr.size - kinds.CURVE_OVERHEAD if fr.name == "MESSAGE" else fr.size
            src = addr_to_host.get(seg.src, seg.src)
            dst = addr_to_host.get(seg.dst, seg.dst)
            events.append({"t": fr.t_last, "t0": fr.t_first, "src": src, "dst": dst,
                           "size": size, "conn": st.conn,
                           "kind": kinds.classify(size, host_roles.get(src, "client"),
                                                  host_roles.get(dst, "client"))})
    hist = defaultdict(Counter)
    kind_count = Counter()
    for e in events:
        hist[f"{host_roles.get(e['src'], '?')}->{host_roles.get(e['dst'], '?')}"][e["size"]] += 1
        kind_count[e["kind"]] += 1
    problems, mechanisms = [], Counter()
    for st in every:
        st.finish()
        mechanisms[st.mechanism or "none"] += 1
        for p in st.problems:
            problems.append(f"{st.key[0]}:{st.key[1]}->{st.key[2]}:{st.key[3]}: {p}")
    events.sort(key=lambda e: (e["t"], e["conn"]))
    summary = {
        "segments": segs, "streams": len(every), "events": len(events),
        "mechanisms": dict(mechanisms), "problems": problems,
        "kinds": dict(kind_count),
        "sizes": {k: dict(sorted(v.items())) for k, v in sorted(hist.items())},
        "curve_overhead": kinds.CURVE_OVERHEAD,
    }
    return events, summary


def write(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":"), sort_keys=True) + "\n")


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
