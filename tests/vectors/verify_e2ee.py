#!/usr/bin/env python3
"""Independent implementation of Sotto's end-to-end encryption (version 1): the deniable triple-DH
session set-up, the Double Ratchet and the stored session state, checked against the
known-answer vectors in tests/vectors/e2ee.json.

Written from papers/e2ee-spec.md alone, without looking at the C++ implementation in
client_lib/: it shows that the specification is enough for an interoperable implementation.
Section numbers in comments (§n) refer to that document; §12 describes the vector file.

Needs Debian's python3 with python3-nacl (PyNaCl: X25519, XChaCha20-Poly1305) and hashlib's
BLAKE2b.  Usage:  python3 tests/vectors/verify_e2ee.py [path/to/e2ee.json]
Prints one PASS/FAIL line per check and ends with "N passed, M failed"; exit status 0 iff M == 0.
"""
import copy
import hashlib
import hmac
import json
import os
import sys

from nacl import bindings as nb
from nacl.exceptions import CryptoError

# §2 constants
KEY = 32
AD_SIZE = 64
X3DH_HEADER = 80
RATCHET_HEADER = 40
TAG = 16
OVERHEAD = RATCHET_HEADER + TAG
MAX_SKIP = 1000
U32_MAX = 2**32 - 1
# §6 stored state
STATE_MAGIC = b"SRS\x01"
STATE_FIXED = 245
STATE_ENTRY = 68
STATE_MIN = STATE_FIXED + 32
FLAG_DHR, FLAG_CKS, FLAG_CKR = 1, 2, 4


class Reject(Exception):
    """The operation failed (bad input, failed authentication, …); args[0] says why."""


# ---------------------------------------------------------------- §2 primitives
def DH(k, p):
    """X25519; fails on an all-zero output (low-order p)."""
    try:
        out = nb.crypto_scalarmult(k, p)
    except Exception as e:  # libsodium returns -1 on an all-zero output
        raise Reject("DH: low-order point") from e
    if out == bytes(32):
        raise Reject("DH: low-order point")
    return out


def public_of(secret):
    return nb.crypto_scalarmult_base(secret)


def H(m, length, key=b""):
    """BLAKE2b with output length `length`, keyed with `key` (unkeyed when empty)."""
    return hashlib.blake2b(m, digest_size=length, key=key).digest()


def KDF(key, label, inp, length):
    return H(b"sotto-ratchet-v1/" + label.encode("ascii") + inp, length, key)


def aead_encrypt(key, nonce, plaintext, ad):
    return nb.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_decrypt(key, nonce, ciphertext, ad):
    try:
        return nb.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except CryptoError as e:
        raise Reject("AEAD: authentication failed") from e


def be32(n):
    return n.to_bytes(4, "big")


# ---------------------------------------------------------------- §3 key agreement
def seal_key_of(dh3):
    return H(b"sotto-x3dh-v1/identity-seal", 32, key=dh3)


def shared_key_of(dh1, dh2, dh3):
    return H(b"sotto-x3dh-v1/shared-key" + dh1 + dh2 + dh3, 32)


def x3dh_initiate(ik_a_secret, ik_b, spk_b, ek_secret):
    """A's side: every intermediate, SK, AD and the 80-byte session header."""
    ik_a, ek_a = public_of(ik_a_secret), public_of(ek_secret)
    dh1, dh2, dh3 = DH(ik_a_secret, spk_b), DH(ek_secret, ik_b), DH(ek_secret, spk_b)
    seal = seal_key_of(dh3)
    sealed = aead_encrypt(seal, bytes(24), ik_a, ek_a)
    return {"dh1": dh1, "dh2": dh2, "dh3": dh3, "shared_key": shared_key_of(dh1, dh2, dh3),
            "associated_data": ik_a + ik_b, "seal_key": seal, "sealed_identity": sealed,
            "wire_header": ek_a + sealed}


