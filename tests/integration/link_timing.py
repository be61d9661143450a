#!/usr/bin/python3
"""link_timing.py: what a passive observer of a client's link to its provider sees, in time.

Why: papers/client-spec.md §9 claims that the times at which a client sends packets and
acknowledges its mail do not depend on what it is doing. This tool measures that on a real
capture (wire_capture.py record) and tests it:

  link_timing.py extract CAP.pcap --provider-port P --client LABEL=PORT[,PORT...] ...
                         [--after UNIX_TIME] --out F.json
      For each labelled client (its TCP source ports towards the provider, e.g. read with `ss`),
      parses the ZMTP/CURVE frames of both directions, names them by size (PACKET, FETCH, ACK,
      MAIL, ...) and writes two samples per client to F.json:
        packet_gaps_s   the times between consecutive PACKET departures (client -> provider)
        mail_ack_gaps_s for each MAIL reply, the time from its last byte to the first byte of the
                        next ACK the client sends
  link_timing.py ks F.json --a busy --b idle [--alpha 0.01] [--power 0.9] [--control FIXTURE]
      Two-sample Kolmogorov-Smirnov test of A against B on both samples. With --control, the
      sample size n for each statistic is the smallest (on a grid) with power >= --power against
      the effect recorded in FIXTURE (resampling both groups of the fixture, fixed seed), and the
      same test on FIXTURE itself (its first n values per group) must reject: the positive
      control. Exit 0 if A and B are indistinguishable on the live data (p >= alpha for both)
      and the control rejected; 1 otherwise; 3 if the live data holds fewer than n values.
  link_timing.py power FIXTURE [--alpha 0.01] [--power 0.9]   prints the sample sizes needed.
  link_timing.py fetches CAP.pcap --provider-port P
      Every connection that fetched mail (the daemons' and `sotto init`'s registration) got only
      MAIL replies of 8 items (16 651 bytes) and sent an ACK after each (leak 7 of issue 9).
  link_timing.py selftest    checks the KS p-values, the power search and the frame timing code.

Frame sizes: a CURVE MESSAGE command is 33 bytes longer than the Sotto wire message it carries
(network-spec §3): PACKET 2481 -> 2514, FETCH 35 -> 68, ACK (8 ids) 99 -> 132,
MAIL (8 items) 16651 -> 16684, PACKET_ACK 9 -> 42, ACKED 3 -> 36.
Only the Python standard library is used (Debian's /usr/bin/python3).
"""
import argparse, bisect, json, math, os, random, struct, sys  # noqa: E401 (stdlib only)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire_capture as wc  # noqa: E402

CURVE_OVERHEAD = 33
KINDS = {2481: "PACKET", 9: "PACKET_ACK", 35: "FETCH", 99: "ACK", 16651: "MAIL", 3: "ACKED"}
SAMPLES = ("packet_gaps_s", "mail_ack_gaps_s")


def read_pcap_ts(data):
    """[(timestamp, IPv4 packet)] of a classic pcap file written by wire_capture.py."""
    for e in "<>":
        if len(data) >= 24 and struct.unpack_from(e + "I", data)[0] in (0xA1B2C3D4, 0xA1B23C4D):
            nano = struct.unpack_from(e + "I", data)[0] == 0xA1B23C4D
            break
    else:
        raise ValueError("not a classic pcap file")
    link = struct.unpack_from(e + "I", data, 20)[0] & 0xFFFF
    strip = {101: 0, 228: 0, 1: 14, 113: 16}.get(link)
    if strip is None:
        raise ValueError(f"unsupported link type {link}")
    pos, out = 24, []
    while pos + 16 <= len(data):
        sec, frac, incl = struct.unpack_from(e + "III", data, pos)
        pkt, pos = data[pos + 16:pos + 16 + incl], pos + 16 + incl
        if not strip or pkt[strip - 2:strip] == b"\x08\x00":
            out.append((sec + frac / (1e9 if nano else 1e6), pkt[strip:]))
    return out


