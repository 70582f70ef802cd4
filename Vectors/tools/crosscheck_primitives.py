#!/usr/bin/env python3
"""Independent re-implementation of SPEC.md §2-§6 (with the §2.7 Merkle tree, its proofs and multiproofs) in Python (no Swift
code involved), checked against every case of Vectors/primitives/*.json. Uses only the `cryptography` package for ChaCha20, X25519,
HKDF/HMAC and ChaCha20-Poly1305; XChaCha20 (HChaCha20) and the mask, Shamir and test-generator mappings
are written here from the spec text.

Run from the repository root: python3 Vectors/tools/crosscheck_primitives.py
"""
import hashlib, json, os, struct, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "primitives")

def chacha20(key, nonce12, counter, length):
    c = Cipher(algorithms.ChaCha20(key, struct.pack("<I", counter) + nonce12), mode=None).encryptor()
    return c.update(bytes(length))

# §2.6 test generator: ChaCha20(key = seed, nonce = "SecAgg-DRBG1", counter 0), consumed byte by byte;
# the stream is prefix-consistent, so a read position suffices.
class StreamDrbg:
    def __init__(self, seed):
        self.seed, self.position, self.cache = seed, 0, b""
    def read(self, n):
        need = self.position + n
        if len(self.cache) < need:
            self.cache = chacha20(self.seed, b"SecAgg-DRBG1", 0, max(need, 2 * len(self.cache), 1024))
        out = self.cache[self.position:need]
        self.position = need
        return out

# §4 mask PRG.
def mask(seed, stream, count, bit_width=None, q=None):
    element_bits = bit_width if bit_width is not None else (q - 1).bit_length()
    word = 4 if element_bits <= 32 else 8
    wmask = (1 << element_bits) - 1
    nonce = struct.pack("<I", stream) + bytes(8)
    out, length = [], max(64, count * word)
    while True:
        ks = chacha20(seed, nonce, 0, length)
        out = []
        for i in range(0, len(ks) - word + 1, word):
            v = int.from_bytes(ks[i:i + word], "little") & wmask
            if q is None or v < q:
                out.append(v)
                if len(out) == count:
                    return out
        if count == 0:
            return []
        length *= 2

def digest(elements):
    return hashlib.sha256(b"".join(struct.pack("<Q", e) for e in elements)).hexdigest()

# §5 XChaCha20-Poly1305: HChaCha20 subkey, then ChaCha20-Poly1305 with nonce 0^4 || nonce[16:24].
def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 7)
def hchacha20(key, nonce16):
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] + list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        quarter(s, 0, 4, 8, 12); quarter(s, 1, 5, 9, 13); quarter(s, 2, 6, 10, 14); quarter(s, 3, 7, 11, 15)
        quarter(s, 0, 5, 10, 15); quarter(s, 1, 6, 11, 12); quarter(s, 2, 7, 8, 13); quarter(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))
def xseal(key, nonce, ad, pt):
    return nonce + ChaCha20Poly1305(hchacha20(key, nonce[:16])).encrypt(bytes(4) + nonce[16:], pt, ad)
def xopen(key, box, ad):
    try:
        return ChaCha20Poly1305(hchacha20(key, box[:16])).decrypt(bytes(4) + box[16:24], box[24:], ad)
    except Exception:
        return None
def share_ad(session, sender, recipient, purpose):
    return b"secagg/v1/share-aead" + session + struct.pack("<II", sender, recipient) + bytes([purpose])

# §3 key derivations.
def info(label, u, v): return label.encode() + struct.pack("<II", min(u, v), max(u, v))
def hkdf(ikm, salt, info_bytes):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt or None, info=info_bytes).derive(ikm)

# §6 Shamir.
P = (1 << 61) - 1
def shamir_split(secret, t, xs, rng):
    chunks = [int.from_bytes(secret[i:i + 7], "little") for i in range(0, len(secret), 7)]
    polys = []
    for c in chunks:
        coeffs = [c]
        for _ in range(1, t):
            while True:
                r = int.from_bytes(rng.read(8), "little") & P
                if r != P:
                    break
            coeffs.append(r)
        polys.append(coeffs)
    shares = []
    for x in xs:
        ys = []
        for coeffs in polys:
            y = 0
            for a in reversed(coeffs):
                y = (y * x + a) % P
            ys.append(y)
        shares.append(struct.pack("<I", x) + b"".join(struct.pack("<Q", y) for y in ys))
    return shares
