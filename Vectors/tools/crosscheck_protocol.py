#!/usr/bin/env python3
"""Independent re-implementation of the protocol (SPEC.md §10.2, §11, §12) in Python, checked against
Vectors/protocol/transcript_*.json, Vectors/protocol/wire_v3.json, Vectors/graph/harary_permutation.json and
Vectors/graph/ring_prp.json (the v3 ring: SipHash-2-4 and the swap-or-not permutation in pure Python) and
(§2.7, this script's own Merkle tree, proofs and multiproofs) Vectors/primitives/merkle.json.

No Swift code is involved. The primitives (§2.6 test generator, §3 derivations, §4 mask PRG, §5 share AEAD,
§6 Shamir) are those of crosscheck_primitives.py, which validates them against Vectors/primitives/ when it
is imported. From each transcript's configuration, inputs, client generator seeds and Ed25519 seeds this
script recomputes every message of the session, byte for byte, following the spec text:

  - the configuration (§11.1, protocol version 3, with its threat assumption) and the threshold rule it must
    meet (§11.1: t ≥ 2, 2t > k in the active model, the §10.4 privacy bound for the declared C, D and σ, computed
    here with exact rationals), its digest;
  - each client's X25519 keys, seed contribution (sparse graphs) and self-mask seed from its generator (§11.3
    draw order), checked against the recorded test-only secrets and the advertised public keys;
  - the key tree (a §2.7 Merkle tree, implemented here on its own, over slots 1 … n: LeafHash(0x01 ‖ entry) for
    an advertiser, LeafHash(0x00 ‖ LE32(i)) for a client without one) and the session id
    SHA-256("secagg/v3/session-id" ‖ configDigest ‖ LE32(count) ‖ keyRoot); on complete graphs the KeysBroadcast,
    from which each client derives the same session id again (and finds its own entry unchanged);
  - on sparse graphs in the active model, round 0′ starts with the KeysBroadcast (entries with commitment and
    signature; each client derives the session id from it, finds its own entry unchanged and count ≥ t + 1), and
    round 1 with SeedReveals (0x89, every reveal: each client checks that they cover exactly the indices of its
    key broadcast and open their commitments, builds the reveal tree itself and takes N(u) from its graph seed);
  - on sparse graphs, SeedReveal, the reveal tree over the contributions and the graph seed
    SHA-256("secagg/v3/graph-seed" ‖ sessionId ‖ revealRoot);
  - on sparse graphs in the semi-honest model, round 0′ starts with each client's KeyCommitment (the key root and
    its own proof, byte for byte, and the client's checks: own entry unchanged and proven, count ≥ t + 1); then the graph
    (§10.2), the ring tree (the key tree's leaf hashes in ring order, slot p holding the leaf of order[p]) and each
    client's Neighbourhood (the reveal root and proof, the ring root, the records and the §2.7 multiproof of the
    window W(u) = the k + 1 ring slots around p_u, byte for byte; and the client's checks: its own reveal proof, the
    records listing exactly N(u) of the graph from the reveal root, the multiproof verifying under the ring root with
    its own key leaf at p_u and each record's at position(v), and altered multiproofs or leaves rejected);
  - in the active model, each client's check of its live neighbours' advertisement signatures (Ed25519);
  - every ShareKeys message: the self-mask commitment and the boxes (Shamir coefficients and nonces drawn in
    the §11.3 order, §3 key, §5 associated data), and every box opened again by its recipient;
  - every masked input y_u = x_u + PRG(b_u) + Σ_{v<u} PRG(s_uv) − Σ_{v>u} PRG(s_uv) (§11.3, §4, §8 packing);
  - the server messages (§12.4), consistency signatures (Ed25519 is deterministic) and unmasking responses;
  - the unmasking of §11.4 (reconstructions from the recorded responses checked against the commitments and
    advertised keys, masks removed) and the aggregate;
  - the valid messages of wire_v3.json (SessionComplete: session id, recipient, and its inclusion in U3), the
    §10.2 ring of graph/harary_permutation.json and this script's Merkle tree against primitives/merkle.json (proofs
    and multiproofs, valid and rejected; and of its own, of one slot the proof, of every window of consecutive slots
    at most 4L values that verify).

Run from the repository root: python3 Vectors/tools/crosscheck_protocol.py
"""
import hashlib, json, math, os, struct, sys
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck_primitives as prim  # noqa: E402  (checks Vectors/primitives/ on import)
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey  # noqa: E402

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
checked = 0


def check(condition, what):
    global checked
    if not condition:
        sys.exit(f"FAILED: {what}")
    checked += 1


def sha256(data): return hashlib.sha256(data).digest()
def le32(x): return struct.pack("<I", x)


# §11.1 configuration.
class Reader:
    def __init__(self, data): self.data, self.pos = data, 0
    def take(self, n):
        assert self.pos + n <= len(self.data), "truncated"
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out
    def u8(self): return self.take(1)[0]
    def u32(self): return struct.unpack("<I", self.take(4))[0]
    def u64(self): return struct.unpack("<Q", self.take(8))[0]


VERSION = 3


def parse_config(data):
    r = Reader(data)
    assert r.u8() == VERSION
    cfg = {"n": r.u32(), "t": r.u32(), "active": r.u8() == 1}
    kind, degree = r.u8(), r.u32()
    cfg["harary"] = kind == 1 and degree < cfg["n"] - 1  # sparse: round 0′ and a seeded ring
    cfg["k"] = degree if cfg["harary"] else cfg["n"] - 1
    cfg["C"], cfg["D"], cfg["sigma"] = r.u32(), r.u32(), r.u32()
    cfg["nonce"] = r.take(32)
    cfg["inputs"] = []
    for _ in range(r.u32()):
        name = r.take(r.u8()).decode()
        length, ring_kind, value = r.u64(), r.u8(), r.u64()
        if ring_kind == 0:
            ring = {"bits": value, "q": 1 << value, "pow2": True}
        else:
            ring = {"bits": (value - 1).bit_length(), "q": value, "pow2": value & (value - 1) == 0}
        cfg["inputs"].append({"name": name, "length": length, **ring})
    cfg["verificationKeys"] = [r.take(32) for _ in range(r.u32())]
    assert r.pos == len(data), "trailing bytes in the configuration"
    return cfg


