"""Leak 4 of issue 9: the recipient's provider tells real mail from loop cover, and groups
messages by conversation, from the stored bytes alone.

The adversary is a provider (each provider in turn, for the mailboxes it hosts): its recording's
`mail_stored` events, 2030 bytes per item. It does not know the message format; it is a
supervised distinguisher: trained on half of its items (labelled — what an adversary with
examples learns, e.g. from its own loops and from messages it had sent), scored on the other
half. Features, each a yes/no per item, chosen on the training half by a two-proportion z-test
between real mail and loops (|z| > Z_SELECT, the Bonferroni bound for α = 0.01 over all
candidate features, at most MAX_FEATURES kept):
- per byte position: the byte is 0 (counters and lengths in clear are mostly zero bytes);
- per bit position (a public key's top bit is always 0; a random byte's half the time);
- per 32-byte window offset: the window, read as a little-endian u-coordinate (top bit
  masked, RFC 7748), is on Curve25519 — an X25519 public key always is, a random string only
  half the time;
- per offset: the window also appears at the same offset in another item of the same mailbox
  (a ratchet key or session header repeated across messages of one conversation; loops are
  fresh random bytes).
The score of an item is the naive-Bayes log-likelihood ratio of its selected features
(Laplace-smoothed); scored by the AUC (real vs loop) on the test half with DeLong's 95%
interval and the Mann–Whitney test; chance AUC 0.5. With no feature passing the selection every
test item scores 0 (AUC exactly 0.5).

Conversation grouping: for every pair of real items in one mailbox (test half), the number of
32-byte windows they share at the same offset; AUC of that count for pairs from the same sender
against pairs from different senders (chance 0.5).

Split: items are ordered by (node, mailbox, item id) and alternate between the halves (seeded
by nothing: deterministic), so both halves span the whole run and every mailbox."""
import hashlib
import math
from collections import defaultdict

from .. import stats, truth as truthmod
from .base import Attack, register

P25519 = 2 ** 255 - 19
A25519 = 486662
WINDOW = 32
Z_SELECT = 4.9        # two-sided Bonferroni z for α = 0.01 over ~20 000 candidate features
MAX_FEATURES = 64
SELECT_SAMPLE = 300   # items per class used to choose the on-curve offsets
SCREEN_SAMPLE = 32    # ... after a first screening of every offset on this many


