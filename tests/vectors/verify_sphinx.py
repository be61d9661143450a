#!/usr/bin/env python3
"""Independent implementation of the Sotto Sphinx packet format (version 1), checked against
the known-answer vectors in tests/vectors/sphinx.json.

Written from papers/sphinx-spec.md alone, without looking at the C++ implementation in core/:
it shows that the specification is enough for an interoperable implementation. Section numbers
in comments (§n) refer to that document.

Needs only the Python standard library (hashlib.blake2b) and python3-cryptography (X25519,
ChaCha20).  Usage:  python3 tests/vectors/verify_sphinx.py [path/to/sphinx.json]
Prints one PASS/FAIL line per check and ends with "N passed, M failed"; exit status 0 iff M == 0.
"""
import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# §2 Sizes and constants: r = 5 hops, slot S = 72, beta = 360, header = alpha ‖ beta ‖ gamma = 424,
# payload 2048, packet 2472, zero block 16, max message 2030, SURB = first hop ‖ header ‖ k̃ = 488
R, S, PAYLOAD, ZERO_BLOCK = 5, 72, 2048, 16
BETA = R * S
HEADER = 32 + BETA + 32
PACKET = HEADER + PAYLOAD
MAX_MESSAGE = PAYLOAD - ZERO_BLOCK - 2
SURB_SIZE = 32 + HEADER + 32
RELAY, DELIVER, SURB_DELIVER = 0x01, 0x02, 0x03   # §4 commands
MAX_DELAY_MS = 3_600_000                            # §4
P25519 = 2**255 - 19


class Drop(Exception):
    """A node dropped the packet (§8); args[0] is the reason string."""


# ---------------------------------------------------------------- §3 primitives and key schedule
def x25519(k, u):
    """RFC 7748 scalar multiplication; None on failure (all-zero output, low-order u)."""
    try:
        return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:
        return None


def x25519_base(k):
    return X25519PrivateKey.from_private_bytes(k).public_key().public_bytes(Encoding.Raw,
                                                                            PublicFormat.Raw)


def H(key, m, length):
    """Keyed BLAKE2b (crypto_generichash)."""
    return hashlib.blake2b(m, key=key, digest_size=length).digest()


def chacha20(key, length):
    """IETF ChaCha20 keystream, all-zero 12-byte nonce, block counter 0 (16 zero bytes here)."""
    return Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor().update(bytes(length))


def kdf(s, label, length=32):
    return H(s, b"sotto-sphinx-v1/" + label.encode("ascii"), length)


def xor(a, b):
    assert len(a) == len(b)
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def lioness_key_from(seed, prefix="lioness-"):
    """§3: K1‖K2‖K3‖K4 from a 32-byte seed: a shared secret ("lioness-k"), or the SURB
    payload key k̃ ("surb-lioness-k")."""
    return b"".join(kdf(seed, "%s%d" % (prefix, i)) for i in (1, 2, 3, 4))


def hop_keys(s):
    """§3: every per-hop key derived from the shared secret s."""
    return {"shared_secret": s, "header_key": kdf(s, "header-stream"),
            "mac_key": kdf(s, "header-mac"), "payload_key": lioness_key_from(s),
            "blinding": kdf(s, "blinding"), "replay_tag": kdf(s, "replay-tag")}


# ---------------------------------------------------------------- §4 routing slot
def encode_slot(command, delay_ms, address, last):
    """§4: last = next hop's gamma (RELAY), SURB id (SURB_DELIVER); DELIVER writes zeros."""
    if command == DELIVER:
        last = bytes(32)
    return bytes([command]) + bytes(3) + delay_ms.to_bytes(4, "big") + address + last


def decode_slot(slot):
    command, delay_ms = slot[0], int.from_bytes(slot[4:8], "big")
    if (command not in (RELAY, DELIVER, SURB_DELIVER) or any(slot[1:4])
            or (command != RELAY and delay_ms != 0) or delay_ms > MAX_DELAY_MS):
        raise Drop("malformed_command")
    return command, delay_ms, slot[8:40], slot[40:72]