def timed_frames(segs):
    """[(start_ts, end_ts, size)] of the ZMTP frames of one direction of a connection.

    segs: [(ts, seq, flags, payload)]. A frame's start is the capture time of the segment that
    carried its first byte, its end that of the segment that carried its last byte (the first
    copy of a byte wins, as in wire_capture.reassemble)."""
    runs, syn = wc.reassemble([(s, f, p) for _, s, f, p in segs])
    if not syn or not runs or runs[0][0] != 0:
        return []
    syns = [s for _, s, f, _ in segs if f & wc.SYN]
    base = (syns[0] + 1) % wc.MOD
    # byte ranges in first-capture order: (offset, end, ts); earliest copy of a byte wins
    pieces = []
    for ts, s, f, p in sorted(segs, key=lambda x: x[0]):
        if not p:
            continue
        d = (s - base) % wc.MOD
        off = d - wc.MOD if d >= wc.MOD // 2 else d
        pieces.append((off, off + len(p), ts))
    starts = sorted(pieces)
    keys = [p[0] for p in starts]

    def first_time(byte):
        best = None
        i = bisect.bisect_right(keys, byte)
        for off, end, ts in starts[max(0, i - 64):i]:
            if off <= byte < end and (best is None or ts < best):
                best = ts
        return best

    buf = runs[0][1]
    _, sizes, _ = wc.zmtp_frames(buf)
    out, pos = [], 64
    for size in sizes:
        head = 2 if buf[pos] & 2 == 0 else 9
        t0, t1 = first_time(pos), first_time(pos + head + size - 1)
        if t0 is not None and t1 is not None:
            out.append((t0, t1, size))
        pos += head + size
    return out


def kind_of(size):
    return KINDS.get(size - CURVE_OVERHEAD, f"other({size})")


def extract(packets, provider_port, clients, after=0.0):
    """{label: {"packet_gaps_s": [...], "mail_ack_gaps_s": [...], "counts": {...}}}."""
    by_port = {p: label for label, ports in clients.items() for p in ports}
    streams = {}
    for ts, pkt in packets:
        seg = wc.parse_ipv4_tcp(pkt)
        if not seg:
            continue
        src, sport, dst, dport, seq, flags, payload = seg
        if dport == provider_port and sport in by_port:
            streams.setdefault((sport, "up"), []).append((ts, seq, flags, payload))
        elif sport == provider_port and dport in by_port:
            streams.setdefault((dport, "down"), []).append((ts, seq, flags, payload))
    result = {}
    for label, ports in clients.items():
        events = []  # (time, direction, kind)
        for port in ports:
            for t0, t1, size in timed_frames(streams.get((port, "up"), [])):
                events.append((t0, "up", kind_of(size)))
            for t0, t1, size in timed_frames(streams.get((port, "down"), [])):
                events.append((t1, "down", kind_of(size)))
        events = sorted(e for e in events if e[0] >= after)
        counts = {}
        for _, d, k in events:
            counts[f"{d} {k}"] = counts.get(f"{d} {k}", 0) + 1
        sends = [t for t, d, k in events if d == "up" and k == "PACKET"]
        gaps = [round(b - a, 6) for a, b in zip(sends, sends[1:])]  # pcap times are in µs
        mail_ack, waiting = [], None
        fetch_mail, fetched = [], None
        for t, d, k in events:
            if d == "up" and k == "FETCH":
                fetched = t
            elif d == "down" and k == "MAIL":
                if fetched is not None:
                    fetch_mail.append(round(t - fetched, 6))
                    fetched = None
                if waiting is None:
                    waiting = t
            elif d == "up" and k == "ACK" and waiting is not None:
                mail_ack.append(round(t - waiting, 6))
                waiting = None
        result[label] = {"packet_gaps_s": gaps, "mail_ack_gaps_s": mail_ack, "counts": counts,
                         "fetch_mail_gaps_s": fetch_mail,
                         "packet_times_s": [round(t - after, 6) for t in sends]}
    return result


# ---- statistics ---------------------------------------------------------------------------

def ks_statistic(a, b):
    a, b = sorted(a), sorted(b)
    i = j = 0
    d = 0.0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        while i < len(a) and a[i] <= x:
            i += 1
        while j < len(b) and b[j] <= x:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    return d


def kolmogorov_q(lam):
    """P(K > lam) for the Kolmogorov distribution."""
    if lam < 0.2:
        return 1.0
    s = 0.0
    for k in range(1, 101):
        term = 2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam)
        s += term
        if abs(term) < 1e-12:
            break
    return max(0.0, min(1.0, s))


