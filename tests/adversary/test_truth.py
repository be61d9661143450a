"""Ground truth from recordings in the contract's format (adversary/README.md "Recordings"):
packet chains, which packet carried which text (FIFO with receipts), fetch contents, the
inbox cross-check, and the matching of every hop to its capture frame."""
import unittest

import _path  # noqa: F401
from harness import truth

M0, M1 = "a" * 64, "b" * 64
CLIENTS = [{"index": 0, "name": "c0", "mailbox": M0, "provider": "provider-1"},
           {"index": 1, "name": "c1", "mailbox": M1, "provider": "provider-2"}]


class Net:
    """Writes recording events as a three-node network would (provider-1, mix-1, provider-2;
    every packet crosses mix-1)."""

    def __init__(self):
        self.rec = {"provider-1": [], "mix-1": [], "provider-2": []}
        self.link = 0
        self.pool = 100
        self.items = {M0: 0, M1: 0}
        self.frames = []  # the capture: PACKET frames (src, dst, t0)

    def lid(self):
        self.link += 1
        return f"{self.link:016x}"

    def packet(self, t, sender, dest_mailbox):
        src_node = "provider-1" if sender == 0 else "provider-2"
        dst_node = "provider-2" if dest_mailbox == M1 else "provider-1"
        self.pool += 1
        self.frames.append((f"c{sender}", src_node, t - 50))
        label = CLIENTS[sender]["mailbox"][:16]
        self.rec[src_node].append({"ev": "in", "t": t, "from": f"client:{label}",
                                   "link_id": self.lid(), "pool": self.pool, "verdict": "forward",
                                   "next": "mix-1", "mailbox": None, "item": None})
        l1 = self.lid()
        self.rec[src_node].append({"ev": "out", "t": t + 100, "to": "mix-1", "link_id": l1,
                                   "pool": self.pool, "dummy": False, "resend": False,
                                   "action": None})
        self.frames.append((src_node, "mix-1", t + 120))
        self.pool += 1
        self.rec["mix-1"].append({"ev": "in", "t": t + 200, "from": src_node, "link_id": l1,
                                  "pool": self.pool, "verdict": "forward", "next": dst_node,
                                  "mailbox": None, "item": None})
        l2 = self.lid()
        self.rec["mix-1"].append({"ev": "out", "t": t + 300, "to": dst_node, "link_id": l2,
                                  "pool": self.pool, "dummy": False, "resend": False,
                                  "action": None})
        self.frames.append(("mix-1", dst_node, t + 320))
        if dest_mailbox is None:
            self.rec[dst_node].append({"ev": "in", "t": t + 400, "from": "mix-1", "link_id": l2,
                                       "pool": None, "verdict": "dummy_sink", "next": None,
                                       "mailbox": None, "item": None})
            return None
        self.items[dest_mailbox] += 1
        item = self.items[dest_mailbox]
        self.rec[dst_node].append({"ev": "in", "t": t + 400, "from": "mix-1", "link_id": l2,
                                   "pool": None, "verdict": "deliver", "next": None,
                                   "mailbox": dest_mailbox, "item": item})
        return item

    def fetch(self, t, mailbox, items):
        node = "provider-1" if mailbox == M0 else "provider-2"
        self.rec[node].append({"ev": "fetch", "t": t, "mailbox": mailbox, "max": 8,
                               "items": items})

    def events(self):
        return [{"t": t0 + 10, "t0": t0, "src": s, "dst": d, "kind": "PACKET", "size": 2481,
                 "conn": 0} for s, d, t0 in sorted(self.frames, key=lambda f: f[2])]


def sent(i, sender, recipient, t, mid, created=2_000_000):
    return {"id": i, "sender": sender, "recipient": recipient, "created_us": created,
            "before_us": t, "after_us": t + 10, "message_id": mid}


INFO = {"clients": CLIENTS, "plan": {"burn_in_s": 1}}