def on_curve(window):
    """Whether 32 bytes, as an RFC 7748 u-coordinate (little-endian, top bit masked), are the
    u-coordinate of a point of Curve25519 (not of its twist)."""
    u = int.from_bytes(window, "little") & ((1 << 255) - 1)
    u %= P25519
    v = (u * u % P25519 * u + A25519 * u % P25519 * u + u) % P25519
    return v == 0 or pow(v, (P25519 - 1) // 2, P25519) == 1


def zscore(a, na, b, nb):
    if na == 0 or nb == 0:
        return 0.0
    p = (a + b) / (na + nb)
    se = math.sqrt(p * (1 - p) * (1 / na + 1 / nb))
    return 0.0 if se == 0 else (a / na - b / nb) / se


def shared_offsets(payloads_by_box, offsets=None):
    """{(node, mailbox, item): set of offsets whose window also appears at that offset in
    another item of the same mailbox}."""
    out = defaultdict(set)
    for key_prefix, items in payloads_by_box.items():
        n = len(items[0][1]) if items else 0
        offs = range(0, n - WINDOW + 1) if offsets is None else offsets
        for o in offs:
            seen = defaultdict(list)
            for k, p in items:
                seen[p[o:o + WINDOW]].append(k)
            for ks in seen.values():
                if len(ks) > 1:
                    for k in ks:
                        out[k].add(o)
    return out


@register
class MailboxClassifier(Attack):
    name = "mailbox"
    summary = ("leak 4: the recipient's provider tells real mail from loop cover and groups "
               "items by conversation from the stored bytes (supervised, half/half)")
    needs = {"recordings", "truth"}

    def corrupt(self, info, view):
        return sorted(view.providers)

    def observe(self, view):
        items = []
        for node, evs in sorted(view.recordings.items()):
            for e in evs:
                if e.get("ev") == "mail_stored" and e.get("payload"):
                    items.append([node, e["mailbox"], e["item"], e["t"]])
        return {"items": items}

    def score(self, obs, truth, run):
        recs = run.recordings()
        payload = {}
        for node in run.view.providers:
            for e in recs.get(node, []):
                if e.get("ev") == "mail_stored" and e.get("payload"):
                    payload[(node, e["mailbox"], e["item"])] = bytes.fromhex(e["payload"])
        label = {c["mailbox"][:16]: c["index"] for c in truth.clients}
        owner = {c["mailbox"]: c["index"] for c in truth.clients}
        chains, _ = truthmod.trace_packets(recs, label)
        sender = {}
        for c in chains:
            if c.verdict == "deliver" and c.mailbox in owner:
                node = c.hops[-1][1] if c.hops else c.provider
                sender[(node, c.mailbox, c.item)] = c.sender
        keys = sorted(k for k in payload if k in sender)
        lab = {k: int(sender[k] != owner[k[1]]) for k in keys}       # 1 real, 0 loop
        train, test = keys[0::2], keys[1::2]
        feats, sel_info = select(train, payload, lab)
        rows = []
        sc = {k: nb_score(k, payload, feats) for k in test}
        pos = [sc[k] for k in test if lab[k]]
        neg = [sc[k] for k in test if not lab[k]]
        a, (alo, ahi) = stats.auc(pos, neg)
        rows.append({
            "adversary": "recipient's provider (stored items)",
            "measure": "real mail vs loop cover from the stored bytes (AUC, held-out half)",
            "n": len(test), "n_real": len(pos), "n_loop": len(neg), "n_train": len(train),
            "auc": a, "auc_ci": [alo, ahi], "auc_ci_method": "DeLong 95%",
            "mann_whitney_p": stats.mann_whitney_p(pos, neg), "chance": 0.5,
            "features_selected": sel_info,
            "chance_note": "AUC 0.5: every item looks like random bytes",
            "_samples": [[round(sc[k], 4), lab[k]] for k in test]})
        # conversation grouping: shared windows between real items of one mailbox
        by_box = defaultdict(list)
        for k in test:
            if lab[k]:
                by_box[(k[0], k[1])].append(k)
        shared = shared_counts(by_box, payload)
        same = [v for (ka, kb), v in shared.items() if sender[ka] == sender[kb]]
        diff = [v for (ka, kb), v in shared.items() if sender[ka] != sender[kb]]
        g, (glo, ghi) = stats.auc(same, diff)
        rows.append({
            "adversary": "recipient's provider (stored items)",
            "measure": "same conversation or not, for pairs of real items in a mailbox "
                       "(shared 32-byte windows, AUC)",
            "n": len(same) + len(diff), "n_same": len(same), "n_diff": len(diff),
            "auc": g, "auc_ci": [glo, ghi], "auc_ci_method": "DeLong 95% (pairs share items: "
            "the interval is optimistic)", "chance": 0.5,
            "pairs_sharing_same": sum(1 for v in same if v), "pairs_sharing_diff":
                sum(1 for v in diff if v),
            "chance_note": "AUC 0.5: items of one conversation share nothing visible"})
        return rows


def select(train, payload, lab):
    """The features that tell real from loop on the training half: [(kind, index, p_real,
    p_loop)] with Laplace-smoothed rates, and a summary."""
    real = [k for k in train if lab[k]]
    loop = [k for k in train if not lab[k]]
    nr, nl = len(real), len(loop)
    if nr == 0 or nl == 0:
        return [], {"note": "one class missing from the training half"}
    size = len(payload[train[0]])
    cands = []

    def add(kind, idx, fr, fl):
        z = zscore(fr, nr, fl, nl)
        if abs(z) > Z_SELECT:
            cands.append((abs(z), kind, idx, (fr + 0.5) / (nr + 1), (fl + 0.5) / (nl + 1)))

    zr, zl = [0] * size, [0] * size
    br, bl = [0] * (8 * size), [0] * (8 * size)
    for ks, z, b in ((real, zr, br), (loop, zl, bl)):
        # bit i of every item at once: the items as one big integer per bit plane
        for k in ks:
            p = payload[k]
            for j in range(size):
                if p[j] == 0:
                    z[j] += 1
        planes = bit_counts([payload[k] for k in ks], size)
        for i in range(8 * size):
            b[i] = planes[i]
    for j in range(size):
        add("zero", j, zr[j], zl[j])
    for i in range(8 * size):
        add("bit", i, br[i], bl[i])
    # on-curve windows: every offset on a small sample of each class, then the offsets that
    # look different (|z| > 2) on a larger one (a public key's offset, 100% against 50%, passes
    # the first stage with probability 0.999 at 32 per class)
    sr, sl = real[:SELECT_SAMPLE], loop[:SELECT_SAMPLE]
    tr, tl = real[:SCREEN_SAMPLE], loop[:SCREEN_SAMPLE]
    for o in range(size - WINDOW + 1):
        fr = sum(on_curve(payload[k][o:o + WINDOW]) for k in tr)
        fl = sum(on_curve(payload[k][o:o + WINDOW]) for k in tl)
        if abs(zscore(fr, len(tr), fl, len(tl))) <= 2:
            continue
        fr = sum(on_curve(payload[k][o:o + WINDOW]) for k in sr)
        fl = sum(on_curve(payload[k][o:o + WINDOW]) for k in sl)
        z = zscore(fr, len(sr), fl, len(sl))
        if abs(z) > Z_SELECT:
            cands.append((abs(z), "curve", o, (fr + 0.5) / (len(sr) + 1),
                          (fl + 0.5) / (len(sl) + 1)))
    # windows shared with another item of the same mailbox (within the training half)
    by_box = defaultdict(list)
    for k in train:
        by_box[(k[0], k[1])].append((k, payload[k]))
    sh = shared_offsets(by_box)
    shr = defaultdict(int)
    shl = defaultdict(int)
    for k, offs in sh.items():
        for o in offs:
            (shr if lab[k] else shl)[o] += 1
    for o in set(shr) | set(shl):
        add("shared", o, shr[o], shl[o])
    cands.sort(key=lambda c: -c[0])
    kept = cands[:MAX_FEATURES]
    feats = [(kind, idx, pr, pl) for _z, kind, idx, pr, pl in kept]
    summary = defaultdict(int)
    for _z, kind, *_ in cands:
        summary[kind] += 1
    info = {"candidates_passing": dict(summary), "kept": len(feats),
            "top": [[kind, idx, round(z, 1)] for z, kind, idx, *_ in kept[:8]]}
    if any(f[0] == "shared" for f in feats):
        # the sharing feature needs the other items of the mailbox: all of them are the
        # provider's, labelled or not
        boxes = defaultdict(list)
        for k, p in payload.items():
            boxes[(k[0], k[1])].append((k, p))
        offs = sorted({f[1] for f in feats if f[0] == "shared"})
        shared_all = shared_offsets(boxes, offs)
        feats = [f + (shared_all,) if f[0] == "shared" else f for f in feats]
    return feats, info


def bit_counts(items, size):
    """For each bit position i (bit i % 8 of byte i // 8), how many items have it set."""
    out = [0] * (8 * size)
    hist = [[0] * 256 for _ in range(size)]
    for p in items:
        for j, x in enumerate(p):
            hist[j][x] += 1
    for j in range(size):
        h = hist[j]
        for bit in range(8):
            m = 1 << bit
            out[8 * j + bit] = sum(c for v, c in enumerate(h) if v & m)
    return out


def nb_score(k, payload, feats):
    p = payload[k]
    s = 0.0
    for f in feats:
        kind, idx, pr, pl = f[:4]
        if kind == "zero":
            x = p[idx] == 0
        elif kind == "bit":
            x = bool(p[idx // 8] >> (idx % 8) & 1)
        elif kind == "curve":
            x = on_curve(p[idx:idx + WINDOW])
        else:
            x = idx in f[4].get(k, ())
        s += math.log(pr / pl) if x else math.log((1 - pr) / (1 - pl))
    return s


def shared_counts(by_box, payload):
    """{(item a, item b): number of offsets at which they hold the same 32-byte window} for
    every pair of items in each mailbox group."""
    out = {}
    for ks in by_box.values():
        for i in range(len(ks)):
            for j in range(i + 1, len(ks)):
                out[(ks[i], ks[j])] = 0
        if len(ks) < 2:
            continue
        size = len(payload[ks[0]])
        for o in range(0, size - WINDOW + 1):
            seen = defaultdict(list)
            for k in ks:
                seen[hashlib.blake2b(payload[k][o:o + WINDOW], digest_size=8).digest()].append(k)
            for group in seen.values():
                for i in range(len(group)):
                    for j in range(i + 1, len(group)):
                        a, b = group[i], group[j]
                        key = (a, b) if (a, b) in out else (b, a)
                        out[key] = out.get(key, 0) + 1
    return out