def x3dh_open(message, spk_b_secret):
    """B opens the session header at the front of a first message: (IK_A, EK_A)."""
    if len(message) < X3DH_HEADER:
        raise Reject("first message shorter than the session header")
    ek_a = message[:32]
    ik_a = aead_decrypt(seal_key_of(DH(spk_b_secret, ek_a)), bytes(24), message[32:80], ek_a)
    return ik_a, ek_a


def x3dh_accept(ik_b_secret, spk_b_secret, ik_a, ek_a):
    """B's side: (SK, AD)."""
    dh1, dh2, dh3 = DH(spk_b_secret, ik_a), DH(ik_b_secret, ek_a), DH(spk_b_secret, ek_a)
    return shared_key_of(dh1, dh2, dh3), ik_a + public_of(ik_b_secret)


# ---------------------------------------------------------------- §4 Double Ratchet
def KDF_RK(rk, dh_out):
    o = KDF(rk, "root", dh_out, 64)
    return o[:32], o[32:]


def KDF_CK(ck):
    return KDF(ck, "chain", b"", 32), KDF(ck, "message", b"", 32)


def aead_key_nonce(mk):
    return KDF(mk, "aead-key", b"", 32), KDF(mk, "aead-nonce", b"", 24)


class KeySource:
    """The recorded fresh ratchet key pairs of one party, handed out in order (§12)."""

    def __init__(self, secrets):
        self.secrets = list(secrets)

    def fresh(self):
        if not self.secrets:
            raise AssertionError("the ratchet asked for more fresh keys than the vectors list")
        return self.secrets.pop(0)