# ---------------------------------------------------------------- §5 payload
def lioness_encrypt(key, block):
    """§5.1 Lioness encryption (E_K); key = K1‖K2‖K3‖K4, block = L (32 bytes) ‖ R."""
    (k1, k2, k3, k4), L, R_ = (key[i:i + 32] for i in range(0, 128, 32)), block[:32], block[32:]
    R_ = xor(R_, chacha20(xor(L, k1), len(R_)))
    L = xor(L, H(k2, R_, 32))
    R_ = xor(R_, chacha20(xor(L, k3), len(R_)))
    L = xor(L, H(k4, R_, 32))
    return L + R_


def lioness_decrypt(key, block):
    """§5.1 Lioness decryption (D_K)."""
    (k1, k2, k3, k4), L, R_ = (key[i:i + 32] for i in range(0, 128, 32)), block[:32], block[32:]
    L = xor(L, H(k4, R_, 32))
    R_ = xor(R_, chacha20(xor(L, k3), len(R_)))
    L = xor(L, H(k2, R_, 32))
    R_ = xor(R_, chacha20(xor(L, k1), len(R_)))
    return L + R_


def encode_body(message):
    """§5.2: 0^16 ‖ len (u16 BE) ‖ message ‖ 0^(2030 − len)."""
    assert len(message) <= MAX_MESSAGE
    return bytes(ZERO_BLOCK) + len(message).to_bytes(2, "big") + message + \
        bytes(MAX_MESSAGE - len(message))


def decode_body(body):
    """§5.2: the message, or None if the zero block or the length is wrong."""
    length = int.from_bytes(body[16:18], "big")
    if any(body[:ZERO_BLOCK]) or length > MAX_MESSAGE:
        return None
    return body[18:18 + length]


# ---------------------------------------------------------------- §6 creating a forward packet
def create_header(public_keys, commands, x, padding):
    """§6.1–6.3. commands[i] = (command, delay_ms, address, last-field for the final hop)."""
    n = len(public_keys)
    if not 1 <= n <= R or len(padding) != (R - n) * S:
        raise ValueError("bad path length or padding")
    # §6.1 shared secrets and blinding
    alphas, keys = [x25519_base(x)], []
    for Y in public_keys:
        s = x25519(x, Y)
        for k in keys:
            s = s and x25519(k["blinding"], s)
        if s is None:
            raise ValueError("low-order routing key")
        keys.append(hop_keys(s))
        alphas.append(x25519(keys[-1]["blinding"], alphas[-1]))   # alpha_{i+1}
    rho = [chacha20(k["header_key"], (R + 1) * S) for k in keys]
    # §6.2 filler
    phi = b""
    for i in range(n - 1):
        phi = xor(phi + bytes(S), rho[i][(R - i) * S:(R + 1) * S])
    # §6.3 routing information and MACs, innermost first
    beta = xor(encode_slot(*commands[n - 1]) + padding, rho[n - 1][:(R - n + 1) * S]) + phi
    gamma = H(keys[n - 1]["mac_key"], alphas[n - 1] + beta, 32)
    for i in range(n - 2, -1, -1):
        command, delay_ms, address, _ = commands[i]
        beta = xor(encode_slot(command, delay_ms, address, gamma) + beta[:(R - 1) * S],
                   rho[i][:R * S])
        gamma = H(keys[i]["mac_key"], alphas[i] + beta, 32)
    return alphas[0] + beta + gamma, keys


def relay_commands(hops):
    """§6: c_i = RELAY(node id of hop i+1, hop i's delay) for i < n−1."""
    return [(RELAY, hops[i]["delay_ms"], hops[i + 1]["node_id"], None)
            for i in range(len(hops) - 1)]


def create_forward_packet(hops, mailbox, message, x, padding):
    """§6 with §6.4: header ‖ E_{K_0}(… E_{K_{n-1}}(body) …)."""
    if len(message) > MAX_MESSAGE:
        raise ValueError("message too long")
    commands = relay_commands(hops) + [(DELIVER, 0, mailbox, bytes(32))]
    header, keys = create_header([h["public_key"] for h in hops], commands, x, padding)
    delta = encode_body(message)
    for k in reversed(keys):
        delta = lioness_encrypt(k["payload_key"], delta)
    return header + delta