def shamir_reconstruct(shares, t, length):
    if len(shares) < t:
        return None
    pts = [(int.from_bytes(s[:4], "little"), [int.from_bytes(s[4 + 8 * j:12 + 8 * j], "little") for j in range((len(s) - 4) // 8)]) for s in shares]
    basis = pts[:t]
    def lagrange(z):
        out = []
        for i, (xi, _) in enumerate(basis):
            num = den = 1
            for j, (xj, _) in enumerate(basis):
                if i != j:
                    num, den = num * (z - xj) % P, den * (xi - xj) % P
            out.append(num * pow(den, P - 2, P) % P)
        return out
    l0 = lagrange(0)
    secret = b""
    for j in range(len(basis[0][1])):
        value = sum(l * ys[j] for l, (_, ys) in zip(l0, basis)) % P
        for (x, ys) in pts[t:]:
            if sum(l * b[1][j] for l, b in zip(lagrange(x), basis)) % P != ys[j]:
                return None
        width = min(7, length - 7 * j)
        if value >> (8 * width):
            return None
        secret += value.to_bytes(width, "little")
    return secret

def load(name):
    with open(os.path.join(ROOT, name)) as f:
        return json.load(f)

checked = 0
def check(condition, what):
    global checked
    if not condition:
        sys.exit("MISMATCH: " + what)
    checked += 1

doc = load("mask_prg.json")
for g in doc["testGroups"]:
    bw = g.get("bitWidth"); q = int(g["q"]) if "q" in g else None
    for t in g["tests"]:
        m = mask(bytes.fromhex(t["seed"]), t["stream"], t["elementCount"], bw, q)
        check([str(e) for e in m[:16]] == t["firstElements"] and digest(m) == t["elementDigest"], f"mask {t['tcId']}")

doc = load("share_aead.json")
for t in doc["testGroups"][0]["tests"]:
    key, nonce, box = bytes.fromhex(t["key"]), bytes.fromhex(t["nonce"]), bytes.fromhex(t["sealedBox"])
    ad = share_ad(bytes.fromhex(t["sessionId"]), t["sender"], t["recipient"], t["purpose"])
    pt = bytes.fromhex(t["plaintext"])
    check(ad.hex() == t["associatedData"], f"aead ad {t['tcId']}")
    if t["result"] == "valid":
        check(xseal(key, nonce, ad, pt) == box and xopen(key, box, ad) == pt, f"aead {t['tcId']}")
    else:
        check(len(box) < 40 or xopen(key, box, ad) is None, f"aead invalid {t['tcId']}")

doc = load("key_derivation.json")
for t in doc["testGroups"][0]["tests"]:
    priv = X25519PrivateKey.from_private_bytes(bytes.fromhex(t["privateKeyU"]))
    try:
        shared = priv.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(t["publicKeyV"])))
    except ValueError:  # cryptography rejects an all-zero result, as SPEC §2.2 does
        shared = None
    if t["result"] == "invalid":
        check(shared is None, f"kdf invalid {t['tcId']}")
        continue
    session = bytes.fromhex(t["sessionId"])
    i1, i2 = info("secagg/v1/pairwise-mask-seed", t["u"], t["v"]), info("secagg/v1/share-encryption-key", t["u"], t["v"])
    check(shared.hex() == t["sharedSecret"] and i1.hex() == t["pairwiseMaskSeedInfo"]
          and i2.hex() == t["shareEncryptionKeyInfo"] and hkdf(shared, session, i1).hex() == t["pairwiseMaskSeed"]
          and hkdf(shared, session, i2).hex() == t["shareEncryptionKey"], f"kdf {t['tcId']}")

doc = load("deterministic_rng.json")
for t in doc["testGroups"][0]["tests"]:
    rng = StreamDrbg(bytes.fromhex(t["seed"]))
    check(b"".join(rng.read(n) for n in t["readByteCounts"]).hex() == t["output"], f"drbg {t['tcId']}")

doc = load("shamir.json")
for t in doc["testGroups"][0]["tests"]:
    secret = bytes.fromhex(t["secret"])
    shares = shamir_split(secret, t["threshold"], t["xCoordinates"], StreamDrbg(bytes.fromhex(t["rngSeed"])))
    check([s.hex() for s in shares] == t["shares"], f"shamir split {t['tcId']}")
    by_x = {int.from_bytes(s[:4], "little"): s for s in shares}
    for r in t["reconstructions"]:
        out = shamir_reconstruct([by_x[x] for x in r["xCoordinates"]], t["threshold"], len(secret))
        check((out == secret) if r["result"] == "valid" else out is None, f"shamir reconstruct {t['tcId']}")

# §2.7 Merkle tree: LeafHash = SHA-256(0x00 || payload), Node(a, b) = SHA-256(0x01 || a || b), zero padding leaves
# up to 2^L, proofs of L siblings from the leaf level up.
def merkle_levels(leaves):
    depth = (len(leaves) - 1).bit_length()
    level = list(leaves) + [bytes(32)] * ((1 << depth) - len(leaves))
    levels = [level]
    while len(level) > 1:
        level = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
        levels.append(level)
    return levels

def merkle_verify(root, n, slot, leaf, proof):
    depth = (n - 1).bit_length()
    if not 0 <= slot < n or len(proof) != 32 * depth:
        return False
    h = leaf
    for j in range(depth):
        sibling = proof[32 * j:32 * j + 32]
        h = hashlib.sha256(b"\x01" + (h + sibling if (slot >> j) & 1 == 0 else sibling + h)).digest()
    return h == root

# §2.7 multiproofs: level by level from the leaves, for each slot of K_j ascending whose sibling is not in K_j its
# sibling's value, then K_{j+1} = {s >> 1}. Verification walks the same way, reading one value wherever a slot's
# sibling is not in K_j, and accepts only if every value was read and the result is the root.
def merkle_multiproof(levels, slots):
    known, out = sorted(set(slots)), []
    for j in range(len(levels) - 1):
        out += [levels[j][s ^ 1] for s in known if s ^ 1 not in known]
        known = sorted({s >> 1 for s in known})
    return b"".join(out)

def merkle_multiverify(root, n, slots, leaves, multiproof):
    if not 1 <= n <= 1 << 24 or not slots or len(leaves) != len(slots) or len(multiproof) % 32:
        return False
    if any(not 0 <= s < n for s in slots) or any(a >= b for a, b in zip(slots, slots[1:])):
        return False
    values = [multiproof[i:i + 32] for i in range(0, len(multiproof), 32)]
    hashes, read = dict(zip(slots, leaves)), 0
    for j in range((n - 1).bit_length()):
        known, upper, i = sorted(hashes), {}, 0
        while i < len(known):
            s = known[i]
            if s % 2 == 0 and i + 1 < len(known) and known[i + 1] == s + 1:
                upper[s >> 1] = hashlib.sha256(b"\x01" + hashes[s] + hashes[s + 1]).digest()
                i += 2
                continue
            if read == len(values):
                return False
            m, read = values[read], read + 1
            upper[s >> 1] = hashlib.sha256(b"\x01" + (hashes[s] + m if s % 2 == 0 else m + hashes[s])).digest()
            i += 1
        hashes = upper
    return read == len(values) and hashes[0] == root

doc = load("merkle.json")
for g in doc["testGroups"]:
    n = g["slotCount"]
    levels = merkle_levels([hashlib.sha256(b"\x00" + bytes.fromhex(p)).digest() for p in g["leafPayloads"]])
    root = bytes.fromhex(g["root"])
    check(len(g["leafPayloads"]) == n and len(levels) - 1 == g["depth"] and levels[-1][0] == root, f"merkle root n={n}")
    for t in g["tests"]:
        s, proof = t["slot"], bytes.fromhex(t["proof"])
        ok = merkle_verify(root, n, s, hashlib.sha256(b"\x00" + bytes.fromhex(t["leafPayload"])).digest(), proof)
        if t["result"] == "valid":
            expected = b"".join(levels[j][(s >> j) ^ 1] for j in range(len(levels) - 1))
            check(ok and proof == expected, f"merkle {t['tcId']}")
        else:
            check(not ok, f"merkle invalid {t['tcId']}")
    for t in g["multiproofTests"]:
        slots, proof = t["slots"], bytes.fromhex(t["multiproof"])
        leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(p)).digest() for p in t["leafPayloads"]]
        ok = merkle_multiverify(root, n, slots, leaves, proof)
        if t["result"] == "valid":
            check(ok and proof == merkle_multiproof(levels, slots), f"merkle multiproof {t['tcId']}")
        else:
            check(not ok, f"merkle multiproof invalid {t['tcId']}")

print(f"{checked} checks passed: Python re-implementation agrees with Vectors/primitives")
