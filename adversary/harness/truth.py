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
import glob
import os
from collections import defaultdict, deque


MATCH_BEFORE_US = 200_000      # a frame may appear at most this long before its `out` record
MATCH_AFTER_US = 2_000_000     # ... and at most this long after it
RECEIVE_LAG_US = 500_000       # a frame is processed (`in`) at most this long after it arrived


def load_recordings(rec_dir, read_jsonl):
    out = {}
    for path in sorted(glob.glob(os.path.join(rec_dir, "*.jsonl"))):
        node = os.path.basename(path)[:-len(".jsonl")]
        out[node] = read_jsonl(path)
    return out


class Chain:
    __slots__ = ("sender", "provider", "hops", "ins", "verdict", "mailbox", "item", "t_in",
                 "t_deliver", "final", "index", "hops_events")

    def __init__(self, sender, provider, t_in):
        self.sender, self.provider, self.t_in = sender, provider, t_in
        self.hops = []          # [(node, next node, out record)] in order
        self.ins = []           # the `in` record at each node, the sender's provider first
        self.verdict = None
        self.mailbox = self.item = self.t_deliver = self.final = None
        self.index = None
        self.hops_events = []   # capture event index of each hop's frame (client link first)


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
                c.ins.append(cur)
                v = str(cur.get("verdict") or "")
                if v != "forward":
                    c.verdict, c.final = v, cur
                    if v == "deliver":
                        c.mailbox, c.item, c.t_deliver = (cur.get("mailbox"), cur.get("item"),
                                                          cur["t"])
                    break
                outs = outs_by_pool.get((cur_node, cur.get("pool")), [])
                firsts = [o for o in outs if not o.get("resend") and o.get("action") != "replayed"]
                if not outs:
                    c.verdict = "not_forwarded"
                    loose["not_forwarded"] += 1
                    break
                out = (firsts or outs)[0]
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


def match_forward(times, frames):
    """Each record (sorted send times) to the first unused frame (sorted (t0, index)) that left
    after it (or at most MATCH_BEFORE_US before: a node descheduled between handing a frame to
    its socket and writing the record makes the record late). With as many frames as records
    on the link — one TCP connection is FIFO — the k-th record is the k-th frame.
    Returns {record position: event index}."""
    if len(times) == len(frames):
        return {i: frames[i][1] for i in range(len(times))}
    got, j = {}, 0
    for i, t in enumerate(times):
        while j < len(frames) and frames[j][0] < t - MATCH_BEFORE_US:
            j += 1
        if j < len(frames) and frames[j][0] <= t + MATCH_AFTER_US:
            got[i] = frames[j][1]
            j += 1
    return got


def match_backward(times, frames):
    """Each record (sorted processing times) to the latest unused frame (sorted (t, index))
    fully received before it; rank for rank when the counts agree (see match_forward).
    Returns {record position: event index}."""
    if len(times) == len(frames):
        return {i: frames[i][1] for i in range(len(times))}
    got, j = {}, len(frames) - 1
    for i in range(len(times) - 1, -1, -1):
        while j >= 0 and frames[j][0] > times[i]:
            j -= 1
        if j >= 0 and times[i] - frames[j][0] <= RECEIVE_LAG_US:
            got[i] = frames[j][1]
            j -= 1
    return got


def match_capture(recordings, events, host_of_peer):
    """Maps recording records to capture frames, link by link, by time and order: every
    `out` record to the frame it sent, every `in` record to the frame it received. Returns
    ({id(record): event index}, per-link counts of records and frames)."""
    t0s, t1s = defaultdict(list), defaultdict(list)
    for i, e in enumerate(events):
        if e["kind"] == "PACKET":
            t0s[(e["src"], e["dst"])].append((e["t0"], i))
            t1s[(e["src"], e["dst"])].append((e["t"], i))
    for v in list(t0s.values()) + list(t1s.values()):
        v.sort()
    outs, ins = defaultdict(list), defaultdict(list)
    for node, evs in recordings.items():
        for e in evs:
            if e.get("ev") == "out":
                outs[(node, e.get("to"))].append(e)
            elif e.get("ev") == "in":
                ins[(host_of_peer(e.get("from")), node)].append(e)
    ev_of, per_link = {}, {}
    for link in sorted(set(outs) | set(ins), key=str):
        frames = t0s.get(link, [])
        row = {"captured": len(frames)}
        for kind, recs, match, fr in (("out", outs.get(link), match_forward, frames),
                                      ("in", ins.get(link), match_backward, t1s.get(link, []))):
            if not recs:
                continue
            recs.sort(key=lambda e: e["t"])
            got = match([r["t"] for r in recs], fr)
            for i, idx in got.items():
                ev_of[id(recs[i])] = idx
            row[f"recorded_{kind}"] = len(recs)
            row[f"unmatched_{kind}"] = len(recs) - len(got)
        # On a link between two recording nodes, the sends and receipts of one link id pair up
        # in order (a first send with the `in` that forwarded it, a resend with its `replay`),
        # and the `out` takes its `in`'s frame (an `out` without a frame leaves its `in`
        # without one too; an `in` without one takes the `out`'s): a receiver records a frame
        # after it arrived,
        # so matching `in`s by time is safe, while a loaded sender may record its `out` some
        # milliseconds after the frame left, which can make the forward match pick the next
        # frame. (Ids are unique per link for real packets; a dummy's id is 0 on today's code
        # and keeps its match by time.)
        by_id_in = defaultdict(list)
        for r in ins.get(link, []):
            by_id_in[r.get("link_id")].append(r)
        by_id_out = defaultdict(list)
        for o in outs.get(link, []):
            by_id_out[o.get("link_id")].append(o)
        for lid, os_ in by_id_out.items():
            if lid in (None, "0000000000000000") or lid not in by_id_in:
                continue
            for o, r in zip(sorted(os_, key=lambda e: e["t"]),
                            sorted(by_id_in[lid], key=lambda e: e["t"])):
                if id(o) not in ev_of:      # the frame was not captured: no guess by time
                    ev_of.pop(id(r), None)
                elif id(r) in ev_of:
                    ev_of[id(o)] = ev_of[id(r)]
                else:
                    ev_of[id(r)] = ev_of[id(o)]
        # What the sender recorded handing over (out), else what the receiver processed (in:
        # client links, whose sender records nothing).
        row["recorded"] = row.get("recorded_out", row.get("recorded_in", 0))
        row["unmatched_records"] = row.get("unmatched_out", row.get("unmatched_in", 0))
        row["unmatched_frames"] = max(0, len(frames) - row["recorded"] + row["unmatched_records"])
        per_link[f"{link[0]}->{link[1]}"] = row
    return ev_of, per_link