# ---------------------------------------------------------------- §7 SURBs
def create_surb(hops, mailbox, surb_id, surb_key, x, padding):
    """§7.1: returns (SURB = first hop ‖ header ‖ k̃, payload keys K_0..K_{n-1})."""
    commands = relay_commands(hops) + [(SURB_DELIVER, 0, mailbox, surb_id)]
    header, keys = create_header([h["public_key"] for h in hops], commands, x, padding)
    return hops[0]["node_id"] + header + surb_key, [k["payload_key"] for k in keys]


def reply_with_surb(surb, message):
    """§7.2: returns (first hop, reply packet)."""
    assert len(surb) == SURB_SIZE
    first_hop, header, surb_key = surb[:32], surb[32:32 + HEADER], surb[32 + HEADER:]
    return first_hop, header + lioness_encrypt(lioness_key_from(surb_key, "surb-lioness-"),
                                               encode_body(message))


def open_reply(payload, surb_key, payload_keys):
    """§7.3: D_{LionessKeyFrom(k̃)}(E_{K_0}(… E_{K_{n-1}}(payload) …)), then §5.2."""
    for key in reversed(payload_keys):
        payload = lioness_encrypt(key, payload)
    return decode_body(lioness_decrypt(lioness_key_from(surb_key, "surb-lioness-"), payload))


# ---------------------------------------------------------------- §8 processing at a node
def process_packet(y, packet):
    """§8. Returns (keys, result) or raises Drop(reason)."""
    if len(packet) != PACKET:                                            # step 1
        raise Drop("bad_length")
    alpha, beta = packet[:32], packet[32:32 + BETA]                      # step 2
    gamma, delta = packet[32 + BETA:HEADER], packet[HEADER:]
    if alpha[31] & 0x80 or int.from_bytes(alpha, "little") >= P25519:   # step 3
        raise Drop("invalid_point")
    s = x25519(y, alpha)                                                 # step 4
    if s is None:
        raise Drop("invalid_point")
    keys = hop_keys(s)                                                   # step 5
    if not hmac.compare_digest(H(keys["mac_key"], alpha + beta, 32), gamma):
        raise Drop("bad_mac")
    # step 6: the replay tag (keys["replay_tag"]) is returned; the cache is the node's business
    B = xor(beta + bytes(S), chacha20(keys["header_key"], (R + 1) * S))  # step 7
    command, delay_ms, address, last = decode_slot(B[:S])
    delta = lioness_decrypt(keys["payload_key"], delta)                  # step 8
    if command == RELAY:                                                 # step 9
        alpha_out = x25519(keys["blinding"], alpha)
        if alpha_out is None:   # cannot happen once steps 3-4 passed
            raise Drop("invalid_point")
        out = alpha_out + B[S:(R + 1) * S] + last + delta
        return keys, {"result": "forward", "next_hop": address, "delay_ms": delay_ms,
                      "packet_out": out}
    if command == DELIVER:
        message = decode_body(delta)
        if message is None:
            raise Drop("payload_corrupt")
        return keys, {"result": "deliver", "mailbox": address, "message": message}
    return keys, {"result": "surb_deliver", "mailbox": address, "surb_id": last,
                  "payload": delta}


# ---------------------------------------------------------------- §10 test vectors
class Checker:
    passed = failed = 0

    def check(self, name, problems):
        """problems: list of strings describing mismatches (empty = pass)."""
        self.failed, self.passed = self.failed + bool(problems), self.passed + (not problems)
        print("FAIL %s: %s" % (name, "; ".join(problems)) if problems else "PASS " + name)


def unhex(obj):
    """Decode every hex string of a vector (except names, descriptions and reasons)."""
    if isinstance(obj, dict):
        return {k: (v if k in ("name", "description", "result", "reason", "expected")
                    else unhex(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unhex(v) for v in obj]
    return bytes.fromhex(obj) if isinstance(obj, str) else obj


def diff(name, got, want):
    if got == want:
        return []
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [p for i, g in enumerate(got) for p in diff("%s[%d]" % (name, i), g, want[i])]
    if isinstance(got, bytes) and isinstance(want, bytes):
        at = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), None)
        return ["%s differs from byte %s (got %d bytes, want %d)" % (name, at, len(got), len(want))]
    return ["%s differs (got %r, want %r)" % (name, got, want)]


