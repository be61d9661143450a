"""Ground truth: who really sent which packet, which packet carried which message, and what
every fetch brought — used ONLY to score the adversaries.

Sources, cross-checked against each other:
- the recording nodes (adversary/README.md, "Recordings"): a client packet enters its
  provider as `in` (from `client:<mailbox prefix>`, pool p); that node's `out` with pool p gives
  the link id towards the next hop, whose `in` with the same (from, link id) continues the chain
  up to the recipient's provider (`in` with verdict deliver: mailbox and item, or dummy_sink).
  `fetch` events say which items each fetch returned;
- the harness's own log of what it asked the clients to send (sent.jsonl: when, to whom, the
  client's message id);
- the clients' final inboxes (every workload message must be there exactly once).

Which packet carried which text: each client sends its queued real items in FIFO order (a text
when `sotto send` queued it, a delivery receipt when a fetch brought a text from a contact), so
replaying queue and departure events in time order assigns each real packet to its item; a
departure whose recipient differs from the head of the queue takes the first queued item for
that recipient and is counted (`fifo_violations`). With a capture, every hop of every packet is
matched to its frame (`events`: the capture event index per hop), so attacks' observations can
be looked up per message.

truth.json: {"clients": [...], "messages": [...], "fetches": [...], "links": {...},
"checks": {...}} (see build())."""
import bisect
import glob
import os
from collections import defaultdict, deque

from .errors import HarnessError

MATCH_BEFORE_US = 5_000        # a frame may appear at most this long before its `out` record
MATCH_AFTER_US = 2_000_000     # ... and at most this long after it


def load_recordings(rec_dir, read_jsonl):
    out = {}
    for path in sorted(glob.glob(os.path.join(rec_dir, "*.jsonl"))):
        node = os.path.basename(path)[:-len(".jsonl")]
        out[node] = read_jsonl(path)
    return out


class Chain:
    __slots__ = ("sender", "provider", "hops", "verdict", "mailbox", "item", "t_in",
                 "t_deliver", "final", "index", "hops_events")

    def __init__(self, sender, provider, t_in):
        self.sender, self.provider, self.t_in = sender, provider, t_in
        self.hops = []          # [(node, next node, out event)] in order
        self.verdict = None
        self.mailbox = self.item = self.t_deliver = self.final = None
        self.index = None
        self.hops_events = []   # capture event index per hop (client link first), or None


def trace_packets(recordings, client_of_label):
    """Every client packet's path through the recordings: [Chain], plus counts of loose ends."""
    ins_by_link, outs_by_pool = {}, defaultdict(list)
    for node, evs in recordings.items():
        for e in evs:
            if e.get("ev") == "in" and e.get("link_id") is not None:
                ins_by_link[(node, e.get("from"), e["link_id"])] = e
            elif e.get("ev") == "out" and e.get("pool") is not None:
                outs_by_pool[(node, e["pool"])].append(e)
    chains, loose = [], defaultdict(int)
    for node, evs in recordings.items():
        for e in evs:
            if e.get("ev") != "in" or not str(e.get("from", "")).startswith("client:"):
                continue
            sender = client_of_label.get(e["from"][len("client:"):])
            if sender is None:
                loose["unknown_client"] += 1
                continue
            c = Chain(sender, node, e["t"])
            cur_node, cur = node, e
            for _ in range(16):
                v = str(cur.get("verdict") or "")
                if v != "forward":
                    c.verdict, c.final = v, cur
                    if v == "deliver":
                        c.mailbox, c.item, c.t_deliver = cur.get("mailbox"), cur.get("item"), \
                            cur["t"]
                    break
                outs = [o for o in outs_by_pool.get((cur_node, cur.get("pool")), [])
                        if not o.get("resend")] or outs_by_pool.get((cur_node, cur.get("pool")),
                                                                    [])
                if not outs:
                    c.verdict = "not_forwarded"
                    loose["not_forwarded"] += 1
                    break
                out = outs[0]
                nxt = out.get("to")
                c.hops.append((cur_node, nxt, out))
                cur = ins_by_link.get((nxt, cur_node, out.get("link_id")))
                if cur is None:
                    c.verdict = "lost_after_" + cur_node
                    loose["not_received"] += 1
                    break
                cur_node = nxt
            chains.append(c)
    chains.sort(key=lambda c: c.t_in)
    for i, c in enumerate(chains):
        c.index = i
    return chains, dict(loose)


