#!/usr/bin/env python3
"""Independent implementation of Sotto's end-to-end encryption, version 2: the deniable
triple-DH key agreement, the Elligator 2 hidden session headers, the Double Ratchet with header
encryption, the stored session state, the message body and the stored sessions per partner,
checked against the known-answer vectors in tests/vectors/e2ee.json.

Written from papers/e2ee-spec.md (version 2) alone, without looking at the C++ implementation
in client_lib/ or at the vector generator: it shows that the specification is enough for an
interoperable implementation. Section numbers in comments (§n) refer to that document; §12
describes the vector file. Where the text left a choice open, the comment says "Reading:" and
what was assumed.

Needs Debian's python3 with python3-nacl (PyNaCl: X25519, XChaCha20-Poly1305) and hashlib's
BLAKE2b; the field arithmetic of §3a is done with Python integers.

Usage:  python3 tests/vectors/verify_e2ee.py [-v] [path/to/e2ee.json]
        python3 tests/vectors/verify_e2ee.py --self-test [-v]
Prints one line per failed check (every check with -v) and ends with a summary line
"N checks: P passed, F failed"; exit status 0 iff F == 0. --self-test checks this
implementation on its own (round trips, and Map against libsodium's
crypto_core_ed25519_from_uniform through ctypes) without a vector file.
"""
import copy
import hashlib
import hmac
import json
import os
import sys

from nacl import bindings as nb
from nacl.exceptions import CryptoError

# ---------------------------------------------------------------- §2 constants
KEY = 32
REPR = 32
AD_SIZE = 64
SESSION_HEADER = 112          # R (32) ‖ AEAD(EK_A ‖ IK_A) (64 + 16)
RATCHET_HEADER = 40           # dh (32) ‖ PN (4) ‖ N (4)
TAG = 16
ENC_HEADER = RATCHET_HEADER + TAG
OVERHEAD = ENC_HEADER + TAG   # 72
MAX_SKIP = 1000
MAX_SKIPPED_HEADER_KEYS = 16
U32_MAX = 2**32 - 1
ENVELOPE = 2030
BODY = 1846
BODY_HEADER = 33
MAX_TEXT = 1685
MAX_RECEIPTS_PER_TEXT = 8
MAX_RECEIPT_IDS = 64
BODY_VERSION = 2
TYPE_TEXT, TYPE_RECEIPT = 1, 2
# §6 stored ratchet state
STATE_MAGIC = b"SRS\x02"
STATE_MAGIC_V1 = b"SRS\x01"
STATE_FIXED = 341
STATE_ENTRY = 68
STATE_MIN = STATE_FIXED + 32  # 373
FLAG_SENDING, FLAG_RECEIVING = 1, 2
# §8 stored sessions per partner
SESSIONS_MAGIC = b"SPS\x02"
SESSIONS_MAGIC_V1 = b"SPS\x01"
MAX_SESSIONS_PER_PEER = 4
MAX_RETIRED = 64
REC_INITIATED, REC_CONFIRMED, REC_PREKEY = 1, 2, 4