def ks_test(a, b):
    """(D, p): two-sample KS with the asymptotic p-value and Stephens' small-sample correction
    (Numerical Recipes, kstwo); conservative with ties."""
    d = ks_statistic(a, b)
    en = math.sqrt(len(a) * len(b) / (len(a) + len(b)))
    return d, kolmogorov_q((en + 0.12 + 0.11 / en) * d)


def power(a, b, n, alpha, reps=400, seed=1):
    rng = random.Random(seed)
    hits = 0
    for _ in range(reps):
        x = [rng.choice(a) for _ in range(n)]
        y = [rng.choice(b) for _ in range(n)]
        if ks_test(x, y)[1] < alpha:
            hits += 1
    return hits / reps


GRID = [20, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500]


def needed_n(a, b, alpha, target):
    """(n, power at n): the smallest n of GRID with power >= target, else (None, best)."""
    best = 0.0
    for n in GRID:
        p = power(a, b, n, alpha)
        best = max(best, p)
        if p >= target:
            return n, p
    return None, best


def cmd_extract(a):
    clients = {}
    for spec in a.client:
        label, _, ports = spec.partition("=")
        try:
            clients[label] = [int(p) for p in ports.split(",") if p]
        except ValueError:
            print(f"link_timing: --client {spec}: ports must be numbers", file=sys.stderr)
            return 2
    with open(a.pcap, "rb") as f:
        packets = read_pcap_ts(f.read())
    res = extract(packets, a.provider_port, clients, a.after)
    for spec in a.user_sends:
        label, _, path = spec.partition("=")
        with open(path) as f:
            res[label]["user_send_times_s"] = [round(float(x) - a.after, 6) for x in f.read().split()]
    for label, r in res.items():
        print(f"{label}: {len(r['packet_gaps_s'])} packet gaps, {len(r['mail_ack_gaps_s'])} "
              f"MAIL->ACK gaps; frames: {r['counts']}")
    out = {"clients": res}
    if a.note:
        out["note"] = a.note
    with open(a.out, "w") as f:
        json.dump(out, f, indent=0)
    return 0


def describe(xs):
    if not xs:
        return "empty"
    s = sorted(xs)
    q = lambda p: s[min(len(s) - 1, int(p * len(s)))]  # noqa: E731
    return (f"n={len(s)}, median {q(0.5) * 1e3:.3f} ms, p10 {q(0.1) * 1e3:.3f} ms, "
            f"p90 {q(0.9) * 1e3:.3f} ms")


def load(path):
    with open(path) as f:
        return json.load(f)["clients"]


def gaps(times):
    t = sorted(times)
    return [b - a for a, b in zip(t, t[1:])]


# The smallest sample size used for the packet gaps: the recorded data of the code before the fix
# shows no effect there, so n is set by the time budget and the power is reported (see plan()).
PACKET_FLOOR = 300
# The smallest sample size used for the MAIL->ACK gaps (more than the recorded leak needs, for
# power against smaller effects too).
MAIL_FLOOR = 120


def plan(fix, a, b, alpha, target):
    """For each sample: (n, [(control name, x, y, power at n, primary?)]).

    mail_ack_gaps_s: the control is the fixture as recorded (the leak of the code before the
    fix); n = max(MAIL_FLOOR, the smallest n with power >= target against it).
    packet_gaps_s: the recorded fixture carries no measurable effect, so the primary control puts
    a packet-timing leak back into it: "cover off", a client that sends only when its user sends
    (busy's recorded send times) against idle's recorded gaps. A milder leak, "each real message
    sent at once on top of the cover traffic", is reported with its power, which the time budget
    cannot bring to the target. n = max(PACKET_FLOOR, the n the primary control needs)."""
    out = {}
    fa, fb = fix[a], fix[b]
    recorded = ("recorded (the code before the fix)",)
    for sample in SAMPLES:
        x, y = fa[sample], fb[sample]
        if sample == "mail_ack_gaps_s":
            n, _ = needed_n(x, y, alpha, target)
            n = max(n, MAIL_FLOOR) if n else None
            pw = power(x, y, n, alpha) if n else 0.0
            out[sample] = (n, [(recorded[0], x, y, pw, True)])
            continue
        sends = fa.get("user_send_times_s", [])
        off = gaps(sends)
        at_once = gaps(fa.get("packet_times_s", []) + sends)
        n_off, _ = needed_n(off, y, alpha, target)
        n = max(PACKET_FLOOR, n_off or 0) if n_off else None
        ctl = []
        for name, cx, primary in ((recorded[0], x, False),
                                  ("leak put back: cover off (only the user's sends)", off, True),
                                  ("leak put back: real messages at once, on top of cover",
                                   at_once, False)):
            ctl.append((name, cx, y, power(cx, y, n, alpha) if n and cx else 0.0, primary))
        out[sample] = (n, ctl)
    return out