def match_link(records, frames):
    """Pairs records (sorted times of `out` events on one link) with frames (sorted (t0, event
    index) of PACKET frames on the same link), in order. Returns ({record i: event index},
    unmatched records, unmatched frames)."""
    got, j = {}, 0
    for i, t in enumerate(records):
        while j < len(frames) and frames[j][0] < t - MATCH_BEFORE_US:
            j += 1
        if j < len(frames) and frames[j][0] <= t + MATCH_AFTER_US:
            got[i] = frames[j][1]
            j += 1
    return got, len(records) - len(got), len(frames) - len(got)


def match_capture(chains, recordings, events, clients):
    """Sets chain hops' capture event indices; returns per-link counts (recorded vs captured)."""
    frames = defaultdict(list)
    for i, e in enumerate(events or []):
        if e["kind"] == "PACKET":
            frames[(e["src"], e["dst"])].append((e["t0"], i))
    per_link = {}
    # Node → node: every `out` record (resends too: they are frames on the wire).
    outs = defaultdict(list)
    for node, evs in recordings.items():
        for e in evs:
            if e.get("ev") == "out":
                outs[(node, e.get("to"))].append(e)
    ev_of_out = {}
    for link, recs in outs.items():
        recs.sort(key=lambda e: e["t"])
        got, miss_r, miss_f = match_link([r["t"] for r in recs], frames.get(link, []))
        for i, idx in got.items():
            ev_of_out[id(recs[i])] = idx
        per_link[f"{link[0]}->{link[1]}"] = {"recorded": len(recs),
                                             "captured": len(frames.get(link, [])),
                                             "unmatched_records": miss_r,
                                             "unmatched_frames": miss_f}
    # Client → provider: the provider's `in` records from each client.
    ev_of_in = {}
    ins = defaultdict(list)
    for c in chains:
        ins[(clients[c.sender]["name"], c.provider)].append(c)
    for link, cs in ins.items():
        # The frame precedes the `in` record (it was received, then processed).
        # In order, one frame per record: a two-pointer pass from the end gives each record
        # the latest frame before it that no later record took.
        fr = frames.get(link, [])
        j, pairs = len(fr) - 1, {}
        for i in range(len(cs) - 1, -1, -1):
            while j >= 0 and fr[j][0] > cs[i].t_in:
                j -= 1
            if j >= 0 and cs[i].t_in - fr[j][0] <= MATCH_AFTER_US:
                pairs[i] = fr[j][1]
                j -= 1
        for i, idx in pairs.items():
            ev_of_in[cs[i].index] = idx
        per_link[f"{link[0]}->{link[1]}"] = {"recorded": len(cs), "captured": len(fr),
                                             "unmatched_records": len(cs) - len(pairs),
                                             "unmatched_frames": len(fr) - len(pairs)}
    for c in chains:
        c_events = [ev_of_in.get(c.index)]
        for _node, _nxt, out in c.hops:
            c_events.append(ev_of_out.get(id(out)))
        c.hops_events = c_events
    return per_link