# §2 / §3a field and curve
P = 2**255 - 19
A = 486662
Z = 2
ELL = 2**252 + 27742317777372353535851937790883648493
SQRT_M1 = pow(2, (P - 1) // 4, P)
U_Q = bytes.fromhex("bb72312170e8156f7a836313f85bee9b1fdce926ba9804a29e8d137ec67f2533")
U_T8 = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


class Reject(Exception):
    """The operation failed (bad input, failed authentication, …); args[0] says why, `code`
    names the reason for the checks: short, header (no header key opens it), aead (a body or a
    slot does not authenticate), replay (§4 step 2, N < Nr), given-up (§4 step 4),
    too-many-skipped, low-order (a DH output is all zero), corrupt, older-version."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class Corrupt(Reject):
    """A stored blob or a body that decoding must refuse as damaged (Corruption)."""

    def __init__(self, message, why=None):
        super().__init__(message, "corrupt")
        self.why = why


class OlderVersion(Reject):
    """A version-1 stored blob (§6, §8: the NotFound status, not damage)."""

    def __init__(self, message):
        super().__init__(message, "older-version")


# ---------------------------------------------------------------- §2 primitives
def DH(k, p):
    """X25519; fails on an all-zero output (low-order p)."""
    try:
        out = nb.crypto_scalarmult(k, p)
    except Exception as e:  # libsodium returns -1 on an all-zero output
        raise Reject("DH: low-order point", "low-order") from e
    if out == bytes(32):
        raise Reject("DH: low-order point", "low-order")
    return out


def public_of(secret):
    return nb.crypto_scalarmult_base(secret)


def H(m, length, key=b""):
    """BLAKE2b with output length `length`, keyed with `key` (unkeyed when empty)."""
    return hashlib.blake2b(m, digest_size=length, key=key).digest()


def KDF(key, label, inp, length):
    return H(b"sotto-ratchet-v2/" + label.encode("ascii") + inp, length, key)


def aead_encrypt(key, nonce, plaintext, ad):
    return nb.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_decrypt(key, nonce, ciphertext, ad):
    try:
        return nb.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except CryptoError as e:
        raise Reject("AEAD: authentication failed", "aead") from e


def be32(n):
    return n.to_bytes(4, "big")


def be64(n):
    return n.to_bytes(8, "big")


def u32(b):
    return int.from_bytes(b, "big")


# ---------------------------------------------------------------- §3a field, Map, Inverse
def fe(b):
    return int.from_bytes(b, "little")


def fe_bytes(x):
    return (x % P).to_bytes(32, "little")


def inv(x):
    return pow(x, P - 2, P)


def chi(x):
    return pow(x % P, (P - 1) // 2, P)


def is_square(x):
    return chi(x) != P - 1


def is_nonnegative(x):
    return x % P <= (P - 1) // 2


def sqrt(a):
    """A square root of the square a (§3a: p ≡ 5 mod 8)."""
    a %= P
    b = pow(a, (P + 3) // 8, P)
    if b * b % P != a:
        b = b * SQRT_M1 % P
    if b * b % P != a:
        raise AssertionError("sqrt of a non-square")
    return b


def g(u):
    return (u * u * u + A * u * u + u) % P


def elligator_map(R):
    """§3a forward map: any 32-byte R → the u-coordinate (32 bytes) of a curve point."""
    r = fe(R) & ((1 << 254) - 1)
    w = (-A * inv(1 + Z * r * r)) % P
    u = w if is_square(g(w)) else (-w - A) % P
    return fe_bytes(u)


def map_branch(R):
    """Which branch of the map R takes: 1 if g(w) is a square (u = w), else 0 (§3a Inverse's
    b gives the representative that takes this branch)."""
    r = fe(R) & ((1 << 254) - 1)
    w = (-A * inv(1 + Z * r * r)) % P
    return 1 if is_square(g(w)) else 0


def elligator_inverse(u_bytes, b):
    """§3a Inverse(u, b) → r (32 bytes, top bits 0), or None: no representative.
    Reading: u is taken as the integer of its 32 bytes (the spec says "a canonical u"; a
    non-canonical u is not given to it). The spec does not require u to be a curve point
    (g(u) a square); for a twist u with −2u(u + A) a square this returns an r with
    Map(r) ≠ u, as written (only curve points reach it in §3a step 4)."""
    u = fe(u_bytes)
    if u == 0 or u == (-A) % P:
        return None
    t = (-2 * u * (u + A)) % P
    if not is_square(t):
        return None
    s = sqrt(t)
    r = s * inv(2 * (u + A)) % P if b == 0 else s * inv(2 * u) % P
    if not is_nonnegative(r):
        r = (-r) % P
    return fe_bytes(r)


def ladder(x, u_bytes):
    """§3a Ladder(x, u): the RFC 7748 §5 Montgomery ladder on the integer x, no clamping, bits
    255 down to 0, x_1 = u, a24 = 121665; x_2 · z_2^(p−2) (0 for the point at infinity).
    Reading: bit 255 of u is masked as RFC 7748's decodeUCoordinate does (the spec does not say;
    every u given to it here is canonical, so it does not matter)."""
    x1 = fe(u_bytes) & ((1 << 255) - 1)
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for i in range(255, -1, -1):
        bit = (x >> i) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a_ = (x2 + z2) % P
        aa = a_ * a_ % P
        b_ = (x2 - z2) % P
        bb = b_ * b_ % P
        e = (aa - bb) % P
        c = (x3 + z3) % P
        d = (x3 - z3) % P
        da = d * a_ % P
        cb = c * b_ % P
        x3 = (da + cb) % P
        x3 = x3 * x3 % P
        z3 = (da - cb) % P
        z3 = x1 * (z3 * z3 % P) % P
        x2 = aa * bb % P
        z2 = e * ((aa + 121665 * e) % P) % P
    if swap:
        x2, x3, z2, z3 = x3, x2, z3, z2
    return fe_bytes(x2 * pow(z2, P - 2, P))


def clamp_int(s):
    """§2 decodeScalar25519 as an integer: bits 0, 1, 2 and 255 cleared, bit 254 set."""
    k = bytearray(s)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return int.from_bytes(bytes(k), "little")


def hidden_candidate(draw):
    """§3a steps 1–5 for one 33-byte draw: the intermediates, and R (None if rejected)."""
    if len(draw) != 33:
        raise AssertionError("a hidden-key draw is 33 bytes, not %d" % len(draw))
    s, tau = draw[:32], draw[32]
    k = clamp_int(s)
    t = s[0] % 8
    c = 5 * t % 8
    x = k + c * ELL
    u = ladder(x, U_Q)
    r = elligator_inverse(u, tau & 1)
    out = {"secret": s, "tweak": tau, "torsion": t, "scalar": x.to_bytes(32, "little"),
           "hidden_public": u, "branch": tau & 1, "representative": None}
    if r is not None:
        R = bytearray(r)
        R[31] |= tau & 0xC0
        out["representative"] = bytes(R)
    return out


def hidden_key_pair(rng):
    """§3a: draw (e, R), repeating until a draw has a representative. Returns the accepted
    candidate with the list of every draw made ("draws")."""
    draws = []
    while True:
        d = rng.take(33)
        draws.append(d)
        cand = hidden_candidate(d)
        if cand["representative"] is not None:
            cand["draws"] = draws
            return cand


# ---------------------------------------------------------------- §3 key agreement
def shared_key_of(dh1, dh2, dh3):
    return H(b"sotto-x3dh-v2/shared-key" + dh1 + dh2 + dh3, 32)


def agree_initiator(ik_a_secret, ik_b, spk_b, ek_secret):
    dh1, dh2, dh3 = DH(ik_a_secret, spk_b), DH(ek_secret, ik_b), DH(ek_secret, spk_b)
    return {"dh1": dh1, "dh2": dh2, "dh3": dh3, "shared_key": shared_key_of(dh1, dh2, dh3),
            "associated_data": public_of(ik_a_secret) + ik_b}


def agree_responder(ik_b_secret, spk_b_secret, ik_a, ek_a):
    dh1, dh2, dh3 = DH(spk_b_secret, ik_a), DH(ik_b_secret, ek_a), DH(spk_b_secret, ek_a)
    return {"dh1": dh1, "dh2": dh2, "dh3": dh3, "shared_key": shared_key_of(dh1, dh2, dh3),
            "associated_data": ik_a + public_of(ik_b_secret)}


def header_keys(sk):
    """§4: (HK_A, HK_B)."""
    return KDF(sk, "initiator-header-key", b"", 32), KDF(sk, "responder-header-key", b"", 32)


def slot_key_of(dh):
    return H(b"sotto-x3dh-v2/slot-key", 32, key=dh)


def make_session_header(rng, ek_a, ik_a, spk_b):
    """§3 steps 1–4: a fresh hidden key pair; R ‖ AEAD(slot key, 0^24, EK_A ‖ IK_A, R)."""
    hk = hidden_key_pair(rng)
    R = hk["representative"]
    dh = DH(hk["secret"], spk_b)
    sk = slot_key_of(dh)
    sealed = aead_encrypt(sk, bytes(24), ek_a + ik_a, R)
    hk.update(dh=dh, slot_key=sk, sealed=sealed, slot=R + sealed)
    return hk


def open_session_header(slot, spk_b_secret):
    """§3 Opening: (EK_A, IK_A), or Reject ("not a session header")."""
    if len(slot) != SESSION_HEADER:
        raise Reject("a session header is 112 bytes")
    R = slot[:REPR]
    dh = DH(spk_b_secret, elligator_map(R))
    pt = aead_decrypt(slot_key_of(dh), bytes(24), slot[REPR:], R)
    return pt[:32], pt[32:64]


# ---------------------------------------------------------------- §4 Double Ratchet
def KDF_RK(rk, dh_out):
    o = KDF(rk, "root", dh_out, 64)
    return o[:32], o[32:], KDF(rk, "root-header-key", dh_out, 32)


def KDF_CK(ck):
    return KDF(ck, "chain", b"", 32), KDF(ck, "message", b"", 32)


def body_key_nonce(mk):
    return KDF(mk, "aead-key", b"", 32), KDF(mk, "aead-nonce", b"", 24)


def HN(body):
    return H(b"sotto-ratchet-v2/header-nonce" + body, 24)


class Ratchet:
    """§4 state. dhs_secret is the own ratchet secret key; absent chains are None."""

    def __init__(self):
        self.ad = bytes(AD_SIZE)
        self.rk = bytes(32)
        self.dhs_secret = bytes(32)
        self.cks = self.hks = None
        self.ckr = self.hkr = None
        self.nhks = bytes(32)
        self.nhkr = bytes(32)
        self.ns = self.nr = self.pn = 0
        self.skipped = []  # [(header key, n, mk)], oldest first

    @staticmethod
    def initiate(sk, ad, spk_b, keys):
        r = Ratchet()
        r.ad, r.dhs_secret = ad, keys.fresh()
        r.rk, r.cks, r.nhks = KDF_RK(sk, DH(r.dhs_secret, spk_b))
        r.hks, r.nhkr = header_keys(sk)
        return r

    @staticmethod
    def respond(sk, ad, spk_b_secret):
        r = Ratchet()
        r.ad, r.dhs_secret, r.rk = ad, spk_b_secret, sk
        hk_a, hk_b = header_keys(sk)
        r.nhks, r.nhkr = hk_b, hk_a
        return r

    def encrypt(self, plaintext, trace=None):
        if self.cks is None:
            raise Reject("no sending chain yet")
        if self.ns == U32_MAX:
            raise Reject("sending chain exhausted")
        ck = self.cks
        self.cks, mk = KDF_CK(ck)
        h = public_of(self.dhs_secret) + be32(self.pn) + be32(self.ns)
        key, nonce = body_key_nonce(mk)
        body = aead_encrypt(key, nonce, plaintext, self.ad + h)
        hn = HN(body)
        eh = aead_encrypt(self.hks, hn, h, self.ad)
        if trace is not None:
            trace.update(header=h, header_key=self.hks, chain_key=ck, message_key=mk,
                         aead_key=key, aead_nonce=nonce, body=body, header_nonce=hn,
                         encrypted_header=eh)
        self.ns += 1
        return eh + body

    def decrypt(self, message, keys, trace=None):
        """§4 Decrypt, computed on a copy: self changes only if the message opens."""
        work = copy.deepcopy(self)
        plaintext = work._decrypt(message, keys, trace)
        self.__dict__.update(work.__dict__)
        return plaintext

    def candidate_header_keys(self):
        out = []
        for hk, _, _ in self.skipped:
            if hk not in out:
                out.append(hk)
        if self.hkr is not None and self.hkr not in out:
            out.append(self.hkr)
        if self.nhkr not in out:
            out.append(self.nhkr)
        return out

    @staticmethod
    def _derive(hk, ck, start, end, into):
        """Derive the keys start..end−1 of chain ck, appending (hk, n, mk) to `into`; return
        the chain key after them."""
        for n in range(start, end):
            ck, mk = KDF_CK(ck)
            into.append((hk, n, mk))
        return ck

    def _decrypt(self, message, keys, trace):
        if len(message) < OVERHEAD:
            raise Reject("message shorter than 72 bytes", "short")
        eh, body = message[:ENC_HEADER], message[ENC_HEADER:]
        nonce = HN(body)
        for K in self.candidate_header_keys():
            try:
                h = aead_decrypt(K, nonce, eh, self.ad)
                break
            except Reject:
                continue
        else:
            raise Reject("no header key opens the header: not for this session", "header")
        dh, pn, n = h[:32], u32(h[32:36]), u32(h[36:40])
        if trace is not None:
            trace.update(header=h, header_key=K)
        aad = self.ad + h
        # 1. a skipped key
        for i, (shk, sn, smk) in enumerate(self.skipped):
            if shk == K and sn == n:
                plaintext = aead_decrypt(*body_key_nonce(smk), body, aad)
                del self.skipped[i]
                if trace is not None:
                    trace["step"] = 1
                return plaintext
        new = []
        # 2. the current receiving chain
        if self.hkr is not None and K == self.hkr:
            if n < self.nr:
                raise Reject("replay or duplicate", "replay")
            if n - self.nr > MAX_SKIP:
                raise Reject("too many skipped messages", "too-many-skipped")
            ck = self._derive(self.hkr, self.ckr, self.nr, n, new)
            ck, mk = KDF_CK(ck)
            plaintext = aead_decrypt(*body_key_nonce(mk), body, aad)
            self.ckr, self.nr = ck, n + 1
            step = 2
        # 3. a DH ratchet step
        elif K == self.nhkr:
            if n > MAX_SKIP:
                raise Reject("too many skipped messages", "too-many-skipped")
            if self.ckr is not None:
                self._derive(self.hkr, self.ckr, self.nr, min(pn, self.nr + MAX_SKIP), new)
            rk2, ckr2, nhkr2 = KDF_RK(self.rk, DH(self.dhs_secret, dh))
            ck = self._derive(self.nhkr, ckr2, 0, n, new)
            ck, mk = KDF_CK(ck)
            plaintext = aead_decrypt(*body_key_nonce(mk), body, aad)
            self.pn, self.ns, self.nr = self.ns, 0, n + 1
            self.hks, self.hkr, self.nhkr = self.nhks, self.nhkr, nhkr2
            self.ckr = ck
            self.dhs_secret = keys.fresh()
            self.rk, self.cks, self.nhks = KDF_RK(rk2, DH(self.dhs_secret, dh))
            step = 3
        # 4. an older chain's header key holding no key for N
        else:
            raise Reject("replay, or a message given up (older chain)", "given-up")
        self.skipped.extend(new)
        self._evict()
        if trace is not None:
            trace["step"] = step
        return plaintext

    def _evict(self):
        if len(self.skipped) > MAX_SKIP:
            del self.skipped[:len(self.skipped) - MAX_SKIP]
        while len({e[0] for e in self.skipped}) > MAX_SKIPPED_HEADER_KEYS:
            oldest = self.skipped[0][0]
            self.skipped = [e for e in self.skipped if e[0] != oldest]

    # ------------------------------------------------------------ §6 stored state
    def serialize(self):
        flags = ((FLAG_SENDING if self.cks is not None else 0) |
                 (FLAG_RECEIVING if self.ckr is not None else 0))
        z = bytes(32)
        out = (STATE_MAGIC + bytes([flags]) + self.ad + self.rk + self.dhs_secret +
               (self.cks or z) + (self.ckr or z) + (self.hks or z) + (self.hkr or z) +
               self.nhks + self.nhkr +
               be32(self.ns) + be32(self.nr) + be32(self.pn) + be32(len(self.skipped)))
        for hk, n, mk in self.skipped:
            out += hk + be32(n) + mk
        return out + H(out, 32)

    @staticmethod
    def deserialize(blob):
        """§6 Deserialize. Reading: "first reads the magic" — a blob of at least 4 bytes
        starting with the version-1 magic is OlderVersion whatever its length; every other
        refusal is Corrupt, checked in the order the spec lists them. The spec says absent
        fields are zeros but not that a reader refuses non-zero bytes there: they are accepted
        and written back as zeros."""
        if len(blob) >= 4 and blob[:4] == STATE_MAGIC_V1:
            raise OlderVersion("session state was made by an older Sotto version (format 1)")
        if len(blob) < STATE_MIN:
            raise Corrupt("state shorter than 373 bytes", "short")
        if blob[:4] != STATE_MAGIC:
            raise Corrupt("not a version-2 ratchet state (magic)", "magic")
        if not hmac.compare_digest(H(blob[:-32], 32), blob[-32:]):
            raise Corrupt("state checksum does not match", "checksum")
        flags = blob[4]
        if flags & ~(FLAG_SENDING | FLAG_RECEIVING):
            raise Corrupt("unknown flag bits", "flags")
        if flags & FLAG_RECEIVING and not flags & FLAG_SENDING:
            raise Corrupt("receiving chain without sending chain", "receiving-without-sending")
        count = u32(blob[337:341])
        if count > MAX_SKIP:
            raise Corrupt("more than MAX_SKIP skipped keys", "count")
        if len(blob) != STATE_FIXED + STATE_ENTRY * count + 32:
            raise Corrupt("state length does not match its key count", "length")
        r = Ratchet()
        r.ad, r.rk, r.dhs_secret = blob[5:69], blob[69:101], blob[101:133]
        if flags & FLAG_SENDING:
            r.cks, r.hks = blob[133:165], blob[197:229]
        if flags & FLAG_RECEIVING:
            r.ckr, r.hkr = blob[165:197], blob[229:261]
        r.nhks, r.nhkr = blob[261:293], blob[293:325]
        r.ns, r.nr, r.pn = (u32(blob[o:o + 4]) for o in (325, 329, 333))
        for i in range(count):
            e = blob[STATE_FIXED + STATE_ENTRY * i:STATE_FIXED + STATE_ENTRY * (i + 1)]
            r.skipped.append((e[:32], u32(e[32:36]), e[36:68]))
        if len({e[0] for e in r.skipped}) > MAX_SKIPPED_HEADER_KEYS:
            raise Corrupt("more than MAX_SKIPPED_HEADER_KEYS distinct header keys", "header-keys")
        return r


# ---------------------------------------------------------------- §7 body
def encode_body(btype, msg_id, sent, expires, text=b"", receipts=()):
    """§7 body encoding; refuses what a sender must refuse (Reject)."""
    receipts = list(receipts)
    if len(msg_id) != 16 or any(len(x) != 16 for x in receipts):
        raise Reject("message and receipt ids are 16 bytes")
    if btype == TYPE_TEXT:
        if not 1 <= len(text) <= MAX_TEXT:
            raise Reject("message is %d bytes; at most %d bytes fit" % (len(text), MAX_TEXT))
        if len(receipts) > MAX_RECEIPTS_PER_TEXT:
            raise Reject("a text message carries at most 8 receipts, not %d" % len(receipts))
        text.decode("utf-8")  # raises UnicodeDecodeError on ill-formed text
    elif btype == TYPE_RECEIPT:
        if text or not 1 <= len(receipts) <= MAX_RECEIPT_IDS:
            raise Reject("a receipt carries no text and 1 to 64 ids")
    else:
        raise Reject("unknown body type")
    out = (bytes([BODY_VERSION, btype]) + msg_id + sent.to_bytes(8, "big", signed=True) +
           be32(expires) + bytes([len(receipts)]) + len(text).to_bytes(2, "big") +
           b"".join(receipts) + text)
    return out + bytes(BODY - len(out))


def decode_body(b):
    """§7 strict decoding: a dict, or Corrupt."""
    if len(b) != BODY:
        raise Corrupt("a body is 1846 bytes, not %d" % len(b), "size")
    if b[0] != BODY_VERSION:
        raise Corrupt("body version %d (version 1 is an older Sotto version)" % b[0], "version")
    btype, nr, L = b[1], b[30], int.from_bytes(b[31:33], "big")
    if btype == TYPE_TEXT:
        if nr > MAX_RECEIPTS_PER_TEXT:
            raise Corrupt("text body with R = %d > 8" % nr, "receipts")
        if L == 0 or L > MAX_TEXT:
            raise Corrupt("text body with L = %d" % L, "text-length")
    elif btype == TYPE_RECEIPT:
        if L != 0:
            raise Corrupt("receipt body with text (L = %d)" % L, "receipt-text")
        if nr == 0 or nr > MAX_RECEIPT_IDS:
            raise Corrupt("receipt body with R = %d" % nr, "receipts")
    else:
        raise Corrupt("unknown body type %d" % btype, "type")
    end = BODY_HEADER + 16 * nr + L
    if end > BODY:  # cannot happen within the limits above; kept for safety
        raise Corrupt("body fields overflow the body")
    if any(b[end:]):
        raise Corrupt("non-zero padding byte", "padding")
    text = b[BODY_HEADER + 16 * nr:end]
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Corrupt("invalid UTF-8 at byte %d" % e.start, "utf-8") from e
    return {"type": btype, "id": b[2:18], "sent": int.from_bytes(b[18:26], "big", signed=True),
            "expires": u32(b[26:30]),
            "receipts": [b[BODY_HEADER + 16 * i:BODY_HEADER + 16 * (i + 1)] for i in range(nr)],
            "text": text}


def is_loop(item, loop_key):
    """§7 loop cover: r (16) ‖ H(key = loop key, "sotto-loop-v1" ‖ r, 16) ‖ 1998 bytes."""
    if len(item) != ENVELOPE:
        return False
    return hmac.compare_digest(H(b"sotto-loop-v1" + item[:16], 16, key=loop_key), item[16:32])


# ---------------------------------------------------------------- §8 stored sessions
class SessionRecord:
    def __init__(self, ratchet, initiated, confirmed, ek_a, created, last_used, spk_b=None):
        self.ratchet, self.initiated, self.confirmed = ratchet, initiated, confirmed
        self.ek_a, self.created, self.last_used, self.spk_b = ek_a, created, last_used, spk_b


def serialize_sessions(partner_ik, clock, records, retired):
    out = SESSIONS_MAGIC + partner_ik + be64(clock) + bytes([len(records), len(retired)])
    out += b"".join(retired)
    for rec in records:
        state = rec.ratchet.serialize()
        flags = ((REC_INITIATED if rec.initiated else 0) | (REC_CONFIRMED if rec.confirmed else 0)
                 | (REC_PREKEY if rec.spk_b is not None else 0))
        out += (bytes([flags]) + rec.ek_a + be64(rec.created) + be64(rec.last_used) +
                be32(len(state)) + (rec.spk_b or b"") + state)
    return out + H(out, 32)


def deserialize_sessions(blob):
    """§8 PeerSessions::Deserialize: (partner IK, clock, records, retired), OlderVersion or
    Corrupt. Reading: as for §6, the version-1 magic is checked first."""
    if len(blob) >= 4 and blob[:4] == SESSIONS_MAGIC_V1:
        raise OlderVersion("stored sessions were made by an older Sotto version (format 1)")
    if len(blob) < 4 + 32 + 8 + 2 + 32:
        raise Corrupt("stored sessions too short")
    if blob[:4] != SESSIONS_MAGIC:
        raise Corrupt("not version-2 stored sessions (magic)")
    if not hmac.compare_digest(H(blob[:-32], 32), blob[-32:]):
        raise Corrupt("stored sessions checksum does not match")
    body = blob[:-32]
    ik, clock, n, m = body[4:36], int.from_bytes(body[36:44], "big"), body[44], body[45]
    if n > MAX_SESSIONS_PER_PEER:
        raise Corrupt("more than 4 sessions")
    if m > MAX_RETIRED:
        raise Corrupt("more than 64 retired keys")
    pos = 46
    if len(body) < pos + 32 * m:
        raise Corrupt("retired keys truncated")
    retired = [body[pos + 32 * i:pos + 32 * (i + 1)] for i in range(m)]
    pos += 32 * m
    records = []
    for _ in range(n):
        if len(body) < pos + 1 + 32 + 8 + 8 + 4:
            raise Corrupt("session record truncated")
        flags = body[pos]
        ek_a = body[pos + 1:pos + 33]
        created = int.from_bytes(body[pos + 33:pos + 41], "big")
        last_used = int.from_bytes(body[pos + 41:pos + 49], "big")
        S = u32(body[pos + 49:pos + 53])
        pos += 53
        if flags & ~(REC_INITIATED | REC_CONFIRMED | REC_PREKEY):
            raise Corrupt("unknown session record flag bits")
        initiated, confirmed = bool(flags & REC_INITIATED), bool(flags & REC_CONFIRMED)
        if bool(flags & REC_PREKEY) != (initiated and not confirmed):
            raise Corrupt("pre-key present other than for an unconfirmed initiator session")
        if not initiated and not confirmed:
            raise Corrupt("unconfirmed responder session")
        if created > last_used or last_used > clock:
            raise Corrupt("session times out of order")
        spk_b = None
        if flags & REC_PREKEY:
            if len(body) < pos + 32:
                raise Corrupt("session record truncated")
            spk_b = body[pos:pos + 32]
            pos += 32
        if len(body) < pos + S:
            raise Corrupt("ratchet state truncated")
        try:
            ratchet = Ratchet.deserialize(body[pos:pos + S])
        except Reject as e:  # a version-1 state inside a version-2 record is damage
            raise Corrupt("ratchet state in a session record: %s" % e) from e
        pos += S
        records.append(SessionRecord(ratchet, initiated, confirmed, ek_a, created, last_used,
                                     spk_b))
    if pos != len(body):
        raise Corrupt("stored sessions length does not add up")
    return ik, clock, records, retired


# ---------------------------------------------------------------- random sources
class Draws:
    """A random source that hands out recorded bytes in order (the vectors list every draw)."""

    def __init__(self, chunks=(), data=b""):
        self.data = bytearray(data + b"".join(chunks))
        self.taken = []

    def take(self, n):
        if len(self.data) < n:
            raise AssertionError("the code asked for more random bytes than the vectors list")
        out = bytes(self.data[:n])
        del self.data[:n]
        self.taken.append(out)
        return out


class KeySource:
    """The recorded fresh ratchet key pairs of one party, handed out in order (§12)."""

    def __init__(self, secrets):
        self.secrets = list(secrets)
        self.used = 0

    def fresh(self):
        if not self.secrets:
            raise AssertionError("the ratchet asked for more fresh keys than the vectors list")
        self.used += 1
        return self.secrets.pop(0)


def _rotl(v, c):
    return ((v << c) & 0xffffffff) | (v >> (32 - c))


def chacha20_block(key, counter, nonce):
    """RFC 8439 §2.3 ChaCha20 block function (IETF: 32-bit counter, 96-bit nonce)."""
    st = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    st += [int.from_bytes(key[i:i + 4], "little") for i in range(0, 32, 4)]
    st += [counter] + [int.from_bytes(nonce[i:i + 4], "little") for i in range(0, 12, 4)]
    x = list(st)

    def qr(a, b, c, d):
        x[a] = (x[a] + x[b]) & 0xffffffff
        x[d] = _rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & 0xffffffff
        x[b] = _rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & 0xffffffff
        x[d] = _rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & 0xffffffff
        x[b] = _rotl(x[b] ^ x[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12), qr(1, 5, 9, 13), qr(2, 6, 10, 14), qr(3, 7, 11, 15)
        qr(0, 5, 10, 15), qr(1, 6, 11, 12), qr(2, 7, 8, 13), qr(3, 4, 9, 14)
    return b"".join(((x[i] + st[i]) & 0xffffffff).to_bytes(4, "little") for i in range(16))


def chacha20_keystream(key, n, counter=0):
    out = b""
    while len(out) < n:
        out += chacha20_block(key, counter, bytes(12))
        counter += 1
    return out[:n]


def deterministic_stream(seed_byte, n, counter=0):
    """§12 "for the record": an IETF ChaCha20 keystream keyed with the seed byte repeated 32
    times, zero nonce. Reading: the block counter starts at 0 (the spec does not say), and
    seed_byte + k wraps modulo 256."""
    return chacha20_keystream(bytes([seed_byte % 256]) * 32, n, counter)


# ---------------------------------------------------------------- checks
class Checks:
    def __init__(self, verbose=False):
        self.passed = self.failed = 0
        self.verbose = verbose

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            if self.verbose:
                print("PASS", name)
        else:
            self.failed += 1
            print("FAIL", name, detail)
        return ok

    def eq(self, name, got, want):
        def show(x):
            return x.hex() if isinstance(x, (bytes, bytearray)) else repr(x)
        return self.check(name, got == want, "\n  got  %s\n  want %s" % (show(got), show(want)))

    def guarded(self, name, run):
        """Runs one case; an unexpected exception (a rejection where none was due, a malformed
        or missing vector field) is a failure of that case, not the end of the run."""
        try:
            run()
        except Exception as err:  # noqa: BLE001 — report and go on
            self.check(name + ": ran to the end", False, "%s: %s" % (type(err).__name__, err))


def h(s):
    return bytes.fromhex(s)


def as_int(v):
    """A small number given as a JSON number or as hex bytes (little-endian for one byte)."""
    if isinstance(v, int):
        return v
    b = h(v)
    if len(b) != 1:
        raise AssertionError("expected a number or one byte, got %r" % v)
    return b[0]


def check_parameters(C, p):
    want = {"session_header_size": SESSION_HEADER, "representative_size": REPR,
            "associated_data_size": AD_SIZE, "ratchet_header_size": RATCHET_HEADER,
            "encrypted_header_size": ENC_HEADER, "tag_size": TAG,
            "message_overhead": OVERHEAD, "max_skip": MAX_SKIP,
            "max_skipped_header_keys": MAX_SKIPPED_HEADER_KEYS, "state_min_size": STATE_MIN,
            "envelope_size": ENVELOPE, "body_size": BODY, "body_header_size": BODY_HEADER,
            "max_text_bytes": MAX_TEXT, "max_receipts_per_text": MAX_RECEIPTS_PER_TEXT,
            "max_receipt_ids": MAX_RECEIPT_IDS, "curve_a": A, "elligator_z": Z}
    for field, value in want.items():
        C.eq("parameters: " + field, p.get(field), value)
    u_q = p.get("u_q")
    C.eq("parameters: u_q", h(u_q) if isinstance(u_q, str) else u_q, U_Q)


def check_constants(C):
    """§2/§3a: the constants are what the text says they are (needs no vector file)."""
    C.check("constants: 2 is not a square mod p", not is_square(2))
    C.check("constants: -1/2 is not a square (Map's denominator is never 0)",
            not is_square(-inv(2)))
    C.eq("constants: sqrt(-1)^2 = -1", SQRT_M1 * SQRT_M1 % P, P - 1)
    C.eq("constants: [8]Q = [8]B", ladder(8, U_Q), ladder(8, fe_bytes(9)))
    # [l]Q = [l]T8 = [5]T8 (l ≡ 5 mod 8), which has the other order-8 u-coordinate
    C.eq("constants: [l]Q = [5]T8", ladder(ELL, U_Q), ladder(5, U_T8))
    C.eq("constants: [l]B = infinity", ladder(ELL, fe_bytes(9)), bytes(32))
    # Ladder returns 0 for infinity and for (0, 0) alike: [4]T8 is (0, 0), [2]T8 has u = ±1
    C.eq("constants: [4]T8 = (0, 0), of order 2", ladder(4, U_T8), bytes(32))
    C.check("constants: [2]T8 has u = ±1 (order 4)",
            fe(ladder(2, U_T8)) in (1, P - 1))
    C.check("constants: T8 is on the curve", is_square(g(fe(U_T8))))
    # Q = B ± T8: u(B+T8) and u(B−T8) are the roots of X² − S·X + Pr with (x-only addition)
    # Pr = ((u1·u2 − 1)/(u1 − u2))², S = 2((u1·u2 + 1)(u1 + u2) + 2A·u1·u2)/(u1 − u2)²
    u1, u2, uq = 9, fe(U_T8), fe(U_Q)
    d2 = inv((u1 - u2) ** 2)
    prod = (u1 * u2 - 1) ** 2 * d2 % P
    summ = 2 * ((u1 * u2 + 1) * (u1 + u2) + 2 * A * u1 * u2) * d2 % P
    C.eq("constants: U_Q is the u of B + T8 (or B − T8)", (uq * uq - summ * uq + prod) % P, 0)
    C.check("constants: Q is on the curve", is_square(g(fe(U_Q))))
    C.check("constants: Q is not in the prime-order subgroup", ladder(ELL, U_Q) != bytes(32))
    C.eq("constants: Ladder(x, 9) = X25519 for a clamped x",
         ladder(clamp_int(bytes(range(32))), fe_bytes(9)), public_of(bytes(range(32))))


def check_elligator(C, e):
    for c in e.get("forward", []):
        C.eq("elligator forward %s: Map" % c["name"], elligator_map(h(c["representative"])),
             h(c["u"]))
    fwd = [fe(h(c["representative"])) for c in e.get("forward", [])]
    C.check("elligator forward: includes all-zero and all-0xff strings",
            0 in fwd and 2**256 - 1 in fwd)
    C.check("elligator forward: includes bits 254 and 255 set", any(x >> 254 == 3 for x in fwd))
    C.check("elligator forward: includes r > (p-1)/2",
            any((x & (2**254 - 1)) > (P - 1) // 2 for x in fwd))
    for c in e.get("inverse", []):
        u = h(c["u"])
        got = elligator_inverse(u, as_int(c["branch"]))
        want = None if c["representative"] is None else h(c["representative"])
        C.eq("elligator inverse %s: Inverse" % c["name"], got, want)
        if got is not None:
            C.eq("elligator inverse %s: Map(Inverse(u)) = u" % c["name"], elligator_map(got),
                 u)
            C.check("elligator inverse %s: u is a curve point" % c["name"], is_square(g(fe(u))))
            C.check("elligator inverse %s: representative non-negative" % c["name"],
                    is_nonnegative(fe(got)))
        else:
            x = fe(u)
            C.check("elligator inverse %s: u = 0, u = -A or -2u(u+A) not a square" % c["name"],
                    x == 0 or x == P - A or not is_square(-2 * x * (x + A)))
    hks = e.get("hidden_keys", [])
    C.check("elligator hidden keys: both branches", {as_int(c["branch"]) for c in hks} == {0, 1})
    C.check("elligator hidden keys: all four top-bit values",
            {h(c["representative"])[31] >> 6 for c in hks} == {0, 1, 2, 3})
    C.check("elligator hidden keys: torsion 0", any(as_int(c["torsion"]) == 0 for c in hks))
    C.check("elligator hidden keys: a key whose first draws were rejected",
            any(len(c["draws"]) > 1 for c in hks))
    for c in e.get("hidden_keys", []):
        name = "elligator hidden key %s: " % c["name"]
        draws = [h(d) for d in c["draws"]]
        for i, d in enumerate(draws[:-1]):
            C.check(name + "draw %d rejected (no representative)" % i,
                    hidden_candidate(d)["representative"] is None)
        cand = hidden_candidate(draws[-1])
        C.check(name + "the last draw is accepted", cand["representative"] is not None)
        C.eq(name + "secret", cand["secret"], h(c["secret"]))
        C.eq(name + "tweak", cand["tweak"], as_int(c["tweak"]))
        C.eq(name + "torsion", cand["torsion"], as_int(c["torsion"]))
        C.eq(name + "scalar", cand["scalar"], h(c["scalar"]))
        C.eq(name + "clean_public", public_of(cand["secret"]), h(c["clean_public"]))
        C.eq(name + "hidden_public", cand["hidden_public"], h(c["hidden_public"]))
        C.eq(name + "branch", cand["branch"], as_int(c["branch"]))
        C.eq(name + "representative", cand["representative"], h(c["representative"]))
        if cand["representative"] is not None:
            C.eq(name + "Map(R) = hidden_public", elligator_map(cand["representative"]),
                 cand["hidden_public"])
        peer = h(c["peer_secret"])
        C.eq(name + "dh = DH(s, peer public)", DH(cand["secret"], public_of(peer)), h(c["dh"]))
        C.eq(name + "dh = DH(peer secret, Map(R))", DH(peer, elligator_map(h(c["representative"]))),
             h(c["dh"]))
        # the torsion component: [l]([k]B + [t]T8) = [5t]T8 (l ≡ 5 mod 8)
        C.eq(name + "[l]hidden_public = [5·torsion]T8", ladder(ELL, cand["hidden_public"]),
             ladder(5 * cand["torsion"] % 8, U_T8))


def check_session(C, s):
    """§3 from the listed secrets; returns the values a conversation starts from."""
    name = "session %s: " % s["name"]
    secrets = {}
    for who in ("alice_identity", "bob_identity", "bob_prekey", "ephemeral"):
        secrets[who] = h(s[who + "_secret"])
        C.eq(name + who + " public key", public_of(secrets[who]), h(s[who + "_public"]))
    ik_a, ik_b = public_of(secrets["alice_identity"]), public_of(secrets["bob_identity"])
    spk_b, ek_a = public_of(secrets["bob_prekey"]), public_of(secrets["ephemeral"])
    a = agree_initiator(secrets["alice_identity"], ik_b, spk_b, secrets["ephemeral"])
    for field in ("dh1", "dh2", "dh3", "shared_key", "associated_data"):
        C.eq(name + field, a[field], h(s[field]))
    hk_a, hk_b = header_keys(a["shared_key"])
    C.eq(name + "initiator_header_key", hk_a, h(s["initiator_header_key"]))
    C.eq(name + "responder_header_key", hk_b, h(s["responder_header_key"]))
    b = agree_responder(secrets["bob_identity"], secrets["bob_prekey"], ik_a, ek_a)
    for field in ("dh1", "dh2", "dh3", "shared_key", "associated_data"):
        C.eq(name + "B derives " + field, b[field], a[field])
    if "seed_byte" in s:
        stream = deterministic_stream(s["seed_byte"], 128)
        C.eq(name + "secrets are the seed's ChaCha20 stream (IK_A, IK_B, SPK_B, EK_A)",
             stream, secrets["alice_identity"] + secrets["bob_identity"] +
             secrets["bob_prekey"] + secrets["ephemeral"])
    return {"sk": a["shared_key"], "ad": a["associated_data"], "ik_a": ik_a, "ik_b": ik_b,
            "spk_b": spk_b, "ek_a": ek_a, "ik_b_secret": secrets["bob_identity"],
            "spk_b_secret": secrets["bob_prekey"], "seed_byte": s.get("seed_byte")}


def check_state(C, name, r, blob_hex):
    blob = h(blob_hex)
    C.eq(name + " state (§6 serialization)", r.serialize(), blob)
    try:
        C.eq(name + " state round trip", Ratchet.deserialize(blob).serialize(), blob)
    except Reject as err:
        C.check(name + " state round trip", False, str(err))


def check_body_fields(C, name, body, fields):
    """The decoded body against body_fields (§12: type, id, sent_unix, expires_after_s, text,
    receipts)."""
    d = decode_body(body)
    ftype = fields["type"]
    C.eq(name + " body type", d["type"], {"text": TYPE_TEXT, "receipt": TYPE_RECEIPT}.get(
        ftype, ftype))
    C.eq(name + " body id", d["id"], h(fields["id"]))
    C.eq(name + " body sent", d["sent"], fields["sent_unix"])
    C.eq(name + " body expires", d["expires"], fields["expires_after_s"])
    text = fields.get("text", "")
    try:
        want_text = h(text)
    except ValueError:  # Reading: text may be given as a string rather than hex
        want_text = text.encode("utf-8")
    C.eq(name + " body text", d["text"], want_text)
    C.eq(name + " body receipts", d["receipts"], [h(x) for x in fields.get("receipts", [])])
    C.eq(name + " body re-encodes", encode_body(d["type"], d["id"], d["sent"], d["expires"],
                                                d["text"], d["receipts"]), body)


def check_conversation(C, c, session):
    name = "conversation %s: " % c["name"]
    keys = {"alice": KeySource(h(k) for k in c["alice_ratchet_keys"]),
            "bob": KeySource(h(k) for k in c["bob_ratchet_keys"])}
    messages = {m["id"]: m for m in c["messages"]}
    parties = {"alice": Ratchet.initiate(session["sk"], session["ad"], session["spk_b"],
                                         keys["alice"]),
               "bob": None}
    alice_confirmed = False
    slot_draws = []          # every draw for slots, in sending order (§12: seed_byte + 3)
    used = {"alice": [], "bob": []}  # message and chain keys each party has used
    check_state(C, name + "alice initial", parties["alice"], c["alice_initial_state"])
    envelope_conv = any("envelope" in m for m in c["messages"])
    for i, e in enumerate(c["events"]):
        m, who = messages[e["message"]], e["party"]
        label = "%s#%d %s %s %s:" % (name, i, who, e["op"], e["message"])
        if e["op"] == "encrypt":
            C.eq(label + " sender", m["sender"], who)
            trace = {}
            out = parties[who].encrypt(h(m["plaintext"]), trace)
            C.eq(label + " message", out, h(m["message"]))
            used[who] += [trace["message_key"], trace["chain_key"]]
            C.eq(label + " header", trace["header"], h(m["header"]))
            C.eq(label + " header fields", trace["header"],
                 h(m["dh"]) + be32(m["pn"]) + be32(m["n"]))
            # Reading (§12): `chain_key` is CKs before the KDF_CK step that gave message_key
            for field in ("header_key", "chain_key", "message_key", "aead_key", "aead_nonce",
                          "body", "header_nonce", "encrypted_header"):
                C.eq(label + " " + field, trace[field], h(m[field]))
            # §3 / §8: a fresh session header while Alice's initiator session is unconfirmed
            unconfirmed = who == "alice" and not alice_confirmed
            C.eq(label + " has a session header iff unconfirmed initiator",
                 "session_header" in m, unconfirmed)
            slot = None
            if "session_header" in m:
                sh = m["session_header"]
                rng = Draws([h(d) for d in sh["draws"]])
                made = make_session_header(rng, session["ek_a"], session["ik_a"],
                                           session["spk_b"])
                C.eq(label + " session header uses every listed draw", len(rng.data), 0)
                slot_draws.extend(rng.taken)
                for field in ("secret", "hidden_public", "representative", "dh", "slot_key",
                              "sealed", "slot"):
                    C.eq(label + " session header " + field, made[field], h(sh[field]))
                C.eq(label + " session header tweak", made["tweak"], as_int(sh["tweak"]))
                slot = made["slot"]
                C.eq(label + " first_message = slot ‖ message", slot + out,
                     h(m["first_message"]))
                ek, ik = open_session_header(slot, session["spk_b_secret"])
                C.eq(label + " the slot opens with SPK_B to EK_A ‖ IK_A", ek + ik,
                     session["ek_a"] + session["ik_a"])
            elif "random_slot" in m:
                slot = h(m["random_slot"])
                C.eq(label + " random slot size", len(slot), SESSION_HEADER)
                slot_draws.append(slot)
                try:
                    open_session_header(slot, session["spk_b_secret"])
                    C.check(label + " the random slot is not a session header", False)
                except Reject:
                    C.check(label + " the random slot is not a session header", True)
            if envelope_conv:
                C.check(label + " an envelope message has a slot", slot is not None)
                if slot is not None:
                    C.eq(label + " envelope = slot ‖ message", h(m["envelope"]), slot + out)
                    C.eq(label + " envelope size", len(h(m["envelope"])), ENVELOPE)
                C.eq(label + " plaintext is a body", len(h(m["plaintext"])), BODY)
                check_body_fields(C, label, h(m["plaintext"]), m["body_fields"])
        else:
            trace = {}
            try:
                if parties[who] is None:
                    # §7 recipient, step 3: no held session; the slot is a session header.
                    item = h(m["envelope"]) if "envelope" in m else h(m["first_message"])
                    ek, ik = open_session_header(item[:SESSION_HEADER], session["spk_b_secret"])
                    C.eq(label + " slot names EK_A ‖ IK_A", ek + ik,
                         session["ek_a"] + session["ik_a"])
                    agreed = agree_responder(session["ik_b_secret"], session["spk_b_secret"],
                                             ik, ek)
                    C.eq(label + " B derives SK", agreed["shared_key"], session["sk"])
                    r = Ratchet.respond(agreed["shared_key"], agreed["associated_data"],
                                        session["spk_b_secret"])
                    plaintext = r.decrypt(item[SESSION_HEADER:], keys[who], trace)
                    parties[who] = r
                else:
                    # §7 recipient, step 2: the held session on bytes [112, M)
                    item = h(m["envelope"])[SESSION_HEADER:] if "envelope" in m else \
                        h(m["message"])
                    plaintext = parties[who].decrypt(item, keys[who], trace)
                C.eq(label + " plaintext", plaintext, h(m["plaintext"]))
                used[who] += [h(m["message_key"]), h(m["chain_key"])]
                C.eq(label + " opened header", trace.get("header"), h(m["header"]))
                C.eq(label + " under the header key it was sent with", trace.get("header_key"),
                     h(m["header_key"]))
                if who == "alice":
                    alice_confirmed = True
            except Reject as err:
                C.check(label + " decrypts", False, str(err))
                continue
        check_state(C, label, parties[who], e["state_after"])
        # §4: used message keys are deleted at once; a used chain key is replaced
        blob = h(e["state_after"])
        C.check(label + " state holds no used message or chain key",
                not any(k in blob for k in used[who]))
    for who in ("alice", "bob"):
        C.check(name + who + " used every recorded ratchet key", not keys[who].secrets,
                "%d left" % len(keys[who].secrets))
    seed = session.get("seed_byte")
    if seed is not None:
        # §12 "for the record"; the vectors also name the seeds (fields §12 does not list)
        for field, k in (("alice_ratchet_seed_byte", 1), ("bob_ratchet_seed_byte", 2),
                         ("slot_seed_byte", 3)):
            if field in c:
                C.eq(name + field + " = seed_byte + %d" % k, c[field], (seed + k) % 256)
        a_keys = b"".join(h(k) for k in c["alice_ratchet_keys"])
        b_keys = b"".join(h(k) for k in c["bob_ratchet_keys"])
        C.eq(name + "Alice's ratchet keys are the stream of seed_byte + 1",
             a_keys, deterministic_stream(seed + 1, len(a_keys)))
        C.eq(name + "Bob's ratchet keys are the stream of seed_byte + 2",
             b_keys, deterministic_stream(seed + 2, len(b_keys)))
        sd = b"".join(slot_draws)
        C.eq(name + "slot draws are the stream of seed_byte + 3, in sending order",
             sd, deterministic_stream(seed + 3, len(sd)))


def check_transition(C, t):
    name = "transition %s:" % t["name"]
    r = Ratchet.deserialize(h(t["state_before"]))
    fresh = t.get("fresh_ratchet_key")
    keys = KeySource([h(fresh)] if fresh else [])
    try:
        plaintext = r.decrypt(h(t["message"]), keys)
    except Reject as err:
        C.check(name + " decrypts", False, str(err))
        return
    C.eq(name + " plaintext", plaintext, h(t["plaintext"]))
    C.eq(name + " drew a fresh ratchet key iff listed", keys.used, 1 if fresh else 0)
    check_state(C, name, r, t["state_after"])


def check_bodies(C, v):
    for b in v.get("bodies", []):
        name = "body %s:" % b["name"]
        btype = {"text": TYPE_TEXT, "receipt": TYPE_RECEIPT}[b["type"]]
        enc = encode_body(btype, h(b["id"]), b["sent_unix"], b["expires_after_s"],
                          h(b.get("text", "")), [h(x) for x in b.get("receipts", [])])
        C.eq(name + " encoded", enc, h(b["encoded"]))
        fields = dict(b)
        check_body_fields(C, name, h(b["encoded"]), fields)
    for b in v.get("bad_bodies", []):
        name = "bad body %s:" % b["name"]
        why = BAD_BODY_REASON.get(b["name"])
        C.check(name + " reason known", why is not None,
                "no expected reason in BAD_BODY_REASON (description: %s)" % b.get("description"))
        try:
            decode_body(h(b["encoded"]))
            C.check(name + " rejected", False, "it decoded")
        except Corrupt as err:
            C.check(name + " rejected (" + str(err) + ")", True)
            if why is not None:
                C.check(name + " rejected for the stated reason", err.why in why,
                        "reason %s, expected one of %s" % (err.why, sorted(why)))


# The reason each negative case must be rejected for, as §12 and the case's description state
# it (the vectors give it in prose only): a set of Reject codes. A case not listed here fails the
# "reason known" check, so that a new case gets its reason written down here.
EXPECTED_REASON = {
    # §12: "a flipped bit in the encrypted header, in the header tag, in the body (so the header
    # nonce changes) and in the body tag; wrong associated data" — none lets a header key open
    "flipped-encrypted-header-bit": {"header"},
    "flipped-header-tag-bit": {"header"},
    "flipped-body-bit": {"header"},
    "flipped-body-tag-bit": {"header"},
    "wrong-associated-data": {"header"},
    "truncated": {"short"},
    "low-order-ratchet-key": {"low-order"},
    "replayed-message": {"replay"},
    # B1 again after B1, B2: the same (current) receiving chain, so §4 step 2, N < Nr
    "replayed-message-after-ratchet-step": {"replay"},
    # read with a skipped key: step 4 while its header key is still held, else no key opens it
    "replayed-skipped-key": {"given-up", "header"},
    "replayed-under-old-header-key": {"given-up"},
    "stale-header-key": {"header"},
    "evicted-chain": {"header"},
    # first messages: (stage, codes)
    "sealed-to-other-prekey": ("slot", {"aead"}),
    "flipped-representative-bit": ("slot", {"aead", "low-order"}),
    "flipped-representative-top-bit": ("slot", {"aead"}),
    "flipped-sealed-bit": ("slot", {"aead"}),
    "random-slot": ("slot", {"aead", "low-order"}),
    "wrong-responder-identity": ("ratchet", {"header"}),
    "low-order-sealed-identity": ("agreement", {"low-order"}),
}


def check_negative(C, c):
    name = "negative %s:" % c["name"]
    C.eq(name + " expected", c.get("expected"), "reject")
    want = EXPECTED_REASON.get(c["name"])
    C.check(name + " reason known", want is not None,
            "no expected reason for this case in EXPECTED_REASON (description: %s)"
            % c.get("description"))
    if c["kind"] == "ratchet":
        state = h(c["state"])
        r = Ratchet.deserialize(state)
        try:
            r.decrypt(h(c["message"]), KeySource([bytes(32)] * 2))
            C.check(name + " rejected", False, "it decrypted")
        except Reject as err:
            C.check(name + " rejected (" + str(err) + ")", True)
            if isinstance(want, set):
                C.check(name + " rejected for the stated reason", err.code in want,
                        "reason %s, expected one of %s" % (err.code, sorted(want)))
        C.eq(name + " state unchanged", r.serialize(), state)
    elif c["kind"] == "first_message":
        stage = "slot"
        fm = h(c["first_message"])
        spk_secret, ik_secret = h(c["bob_prekey_secret"]), h(c["bob_identity_secret"])
        try:
            ek, ik = open_session_header(fm[:SESSION_HEADER], spk_secret)
            stage = "agreement"
            agreed = agree_responder(ik_secret, spk_secret, ik, ek)
            stage = "ratchet"
            r = Ratchet.respond(agreed["shared_key"], agreed["associated_data"], spk_secret)
            r.decrypt(fm[SESSION_HEADER:], KeySource([bytes(32)]))
            C.check(name + " rejected", False, "it decrypted")
        except Reject as err:
            C.check(name + " rejected (" + str(err) + ")", True)
            C.eq(name + " rejected at the stated stage", stage, c["rejected_at"])
            if isinstance(want, tuple):
                C.eq(name + " stage as the description says", c["rejected_at"], want[0])
                C.check(name + " rejected for the stated reason", err.code in want[1],
                        "reason %s, expected one of %s" % (err.code, sorted(want[1])))
    else:
        C.check(name + " known kind", False, "kind %r" % c["kind"])


# The reason each corrupt state is refused for (§6, §12). The spec does not fix the order of
# Deserialize's checks, so where one edit trips two of them both are accepted.
CORRUPT_STATE_REASON = {
    "too-short": {"short"},
    "truncated": {"checksum", "length"},
    "bad-magic": {"magic"},
    "unknown-version": {"magic"},
    "bad-checksum": {"checksum"},
    "unknown-flag": {"flags"},
    "receiving-without-sending": {"receiving-without-sending"},
    "count-above-max-skip": {"count", "length"},
    "count-length-mismatch": {"length"},
    "too-many-header-keys": {"header-keys"},
    "older-version": {None},
}
BAD_BODY_REASON = {
    "version-1": {"version"},
    "nine-receipts-in-text": {"receipts"},
    "empty-text": {"text-length"},
    "text-too-long": {"text-length"},
    "non-zero-padding": {"padding"},
    "receipt-with-text": {"receipt-text"},
}


def check_corrupt_state(C, c):
    name = "corrupt state %s:" % c["name"]
    want = {"corrupt": Corrupt, "older_version": OlderVersion}[c["expected"]]
    why = CORRUPT_STATE_REASON.get(c["name"])
    C.check(name + " reason known", why is not None,
            "no expected reason in CORRUPT_STATE_REASON (description: %s)" % c.get("description"))
    try:
        Ratchet.deserialize(h(c["state"]))
        C.check(name + " rejected", False, "it was accepted")
    except Reject as err:
        C.check(name + " rejected as %s (%s)" % (c["expected"], err), isinstance(err, want),
                "rejected as %s: %s" % (type(err).__name__, err))
        if why is not None:
            got = getattr(err, "why", None)
            C.check(name + " rejected for the stated reason", got in why,
                    "reason %s, expected one of %s" % (got, sorted(map(str, why))))


def check_session_set(C, c):
    name = "session set %s:" % c["name"]
    blob = h(c["blob"])
    expected = c["expected"]
    try:
        ik, clock, records, retired = deserialize_sessions(blob)
    except Reject as err:
        want = {"corrupt": Corrupt, "older_version": OlderVersion}.get(expected)
        C.check(name + " rejected as %s (%s)" % (expected, err),
                want is not None and isinstance(err, want),
                "rejected as %s: %s" % (type(err).__name__, err))
        return
    C.check(name + " accepted", expected in ("accept", "ok", "valid"),
            "accepted, expected %r" % expected)
    C.eq(name + " round trip", serialize_sessions(ik, clock, records, retired), blob)


def mailbox_items(v):
    """What reaches the recipient's mailbox for each conversation message: the envelope, else
    the first message (slot ‖ ratchet message), else the bare ratchet message."""
    items = []
    for c in v.get("conversations", []):
        for m in c["messages"]:
            key = "envelope" if "envelope" in m else \
                "first_message" if "first_message" in m else "message"
            items.append(("%s/%s" % (c["name"], m["id"]), h(m[key])))
    return items


def check_items_share_nothing(C, v, window=16):
    """§3, §7, §8: no two items share a substring of `window` bytes (beyond chance: about
    n²·L²/2^128 for n items of L bytes, negligible)."""
    seen = {}
    clash = []
    for name, item in mailbox_items(v):
        mine = set()
        for i in range(len(item) - window + 1):
            w = item[i:i + window]
            if w in mine:
                continue
            mine.add(w)
            if w in seen:
                clash.append((seen[w], name, w.hex()))
        for w in mine:
            seen.setdefault(w, name)
    C.check("mailbox items: no two share %d bytes" % window, not clash,
            "; ".join("%s and %s share %s" % x for x in clash[:5]))
    reps = [h(m["session_header"]["representative"]) for c in v.get("conversations", [])
            for m in c["messages"] if "session_header" in m]
    C.check("session headers: every representative differs", len(set(reps)) == len(reps))
    # §8 tests, §5, §7: no item shows an identity key, the pre-key, EK_A or a ratchet public key,
    # nor 8 bytes of a text
    secrets = set()
    for s_ in v.get("sessions", []):
        for f in ("alice_identity_public", "bob_identity_public", "bob_prekey_public",
                  "ephemeral_public"):
            secrets.add(h(s_[f]))
    texts = []
    for c in v.get("conversations", []):
        for m in c["messages"]:
            secrets.add(h(m["dh"]))
            pt = h(m["plaintext"])
            if len(pt) == BODY:
                pt = decode_body(pt)["text"]
            texts += [pt[i:i + 8] for i in range(len(pt) - 7)]
    shown = [(name, k.hex()) for name, item in mailbox_items(v) for k in secrets if k in item]
    C.check("mailbox items: no public key (IK, SPK, EK_A, ratchet key) shows", not shown,
            "; ".join("%s shows %s" % x for x in shown[:5]))
    leaked = [(name, t.hex()) for name, item in mailbox_items(v) for t in texts if t in item]
    C.check("mailbox items: no 8 bytes of any text show", not leaked,
            "; ".join("%s shows %s" % x for x in leaked[:5]))


def run_vectors(C, v):
    check_parameters(C, v["parameters"])
    C.check("vector file: description says version 2",
            "version 2" in v.get("description", "") or "v2" in v.get("description", ""),
            repr(v.get("description")))
    check_constants(C)
    if "elligator" in v:
        C.guarded("elligator", lambda: check_elligator(C, v["elligator"]))
    sessions = {}
    for s in v.get("sessions", []):
        C.guarded("session " + s["name"], lambda: sessions.update({s["name"]: check_session(C, s)}))
    for c in v.get("conversations", []):
        C.guarded("conversation " + c["name"],
                  lambda: check_conversation(C, c, sessions[c["session"]]))
    for t in v.get("transitions", []):
        C.guarded("transition " + t["name"], lambda: check_transition(C, t))
    C.guarded("bodies", lambda: check_bodies(C, v))
    for c in v.get("negative", []):
        C.guarded("negative " + c["name"], lambda: check_negative(C, c))
    for c in v.get("corrupt_states", []):
        C.guarded("corrupt state " + c["name"], lambda: check_corrupt_state(C, c))
    for c in v.get("session_sets", []):
        C.guarded("session set " + c["name"], lambda: check_session_set(C, c))
    C.guarded("mailbox items", lambda: check_items_share_nothing(C, v))
    for k in ("elligator", "sessions", "conversations", "transitions", "bodies", "bad_bodies",
              "negative", "corrupt_states", "session_sets"):
        C.check("vector file has section " + k, bool(v.get(k)))


# ---------------------------------------------------------------- self-test (no vector file)
def libsodium_from_uniform():
    """libsodium's crypto_core_ed25519_from_uniform through ctypes (PyNaCl 1.5 does not expose
    it), or None if the library cannot be loaded."""
    import ctypes
    import ctypes.util
    for name in ("libsodium.so.23", ctypes.util.find_library("sodium") or ""):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if lib.sodium_init() < 0 or not hasattr(lib, "crypto_core_ed25519_from_uniform"):
            continue

        def from_uniform(r):
            out = ctypes.create_string_buffer(32)
            if lib.crypto_core_ed25519_from_uniform(out, r) != 0:
                raise AssertionError("from_uniform failed")
            return out.raw
        return from_uniform
    return None


def self_test(C):
    rng = Draws(data=deterministic_stream(0x5a, 200000))
    check_constants(C)
    # ChaCha20 (for the §12 record checks): RFC 8439 §2.3.2, and libsodium's IETF AEAD
    # keystream (which starts at block 1).
    blk = chacha20_block(bytes(range(32)), 1, h("000000090000004a00000000"))
    C.eq("chacha20: RFC 8439 §2.3.2 block", blk[:16], h("10f1e7e4d13b5915500fdd1fa32071c4"))
    key = bytes([7]) * 32
    ct = nb.crypto_aead_chacha20poly1305_ietf_encrypt(bytes(128), None, bytes(12), key)[:128]
    C.eq("chacha20: equals libsodium's IETF keystream", chacha20_keystream(key, 192)[64:], ct)

    # §3a Map against libsodium: [8]Map(R) converted to Edwards y = (u − 1)/(u + 1).
    fu = libsodium_from_uniform()
    C.check("libsodium crypto_core_ed25519_from_uniform available through ctypes", fu is not None)
    samples = [rng.take(32) for _ in range(60)] + [bytes(32), b"\xff" * 32]
    samples += [(2**254 - 1 - i).to_bytes(32, "little") for i in range(10)]  # r > (p−1)/2
    for i, R in enumerate(samples):
        Rc = bytearray(R)
        Rc[31] &= 0x3f  # the low 254 bits, the only ones Map reads
        u = elligator_map(bytes(Rc))
        C.check("Map %d: output is a curve point" % i, is_square(g(fe(u))))
        C.eq("Map %d: bits 254 and 255 are ignored" % i, elligator_map(R), u)
        if fu is not None:
            u8 = fe(ladder(8, u))  # [8]P is infinity or of order l, so 0 means infinity
            if (u8 + 1) % P:
                y = 1 if u8 == 0 else (u8 - 1) * inv(u8 + 1) % P
                C.eq("Map %d: [8]Map(R) = libsodium from_uniform" % i,
                     int.from_bytes(fu(bytes(Rc)), "little") & ((1 << 255) - 1), y)
        r = fe(bytes(Rc))
        if u == bytes(32):  # r = 0: Map gives u = 0 (order 2), which Inverse excludes
            C.eq("Map %d: u = 0 only for r = 0" % i, r, 0)
            C.eq("Map %d: Inverse(0) has no representative" % i, elligator_inverse(u, 0), None)
            continue
        b = map_branch(bytes(Rc))
        back = elligator_inverse(u, b)
        want = fe_bytes(r if is_nonnegative(r) else P - r)
        C.eq("Map %d: Inverse(Map(r), branch) = |r|" % i, back, want)
        other = elligator_inverse(u, 1 - b)
        C.check("Map %d: the other branch gives the other preimage" % i,
                other is not None and other != back and elligator_map(other) == u)
    for i in range(20):  # a twist point: Inverse's result does not map back (finding F-inv)
        u = fe(rng.take(32)) % P
        if not is_square(g(u)) and is_square(-2 * u * (u + A)):
            r = elligator_inverse(fe_bytes(u), 0)
            C.check("Inverse on a twist u %d: Map(Inverse(u)) != u (u must be on the curve)" % i,
                    elligator_map(r) != fe_bytes(u))
            break
    C.eq("Inverse(0) has none", elligator_inverse(bytes(32), 0), None)
    C.eq("Inverse(-A) has none", elligator_inverse(fe_bytes(-A), 1), None)

    # §3a hidden keys: DH equivalence, cosets, top bits, rejection rate
    torsions, tops, rejected, accepted = set(), set(), 0, 0
    for i in range(40):
        hk = hidden_key_pair(rng)
        rejected += len(hk["draws"]) - 1
        accepted += 1
        torsions.add(hk["torsion"])
        tops.add(hk["representative"][31] >> 6)
        peer = rng.take(32)
        C.eq("hidden key %d: DH(peer, Map(R)) = DH(s, peer public)" % i,
             DH(peer, elligator_map(hk["representative"])), DH(hk["secret"], public_of(peer)))
        C.check("hidden key %d: Map(R) is not the clean public key unless t = 0" % i,
                (elligator_map(hk["representative"]) == public_of(hk["secret"])) ==
                (hk["torsion"] == 0))
        C.eq("hidden key %d: [l]u = [5t]T8" % i, ladder(ELL, hk["hidden_public"]),
             ladder(5 * hk["torsion"] % 8, U_T8))
    C.check("hidden keys: several torsion values met", len(torsions) >= 5, repr(torsions))
    C.check("hidden keys: all four top-bit values met", len(tops) == 4, repr(tops))
    C.check("hidden keys: some draws rejected (about half)", 10 <= rejected <= 120,
            "%d rejected for %d accepted" % (rejected, accepted))

    # §3 key agreement and session headers
    ik_a_s, ik_b_s, spk_b_s, ek_s = (rng.take(32) for _ in range(4))
    ik_a, ik_b, spk_b, ek_a = map(public_of, (ik_a_s, ik_b_s, spk_b_s, ek_s))
    a = agree_initiator(ik_a_s, ik_b, spk_b, ek_s)
    b = agree_responder(ik_b_s, spk_b_s, ik_a, ek_a)
    C.eq("x3dh: both sides agree on SK", a["shared_key"], b["shared_key"])
    C.eq("x3dh: both sides agree on AD", a["associated_data"], b["associated_data"])
    sh = make_session_header(rng, ek_a, ik_a, spk_b)
    C.eq("session header: 112 bytes", len(sh["slot"]), SESSION_HEADER)
    C.eq("session header: opens with SPK_B", open_session_header(sh["slot"], spk_b_s),
         (ek_a, ik_a))
    sh2 = make_session_header(rng, ek_a, ik_a, spk_b)
    C.check("session header: a second one shares nothing", sh["slot"] != sh2["slot"] and
            sh["slot"][:32] != sh2["slot"][:32])
    for bit in (0, 7, 8 * 31 + 6, 8 * 31 + 7, 8 * 40, 8 * 111 + 7):
        bad = bytearray(sh["slot"])
        bad[bit // 8] ^= 1 << (bit % 8)
        try:
            open_session_header(bytes(bad), spk_b_s)
            C.check("session header: flipped bit %d refused" % bit, False)
        except Reject:
            C.check("session header: flipped bit %d refused" % bit, True)
    try:
        open_session_header(sh["slot"], rng.take(32))
        C.check("session header: another pre-key does not open it", False)
    except Reject:
        C.check("session header: another pre-key does not open it", True)

    # §4 ratchet: a conversation with reordering across header-key changes
    akeys = KeySource([rng.take(32) for _ in range(50)])
    bkeys = KeySource([rng.take(32) for _ in range(50)])
    alice = Ratchet.initiate(a["shared_key"], a["associated_data"], spk_b, akeys)
    bob = Ratchet.respond(b["shared_key"], b["associated_data"], spk_b_s)

    def rt(r, label):
        blob = r.serialize()
        C.eq(label + ": state round trip", Ratchet.deserialize(blob).serialize(), blob)

    def send(r, pt):
        return r.encrypt(pt)

    def recv(r, keys, msg, pt, label):
        before = r.serialize()
        try:
            got = r.decrypt(msg, keys)
            C.eq(label, got, pt)
        except Reject as err:
            C.check(label, False, str(err))
            C.eq(label + ": unchanged after failure", r.serialize(), before)
        rt(r, label)

    msgs = [(send(alice, b"a%d" % i), b"a%d" % i) for i in range(4)]
    recv(bob, bkeys, msgs[2][0], msgs[2][1], "ratchet: bob reads a2 first")
    recv(bob, bkeys, msgs[0][0], msgs[0][1], "ratchet: bob reads a0 (skipped)")
    before = bob.serialize()
    try:
        bob.decrypt(msgs[0][0], bkeys)
        C.check("ratchet: replay refused", False)
    except Reject:
        C.check("ratchet: replay refused", True)
    C.eq("ratchet: replay leaves state unchanged", bob.serialize(), before)
    bm = [(send(bob, b"b%d" % i), b"b%d" % i) for i in range(3)]
    recv(alice, akeys, bm[1][0], bm[1][1], "ratchet: alice reads b1")
    more = [(send(alice, b"c%d" % i), b"c%d" % i) for i in range(3)]
    recv(bob, bkeys, more[2][0], more[2][1], "ratchet: bob reads c2 (new header key)")
    recv(bob, bkeys, msgs[3][0], msgs[3][1], "ratchet: bob reads a3 (old chain, PN-skipped)")
    recv(bob, bkeys, msgs[1][0], msgs[1][1], "ratchet: bob reads a1 (old chain)")
    recv(bob, bkeys, more[0][0], more[0][1], "ratchet: bob reads c0")
    recv(alice, akeys, bm[0][0], bm[0][1], "ratchet: alice reads b0 (skipped)")
    recv(alice, akeys, bm[2][0], bm[2][1], "ratchet: alice reads b2")
    for bit in (0, 8 * 50, 8 * 60, 8 * (len(more[1][0]) - 1)):
        bad = bytearray(more[1][0])
        bad[bit // 8] ^= 1 << (bit % 8)
        before = bob.serialize()
        try:
            bob.decrypt(bytes(bad), bkeys)
            C.check("ratchet: flipped bit %d refused" % bit, False)
        except Reject:
            C.check("ratchet: flipped bit %d refused" % bit, True)
        C.eq("ratchet: flipped bit %d leaves state unchanged" % bit, bob.serialize(), before)
    recv(bob, bkeys, more[1][0], more[1][1], "ratchet: bob reads c1")
    C.eq("ratchet: bob holds no skipped keys at the end", len(bob.skipped), 0)

    # MAX_SKIPPED_HEADER_KEYS: 17 chains, one message lost in each
    lost = []
    for k in range(MAX_SKIPPED_HEADER_KEYS + 1):
        x = [alice.encrypt(b"x") for _ in range(2)]
        lost.append(x[0])
        bob.decrypt(x[1], bkeys)
        alice.decrypt(bob.encrypt(b"y"), akeys)
    C.eq("ratchet: at most 16 header keys kept", len({e[0] for e in bob.skipped}),
         MAX_SKIPPED_HEADER_KEYS)
    try:
        bob.decrypt(lost[0], bkeys)
        C.check("ratchet: the evicted chain's message is refused", False)
    except Reject:
        C.check("ratchet: the evicted chain's message is refused", True)
    C.eq("ratchet: the 2nd chain's lost message still reads", bob.decrypt(lost[1], bkeys), b"x")
    rt(bob, "ratchet after eviction")

    # §6 corrupt states
    blob = bob.serialize()
    for label, bad in (("short", blob[:STATE_MIN - 1]), ("truncated", blob[:-1]),
                       ("magic", b"SRT\x02" + blob[4:]), ("v3", b"SRS\x03" + blob[4:]),
                       ("checksum", blob[:-1] + bytes([blob[-1] ^ 1]))):
        try:
            Ratchet.deserialize(bad)
            C.check("state %s refused" % label, False)
        except Corrupt:
            C.check("state %s refused" % label, True)
    try:
        Ratchet.deserialize(STATE_MAGIC_V1 + bytes(273))
        C.check("version-1 state is OlderVersion", False)
    except OlderVersion:
        C.check("version-1 state is OlderVersion", True)

    # §7 bodies
    mid = rng.take(16)
    rcpts = [rng.take(16) for _ in range(8)]
    for label, args in (("text", (TYPE_TEXT, mid, -5, 3600, "héllo ✓ 🎉".encode(), rcpts[:2])),
                        ("max text", (TYPE_TEXT, mid, 2**40, 0, b"z" * MAX_TEXT, rcpts)),
                        ("receipt", (TYPE_RECEIPT, mid, 0, 0, b"", rcpts[:1])),
                        ("nul text", (TYPE_TEXT, mid, 1, 1, b"\x00", []))):
        enc = encode_body(*args)
        d = decode_body(enc)
        C.eq("body %s: round trip" % label, encode_body(d["type"], d["id"], d["sent"],
                                                         d["expires"], d["text"],
                                                         d["receipts"]), enc)
    good = encode_body(TYPE_TEXT, mid, 1, 1, b"abc", [])
    for label, bad in (("v1", b"\x01" + good[1:]), ("type 3", good[:1] + b"\x03" + good[2:]),
                       ("padding", good[:-1] + b"\x01"), ("L 0", good[:31] + b"\0\0" + good[33:]),
                       ("surrogate", good[:33] + b"\xed\xa0\x80" + good[36:]),
                       ("overlong", good[:33] + b"\xc0\xafc" + good[36:]),
                       ("short", good[:-1])):
        try:
            decode_body(bad)
            C.check("body %s refused" % label, False)
        except Corrupt:
            C.check("body %s refused" % label, True)

    # §8 stored sessions
    rec = SessionRecord(alice, True, True, ek_a, 1, 5)
    rec2 = SessionRecord(copy.deepcopy(alice), True, False, rng.take(32), 6, 6, spk_b)
    sblob = serialize_sessions(ik_b, 7, [rec, rec2], [rng.take(32)])
    got = deserialize_sessions(sblob)
    C.eq("sessions: round trip", serialize_sessions(*got), sblob)
    for cut in range(0, len(sblob), 97):
        try:
            deserialize_sessions(sblob[:cut])
            C.check("sessions: truncation at %d refused" % cut, False)
        except Corrupt:
            C.check("sessions: truncation at %d refused" % cut, True)
    for label, recs in (("responder unconfirmed", [SessionRecord(alice, False, False, ek_a, 1, 1)]),
                        ("prekey on confirmed", [SessionRecord(alice, True, True, ek_a, 1, 1,
                                                               spk_b)]),
                        ("created > last used", [SessionRecord(alice, True, True, ek_a, 3, 2)]),
                        ("last used > clock", [SessionRecord(alice, True, True, ek_a, 3, 9)])):
        try:
            deserialize_sessions(serialize_sessions(ik_b, 7, recs, []))
            C.check("sessions: %s refused" % label, False)
        except Corrupt:
            C.check("sessions: %s refused" % label, True)
    try:
        deserialize_sessions(SESSIONS_MAGIC_V1 + bytes(100))
        C.check("sessions: version 1 is OlderVersion", False)
    except OlderVersion:
        C.check("sessions: version 1 is OlderVersion", True)

    # §7 loops
    loop_key = rng.take(32)
    r16 = rng.take(16)
    item = r16 + H(b"sotto-loop-v1" + r16, 16, key=loop_key) + rng.take(1998)
    C.check("loop: recognised with its key", is_loop(item, loop_key))
    C.check("loop: not with another key", not is_loop(item, rng.take(32)))
    C.check("loop: not at another length", not is_loop(item[:-1], loop_key))


def main(argv):
    verbose = "-v" in argv
    args = [a for a in argv[1:] if a not in ("-v",)]
    C = Checks(verbose)
    if args and args[0] == "--self-test":
        C.guarded("self-test", lambda: self_test(C))
    else:
        path = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "e2ee.json")
        with open(path, encoding="utf-8") as f:
            v = json.load(f)
        run_vectors(C, v)
    print("%d checks: %d passed, %d failed" % (C.passed + C.failed, C.passed, C.failed))
    return 0 if C.failed == 0 and C.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