def cmd_power(a):
    fix = load(a.fixture)
    for sample, (n, controls) in plan(fix, a.a, a.b, a.alpha, a.power).items():
        x, y = fix[a.a][sample], fix[a.b][sample]
        d, p = ks_test(x, y)
        print(f"{sample}: n for power >= {a.power}: {n}; fixture as recorded: D={d:.3f} "
              f"p={p:.2g} ({len(x)} vs {len(y)} values)")
        for name, cx, cy, pw, primary in controls:
            print(f"  power at n={n} against {name}: {pw:.3f}{' (primary)' if primary else ''}")
    return 0


def cmd_ks(a):
    live = load(a.data)
    ok = True
    short = False
    plans = plan(load(a.control), a.a, a.b, a.alpha, a.power) if a.control else {}
    for sample in SAMPLES:
        x, y = live[a.a][sample], live[a.b][sample]
        print(f"{sample}: {a.a}: {describe(x)}; {a.b}: {describe(y)}")
        n = min(len(x), len(y))
        if a.control:
            need, controls = plans[sample]
            if need is None:
                print(f"  FAIL: no n up to {GRID[-1]} gives power {a.power} against the "
                      f"positive control: this statistic cannot detect the leak")
                ok = False
                continue
            print(f"  sample size n={need} (alpha={a.alpha}; power from 400 resamples of the "
                  f"fixture, seed 1)")
            for name, cx, cy, pw, primary in controls:
                m = min(need, len(cx), len(cy))
                cd, cp = ks_test(cx[:m], cy[:m])
                verdict = "rejects" if cp < a.alpha else "does not reject"
                print(f"  {'positive control' if primary else 'also'}: {name}: power {pw:.3f}; "
                      f"first {m} values: D={cd:.3f} p={cp:.3g} -> {verdict}")
                if primary and cp >= a.alpha:
                    print("  FAIL: the positive control was not detected")
                    ok = False
            if n < need:
                print(f"  only {n} values in the live data, {need} needed")
                short = True
                continue
            n = need
        d, p = ks_test(x[:n], y[:n])
        same = p >= a.alpha
        print(f"  live data (first {n} values each): D={d:.3f} p={p:.3g} -> "
              f"{'indistinguishable' if same else 'DIFFERENT'} at alpha={a.alpha}")
        ok = ok and same
    for info in ("fetch_mail_gaps_s",):  # the provider's answer time: reported, not tested here
        if info in live[a.a] and info in live[a.b]:
            x, y = live[a.a][info], live[a.b][info]
            d, p = ks_test(x, y) if x and y else (0.0, 1.0)
            print(f"{info} (the provider's time, for information): {a.a}: {describe(x)}; "
                  f"{a.b}: {describe(y)}; KS D={d:.3f} p={p:.3g}")
    if short:
        return 3
    return 0 if ok else 1


def fetch_exchanges(packets, provider_port):
    """Per client connection to the provider that fetched: (port, FETCHes, MAIL sizes, ACKs)."""
    streams = {}
    for ts, pkt in packets:
        seg = wc.parse_ipv4_tcp(pkt)
        if not seg:
            continue
        src, sport, dst, dport, seq, flags, payload = seg
        if dport == provider_port:
            streams.setdefault((sport, "up"), []).append((ts, seq, flags, payload))
        elif sport == provider_port:
            streams.setdefault((dport, "down"), []).append((ts, seq, flags, payload))
    out = []
    for (port, d), segs in sorted(streams.items()):
        if d != "up":
            continue
        up = [kind_of(size) for _, _, size in timed_frames(segs)]
        if "FETCH" not in up:
            continue
        down = [size - CURVE_OVERHEAD for _, _, size in timed_frames(streams.get((port, "down"), []))]
        mails = [n for n in down if n > 2481 + 9]  # larger than anything but a MAIL reply
        out.append((port, up.count("FETCH"), mails, up.count("ACK")))
    return out