class TruthTest(unittest.TestCase):
    def build(self):
        n = Net()
        # c0 writes two texts to c1 (sent at 1000 and 1500); a loop and a drop in between.
        s = [sent(0, 0, 1, 1000, "m0"), sent(1, 0, 1, 1500, "m1")]
        n.packet(2000, 0, M1)            # text m0 -> c1 item 1
        n.packet(3000, 0, M0)            # c0's loop -> own mailbox item 1
        n.packet(3500, 1, None)          # c1's drop cover
        n.packet(4000, 0, M1)            # text m1 -> c1 item 2
        n.fetch(5000, M1, [1, 2])        # c1 gets both texts: one receipt for c0
        n.packet(6000, 1, M0)            # the receipt -> c0 item 2
        n.fetch(7000, M0, [1, 2])        # c0: its loop and the receipt
        n.fetch(9000, M1, [2])           # c1 fetches item 2 again (say its ACK was lost)
        finals = {"c0": {"name": "c0", "inbox": []},
                  "c1": {"name": "c1", "inbox": [{"id": "m0"}, {"id": "m1"}]}}
        return n, truth.build(INFO, n.rec, s, finals, n.events())

    def test_chains_messages_and_fetches(self):
        n, t = self.build()
        ch = t["checks"]
        self.assertEqual(ch["client_packets"], 5)
        self.assertEqual(ch["verdicts"], {"deliver": 4, "dummy_sink": 1})
        self.assertEqual((ch["fifo_violations"], ch["unexplained_real_packets"]), (0, 0))
        self.assertEqual((ch["missing_from_inbox"], ch["duplicated_in_inbox"]), (0, 0))
        m0, m1 = t["messages"]
        self.assertEqual(m0["path"], ["provider-1", "mix-1", "provider-2"])
        self.assertEqual((m0["t_in"], m1["t_in"]), (2000, 4000))
        self.assertTrue(m0["measured"])
        kinds = [[(i["kind"], i["origin"], i["first_fetch"]) for i in f["items"]]
                 for f in t["fetches"]]
        self.assertEqual(kinds, [[("text", 0, True), ("text", 0, True)],
                                 [("loop", 0, True), ("receipt", 1, True)],
                                 [("text", 0, False)]])
        self.assertEqual([i.get("message") for i in t["fetches"][0]["items"]], [0, 1])

    def test_every_hop_is_matched_to_its_frame(self):
        n, t = self.build()
        ev = n.events()
        for m in t["messages"]:
            self.assertEqual(len(m["events"]), 3)
            hops = [(ev[i]["src"], ev[i]["dst"]) for i in m["events"]]
            self.assertEqual(hops, [("c0", "provider-1"), ("provider-1", "mix-1"),
                                    ("mix-1", "provider-2")])
            self.assertEqual(m["final_event"], m["events"][-1])
        for link, c in t["links"].items():
            self.assertEqual(c["recorded"], c["captured"], link)
            self.assertEqual((c["unmatched_records"], c["unmatched_frames"]), (0, 0), link)

    def test_a_frame_missing_from_the_capture_is_counted(self):
        n, _ = self.build()
        ev = [e for e in n.events() if not (e["src"] == "mix-1" and e["t0"] == 4320)]
        t = truth.build(INFO, n.rec, [sent(0, 0, 1, 1000, "m0"), sent(1, 0, 1, 1500, "m1")],
                        {}, ev)
        c = t["links"]["mix-1->provider-2"]
        self.assertEqual((c["recorded"], c["captured"], c["unmatched_records"]), (2, 1, 1))
        self.assertIsNone(t["messages"][1]["final_event"])

    def test_missing_and_duplicated_inbox_entries(self):
        n = Net()
        n.packet(2000, 0, M1)
        finals = {"c1": {"name": "c1", "inbox": [{"id": "m0"}, {"id": "m0"}]}}
        t = truth.build(INFO, n.rec, [sent(0, 0, 1, 1000, "m0"), sent(1, 0, 1, 1100, "mX")],
                        finals, None)
        self.assertEqual((t["checks"]["missing_from_inbox"], t["checks"]["duplicated_in_inbox"]),
                         (1, 1))
        self.assertNotIn("chain", t["messages"][1])

    def test_departure_to_another_recipient_than_the_queue_head(self):
        # c0 queued a text to c1 then one to nobody known: the packet to c1 still finds it.
        n = Net()
        s = [sent(0, 0, 1, 1000, "m0")]
        s[0]["recipient"] = 1
        n.packet(2000, 0, M1)
        n.packet(2500, 0, M1)   # a second real packet to c1 with nothing queued: unexplained
        t = truth.build(INFO, n.rec, s, {}, None)
        self.assertEqual(t["checks"]["unexplained_real_packets"], 1)


if __name__ == "__main__":
    unittest.main()