def true_rounds(recordings, ev_of):
    """Per node, the rounds as the node released them: [(input event indices, output event
    indices)], from `release` events and the `out` records after each (resends and replayed
    copies belong to no round), with each real output's input found by its pool id."""
    out = {}
    for node, evs in recordings.items():
        in_of_pool = {e["pool"]: e for e in evs
                      if e.get("ev") == "in" and e.get("pool") is not None}
        rounds, cur = [], None
        for e in evs:
            if e.get("ev") == "release":
                cur = ([], [])
                rounds.append(cur)
            elif e.get("ev") == "out" and cur is not None and not e.get("resend") \
                    and e.get("action") != "replayed":
                cur[1].append(ev_of.get(id(e)))
                if not e.get("dummy"):
                    src = in_of_pool.get(e.get("pool"))
                    cur[0].append(ev_of.get(id(src)) if src else None)
        out[node] = [r for r in rounds if r[1]]
    return out


def build(run_info, recordings, sent, finals, events):
    """The truth dictionary (see the module comment)."""
    clients = run_info["clients"]
    # Receipts: "immediate" (clients before the leak-5 fix: queued at the fetch that brought a
    # text — modelled), "off" (none: every real packet is a text or a re-sealed text), or
    # "on:D" (they ride in texts or leave ≥ D/2 later: not modelled, such packets count as
    # `unexplained_real_packets`, and may take a queued text's place in the replay).
    model_receipts = run_info.get("receipts", "immediate") == "immediate"
    label = {c["mailbox"][:16]: c["index"] for c in clients}
    mailbox_owner = {c["mailbox"]: c["index"] for c in clients}
    chains, loose = trace_packets(recordings, label)
    name_of_label = {c["mailbox"][:16]: c["name"] for c in clients}

    def host_of_peer(peer):
        peer = str(peer)
        return name_of_label.get(peer[len("client:"):], peer) if peer.startswith("client:") \
            else peer

    per_link, rounds = {}, {}
    if events:
        ev_of, per_link = match_capture(recordings, events, host_of_peer)
        for c in chains:
            c.hops_events = [ev_of.get(id(r)) for r in c.ins]
        rounds = true_rounds(recordings, ev_of)
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
                # A receipt that was not modelled, or a text sent again (re-sealed after a
                # missing ack): real, from this sender to this recipient.
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
            if model_receipts:  # the old client: one receipt per peer per fetch, at once
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
    messages, missing_inbox, dup_inbox, bad_ids = [], 0, 0, []
    by_index = {c.index: c for c in chains}
    for r in sent:
        c = by_index.get(chain_of_msg.get(r["id"]))
        n_in = inbox_count.get((f"c{r['recipient']}", r.get("message_id")), 0)
        missing_inbox += n_in == 0
        dup_inbox += n_in > 1
        if n_in != 1 or c is None:
            bad_ids.append(r["id"])
        row = {"id": r["id"], "sender": r["sender"], "recipient": r["recipient"],
               "created_us": r["created_us"], "message_id": r.get("message_id"),
               "measured": r["created_us"] >= burn_in_us and r.get("message_id") is not None,
               "in_inbox": n_in}
        if c is not None:
            row.update({"chain": c.index, "t_in": c.t_in, "t_deliver": c.t_deliver,
                        "path": [c.provider] + [h[1] for h in c.hops],
                        "events": c.hops_events,
                        "final_event": c.hops_events[-1] if c.hops_events else None,
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
        "messages_not_delivered_once": bad_ids[:50],
        "fifo_violations": fifo_violations, "unexplained_real_packets": unexplained,
        "resends": sum(1 for evs in recordings.values() for e in evs
                       if e.get("ev") == "out" and e.get("resend")),
    }
    # Every client packet, real or cover: [sender, capture event of its last hop, t_in, verdict].
    packets = [[c.sender, c.hops_events[-1] if c.hops_events else None, c.t_in, c.verdict]
               for c in chains]
    return {"clients": clients, "messages": messages, "fetches": fetch_rows,
            "links": per_link, "checks": checks, "rounds": rounds, "packets": packets}


class Truth:
    """Read access for attacks' score() (truth.json)."""

    def __init__(self, data):
        self.data = data
        self.clients = data["clients"]
        self.messages = data["messages"]
        self.fetches = data["fetches"]
        self.checks = data["checks"]
        self.links = data.get("links", {})
        self.rounds = data.get("rounds", {})
        self.packets = data.get("packets", [])

    def measured(self):
        return [m for m in self.messages if m["measured"] and "chain" in m]