class Ratchet:
    """§4 state. dhs_secret is the own ratchet secret key; optional fields are None."""

    def __init__(self):
        self.ad = bytes(AD_SIZE)
        self.rk = bytes(32)
        self.dhs_secret = bytes(32)
        self.dhr = self.cks = self.ckr = None
        self.ns = self.nr = self.pn = 0
        self.skipped = []  # [(dh, n, mk)], oldest first

    @staticmethod
    def initiate(sk, ad, spk_b, keys):
        r = Ratchet()
        r.ad, r.dhs_secret, r.dhr = ad, keys.fresh(), spk_b
        r.rk, r.cks = KDF_RK(sk, DH(r.dhs_secret, spk_b))
        return r

    @staticmethod
    def respond(sk, ad, spk_b_secret):
        r = Ratchet()
        r.ad, r.dhs_secret, r.rk = ad, spk_b_secret, sk
        return r

    def encrypt(self, plaintext, trace=None):
        if self.cks is None:
            raise Reject("no sending chain yet")
        if self.ns == U32_MAX:
            raise Reject("sending chain exhausted")
        ck = self.cks
        self.cks, mk = KDF_CK(ck)
        header = public_of(self.dhs_secret) + be32(self.pn) + be32(self.ns)
        self.ns += 1
        key, nonce = aead_key_nonce(mk)
        if trace is not None:
            trace.update(chain_key=ck, message_key=mk, aead_key=key, aead_nonce=nonce)
        return header + aead_encrypt(key, nonce, plaintext, self.ad + header)

    def decrypt(self, message, keys):
        """§4 Decrypt, computed on a copy: self changes only if the message opens."""
        work = copy.deepcopy(self)
        plaintext = work._decrypt(message, keys)
        self.__dict__.update(work.__dict__)
        return plaintext

    def _set_aside(self, dh, ck, start, end):
        """Derive the keys start..end−1 of chain ck, append them to MKSKIPPED; return the chain
        key after them."""
        for n in range(start, end):
            ck, mk = KDF_CK(ck)
            self.skipped.append((dh, n, mk))
        return ck

    def _decrypt(self, message, keys):
        if len(message) < OVERHEAD:
            raise Reject("message shorter than 56 bytes")
        header, body = message[:RATCHET_HEADER], message[RATCHET_HEADER:]
        dh = header[:32]
        pn = int.from_bytes(header[32:36], "big")
        n = int.from_bytes(header[36:40], "big")
        aad = self.ad + header
        # 1. a skipped key
        for i, (sdh, sn, smk) in enumerate(self.skipped):
            if sdh == dh and sn == n:
                plaintext = aead_decrypt(*aead_key_nonce(smk), body, aad)
                del self.skipped[i]
                return plaintext
        # 2. the current receiving chain (the initiator's DHr is at first B's pre-key, with no
        # CKr: B never sends under it, so such a message is rejected, not a ratchet step)
        if self.dhr is not None and dh == self.dhr:
            if self.ckr is None:
                raise Reject("ratchet key is the pre-key, which has no receiving chain")
            if n < self.nr:
                raise Reject("replay or duplicate")
            if n - self.nr > MAX_SKIP:
                raise Reject("too many skipped messages")
            ck = self._set_aside(dh, self.ckr, self.nr, n)
            ck, mk = KDF_CK(ck)
            plaintext = aead_decrypt(*aead_key_nonce(mk), body, aad)
            self.ckr, self.nr = ck, n + 1
            self._evict()
            return plaintext
        # 3. a new ratchet key
        if n > MAX_SKIP:
            raise Reject("too many skipped messages")
        if self.ckr is not None:
            self._set_aside(self.dhr, self.ckr, self.nr, min(pn, self.nr + MAX_SKIP))
        rk, ck = KDF_RK(self.rk, DH(self.dhs_secret, dh))
        ck = self._set_aside(dh, ck, 0, n)
        ck, mk = KDF_CK(ck)
        plaintext = aead_decrypt(*aead_key_nonce(mk), body, aad)
        self.pn, self.ns, self.nr, self.dhr, self.ckr = self.ns, 0, n + 1, dh, ck
        self.dhs_secret = keys.fresh()
        self.rk, self.cks = KDF_RK(rk, DH(self.dhs_secret, self.dhr))
        self._evict()
        return plaintext

    def _evict(self):
        if len(self.skipped) > MAX_SKIP:
            del self.skipped[:len(self.skipped) - MAX_SKIP]

    # ------------------------------------------------------------ §6 stored state
    def serialize(self):
        flags = ((FLAG_DHR if self.dhr is not None else 0) |
                 (FLAG_CKS if self.cks is not None else 0) |
                 (FLAG_CKR if self.ckr is not None else 0))
        out = (STATE_MAGIC + bytes([flags]) + self.ad + self.rk + self.dhs_secret +
               (self.dhr or bytes(32)) + (self.cks or bytes(32)) + (self.ckr or bytes(32)) +
               be32(self.ns) + be32(self.nr) + be32(self.pn) + be32(len(self.skipped)))
        for dh, n, mk in self.skipped:
            out += dh + be32(n) + mk
        return out + H(out, 32)

    @staticmethod
    def deserialize(blob):
        if len(blob) < STATE_MIN:
            raise Reject("state shorter than 277 bytes")
        if blob[:4] != STATE_MAGIC:
            raise Reject("not a version-1 ratchet state")
        if not hmac.compare_digest(H(blob[:-32], 32), blob[-32:]):
            raise Reject("state checksum does not match")
        flags = blob[4]
        if flags & ~(FLAG_DHR | FLAG_CKS | FLAG_CKR):
            raise Reject("unknown flag bits")
        if flags & FLAG_CKR and not flags & FLAG_DHR:
            raise Reject("CKr without DHr")
        count = int.from_bytes(blob[241:245], "big")
        if count > MAX_SKIP:
            raise Reject("too many skipped keys")
        if len(blob) != STATE_FIXED + STATE_ENTRY * count + 32:
            raise Reject("state length does not match its key count")
        r = Ratchet()
        r.ad, r.rk, r.dhs_secret = blob[5:69], blob[69:101], blob[101:133]
        r.dhr = blob[133:165] if flags & FLAG_DHR else None
        r.cks = blob[165:197] if flags & FLAG_CKS else None
        r.ckr = blob[197:229] if flags & FLAG_CKR else None
        r.ns, r.nr, r.pn = (int.from_bytes(blob[o:o + 4], "big") for o in (229, 233, 237))
        for i in range(count):
            e = blob[STATE_FIXED + STATE_ENTRY * i:STATE_FIXED + STATE_ENTRY * (i + 1)]
            r.skipped.append((e[:32], int.from_bytes(e[32:36], "big"), e[36:68]))
        return r


