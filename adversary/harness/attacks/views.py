"""Helpers for attacks that hold corrupt providers: which client address is behind each
client label a provider records (a provider knows the address of every client that connects
to it; the harness recovers it from the recording and the capture, not from ground truth)."""
import bisect
from collections import defaultdict


def client_hosts(view, known=None):
    """{client label (16 hex digits): host name} for every label the corrupt providers in
    `view.recordings` saw: the address whose PACKET frames into that provider precede the
    label's `in` records (within 50 ms) most often."""
    out = dict(known or {})
    for p, evs in view.recordings.items():
        frames = defaultdict(list)
        for e in view.events:
            if e["kind"] == "PACKET" and e["dst"] == p and view.roles.get(e["src"]) == "client":
                frames[e["src"]].append(e["t"])
        for v in frames.values():
            v.sort()
        ins = defaultdict(list)
        for e in evs:
            if e.get("ev") == "in" and str(e.get("from", "")).startswith("client:"):
                ins[e["from"][7:]].append(e["t"])
        for label, ts in ins.items():
            if label in out:
                continue
            best = max(frames, key=lambda h: _overlap(ts, frames[h]), default=None)
            if best is not None:
                out[label] = best
    return out


def host_of_peer_fn(label_to_host):
    """A recording's peer name (`client:LABEL` or a node name) -> host name."""
    def host(peer):
        peer = str(peer)
        if peer.startswith("client:"):
            return label_to_host.get(peer[len("client:"):], peer)
        return peer
    return host


def _overlap(ins, frames):
    c = 0
    for t in ins[:200]:
        j = bisect.bisect_right(frames, t)
        c += j > 0 and t - frames[j - 1] < 50_000
    return c


def own_frames(recordings, events, host_of_peer):
    """{id(record): capture event index} for the `in` and `out` records of corrupt nodes, as
    the nodes themselves know them: the k-th PACKET a node wrote to a next hop is the k-th
    PACKET frame on that link (its own TCP stream, in order), and the k-th it received from a
    previous hop the k-th frame from there. Where a link's record and frame counts differ (a
    frame the capture missed), that link falls back to truth.match_capture's matching by
    time. Returns (map, {link: "order" | "time"})."""
    from .. import truth as truthmod
    frames = defaultdict(list)
    for i, e in enumerate(events):
        if e["kind"] == "PACKET":
            frames[(e["src"], e["dst"])].append((e["t0"], e["t"], i))
    for v in frames.values():
        v.sort()
    by_link = defaultdict(list)
    for node, evs in recordings.items():
        for e in evs:
            if e.get("ev") == "out":
                by_link[("out", node, e.get("to"))].append(e)
            elif e.get("ev") == "in":
                by_link[("in", host_of_peer(e.get("from")), node)].append(e)
    out, how, fallback = {}, {}, {}
    for (kind, a, b), recs in by_link.items():
        fr = frames.get((a, b), [])
        key = f"{a}->{b} ({kind})"
        if len(fr) == len(recs):
            for r, f in zip(recs, fr):     # records are in the order the node wrote them
                out[id(r)] = f[2]
            how[key] = "order"
        else:
            fallback[a, b] = True
            how[key] = f"time ({len(recs)} records, {len(fr)} frames)"
    if fallback:
        sub = {n: [e for e in evs] for n, evs in recordings.items()}
        ev_of, _ = truthmod.match_capture(sub, events, host_of_peer)
        for (kind, a, b), recs in by_link.items():
            if (a, b) in fallback:
                for r in recs:
                    if id(r) in ev_of:
                        out[id(r)] = ev_of[id(r)]
    return out, how