def build(run_info, recordings, sent, finals, events):
    """The truth dictionary (see the module comment)."""
    clients = run_info["clients"]
    label = {c["mailbox"][:16]: c["index"] for c in clients}
    mailbox_owner = {c["mailbox"]: c["index"] for c in clients}
    chains, loose = trace_packets(recordings, label)
    for c in chains:
        c.hops_events = [None] * (len(c.hops) + 1)
    per_link = match_capture(chains, recordings, events, clients) if events else {}
    delivered = {}
    for c in chains:
        if c.verdict == "deliver":
            delivered.setdefault((c.mailbox, c.item), c)

    # --- queue replay: which real packet carried which item --------------------------------
    timeline = []
    for r in sent:
        if r.get("message_id"):
            t = (r["before_us"] + r["after_us"]) // 2
            timeline.append((t, 0, "text", r))
    for c in chains:
        if c.verdict == "deliver" and mailbox_owner.get(c.mailbox) not in (None, c.sender):
            dep = c.t_in
            timeline.append((dep, 1, "departure", c))
    fetches = []
    for node, evs in recordings.items():
        for e in evs:
            if e.get("ev") == "fetch" and e.get("mailbox") in mailbox_owner:
                fetches.append((e["t"], node, e))
    fetches.sort(key=lambda x: x[0])
    for t, node, e in fetches:
        timeline.append((t, 2, "fetch", e))
    timeline.sort(key=lambda x: (x[0], x[1]))
    queues = defaultdict(deque)
    item_of_chain, fetched_once = {}, set()
    fifo_violations, unexplained = 0, 0
    fetch_rows = []
    for t, _o, kind, obj in timeline:
        if kind == "text":
            queues[obj["sender"]].append({"kind": "text", "to": obj["recipient"], "sent": obj})
        elif kind == "departure":
            q = queues[obj.sender]
            to = mailbox_owner[obj.mailbox]
            pos = next((i for i, it in enumerate(q) if it["to"] == to), None)
            if pos is None:
                unexplained += 1
                item_of_chain[obj.index] = {"kind": "unexplained", "to": to}
                continue
            fifo_violations += pos != 0
            it = q[pos]
            del q[pos]
            item_of_chain[obj.index] = it
        else:
            owner = mailbox_owner[obj["mailbox"]]
            items, receipts_for = [], []
            for item in obj.get("items") or []:
                c = delivered.get((obj["mailbox"], item))
                if c is None:
                    items.append({"item": item, "kind": "unknown"})
                    continue
                it = item_of_chain.get(c.index)
                if c.sender == owner:
                    k = "loop"
                elif it is None:
                    k = "unknown"
                else:
                    k = it["kind"]
                first = (obj["mailbox"], item) not in fetched_once
                fetched_once.add((obj["mailbox"], item))
                row = {"item": item, "kind": k, "origin": c.sender, "chain": c.index,
                       "first_fetch": first}
                if k == "text" and it is not None:
                    row["message"] = it["sent"]["id"]
                    if first and c.sender not in receipts_for:
                        receipts_for.append(c.sender)
                items.append(row)
            for r in receipts_for:
                queues[owner].append({"kind": "receipt", "to": r})
            fetch_rows.append({"client": owner, "t": obj["t"], "provider": None,
                               "items": items})

    # --- per-message rows -------------------------------------------------------------------
    chain_of_msg = {}
    for ci, it in item_of_chain.items():
        if it["kind"] == "text":
            chain_of_msg.setdefault(it["sent"]["id"], ci)
    inbox_count = defaultdict(int)
    for f in finals.values():
        for m in f.get("inbox", []):
            inbox_count[(f["name"], m.get("id"))] += 1
    burn_in_us = run_info["plan"]["burn_in_s"] * 1e6
    messages, missing_inbox, dup_inbox = [], 0, 0
    by_index = {c.index: c for c in chains}
    for r in sent:
        c = by_index.get(chain_of_msg.get(r["id"]))
        n_in = inbox_count.get((f"c{r['recipient']}", r.get("message_id")), 0)
        missing_inbox += n_in == 0
        dup_inbox += n_in > 1
        row = {"id": r["id"], "sender": r["sender"], "recipient": r["recipient"],
               "created_us": r["created_us"], "message_id": r.get("message_id"),
               "measured": r["created_us"] >= burn_in_us and r.get("message_id") is not None,
               "in_inbox": n_in}
        if c is not None:
            row.update({"chain": c.index, "t_in": c.t_in, "t_deliver": c.t_deliver,
                        "path": [h[0] for h in c.hops] + [c.final and (c.hops[-1][1] if c.hops
                                                                       else c.provider)],
                        "events": c.hops_events, "final_event": c.hops_events[-1],
                        "verdict": c.verdict})
        messages.append(row)
    verdicts = defaultdict(int)
    for c in chains:
        verdicts[c.verdict] += 1
    checks = {
        "client_packets": len(chains), "verdicts": dict(verdicts), "loose_ends": loose,
        "messages": len(sent), "sent_ok": sum(1 for r in sent if r.get("message_id")),
        "messages_with_packet": sum(1 for m in messages if "chain" in m),
        "missing_from_inbox": missing_inbox, "duplicated_in_inbox": dup_inbox,
        "fifo_violations": fifo_violations, "unexplained_real_packets": unexplained,
        "resends": sum(1 for evs in recordings.values() for e in evs
                       if e.get("ev") == "out" and e.get("resend")),
    }
    return {"clients": clients, "messages": messages, "fetches": fetch_rows,
            "links": per_link, "checks": checks}


class Truth:
    """Read access for attacks' score() (truth.json)."""

    def __init__(self, data):
        self.data = data
        self.clients = data["clients"]
        self.messages = data["messages"]
        self.fetches = data["fetches"]
        self.checks = data["checks"]
        self.links = data.get("links", {})

    def measured(self):
        return [m for m in self.messages if m["measured"] and "chain" in m]