def cmd_fetches(a):
    """Every fetch on the link looks the same: MAIL replies of 8 items (16 651 bytes), each
    followed by an ACK (the last one may fall after the capture)."""
    with open(a.pcap, "rb") as f:
        packets = read_pcap_ts(f.read())
    rows = fetch_exchanges(packets, a.provider_port)
    ok = bool(rows)
    for port, fetches, mails, acks in rows:
        sizes = sorted(set(mails))
        good = sizes == [16651] and acks >= len(mails) - 1
        ok = ok and good
        print(f"{'ok' if good else 'FAIL'}: connection from port {port}: {fetches} FETCH, "
              f"{len(mails)} MAIL of sizes {sizes}, {acks} ACK")
    if not rows:
        print("FAIL: no connection with a FETCH in the capture; the check proves nothing")
    return 0 if ok else 1


def selftest():
    failures = []
    rng = random.Random(3)
    same = [ks_test([rng.random() for _ in range(200)], [rng.random() for _ in range(200)])[1]
            for _ in range(200)]
    rate = sum(p < 0.05 for p in same) / len(same)
    if not rate <= 0.1:
        failures.append(f"false positive rate {rate} at alpha 0.05")
    x = [rng.random() for _ in range(100)]
    y = [rng.random() + 0.5 for _ in range(100)]
    if not ks_test(x, y)[1] < 1e-6:
        failures.append("shifted samples not rejected")
    if abs(ks_statistic([1, 2, 3], [1, 2, 3])) > 1e-12 or ks_statistic([0], [1]) != 1.0:
        failures.append("KS statistic")
    n, pw = needed_n(x, y, 0.01, 0.9)
    if n is None or pw < 0.9:
        failures.append(f"power search: {n} {pw}")
    # frame timing: a greeting then two frames in three segments at t = 1, 2, 3
    greeting = b"\xff" + bytes(8) + b"\x7f\x03\x00" + b"CURVE".ljust(20, b"\0") + bytes(32)
    f1 = b"\x04" + bytes([68]) + bytes(68)
    f2 = b"\x06" + struct.pack("!Q", 2514) + bytes(2514)
    data = greeting + f1 + f2
    isn = 1000
    segs = [(0.5, isn, wc.SYN, b""), (1.0, isn + 1, 0, data[:134]),
            (2.0, isn + 135, 0, data[134:1000]), (3.0, isn + 1001, 0, data[1000:]),
            (4.0, isn + 1001, 0, data[1000:])]  # a retransmission: the first copy counts
    frames = timed_frames(segs)
    if frames != [(1.0, 1.0, 68), (2.0, 3.0, 2514)]:
        failures.append(f"timed frames {frames}")
    for f in failures:
        print(f"selftest FAIL: {f}")
    print("selftest: ok" if not failures else f"selftest: {len(failures)} failures")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description="Timing on a client's link (Sotto tests).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("pcap")
    e.add_argument("--provider-port", type=int, required=True)
    e.add_argument("--client", action="append", default=[], metavar="LABEL=PORT[,PORT...]")
    e.add_argument("--out", required=True)
    e.add_argument("--note")
    e.add_argument("--user-sends", action="append", default=[], metavar="LABEL=FILE",
                   help="Unix times at which that client's user sent a message (one a line)")
    e.add_argument("--after", type=float, default=0.0, help="ignore frames before this Unix time")
    k = sub.add_parser("ks")
    k.add_argument("data")
    k.add_argument("--a", required=True)
    k.add_argument("--b", required=True)
    k.add_argument("--alpha", type=float, default=0.01)
    k.add_argument("--power", type=float, default=0.9)
    k.add_argument("--control")
    p = sub.add_parser("power")
    p.add_argument("fixture")
    p.add_argument("--a", default="busy")
    p.add_argument("--b", default="idle")
    p.add_argument("--alpha", type=float, default=0.01)
    p.add_argument("--power", type=float, default=0.9)
    f = sub.add_parser("fetches")
    f.add_argument("pcap")
    f.add_argument("--provider-port", type=int, required=True)
    sub.add_parser("selftest")
    a = ap.parse_args()
    return {"extract": cmd_extract, "ks": cmd_ks, "power": cmd_power, "fetches": cmd_fetches}.get(
        a.cmd, lambda _: selftest())(a)


if __name__ == "__main__":
    sys.exit(main())