def expect_drop(y, packet, reason):
    try:
        process_packet(y, packet)
        return ["not dropped (want %s)" % reason]
    except Drop as e:
        return diff("drop reason", e.args[0], reason)


def check_public_keys(c, v):
    problems = []
    for i, hop in enumerate(v["hops"]):
        problems += diff("hop %d public_key" % i, x25519_base(hop["secret_key"]), hop["public_key"])
    c.check("%s: public keys = X25519_base(secret keys)" % v["name"], problems)


def check_steps(c, v, packet):
    """Process the packet hop by hop (§8) and compare every listed intermediate."""
    for i, (hop, step) in enumerate(zip(v["hops"], v["steps"])):
        try:
            keys, result = process_packet(hop["secret_key"], packet)
        except Drop as e:
            c.check("%s: hop %d" % (v["name"], i), ["dropped: %s" % e.args[0]])
            break
        got = dict(keys, **result)
        c.check("%s: hop %d (%s)" % (v["name"], i, step["result"]),
                [p for field in step for p in diff(field, got.get(field), step[field])])
        packet = step.get("packet_out", result.get("packet_out"))  # continue from the vector


def main():
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sphinx.json")
    with open(sys.argv[1] if len(sys.argv) > 1 else default) as f:
        vectors = json.load(f)
    c = Checker()
    p = vectors["parameters"]
    c.check("parameters (§2)", diff("parameters", (p["max_hops"], p["slot_size"], p["header_size"],
            p["payload_size"], p["packet_size"], p["surb_size"]),
            (R, S, HEADER, PAYLOAD, PACKET, SURB_SIZE)))

    for v in map(unhex, vectors["forward"]):
        check_public_keys(c, v)
        try:
            packet = create_forward_packet(v["hops"], v["mailbox"], v["message"],
                                           v["ephemeral_secret"], v["padding"])
        except ValueError as e:
            packet = "creation failed: %s" % e
        c.check("%s: build packet (§6)" % v["name"], diff("packet", packet, v["packet"]))
        check_steps(c, v, v["packet"])

    for v in map(unhex, vectors["surb"]):   # (a ValueError here means the SURB vector is bad)
        check_public_keys(c, v)
        surb, payload_keys = create_surb(v["hops"], v["mailbox"], v["surb_id"],
                                         v["surb_payload_key"], v["ephemeral_secret"], v["padding"])
        c.check("%s: build SURB (§7.1)" % v["name"], diff("surb", surb, v["surb"]) +
                diff("hop_payload_keys", payload_keys, v["hop_payload_keys"]))
        first_hop, reply = reply_with_surb(v["surb"], v["reply_message"])
        c.check("%s: build reply packet (§7.2)" % v["name"],
                diff("reply_packet", reply, v["reply_packet"]) +
                diff("first hop", first_hop, v["hops"][0]["node_id"]))
        check_steps(c, v, v["reply_packet"])
        opened = open_reply(v["steps"][-1]["payload"], v["surb_payload_key"], payload_keys)
        c.check("%s: open reply (§7.3)" % v["name"],
                diff("opened_message", opened, v["opened_message"]))

    for v in map(unhex, vectors["negative"]):
        c.check("negative %s: drop %s (§8)" % (v["name"], v["reason"]),
                expect_drop(v["secret_key"], v["packet"], v["reason"]))

    # Self-check, independent of the C++ vector generator: alpha ↦ 1/alpha (mod p) adds the
    # point of order 2, which X25519's clamped scalars cannot see; only the MAC over alpha ‖ beta
    # (§6.3, §8 step 5) catches it.
    fwd = unhex(vectors["forward"][1])
    y0, good = fwd["hops"][0]["secret_key"], fwd["packet"]
    inverse = pow(int.from_bytes(good[:32], "little"), P25519 - 2, P25519).to_bytes(32, "little")
    same_secret = x25519(y0, inverse) == x25519(y0, good[:32])
    c.check("self-check: alpha -> 1/alpha has the same shared secret, and is dropped as bad_mac",
            ([] if same_secret else ["1/alpha gave a different shared secret"]) +
            expect_drop(y0, inverse + good[32:], "bad_mac"))

    print("%d passed, %d failed" % (c.passed, c.failed))
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