# ---------------------------------------------------------------- checks
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def check_eq(name, got, want):
    check(name, got == want, "\n  got  %s\n  want %s" % (
        got.hex() if isinstance(got, bytes) else got,
        want.hex() if isinstance(want, bytes) else want))


def h(s):
    return bytes.fromhex(s)


def check_parameters(p):
    for field, value in (("x3dh_header_size", X3DH_HEADER), ("associated_data_size", AD_SIZE),
                         ("ratchet_header_size", RATCHET_HEADER), ("tag_size", TAG),
                         ("message_overhead", OVERHEAD), ("max_skip", MAX_SKIP),
                         ("state_min_size", STATE_MIN)):
        check_eq("parameters: " + field, p[field], value)


def check_session(s):
    """§3 from the listed secrets; returns the values a conversation starts from."""
    name = "session %s: " % s["name"]
    secrets = {}
    for who in ("alice_identity", "bob_identity", "bob_prekey", "ephemeral"):
        secrets[who] = h(s[who + "_secret"])
        check_eq(name + who + " public key", public_of(secrets[who]), h(s[who + "_public"]))
    ik_b, spk_b = h(s["bob_identity_public"]), h(s["bob_prekey_public"])
    a = x3dh_initiate(secrets["alice_identity"], ik_b, spk_b, secrets["ephemeral"])
    for field in ("dh1", "dh2", "dh3", "shared_key", "associated_data", "seal_key",
                  "sealed_identity", "wire_header"):
        check_eq(name + field, a[field], h(s[field]))
    # B's side, from the wire header alone.
    ik_a, ek_a = x3dh_open(h(s["wire_header"]), secrets["bob_prekey"])
    check_eq(name + "B opens IK_A", ik_a, h(s["alice_identity_public"]))
    check_eq(name + "B reads EK_A", ek_a, h(s["ephemeral_public"]))
    sk, ad = x3dh_accept(secrets["bob_identity"], secrets["bob_prekey"], ik_a, ek_a)
    check_eq(name + "B derives SK", sk, h(s["shared_key"]))
    check_eq(name + "B derives AD", ad, h(s["associated_data"]))
    return {"sk": a["shared_key"], "ad": a["associated_data"], "spk_b": spk_b,
            "ik_b_secret": secrets["bob_identity"], "spk_b_secret": secrets["bob_prekey"],
            "wire_header": a["wire_header"]}


def receive_first(first_message, ik_b_secret, spk_b_secret):
    """B receives a first message (§3): open the header, agree, respond; the ratchet message
    follows the header."""
    ik_a, ek_a = x3dh_open(first_message, spk_b_secret)
    sk, ad = x3dh_accept(ik_b_secret, spk_b_secret, ik_a, ek_a)
    return Ratchet.respond(sk, ad, spk_b_secret), first_message[X3DH_HEADER:]


def check_state(name, r, blob_hex):
    blob = h(blob_hex)
    check_eq(name + " state (§6 serialization)", r.serialize(), blob)
    try:
        check_eq(name + " state round trip", Ratchet.deserialize(blob).serialize(), blob)
    except Reject as err:
        check(name + " state round trip", False, str(err))