# §11.1 threshold rule: t ≥ 2, 2t > k (active), and the §10.4 privacy bound ≤ 2^−σ, exactly.
def privacy_failure(n, k, t, C, D, active):
    tau = 2 * t - k if active else t  # corrupt neighbours that break an honest client's shares (P1 / A1)
    total = math.comb(n - 1, k)
    tail = sum(math.comb(C, x) * math.comb(n - 1 - C, k - x) for x in range(max(tau, 0), k + 1))
    shares = Fraction(n * tail, total)
    removed = min(n, C + D)
    disconnect = Fraction(0)
    if k < n - 1 and n >= k + 2 and removed >= k:
        disconnect = Fraction(n * (n - k - 1), 2)
        for j in range(k):
            disconnect *= Fraction(removed - j, n - j)
    return shares + disconnect


def threshold_ok(cfg):
    n, k, t = cfg["n"], cfg["k"], cfg["t"]
    if t < 2 or t > k or (cfg["active"] and 2 * t <= k):
        return False
    return privacy_failure(n, k, t, cfg["C"], cfg["D"], cfg["active"]) <= Fraction(1, 2 ** cfg["sigma"])


# §10.2 (v3) the swap-or-not ring: SipHash-2-4 in pure Python (checked against the published reference vector
# below), the round keys from the §2.6 DRBG, forward and inverse evaluation at single points.
_M64 = (1 << 64) - 1


def siphash24(key, message):
    """SipHash-2-4 (Aumasson, Bernstein) of `message` under the 16-byte `key`, as an integer (the 8 output bytes
    read little-endian)."""
    k0, k1 = int.from_bytes(key[:8], "little"), int.from_bytes(key[8:16], "little")
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rounds(count):
        v0, v1, v2, v3 = v
        for _ in range(count):
            v0 = (v0 + v1) & _M64; v1 = ((v1 << 13) | (v1 >> 51)) & _M64; v1 ^= v0; v0 = ((v0 << 32) | (v0 >> 32)) & _M64
            v2 = (v2 + v3) & _M64; v3 = ((v3 << 16) | (v3 >> 48)) & _M64; v3 ^= v2
            v0 = (v0 + v3) & _M64; v3 = ((v3 << 21) | (v3 >> 43)) & _M64; v3 ^= v0
            v2 = (v2 + v1) & _M64; v1 = ((v1 << 17) | (v1 >> 47)) & _M64; v1 ^= v2; v2 = ((v2 << 32) | (v2 >> 32)) & _M64
        v[:] = [v0, v1, v2, v3]

    whole = len(message) - len(message) % 8
    blocks = [int.from_bytes(message[i:i + 8], "little") for i in range(0, whole, 8)]
    blocks.append(int.from_bytes(message[whole:], "little") | ((len(message) & 0xFF) << 56))
    for m in blocks:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


check(siphash24(bytes(range(16)), bytes(range(15))) == 0xA129CA6149BE45E5, "SipHash-2-4 reference vector")


def ring_below(rng, b):
    """§10.2 step 3 / §2.6 below(b)."""
    if b <= 1:
        return 0
    mask = (1 << (b - 1).bit_length()) - 1
    while True:
        v = int.from_bytes(rng.read(8), "little") & mask
        if v < b:
            return v


def ring_is_prp(n, k):
    return k >= 2 and k % 2 == 0 and 16 * (k + 1) <= n


def ring_round_count(n):
    return 16 * (n - 1).bit_length() + 300  # L = ⌈log2 n⌉, the smallest L with 2^L ≥ n