def check_conversation(c, session):
    name = "conversation %s: " % c["name"]
    keys = {"alice": KeySource(h(k) for k in c["alice_ratchet_keys"]),
            "bob": KeySource(h(k) for k in c["bob_ratchet_keys"])}
    messages = {m["id"]: m for m in c["messages"]}
    parties = {"alice": Ratchet.initiate(session["sk"], session["ad"], session["spk_b"],
                                         keys["alice"]),
               "bob": None}
    check_state(name + "alice initial", parties["alice"], c["alice_initial_state"])
    wire_header = session["wire_header"]
    for i, e in enumerate(c["events"]):
        m, who = messages[e["message"]], e["party"]
        label = "%s#%d %s %s %s:" % (name, i, who, e["op"], e["message"])
        if e["op"] == "encrypt":
            trace = {}
            out = parties[who].encrypt(h(m["plaintext"]), trace)
            check_eq(label + " message bytes", out, h(m["message"]))
            check_eq(label + " header", out[:RATCHET_HEADER],
                     h(m["dh"]) + be32(m["pn"]) + be32(m["n"]))
            for field in ("chain_key", "message_key", "aead_key", "aead_nonce"):
                check_eq(label + " " + field, trace[field], h(m[field]))
            if "first_message" in m:
                check_eq(label + " first message = session header ‖ message",
                         wire_header + out, h(m["first_message"]))
        else:
            try:
                if "first_message" in m and parties[who] is None:
                    parties[who], ratchet_message = receive_first(
                        h(m["first_message"]), session["ik_b_secret"], session["spk_b_secret"])
                else:
                    ratchet_message = h(m["message"])
                plaintext = parties[who].decrypt(ratchet_message, keys[who])
                check_eq(label + " plaintext", plaintext, h(m["plaintext"]))
            except Reject as err:
                check(label + " decrypts", False, str(err))
                continue
        check_state(label, parties[who], e["state_after"])
    for who in ("alice", "bob"):
        check(name + who + " used every recorded ratchet key", not keys[who].secrets,
              "%d left" % len(keys[who].secrets))


def check_negative(c):
    name = "negative %s:" % c["name"]
    if c["kind"] == "ratchet":
        state = h(c["state"])
        r = Ratchet.deserialize(state)
        try:
            r.decrypt(h(c["message"]), KeySource([bytes(32)] * 2))
            check(name + " rejected", False, "it decrypted")
        except Reject as err:
            check(name + " rejected (" + str(err) + ")", True)
        check_eq(name + " state unchanged", r.serialize(), state)
    else:  # a first message: session header ‖ ratchet message
        stage = "header"
        try:
            ik_a, ek_a = x3dh_open(h(c["first_message"]), h(c["bob_prekey_secret"]))
            stage = "agreement"
            sk, ad = x3dh_accept(h(c["bob_identity_secret"]), h(c["bob_prekey_secret"]), ik_a,
                                 ek_a)
            stage = "ratchet"
            r = Ratchet.respond(sk, ad, h(c["bob_prekey_secret"]))
            r.decrypt(h(c["first_message"])[X3DH_HEADER:], KeySource([bytes(32)]))
            check(name + " rejected", False, "it decrypted")
        except Reject as err:
            check(name + " rejected (" + str(err) + ")", True)
            check_eq(name + " rejected at the stated stage", stage, c["rejected_at"])


def check_corrupt_state(c):
    name = "corrupt state %s:" % c["name"]
    try:
        Ratchet.deserialize(h(c["state"]))
        check(name + " rejected", False, "it was accepted")
    except Reject as err:
        check(name + " rejected (" + str(err) + ")", True)


def guarded(name, run):
    """Runs one case; an unexpected exception (a rejection where none was due, a malformed
    vector) is a failure of that case, not the end of the run."""
    try:
        run()
    except Exception as err:  # noqa: BLE001 — report and go on
        check(name + ": ran to the end", False, "%s: %s" % (type(err).__name__, err))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                              "e2ee.json")
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    check_parameters(v["parameters"])
    sessions = {}
    for s in v["sessions"]:
        guarded("session " + s["name"], lambda: sessions.update({s["name"]: check_session(s)}))
    for c in v["conversations"]:
        guarded("conversation " + c["name"], lambda: check_conversation(c, sessions[c["session"]]))
    for c in v["negative"]:
        guarded("negative " + c["name"], lambda: check_negative(c))
    for c in v["corrupt_states"]:
        guarded("corrupt state " + c["name"], lambda: check_corrupt_state(c))
    check("vector file has every section", all(
        v[k] for k in ("sessions", "conversations", "negative", "corrupt_states")))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