class RingPrp:
    def __init__(self, n, k, seed):
        self.n = n
        self.key = hashlib.sha256(b"secagg/v3/ring-prp" + struct.pack("<II", n, k) + seed).digest()
        rng = prim.StreamDrbg(self.key)
        self.round_keys = [ring_below(rng, n) for _ in range(ring_round_count(n))]
        self.sip_key = rng.read(16)  # the next 16 keystream bytes after the last round key

    def _round(self, j, x):
        partner = (self.round_keys[j] + self.n - x) % self.n
        bit = siphash24(self.sip_key, struct.pack("<II", j, max(x, partner))) & 1
        return partner if bit else x

    def forward(self, x):
        for j in range(len(self.round_keys)):
            x = self._round(j, x)
        return x

    def inverse(self, y):
        for j in reversed(range(len(self.round_keys))):
            y = self._round(j, y)
        return y

    def order(self):
        order = [0] * self.n
        for x in range(self.n):
            order[self.forward(x)] = x + 1
        return order

    def neighbours(self, k, client):
        p = self.forward(client - 1)
        return p, sorted(self.inverse((p + s * d) % self.n) + 1 for d in range(1, k // 2 + 1) for s in (1, -1))


def fisher_yates_order(n, k, seed):
    rng = prim.StreamDrbg(hashlib.sha256(b"secagg/v1/harary-graph" + struct.pack("<II", n, k) + seed).digest())
    order = list(range(1, n + 1))
    for i in range(n - 1, 0, -1):
        j = ring_below(rng, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def order_neighbours(order, k, client):
    n = len(order)
    p = order.index(client)
    return p, sorted(order[(p + s * d) % n] for d in range(1, k // 2 + 1) for s in (1, -1))


def le32_digest(values):
    return hashlib.sha256(b"".join(struct.pack("<I", v) for v in values)).hexdigest()


RING_FULL_ORDER_LIMIT = 2000  # whole swap-or-not orders are recomputed (and digested) only up to this n


def check_harary_permutation():
    """graph/harary_permutation.json under the v3 rule; for swap-or-not cases above RING_FULL_ORDER_LIMIT the
    stored prefix and neighbourhoods are checked pointwise and the digest of the whole order is left to Swift."""
    doc = json.load(open(os.path.join(VECTORS, "graph", "harary_permutation.json")))
    for tc in doc["testGroups"][0]["tests"]:
        n, k, seed, name = tc["clientCount"], tc["degree"], bytes.fromhex(tc["seed"]), f"harary {tc['tcId']}"
        if tc["result"] != "valid":
            check(len(seed) != 32 or k < 2 or k % 2 == 1 or n < 1, f"{name}: invalid parameters")
            continue
        check(len(seed) == 32 and k >= 2 and k % 2 == 0 and k <= n - 2, f"{name}: valid parameters")
        if ring_is_prp(n, k):
            check(tc["rule"] == "swap-or-not", f"{name}: rule")
            ring = RingPrp(n, k, seed)
            check(ring.key.hex() == tc["permutationKey"], f"{name}: key")
            if n <= RING_FULL_ORDER_LIMIT:
                check(le32_digest(ring.order()) == tc["orderDigest"], f"{name}: digest")
            check([ring.inverse(p) + 1 for p in range(len(tc["order"]))] == tc["order"], f"{name}: order")
            for entry in tc["neighbourhoods"]:
                check(ring.neighbours(k, entry["client"]) == (entry["position"], entry["neighbours"]),
                      f"{name}: client {entry['client']}")
        else:
            check(tc["rule"] == "fisher-yates", f"{name}: rule")
            key = hashlib.sha256(b"secagg/v1/harary-graph" + struct.pack("<II", n, k) + seed).digest()
            check(key.hex() == tc["permutationKey"], f"{name}: key")
            order = fisher_yates_order(n, k, seed)
            check(order[:len(tc["order"])] == tc["order"], f"{name}: order")
            check(le32_digest(order) == tc["orderDigest"], f"{name}: digest")
            for entry in tc["neighbourhoods"]:
                check(order_neighbours(order, k, entry["client"]) == (entry["position"], entry["neighbours"]),
                      f"{name}: client {entry['client']}")


def check_ring_prp():
    """graph/ring_prp.json: every field of every case, the large-n ones pointwise."""
    doc = json.load(open(os.path.join(VECTORS, "graph", "ring_prp.json")))
    for tc in doc["testGroups"][0]["tests"]:
        n, k, seed, name = tc["clientCount"], tc["degree"], bytes.fromhex(tc["seed"]), f"ring_prp {tc['tcId']}"
        valid = 1 <= n <= 1 << 24 and ring_is_prp(n, k) and len(seed) == 32
        check(valid == (tc["result"] == "valid"), f"{name}: domain")
        if not valid:
            continue
        ring = RingPrp(n, k, seed)
        check(ring.key.hex() == tc["key"], f"{name}: key")
        check(len(ring.round_keys) == tc["rounds"], f"{name}: rounds")
        check(ring.round_keys[:len(tc["firstRoundKeys"])] == tc["firstRoundKeys"], f"{name}: round keys")
        check(le32_digest(ring.round_keys) == tc["roundKeysDigest"], f"{name}: round key digest")
        check(ring.sip_key.hex() == tc["sipKey"], f"{name}: SipHash key")
        if tc["order"]:
            order = ring.order()
            check(order == tc["order"] and le32_digest(order) == tc["orderDigest"], f"{name}: order")
        for point in tc["positions"]:
            check(ring.forward(point["client"] - 1) == point["position"], f"{name}: position of {point['client']}")
        for point in tc["clientsAtPositions"]:
            check(ring.inverse(point["position"]) + 1 == point["client"], f"{name}: client at {point['position']}")
        for entry in tc["neighbourhoods"]:
            check(ring.neighbours(k, entry["client"]) == (entry["position"], entry["neighbours"]),
                  f"{name}: neighbours of {entry['client']}")


def harary_order(n, k, seed):
    """§10.2 (v3): order[p] = the client at ring position p."""
    return RingPrp(n, k, seed).order() if ring_is_prp(n, k) else fisher_yates_order(n, k, seed)


def ring_neighbours(order, k, client):
    return order_neighbours(order, k, client)[1]


def graph(cfg, graph_seed):
    n = cfg["n"]
    if not cfg["harary"]:
        return {u: [v for v in range(1, n + 1) if v != u] for u in range(1, n + 1)}
    order = harary_order(n, cfg["k"], graph_seed)
    return {u: ring_neighbours(order, cfg["k"], u) for u in range(1, n + 1)}


# §2.7 Merkle tree, built level by level over the padded leaf row (self-contained: no other script's tree).
def merkle_depth(n):
    return (n - 1).bit_length() if n > 1 else 0


def leaf_hash(payload): return sha256(b"\x00" + payload)
def node_hash(left, right): return sha256(b"\x01" + left + right)


def merkle_tree(leaves):
    """Every level of the tree over `leaves` (32-byte leaf hashes), level 0 first; the root is levels[-1][0]."""
    depth = merkle_depth(len(leaves))
    level = list(leaves) + [bytes(32)] * ((1 << depth) - len(leaves))  # padding slots hold 0^32
    levels = [level]
    for _ in range(depth):
        level = [node_hash(level[2 * s], level[2 * s + 1]) for s in range(len(level) // 2)]
        levels.append(level)
    return levels


def merkle_proof(levels, slot):
    return b"".join(levels[j][(slot >> j) ^ 1] for j in range(len(levels) - 1))


def merkle_verify(root, n, slot, leaf, proof):
    depth = merkle_depth(n)
    if not (1 <= n <= 1 << 24 and 0 <= slot < n and len(proof) == 32 * depth):
        return False
    h = leaf
    for j in range(depth):
        sibling = proof[32 * j:32 * (j + 1)]
        h = node_hash(h, sibling) if (slot >> j) & 1 == 0 else node_hash(sibling, h)
    return h == root


def merkle_multiproof(levels, slots):
    """§2.7 multiproof of the slot set `slots`: K_0 = the set; at each level j, in ascending order, the sibling
    level_j[s XOR 1] of every s ∈ K_j whose sibling is not itself in K_j (padding leaves and nodes over padding
    only are read from the padded levels); then K_{j+1} = {s >> 1}."""
    known = sorted(set(slots))
    out = b""
    for j in range(len(levels) - 1):
        members = set(known)
        out += b"".join(levels[j][s ^ 1] for s in known if s ^ 1 not in members)
        known = sorted({s >> 1 for s in known})
    return out


def merkle_multiverify(root, n, slots, leaves, multiproof):
    """§2.7 multiproof verification of (root, n, S = `slots`, their leaf hashes `leaves` in the same order,
    multiproof): S nonempty, strictly ascending and below n, the multiproof a whole number of 32-byte values,
    every value read exactly once and the last level's one node equal to the root."""
    depth = merkle_depth(n)
    if not (1 <= n <= 1 << 24 and slots and len(leaves) == len(slots)
            and all(0 <= s < n for s in slots) and all(a < b for a, b in zip(slots, slots[1:]))
            and len(multiproof) % 32 == 0):
        return False
    values = [multiproof[i:i + 32] for i in range(0, len(multiproof), 32)]
    read = 0
    known = list(zip(slots, leaves))  # (s, H_j[s]) for s ∈ K_j, ascending
    for _ in range(depth):
        parents, i = [], 0
        while i < len(known):
            s, h = known[i]
            if s % 2 == 0 and i + 1 < len(known) and known[i + 1][0] == s + 1:
                parents.append((s >> 1, node_hash(h, known[i + 1][1])))
                i += 2
                continue
            if read == len(values):
                return False
            m = values[read]
            read += 1
            parents.append((s >> 1, node_hash(h, m) if s % 2 == 0 else node_hash(m, h)))
            i += 1
        known = parents
    return read == len(values) and len(known) == 1 and known[0][1] == root


# §11.2 (version 3) the session's trees: the key and reveal trees have one slot per client index (slot i − 1 for
# client i); the ring tree (sparse, semi-honest) one per ring position.
def key_leaf(i, entry):
    """0x01 ‖ entry (which starts with LE32(i)) for an advertiser, 0x00 ‖ LE32(i) for a client without one."""
    return leaf_hash(b"\x01" + entry) if entry is not None else leaf_hash(b"\x00" + le32(i))


def reveal_leaf(i, contribution):
    return leaf_hash(b"\x01" + le32(i) + contribution) if contribution is not None else leaf_hash(b"\x00" + le32(i))


def key_tree(n, entries):
    return merkle_tree([key_leaf(i, entries.get(i)) for i in range(1, n + 1)])


def reveal_tree(n, contributions):
    return merkle_tree([reveal_leaf(i, contributions.get(i)) for i in range(1, n + 1)])


def ring_tree(keys, order):
    """§11.2 (sparse, semi-honest) the ring tree: the key tree's leaf hashes in ring order, slot p holding the leaf
    of order[p], the client at ring position p (present or absent as in the key tree)."""
    return merkle_tree([keys[0][i - 1] for i in order])


def ring_window(n, k, position):
    """§11.2 W(u) = {(p_u + d) mod n : d = −k/2 … k/2}, ascending: the k + 1 ring slots of u and its neighbours."""
    return sorted({(position + d) % n for d in range(-(k // 2), k // 2 + 1)})


def session_id_of(digest, count, key_root):
    return sha256(b"secagg/v3/session-id" + digest + le32(count) + key_root)


def graph_seed_of(session_id, reveal_root):
    return sha256(b"secagg/v3/graph-seed" + session_id + reveal_root)


def seed_commitment(digest, i, r):
    label = b"secagg/v1/seed-commitment"
    return sha256(label + bytes(32 - len(label)) + digest + le32(i) + r)


# X25519, masks, packing.
def x25519_public(sk): return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()
def x25519(sk, pk):
    z = X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))
    assert z != bytes(32), "all-zero shared secret"
    return z


def prg(seed, stream, ring, count):
    if ring["pow2"]:
        return prim.mask(seed, stream, count, bit_width=ring["bits"])
    return prim.mask(seed, stream, count, q=ring["q"])


def pack(elements, bits):
    value = sum(e << (i * bits) for i, e in enumerate(elements))
    return value.to_bytes((len(elements) * bits + 7) // 8, "little")


def bitmap(members, n):
    out = bytearray((n + 7) // 8)
    for m in members:
        out[(m - 1) // 8] |= 1 << ((m - 1) % 8)
    return bytes(out)


def sign(seed, message): return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def verify_advertisement(verification_key, digest, entry):
    """§11.3 round 1 (active): the entry's last 64 bytes sign "secagg/v1/advertise" ‖ configDigest ‖ the rest."""
    try:
        Ed25519PublicKey.from_public_bytes(verification_key).verify(entry[-64:], b"secagg/v1/advertise" + digest + entry[:-64])
        return True
    except InvalidSignature:
        return False


# The session of §11.3–§11.4, computing every message.
def replay(path):
    doc = json.load(open(path))
    group = doc["testGroups"][0]
    name = os.path.basename(path)
    config = bytes.fromhex(group["configuration"])
    cfg = parse_config(config)
    n, t = cfg["n"], cfg["t"]
    digest = sha256(b"secagg/v1/config" + config)
    check(digest.hex() == group["configurationDigest"], f"{name}: configuration digest")
    check(n == group["clientCount"] and t == group["threshold"], f"{name}: n and t")
    check(threshold_ok(cfg), f"{name}: the threshold meets §11.1 for C = {cfg['C']}, D = {cfg['D']}, σ = {cfg['sigma']}")
    sparse = cfg["harary"]
    V = bytes([VERSION])

    clients = {c["index"]: c for c in group["clients"]}
    rng, secret = {}, {}
    for u, c in clients.items():
        seed = sha256(c["rngLabel"].encode())
        check(seed.hex() == c["rngSeed"], f"{name}: client {u} rngSeed = SHA-256(rngLabel)")
        rng[u] = prim.StreamDrbg(seed)
        c["x"] = [[int(e) for e in vector] for vector in c["input"]]
        if cfg["active"]:
            sk_seed = bytes.fromhex(c["testOnlySecrets"]["signingKeySeed"])
            c["d"] = sk_seed
            check(Ed25519PrivateKey.from_private_bytes(sk_seed).public_key().public_bytes_raw()
                  == cfg["verificationKeys"][u - 1], f"{name}: client {u} verification key")
    answers = {  # the last round each client answers (rounds 0 … 4; round 0′ counts as 0)
        u: {"completes": 4, "dropsAfterShareKeys": 1, "dropsAfterMaskedInput": 2, "neverAdvertises": -1}[c["behaviour"]]
        for u, c in clients.items()}
    expected = {}  # (direction, round, client) -> bytes

    def emit(direction, round_name, client, data):
        expected[(direction, round_name, client)] = data

    # Round 0.
    entries = {}
    for u in sorted(clients):
        if answers[u] < 0:  # never advertises: an absent leaf of the key tree (and of the ring tree), no message
            check(not any(tc["kind"] == "message" and tc["direction"] == "clientToServer" and tc["client"] == u
                          for tc in group["tests"]), f"{name}: client {u} never advertises and sends nothing")
            continue
        c_sk, s_sk = rng[u].read(32), rng[u].read(32)
        secrets = clients[u]["testOnlySecrets"]
        check(c_sk.hex() == secrets["encryptionPrivateKey"] and s_sk.hex() == secrets["maskingPrivateKey"],
              f"{name}: client {u} X25519 keys are its first 64 generator bytes")
        secret[u] = {"c": c_sk, "s": s_sk}
        entry = le32(u) + x25519_public(c_sk) + x25519_public(s_sk)
        if sparse:  # §11.2: r_u, drawn after the keys, committed to in round 0
            r = rng[u].read(32)
            check(r.hex() == secrets["seedContribution"], f"{name}: client {u} r_u is its third generator draw")
            secret[u]["r"] = r
            entry += seed_commitment(digest, u, r)
        if cfg["active"]:
            entry += sign(clients[u]["d"], b"secagg/v1/advertise" + digest + entry)
        entries[u] = entry
        emit("clientToServer", "advertise-keys", u, V + bytes([0x01]) + digest + entry)
    u1 = sorted(entries)
    recorded_at = {(tc["direction"], tc["round"], tc["client"]): bytes.fromhex(tc["message"])
                   for tc in group["tests"] if tc["kind"] == "message"}
    # §11.2 v3: the key tree over slots 1 … n (absent leaves for clients that did not advertise) fixes the session id.
    keys = key_tree(n, entries)
    key_root = keys[-1][0]
    session_id = session_id_of(digest, len(u1), key_root)
    check(session_id.hex() == group["sessionId"], f"{name}: session id from the key tree's root")
    graph_seed = bytes(32)
    broadcast = {}  # client -> the entries of the KeysBroadcast it received (complete graphs; sparse, active)

    def key_broadcast(round_name):
        """The full key list (0x81), the same bytes to every client of U1; each client rebuilds the key tree from
        the entries it received and derives the session id, and checks its own entry (keys, commitment) in it and,
        when the list starts round 0′, count ≥ t + 1."""
        key_list = le32(len(u1)) + b"".join(entries[u] for u in u1)
        for u in u1:
            emit("serverToClient", round_name, u, V + bytes([0x81]) + digest + key_list)
            received = recorded_at.get(("serverToClient", round_name, u), b"")
            size = len(entries[u])
            r = Reader(received[2:])
            got_digest, count = r.take(32), r.u32()
            listed = {int.from_bytes(e[:4], "little"): e for e in (r.take(size) for _ in range(count))}
            check(r.pos == len(r.data) and sorted(listed) == list(listed) and len(listed) == count <= n,
                  f"{name}: KeysBroadcast to {u}: {count} entries, ascending, nothing after them")
            check(got_digest == digest and session_id_of(digest, count, key_tree(n, listed)[-1][0]) == session_id,
                  f"{name}: client {u} derives the session id from its KeysBroadcast")
            check(listed.get(u) == entries[u] and (round_name != "seed-reveal" or count >= t + 1),
                  f"{name}: client {u} finds its own entry unchanged in its KeysBroadcast"
                  + (", count ≥ t + 1" if round_name == "seed-reveal" else ""))
            broadcast[u] = listed

    if not sparse:  # round 1 starts with the full key list
        key_broadcast("share-keys")
    elif cfg["active"]:
        # Active model (§11.2 v3): round 0′ starts with the full key list, commitments and signatures included,
        # so that every client can check every reveal in round 1.
        key_broadcast("seed-reveal")
    else:
        # Round 0′ starts with a KeyCommitment per client: the count, the key root, its own entry and proof.
        for u in u1:
            emit("serverToClient", "seed-reveal", u, V + bytes([0x88]) + digest + le32(len(u1)) + key_root + entries[u]
                 + merkle_proof(keys, u - 1))
            r = Reader(recorded_at.get(("serverToClient", "seed-reveal", u), bytes(2))[2:])
            got_digest, count, got_root = r.take(32), r.u32(), r.take(32)
            own, proof = r.take(len(entries[u])), r.take(32 * merkle_depth(n))
            check(got_root == key_root and proof == merkle_proof(keys, u - 1),
                  f"{name}: KeyCommitment to {u}: the key root and the proof of slot {u - 1} are the tree's")
            check(got_digest == digest and own == entries[u] and merkle_verify(got_root, n, u - 1, key_leaf(u, own), proof)
                  and count >= t + 1 and session_id_of(digest, count, got_root) == session_id,
                  f"{name}: client {u} accepts its KeyCommitment (own entry unchanged and proven, count ≥ t + 1)")
    if sparse:
        # Every advertiser reveals; the reveal tree's root enters the graph seed.
        contributions = {}
        for u in u1:
            emit("clientToServer", "seed-reveal", u, V + bytes([0x06]) + session_id + le32(u) + secret[u]["r"])
            contributions[u] = secret[u]["r"]
        reveals = reveal_tree(n, contributions)
        reveal_root = reveals[-1][0]
        graph_seed = graph_seed_of(session_id, reveal_root)
    neighbours = graph(cfg, graph_seed)
    for u, c in clients.items():
        check(neighbours[u] == c["neighbours"], f"{name}: client {u} neighbours (§10.2 / §11.2)")
    if sparse and cfg["active"]:
        # Round 1 starts with every reveal (SeedReveals 0x89), the same bytes to every client of U1: each client
        # checks that they cover exactly the indices of its key broadcast and open their commitments, builds the
        # reveal tree itself and takes N(u) from the graph seed of its root.
        reveal_list = le32(len(u1)) + b"".join(le32(v) + contributions[v] for v in u1)
        for u in u1:
            emit("serverToClient", "share-keys", u, V + bytes([0x89]) + session_id + reveal_list)
            r = Reader(recorded_at.get(("serverToClient", "share-keys", u), bytes(2))[2:])
            got_sid, count = r.take(32), r.u32()
            revealed = {}
            for _ in range(count):
                v = r.u32()
                revealed[v] = r.take(32)
            listed = broadcast[u]
            check(got_sid == session_id and r.pos == len(r.data) and len(revealed) == count <= n
                  and list(revealed) == list(listed),
                  f"{name}: SeedReveals to {u} covers exactly the indices of its KeysBroadcast, ascending")
            check(all(seed_commitment(digest, v, revealed[v]) == listed[v][68:100] for v in revealed),
                  f"{name}: SeedReveals to {u}: every r_v opens the h_v of its KeysBroadcast")
            own_tree = reveal_tree(n, revealed)
            check(own_tree[-1][0] == reveal_root
                  and graph(cfg, graph_seed_of(got_sid, own_tree[-1][0]))[u] == neighbours[u],
                  f"{name}: client {u} builds the reveal tree from its SeedReveals and gets N({u})")
    elif sparse:
        # Round 1 starts with a Neighbourhood per client: its reveal proof, the ring root, one record per neighbour
        # (its entry, if it advertised) and the multiproof of its window W(u) in the ring tree (§11.2, §12.4).
        L, k = merkle_depth(n), cfg["k"]
        order = harary_order(n, k, graph_seed)
        ring = ring_tree(keys, order)
        ring_root = ring[-1][0]
        position = {c: p for p, c in enumerate(order)}
        check(sorted(order) == list(range(1, n + 1))
              and all(ring[0][p] == keys[0][order[p] - 1] for p in range(n)) and ring[0][n:] == keys[0][n:],
              f"{name}: the ring tree holds the key tree's n leaves in ring order (padding 0^32 after them)")
        for u in u1:
            body = b""
            for v in neighbours[u]:
                body += le32(v) + ((b"\x01" + entries[v][4:]) if v in entries else b"\x00")
            multiproof = merkle_multiproof(ring, ring_window(n, k, position[u]))
            emit("serverToClient", "share-keys", u, V + bytes([0x86]) + session_id + le32(u) + reveal_root
                 + merkle_proof(reveals, u - 1) + ring_root + le32(len(neighbours[u])) + body
                 + le32(len(multiproof) // 32) + multiproof)
            # The client's checks (§11.2 v3), on the recorded message.
            received = recorded_at.get(("serverToClient", "share-keys", u), bytes(2))
            r = Reader(received[2:])
            got_sid, recipient, got_root, own_proof = r.take(32), r.u32(), r.take(32), r.take(32 * L)
            check(got_sid == session_id and recipient == u and got_root == reveal_root
                  and own_proof == merkle_proof(reveals, u - 1)
                  and merkle_verify(got_root, n, u - 1, reveal_leaf(u, secret[u]["r"]), own_proof),
                  f"{name}: Neighbourhood to {u}: the reveal root and its own reveal proof")
            got_ring_root = r.take(32)
            records, presents = [], 0  # (v, the record's key leaf)
            for _ in range(r.u32()):
                v, present = r.u32(), r.u8()
                check(present in (0, 1), f"{name}: Neighbourhood to {u}: record {v} present byte is 0 or 1")
                entry = (le32(v) + r.take(len(entries[u]) - 4)) if present == 1 else None
                check(entry == entries.get(v), f"{name}: Neighbourhood to {u}: record {v} carries "
                      + ("its advertised entry" if v in entries else "no entry (v did not advertise)"))
                records.append((v, key_leaf(v, entry)))
                presents += present
            h = r.u32()
            got_multiproof = r.take(32 * h)
            check(r.pos == len(r.data) and h <= 4 * L
                  and len(received) == 110 + 32 * L + 32 * h + 101 * presents + 5 * (len(records) - presents),
                  f"{name}: Neighbourhood to {u}: h = {h} ≤ 4L multiproof values, 110 + 32L + 32h bytes plus the records")
            client_order = harary_order(n, k, graph_seed_of(got_sid, got_root))
            client_position = {c: p for p, c in enumerate(client_order)}
            check([v for v, _ in records] == graph(cfg, graph_seed_of(got_sid, got_root))[u],
                  f"{name}: Neighbourhood to {u} lists exactly N({u}) of the graph from its reveal root")
            # Check 4: the window's leaves — its own key leaf at p_u, each record's at position(v) — under ringRoot.
            leaf_at = {client_position[u]: key_leaf(u, entries[u])}
            leaf_at.update((client_position[v], leaf) for v, leaf in records)
            window = ring_window(n, k, client_position[u])
            check(sorted(leaf_at) == window and len(window) == k + 1,
                  f"{name}: Neighbourhood to {u}: {u} and its records fill its window W({u}) of {k + 1} ring slots")
            leaves = [leaf_at[p] for p in window]
            check(got_ring_root == ring_root and got_multiproof == multiproof,
                  f"{name}: Neighbourhood to {u}: the ring root and the multiproof of W({u}) are the ring tree's")
            check(merkle_multiverify(got_ring_root, n, window, leaves, got_multiproof),
                  f"{name}: Neighbourhood to {u}: the multiproof of W({u}) verifies under ringRoot")
            # Altered multiproofs and leaves must be rejected.
            flipped = bytearray(got_multiproof)
            flipped[len(flipped) // 2] ^= 0x01
            own, first = window.index(client_position[u]), window.index(client_position[records[0][0]])
            swapped = list(leaves)
            swapped[own], swapped[first] = leaves[first], leaves[own]
            check(len(got_multiproof) >= 32
                  and not merkle_multiverify(got_ring_root, n, window, leaves, bytes(flipped))
                  and not merkle_multiverify(got_ring_root, n, window, leaves, got_multiproof[:-32])
                  and not merkle_multiverify(got_ring_root, n, window, leaves, got_multiproof + got_multiproof[:32])
                  and not merkle_multiverify(got_ring_root, n, window, leaves, got_multiproof[:-1])
                  and not merkle_multiverify(got_ring_root, n, window, swapped, got_multiproof)
                  and not merkle_multiverify(got_ring_root, n, window[::-1], leaves[::-1], got_multiproof),
                  f"{name}: Neighbourhood to {u}: a flipped, short, long or truncated multiproof, its own leaf swapped "
                  f"with {records[0][0]}'s and an unordered window are rejected")
    pk = {u: (entries[u][4:36], entries[u][36:68]) for u in u1}

    # Round 1: ShareKeys.
    boxes = {}  # (sender, recipient) -> box
    held = {u: {} for u in clients}  # recipient -> sender -> (share of s, share of b)
    u2 = [u for u in u1 if answers[u] >= 1]
    for u in u2:
        live = [v for v in neighbours[u] if v in u1]
        if cfg["active"]:  # the live neighbours' entries, as received in the key broadcast, are signed (§11.3)
            check(all(verify_advertisement(cfg["verificationKeys"][v - 1], digest, broadcast[u][v]) for v in live)
                  and len({broadcast[u][v][4:36] for v in live} | {broadcast[u][v][36:68] for v in live}) == 2 * len(live)
                  and len(live) >= t,
                  f"{name}: client {u} verifies its {len(live)} live neighbours' signatures (distinct keys, ≥ t)")
        b = rng[u].read(32)
        check(b.hex() == clients[u]["testOnlySecrets"]["selfMaskSeed"], f"{name}: client {u} b_u is drawn first in round 1")
        secret[u]["b"] = b
        secret[u]["commit"] = sha256(b"secagg/v1/self-mask-commitment" + session_id + le32(u) + b)
        s_shares = prim.shamir_split(secret[u]["s"], t, live, rng[u])
        b_shares = prim.shamir_split(b, t, live, rng[u])
        body = b""
        for i, v in enumerate(live):
            key = prim.hkdf(x25519(secret[u]["c"], pk[v][0]), session_id, prim.info("secagg/v1/share-encryption-key", u, v))
            box = prim.xseal(key, rng[u].read(24), prim.share_ad(session_id, u, v, 1), s_shares[i] + b_shares[i])
            boxes[(u, v)] = box
            body += le32(v) + box
        emit("clientToServer", "share-keys", u,
             V + bytes([0x02]) + session_id + le32(u) + secret[u]["commit"] + le32(len(live)) + body)

    # Round 2: SharesForward, then MaskedInput.
    u3 = []
    total = [[0] * spec["length"] for spec in cfg["inputs"]]
    for u in u2:
        senders = sorted(v for v in u2 if (v, u) in boxes)
        emit("serverToClient", "masked-input", u, V + bytes([0x82]) + session_id + le32(u) + le32(len(senders))
             + b"".join(le32(v) + boxes[(v, u)] for v in senders))
        if answers[u] < 2:
            continue
        for v in senders:  # the recipient opens every box (§5 associated data: sender v, recipient u)
            key = prim.hkdf(x25519(secret[u]["c"], pk[v][0]), session_id, prim.info("secagg/v1/share-encryption-key", u, v))
            plain = prim.xopen(key, boxes[(v, u)], prim.share_ad(session_id, v, u, 1))
            check(plain is not None and len(plain) == 88 and plain[:4] == le32(u) and plain[44:48] == le32(u),
                  f"{name}: box {v} → {u} opens with both shares at x = {u}")
            held[u][v] = (plain[:44], plain[44:])
        body = b""
        for i, spec in enumerate(cfg["inputs"]):
            m, q = spec["length"], spec["q"]
            y = [(x + e) % q for x, e in zip(clients[u]["x"][i], prg(secret[u]["b"], i, spec, m))]
            for v in senders:
                s_uv = prim.hkdf(x25519(secret[u]["s"], pk[v][1]), session_id, prim.info("secagg/v1/pairwise-mask-seed", u, v))
                sign_uv = 1 if v < u else -1
                y = [(a + sign_uv * e) % q for a, e in zip(y, prg(s_uv, i, spec, m))]
            total[i] = [(a + e) % q for a, e in zip(total[i], y)]
            body += pack(y, spec["bits"])
        emit("clientToServer", "masked-input", u, V + bytes([0x03]) + session_id + le32(u) + le32(0) + body)
        u3.append(u)

    # Round 3 (active): ConsistencyRequest and signatures.
    u4, signatures = u3, {}
    if cfg["active"]:
        survivors = bitmap(u3, n)
        u4 = []
        for u in u3:
            emit("serverToClient", "consistency-check", u, V + bytes([0x83]) + session_id + survivors)
            if answers[u] >= 3:
                signatures[u] = sign(clients[u]["d"], b"secagg/v1/consistency" + session_id + le32(u) + survivors)
                emit("clientToServer", "consistency-check", u, V + bytes([0x04]) + session_id + le32(u) + signatures[u])
                u4.append(u)

    # Round 4: UnmaskingRequest and responses.
    s_shares, b_shares = {}, {}
    u5 = []
    for u in u4:
        dropped = [v for v in neighbours[u] if v in u2 and v not in u3]
        alive = [v for v in neighbours[u] if v in u3]
        signers = [v for v in neighbours[u] if v in signatures]
        emit("serverToClient", "unmasking", u, V + bytes([0x84]) + session_id + le32(u)
             + le32(len(dropped)) + b"".join(le32(v) for v in dropped)
             + le32(len(alive)) + b"".join(le32(v) for v in alive)
             + le32(len(signers)) + b"".join(le32(v) + signatures[v] for v in signers))
        if answers[u] < 4:
            continue
        check(set(dropped) | set(alive) == set(held[u]) and not set(dropped) & set(alive) and len(alive) >= t,
              f"{name}: client {u} accepts its unmasking request (§11.3 round 4)")
        emit("clientToServer", "unmasking", u, V + bytes([0x05]) + session_id + le32(u)
             + le32(len(dropped)) + b"".join(le32(v) + held[u][v][0] for v in dropped)
             + le32(len(alive)) + b"".join(le32(v) + held[u][v][1] for v in alive))
        for v in dropped:
            s_shares.setdefault(v, []).append(held[u][v][0])
        for v in alive:
            b_shares.setdefault(v, []).append(held[u][v][1])
        u5.append(u)

    # Every recorded message, and nothing else, is what the spec produces.
    recorded = [tc for tc in group["tests"] if tc["kind"] == "message"]
    for tc in recorded:
        key = (tc["direction"], tc["round"], tc["client"])
        check(key in expected, f"{name}: tcId {tc['tcId']} {key} is a message the spec sends")
        check(expected[key].hex() == tc["message"], f"{name}: tcId {tc['tcId']} {tc['comment']} byte for byte")
    check(len(recorded) == len(expected), f"{name}: {len(expected)} messages in the session")

    # §11.4: reconstruct from t + 1 shares (lowest x), remove the masks.
    def reconstruct(shares):
        chosen = sorted(shares, key=lambda s: int.from_bytes(s[:4], "little"))[:t + 1]
        return prim.shamir_reconstruct(chosen, t, 32)
    result = [list(v) for v in total]
    for u in u3:
        b = reconstruct(b_shares.get(u, []))
        check(b == secret[u]["b"] and sha256(b"secagg/v1/self-mask-commitment" + session_id + le32(u) + b)
              == secret[u]["commit"], f"{name}: b_{u} reconstructed from its neighbours' shares, opens its commitment")
        for i, spec in enumerate(cfg["inputs"]):
            result[i] = [(a - e) % spec["q"] for a, e in zip(result[i], prg(b, i, spec, spec["length"]))]
    for u in u2:
        if u in u3:
            continue
        s = reconstruct(s_shares.get(u, []))
        check(s == secret[u]["s"] and x25519_public(s) == pk[u][1], f"{name}: s_{u} reconstructed, matches sPK_{u}")
        for v in neighbours[u]:
            if v not in u3:
                continue
            s_uv = prim.hkdf(x25519(s, pk[v][1]), session_id, prim.info("secagg/v1/pairwise-mask-seed", u, v))
            sign_uv = -1 if u < v else 1
            for i, spec in enumerate(cfg["inputs"]):
                result[i] = [(a + sign_uv * e) % spec["q"] for a, e in zip(result[i], prg(s_uv, i, spec, spec["length"]))]
    plain_sum = [[sum(clients[u]["x"][i][j] for u in u3) % spec["q"] for j in range(spec["length"])]
                 for i, spec in enumerate(cfg["inputs"])]
    check(result == plain_sum, f"{name}: unmasked sum = sum of the included inputs")
    check([[str(e) for e in v] for v in result] == group["aggregate"], f"{name}: aggregate")
    check(u3 == group["includedClients"], f"{name}: included clients = U3")
    print(f"{name}: {len(recorded)} messages recomputed (n = {n}, t = {t}, "
          f"{'active' if cfg['active'] else 'semi-honest'}, {'Harary k = %d' % cfg['k'] if cfg['harary'] else 'complete'}, "
          f"U2 = {u2}, U3 = {u3}, U5 = {u5})")
    return {(tc["direction"], tc["round"], tc["client"]): bytes.fromhex(tc["message"]) for tc in recorded}, session_id, u3


def check_wire(sessions):
    doc = json.load(open(os.path.join(VECTORS, "protocol", "wire_v3.json")))
    groups = doc["testGroups"]
    check(len(groups) == 3, "wire: a complete-graph group and two sparse-graph groups (semi-honest, active)")
    for group, (messages, session_id, u3) in zip(
            groups, [sessions["active_complete"], sessions["semi_honest_harary"], sessions["active_harary"]]):
        recorded = set(messages.values())
        n = group["clientCount"]
        for tc in group["tests"]:
            if tc["result"] != "valid":
                continue
            message = bytes.fromhex(tc["message"])
            check("".join(f["bytes"] for f in tc["fields"]) == tc["message"], f"wire {tc['tcId']}: fields concatenate")
            check(message[0] == VERSION, f"wire {tc['tcId']}: version {VERSION}")
            if message[1] == 0x8F:
                check(message == bytes([VERSION, 0x8F]) + session_id + bytes([1]), f"wire {tc['tcId']}: Abort (§12.4)")
            elif message[1] == 0x87:
                # SessionComplete (§12.4, v3): the session id, the recipient, and whether its input is in the sum.
                recipient = int.from_bytes(message[34:38], "little")
                check(len(message) == 39 and message[2:34] == session_id and 1 <= recipient <= n
                      and message[38] == (1 if recipient in u3 else 0), f"wire {tc['tcId']}: SessionComplete (§12.4)")
            elif message[1] == 0x03 and message not in recorded:
                # MaskedInput with complaints (§12.4): the recorded message of the same sender with a complaint
                # list in place of the empty one.
                r = Reader(message[2:])
                sid, sender, count = r.take(32), r.u32(), r.u32()
                senders = []
                for _ in range(count):
                    senders.append(r.u32())
                    r.take(32)
                rest = message[2 + r.pos:]
                original = [m for m in recorded if m[1] == 0x03 and m[34:38] == le32(sender)]
                check(sid == session_id and count > 0 and senders == sorted(set(senders)) and all(1 <= v <= n for v in senders)
                      and len(original) == 1 and original[0][38:42] == le32(0) and original[0][42:] == rest,
                      f"wire {tc['tcId']}: MaskedInput with {count} complaints")
            else:
                check(message in recorded, f"wire {tc['tcId']}: a message of the recomputed session")


def check_merkle():
    """This script's §2.7 tree against primitives/merkle.json (roots, proofs, multiproofs, and the rejected proofs and
    multiproofs), and its multiproofs of every window on the same trees."""
    doc = json.load(open(os.path.join(VECTORS, "primitives", "merkle.json")))
    for group in doc["testGroups"]:
        n = group["slotCount"]
        levels = merkle_tree([leaf_hash(bytes.fromhex(p)) for p in group["leafPayloads"]])
        root = bytes.fromhex(group["root"])
        check(levels[-1][0] == root and len(levels) - 1 == group["depth"] == merkle_depth(n), f"merkle: n = {n}, root")
        for tc in group["tests"]:
            proof, slot = bytes.fromhex(tc["proof"]), tc["slot"]
            accepted = merkle_verify(root, n, slot, leaf_hash(bytes.fromhex(tc["leafPayload"])), proof)
            if tc["result"] == "valid":
                check(accepted and proof == merkle_proof(levels, slot), f"merkle {tc['tcId']}: the proof of slot {slot}")
            else:
                check(not accepted, f"merkle {tc['tcId']}: rejected")
        for tc in group.get("multiproofTests", []):
            multiproof, slots = bytes.fromhex(tc["multiproof"]), tc["slots"]
            leaves = [leaf_hash(bytes.fromhex(p)) for p in tc["leafPayloads"]]
            accepted = merkle_multiverify(root, n, slots, leaves, multiproof)
            if tc["result"] == "valid":
                check(accepted and multiproof == merkle_multiproof(levels, slots),
                      f"merkle {tc['tcId']}: the multiproof of slots {slots}")
            else:
                check(not accepted, f"merkle {tc['tcId']}: multiproof rejected ({tc['comment']})")
        # §2.7 multiproofs on the same tree: for S = {s} the proof of s; every window of consecutive slots (wrapping
        # past n − 1, as the ring windows of §11.2 do) verifies with at most 4L values, and not with a flipped value.
        leaves = levels[0][:n]
        check(all(merkle_multiproof(levels, [s]) == merkle_proof(levels, s) for s in range(n)),
              f"merkle: n = {n}, the multiproof of one slot is its proof")
        depth = merkle_depth(n)
        for width in sorted({1, 2, 3, 5, n // 2, n} - {0}):
            ok = True
            for start in range(n):
                window = sorted({(start + d) % n for d in range(width)})
                multiproof = merkle_multiproof(levels, window)
                flipped = bytes([multiproof[0] ^ 0x80]) + multiproof[1:] if multiproof else b"\x00" * 32
                ok = ok and len(multiproof) <= 32 * 4 * depth and merkle_multiverify(
                    root, n, window, [leaves[s] for s in window], multiproof) and not merkle_multiverify(
                    root, n, window, [leaves[s] for s in window], flipped)
            check(ok, f"merkle: n = {n}, every window of {width} slots has a multiproof of ≤ 4L values that verifies")


sessions = {}
for file in sorted(os.listdir(os.path.join(VECTORS, "protocol"))):
    if file.startswith("transcript_") and file.endswith(".json"):
        sessions[file[len("transcript_"):-len(".json")]] = replay(os.path.join(VECTORS, "protocol", file))
check({"active_complete", "semi_honest_harary", "active_harary"} <= set(sessions),
      "the active and the Harary transcripts exist")
check_wire(sessions)
check_harary_permutation()
check_ring_prp()
check_merkle()
print(f"{checked} checks passed: Python re-implementation of SPEC.md §2.7, §10.2, §11, §12 (protocol version 3) agrees with "
      "Vectors/protocol, Vectors/graph and primitives/merkle.json")
