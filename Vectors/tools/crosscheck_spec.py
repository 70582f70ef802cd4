#!/usr/bin/env python3
"""Independent re-implementation, from SPEC.md alone, of the sections that crosscheck_primitives.py and
crosscheck_protocol.py do not cover, checked against every case of the files below. No Swift code is involved.

  - §2.5 Ed25519 verification with libsodium's strictness rules, in pure Python (RFC 8032 point arithmetic):
    primitives/ed25519_strict.json, including which rule rejects each invalid case;
  - §6.3–§6.4 the Shamir rejections in their order: primitives/shamir_rejections.json;
  - §4.5 mask PRG limits (random access into the last ChaCha20 block, rejections): primitives/mask_limits.json;
  - §7.2 quantization, §7.3 planning (typed errors), §7.4 decoding, §7.6 tensor layouts and §8 bit packing:
    quantization/*.json;
  - §10.2 (v3) the ring order: a pure-Python SipHash-2-4 (checked against the published reference vector), the
    swap-or-not permutation evaluated at single points and Fisher–Yates for dense rings: graph/ring_prp.json and
    graph/harary_permutation.json;
  - §10.3–§10.6 the parameter finder (hypergeometric tails in log space, the search, the balanced threshold) and
    the §10.8 table: graph/parameter_finder.json, graph/parameter_table.json;
  - §11.1 session configurations (decoding, the checks in order, the threshold rule with exact rationals, the
    digest): protocol/configuration.json;
  - §12 a strict wire decoder returning the §15 error names (protocol version 3: KeyCommitment 0x88 with its §2.7
    proof and Neighbourhood 0x86 — the recipient's reveal proof, the ring root, one record per neighbour (present
    with the entry's fields, or absent) and a multiproof of at most 4L hashes — on sparse graphs in the semi-honest
    model only, SeedReveals 0x89 on sparse graphs in the active model only, KeysBroadcast 0x81 everywhere but on
    sparse graphs in the semi-honest model (on sparse graphs its entries carry commitments), the per-client
    SessionComplete 0x87): every case of protocol/wire_v3.json and protocol/wire_v3_checks.json (valid messages
    decode and their fields concatenate to the message; invalid ones fail with the named error). A valid
    Neighbourhood is also decoded into its named fields and encoded back, its size checked against §12.4, and
    checked as its recipient u would (§11.2), from the same group's configuration, KeyCommitment to u and
    SeedReveal from u: the session id, u's own reveal proof, the records listing exactly N(u) of the ring seeded
    by the graph seed, and the multiproof of u's window W(u) verifying under ringRoot (the ring tree: key-tree
    leaves in ring order, u's own leaf at its position);
  - §2.7 a second Merkle tree, recursive over subtrees (roots, proofs, multiproofs and their verification):
    primitives/merkle.json.

Run from the repository root: python3 Vectors/tools/crosscheck_spec.py
"""
import hashlib, json, math, os, struct, sys
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck_primitives as prim  # noqa: E402  (checks Vectors/primitives/ on import)

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
checked = 0


def check(condition, what):
    global checked
    if not condition:
        sys.exit(f"FAILED: {what}")
    checked += 1


def load(path):
    doc = json.load(open(os.path.join(VECTORS, path)))
    tests = [t for g in doc["testGroups"] for t in g["tests"]]
    check(doc["numberOfTests"] == len(tests), f"{path}: numberOfTests")
    return doc


def le32(x): return struct.pack("<I", x)


VERSION = 3  # the protocol version byte of configurations (§11.1) and messages (§12.1)


# ---------------------------------------------------------------- §2.5 Ed25519 (pure Python, RFC 8032 §5.1)
EP = 2 ** 255 - 19
EL = 2 ** 252 + 27742317777372353535851937790883648493
ED = (-121665 * pow(121666, EP - 2, EP)) % EP
SQRT_M1 = pow(2, (EP - 1) // 4, EP)


def ed_add(P, Q):
    x1, y1, z1, t1 = P
    x2, y2, z2, t2 = Q
    a = (y1 - x1) * (y2 - x2) % EP
    b = (y1 + x1) * (y2 + x2) % EP
    c = 2 * t1 * t2 * ED % EP
    d = 2 * z1 * z2 % EP
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % EP, g * h % EP, f * g % EP, e * h % EP)


def ed_mul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            Q = ed_add(Q, P)
        P = ed_add(P, P)
        s >>= 1
    return Q


def ed_decode_y(y, sign):
    """The point with this y (already < p) and sign bit, or None (RFC 8032 §5.1.3 steps 2–4)."""
    u, v = (y * y - 1) % EP, (ED * y * y + 1) % EP
    x = u * pow(v, 3, EP) * pow(u * pow(v, 7, EP), (EP - 5) // 8, EP) % EP
    if v * x * x % EP == (-u) % EP:
        x = x * SQRT_M1 % EP
    elif v * x * x % EP != u:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = EP - x
    return (x, y, 1, x * y % EP)


def ed_encode(P):
    x, y, z, _ = P
    zi = pow(z, EP - 2, EP)
    x, y = x * zi % EP, y * zi % EP
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


ED_B = ed_decode_y(4 * pow(5, EP - 2, EP) % EP, 0)


def small_order(encoding):
    """§2.5: y (bit 255 cleared, reduced mod p when ≥ p) is the y of a point of order dividing 8."""
    y = int.from_bytes(encoding, "little") & (2 ** 255 - 1)
    y %= EP
    for sign in (0, 1):
        P = ed_decode_y(y, sign)
        if P is not None:
            return ed_encode(ed_mul(8, P)) == ed_encode((0, 1, 1, 0))
    return False


def ed25519_verify(pk, message, sig):
    """None if valid, else the first rule of SPEC.md §2.5 that rejects."""
    if len(sig) != 64 or len(pk) != 32:
        return "length"
    R, S = sig[:32], int.from_bytes(sig[32:], "little")
    if S >= EL:
        return "nonCanonicalS"
    if small_order(R):
        return "smallOrderR"
    if int.from_bytes(pk, "little") & (2 ** 255 - 1) >= EP:
        return "nonCanonicalPublicKey"
    if small_order(pk):
        return "smallOrderPublicKey"
    A = ed_decode_y(int.from_bytes(pk, "little") & (2 ** 255 - 1), pk[31] >> 7)
    if A is None:
        return "invalidPublicKey"
    k = int.from_bytes(hashlib.sha512(R + pk + message).digest(), "little") % EL
    minus_kA = ed_mul(k, A)
    minus_kA = ((-minus_kA[0]) % EP, minus_kA[1], minus_kA[2], (-minus_kA[3]) % EP)
    return None if ed_encode(ed_add(ed_mul(S, ED_B), minus_kA)) == R else "equation"


def check_ed25519():
    doc = load("primitives/ed25519_strict.json")
    for t in doc["testGroups"][0]["tests"]:
        rule = ed25519_verify(bytes.fromhex(t["publicKey"]), bytes.fromhex(t["message"]), bytes.fromhex(t["signature"]))
        check((rule is None) == (t["result"] == "valid") and rule == t.get("rejectedBy"),
              f"ed25519 {t['tcId']}: {rule} vs {t.get('rejectedBy')}")


# ---------------------------------------------------------------- §6.3, §6.4 Shamir rejections, in order
def share_decode(encoding, L):
    chunks = -(-L // 7)
    if len(encoding) != 4 + 8 * chunks:
        return "incorrectByteCount"
    x = int.from_bytes(encoding[:4], "little")
    values = [int.from_bytes(encoding[4 + 8 * j:12 + 8 * j], "little") for j in range(chunks)]
    if x == 0:
        return "zeroShareIndex"
    if any(v >= prim.P for v in values):
        return "invalidShareValue"
    return encoding.hex()


def share_reconstruct(shares, t, L):
    if t < 1:
        return "invalidThreshold"
    if len(shares) < t:
        return "notEnoughShares"
    seen = set()
    for x, _ in shares:
        if x == 0:
            return "zeroShareIndex"
        if x in seen:
            return "duplicateShareIndex"
        seen.add(x)
    chunks = -(-L // 7)
    if any(len(values) != chunks for _, values in shares):
        return "inconsistentShares"
    P = prim.P
    basis = shares[:t]
    def at(z, j):
        total = 0
        for i, (xi, yi) in enumerate(basis):
            num = den = 1
            for m, (xm, _) in enumerate(basis):
                if m != i:
                    num = num * (z - xm) % P
                    den = den * (xi - xm) % P
            total = (total + yi[j] * num * pow(den, P - 2, P)) % P
        return total
    out = b""
    for j in range(chunks):
        if any(at(x, j) != values[j] for x, values in shares[t:]):
            return "inconsistentShares"
        width = min(7, L - 7 * j)
        v = at(0, j)
        if v >> (8 * width):
            return "inconsistentShares"
        out += v.to_bytes(width, "little")
    return out.hex()


def check_shamir_rejections():
    doc = load("primitives/shamir_rejections.json")
    for t in doc["testGroups"][0]["tests"]:
        if t["operation"] == "decode":
            out = share_decode(bytes.fromhex(t["encoding"]), t["secretByteCount"])
            expected = t["encoding"] if t["result"] == "valid" else t["error"]
        else:
            shares = [(p["x"], [int(v) for v in p["values"]]) for p in t["shares"]]
            out = share_reconstruct(shares, t["threshold"], t["secretByteCount"])
            expected = t.get("secret") if t["result"] == "valid" else t["error"]
        check(out == expected, f"shamir rejections {t['tcId']}: {out}")


# ---------------------------------------------------------------- §4.5 mask limits
def ring_of(group):
    if group["modulusKind"] == "powerOfTwo":
        b = group["bitWidth"]
        return {"bits": b, "q": 1 << b, "pow2": True}
    q = int(group["q"])
    return {"bits": (q - 1).bit_length(), "q": q, "pow2": q & (q - 1) == 0}


def check_mask_limits():
    doc = load("primitives/mask_limits.json")
    for group in doc["testGroups"]:
        ring = ring_of(group)
        W = 4 if ring["bits"] <= 32 else 8
        maximum = 2 ** 38 // W // (1 if ring["pow2"] else 2)
        check(group["wordByteCount"] == W and group["elementBitWidth"] == ring["bits"]
              and group["maximumElementCount"] == maximum, f"mask limits {group.get('bitWidth') or group['q']}")
        for t in group["tests"]:
            offset, count = t["elementOffset"], t["elementCount"]
            if offset + count > maximum:
                check(t["result"] == "invalid" and t["error"] == "maskLengthExceedsCounterSpace", f"mask limits {t['tcId']}")
                continue
            check(ring["pow2"] and t["result"] == "valid", f"mask limits {t['tcId']}: random access")
            first_block = offset * W // 64
            end_block = ((offset + count) * W + 63) // 64
            nonce = struct.pack("<I", t["stream"]) + bytes(8)
            ks = prim.chacha20(bytes.fromhex(t["seed"]), nonce, first_block, 64 * (end_block - first_block))
            start = offset * W - 64 * first_block
            mask = (1 << ring["bits"]) - 1
            elements = [int.from_bytes(ks[start + i * W:start + (i + 1) * W], "little") & mask for i in range(count)]
            check([str(e) for e in elements] == t["elements"], f"mask limits {t['tcId']}: elements")


# ---------------------------------------------------------------- §7 quantization
def parse_modulus(text):
    if text.startswith("2^"):
        return ("pow2", int(text[2:]))
    return ("q", int(text[2:]))


def modulus_valid(kind, value):
    return 1 <= value <= 64 if kind == "pow2" else 2 <= value <= 2 ** 62


def ring_size(kind, value): return 1 << value if kind == "pow2" else value
def half(R): return (R - 1) // 2


def plan(n, c, modulus, W, rounding):
    """§7.3: (scale, B, worst-case mean error) or the error as (name, fields)."""
    kind, value = modulus
    if not modulus_valid(kind, value):
        return ("invalidModulus", {})
    if n < 1:
        return ("invalidPlanParameter", {"parameter": "clientCount"})
    if not (math.isfinite(c) and c > 0):
        return ("invalidPlanParameter", {"parameter": "clipRange"})
    if W is not None and not 1 <= W <= 2 ** 53:
        return ("invalidPlanParameter", {"parameter": "maximumWeight"})
    weight = W or 1
    H = half(ring_size(kind, value))
    if n * weight > H:
        fields = {"maximumClientCount": H // weight}
        if (n * weight).bit_length() + 1 <= 64:
            fields["minimumBitWidth"] = (n * weight).bit_length() + 1
        return ("wrapUnavoidable", fields)
    M = H // n
    m = float(M)
    if int(m) > M:
        m = math.nextafter(m, 0)
    cw = c * float(weight)
    s = m / cw
    while cw * s > m:
        s = math.nextafter(s, 0)
    B = math.ceil(cw * s)
    delta = 1.0 if rounding == "stochastic" else 0.5
    return (s, B, delta / s)


def check_planning():
    doc = load("quantization/planning.json")
    for t in doc["testGroups"][0]["tests"]:
        out = plan(t["clientCount"], t["clipRange"], parse_modulus(t["modulus"]), t.get("maximumWeight"), t["rounding"])
        if isinstance(out[0], str):
            fields = {k: t[k] for k in ("parameter", "minimumBitWidth", "maximumClientCount") if k in t}
            check(t["result"] == "invalid" and t["error"] == out[0] and fields == out[1], f"planning {t['tcId']}: {out}")
        else:
            check(t["result"] == "valid" and t["scale"] == out[0] and t["elementBound"] == str(out[1])
                  and t["worstCaseMeanError"] == out[2], f"planning {t['tcId']}")


def centre(v, R): return v if v <= half(R) else v - R
def embed(z, R): return z % R


def quantize(values, weight, W, c, s, R, rounding, rng):
    """§7.2 (finite inputs): the elements and the clipped count."""
    if not (0 if W is not None else 1) <= weight <= (W or 1):
        return "weightOutOfRange"
    out, clipped = [], 0
    for x in values:
        if x > c:
            x, clipped = c, clipped + 1
        elif x < -c:
            x, clipped = -c, clipped + 1
        y = (x * float(weight)) * s
        a = abs(y)
        f = math.floor(a)
        if rounding == "stochastic":
            u = (int.from_bytes(rng.read(8), "little") >> 11) * 2.0 ** -53
            k = f + 1 if u < a - f else f
        else:
            k = f + 1 if a - f >= 0.5 else f
        out.append(embed(-k if y < 0 else k, R))
    if W is not None:
        out.append(weight)
    return [str(e) for e in out], clipped


def check_quantization():
    doc = load("quantization/quantization.json")
    for g in doc["testGroups"]:
        kind, value = parse_modulus(g["modulus"])
        R = ring_size(kind, value)
        for t in g["tests"]:
            out = quantize(t["values"], t["weight"], g.get("maximumWeight"), g["clipRange"], g["scale"], R, g["rounding"],
                           prim.StreamDrbg(bytes.fromhex(t["seedHex"])))
            if t["result"] == "invalid":
                check(out == t["error"], f"quantization {t['tcId']}")
            else:
                check(out == (t["elements"], t["clippedCount"]), f"quantization {t['tcId']}")


def pack(elements, w):
    total = sum(e << (i * w) for i, e in enumerate(elements))
    return total.to_bytes((len(elements) * w + 7) // 8, "little")


def unpack(data, count, R, w):
    """§8 decoding: the elements or the error name (byte count, then padding, then range)."""
    if len(data) != (count * w + 7) // 8:
        return "packedByteCountMismatch"
    total = int.from_bytes(data, "little")
    if total >> (count * w):
        return "nonzeroPadding"
    elements = [(total >> (i * w)) & ((1 << w) - 1) for i in range(count)]
    if any(e >= R for e in elements):
        return "elementOutOfRange"
    return elements


def check_packing():
    doc = load("quantization/packing.json")
    for g in doc["testGroups"]:
        kind, value = parse_modulus(g["modulus"])
        R = ring_size(kind, value)
        w = value if kind == "pow2" else (value - 1).bit_length()
        check(g["elementBitWidth"] == w, f"packing {g['modulus']}: width")
        for t in g["tests"]:
            out = unpack(bytes.fromhex(t["packedHex"]), t["count"], R, w)
            if t["result"] == "invalid":
                check(out == t["error"], f"packing {t['tcId']}")
            else:
                check(out == [int(e) for e in t["elements"]] and pack(out, w).hex() == t["packedHex"], f"packing {t['tcId']}")


def decode(op, inputs, n_incl, g):
    """§7.4: outputs or (error, index)."""
    kind, value = parse_modulus(g["modulus"])
    R = ring_size(kind, value)
    s, W = g["scale"], g.get("maximumWeight")
    B = math.ceil((g["clipRange"] * float(W or 1)) * s)
    check(str(B) == g["elementBound"] and str(half(R)) == g["centeredBound"], "decoding: H and B")
    if op == "embed":
        return {"output": [str(embed(int(z), R)) for z in inputs]}
    if op == "centre":
        return {"output": [str(centre(int(v), R)) for v in inputs]}
    aggregate = [int(v) for v in inputs]
    if not 1 <= n_incl <= g["clientCount"]:
        return {"error": "includedClientCountOutOfRange"}
    d = len(aggregate) - (1 if W is not None else 0)
    z = []
    for i in range(d):
        if aggregate[i] >= R:
            return {"error": "elementOutOfRange", "errorIndex": i}
        if abs(centre(aggregate[i], R)) > n_incl * B:
            return {"error": "aggregateOutOfRange", "errorIndex": i}
        z.append(centre(aggregate[i], R))
    if op == "sum":
        return {"values": [float(v) / s for v in z]}
    if W is None:
        return {"values": [float(v) / (s * float(n_incl)) for v in z]}
    if aggregate[d] >= R:
        return {"error": "elementOutOfRange", "errorIndex": d}
    T = centre(aggregate[d], R)
    if T < 0 or T > n_incl * W:
        return {"error": "aggregateOutOfRange", "errorIndex": d}
    if T == 0:
        return {"error": "zeroTotalWeight"}
    return {"values": [float(v) / (s * float(T)) for v in z], "totalWeight": T}


def check_decoding():
    doc = load("quantization/decoding.json")
    for g in doc["testGroups"]:
        for t in g["tests"]:
            out = decode(t["operation"], t["input"], t.get("includedClientCount"), g)
            expected = {k: t[k] for k in ("output", "values", "totalWeight", "error", "errorIndex") if k in t}
            check(out == expected and (t["result"] == "invalid") == ("error" in out), f"decoding {t['tcId']}: {out}")


DTYPES = {"F16", "BF16", "F32", "F64", "I32", "I64"}


def layout_entries(tensors):
    """§7.6: the entries or ('invalidLayout',)."""
    entries, names, offset = [], set(), 0
    for t in tensors:
        if t["name"] == "" or t["name"] in names or t["dtype"] not in DTYPES:
            return ("invalidLayout",)
        names.add(t["name"])
        count = 1
        for dim in t["shape"]:
            if dim < 0:
                return ("invalidLayout",)
            count *= dim
            if count > 2 ** 40:
                return ("invalidLayout",)
        entries.append({"name": t["name"], "shape": t["shape"], "dtype": t["dtype"], "offset": offset, "elementCount": count})
        offset += count
        if offset > 2 ** 40:
            return ("invalidLayout",)
    return entries


def layout_case(t):
    if t["operation"] == "json":
        recomputed = layout_entries(t["entries"])
        return {} if recomputed == t["entries"] else {"error": "invalidLayout"}
    entries = layout_entries(t["layout"])
    if isinstance(entries, tuple):
        return {"error": entries[0]}
    if t["operation"] == "layout":
        return {"expectedEntries": entries, "elementCount": sum(e["elementCount"] for e in entries)}
    if t["operation"] == "restore":
        flat = t["flat"]
        if len(flat) != sum(e["elementCount"] for e in entries):
            return {"error": "vectorLengthMismatch"}
        return {"tensors": [{"name": e["name"], "shape": e["shape"], "dtype": e["dtype"],
                             "values": flat[e["offset"]:e["offset"] + e["elementCount"]]} for e in entries]}
    by_name = {}
    for u in t["update"]:
        if u["name"] in by_name:
            return {"error": "unexpectedTensor", "errorTensor": u["name"]}
        by_name[u["name"]] = u
    flat = []
    for e in entries:
        u = by_name.pop(e["name"], None)
        if u is None:
            return {"error": "missingTensor", "errorTensor": e["name"]}
        if u["shape"] != e["shape"]:
            return {"error": "tensorShapeMismatch", "errorTensor": e["name"]}
        if u["dtype"] != e["dtype"]:
            return {"error": "tensorDTypeMismatch", "errorTensor": e["name"]}
        if len(u["values"]) != e["elementCount"]:
            return {"error": "tensorValueCountMismatch", "errorTensor": e["name"]}
        flat += u["values"]
    if by_name:
        return {"error": "unexpectedTensor", "errorTensor": min(by_name, key=lambda s: s.encode())}
    return {"flat": flat}


def check_layouts():
    doc = load("quantization/tensor_layout.json")
    for t in doc["testGroups"][0]["tests"]:
        out = layout_case(t)
        keys = {"layout": ("expectedEntries", "elementCount"), "restore": ("tensors",), "flatten": ("flat",), "json": ()}
        expected = {k: t[k] for k in keys[t["operation"]] + ("error", "errorTensor") if k in t}
        check(out == expected and (t["result"] == "invalid") == ("error" in out), f"tensor layout {t['tcId']}: {out}")


# ---------------------------------------------------------------- §10.3–§10.6 the parameter finder
LN2 = math.log(2)
SMALL_LOG_FACTORIALS = [0.0]
for _m in range(1, 256):
    SMALL_LOG_FACTORIALS.append(SMALL_LOG_FACTORIALS[-1] + math.log(_m))


def log_factorial(m):
    if m < 256:
        return SMALL_LOG_FACTORIALS[max(0, m)]
    x = float(m)
    inv = 1 / x
    inv2 = inv * inv
    return x * math.log(x) - x + 0.5 * math.log(2 * math.pi * x) + inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260)))


def log_choose(m, r):
    return -math.inf if r < 0 or r > m else log_factorial(m) - log_factorial(r) - log_factorial(m - r)


def log_add_exp(a, b):
    hi, lo = max(a, b), min(a, b)
    return -math.inf if hi == -math.inf else hi + math.log1p(math.exp(lo - hi))


class Hyp:
    """Hyp(N, K, k) with the tails of §10.5."""
    def __init__(self, N, K, k):
        self.N, self.K, self.k = N, K, k
        self.lo, self.hi = max(0, k - (N - K)), min(k, K)
        self.mode = min(max(math.floor(float(k + 1) * float(K + 1) / float(N + 2)), self.lo), self.hi)

    def log_pmf(self, x):
        if not self.lo <= x <= self.hi:
            return -math.inf
        return log_choose(self.K, x) + log_choose(self.N - self.K, self.k - x) - log_choose(self.N, self.k)

    def sum_decreasing(self, start, upward):
        N, K, k = self.N, self.K, self.k
        total, term, y = 1.0, 1.0, start
        while (y < self.hi) if upward else (y > self.lo):
            if upward:
                r = (float(K - y) * float(k - y)) / (float(y + 1) * float(N - K - k + y + 1))
            else:
                r = (float(y) * float(N - K - k + y)) / (float(K - y + 1) * float(k - y + 1))
            if r < 1 and term * r / (1 - r) < total * 2.0 ** -60:
                break
            term *= r
            total += term
            y += 1 if upward else -1
        return self.log_pmf(start) + math.log(total)

    def log_upper_tail(self, x):
        if x <= self.lo:
            return 0.0
        if x > self.hi:
            return -math.inf
        if x >= self.mode:
            return self.sum_decreasing(x, True)
        return math.log1p(-math.exp(self.sum_decreasing(x - 1, False)))


class Finder:
    def __init__(self, n, C, D, active, sigma, eta, attempts):
        self.n, self.C, self.D, self.active = n, C, D, active
        self.log_n = math.log(float(n))
        self.privacy_budget = -float(sigma) * LN2 - math.log(float(attempts))
        self.correctness_budget = -float(eta) * LN2

    def log_shares(self, k, t):
        tau = 2 * t - k if self.active else t
        return self.log_n + Hyp(self.n - 1, self.C, k).log_upper_tail(tau)

    def log_disconnect(self, k):
        n, R = self.n, min(self.n, self.C + self.D)
        if not (k < n - 1 and n >= k + 2 and R >= k):
            return -math.inf
        pairs = float(n) * float(n - k - 1) / 2
        return math.log(pairs) + (log_factorial(R) - log_factorial(R - k) - log_factorial(n) + log_factorial(n - k))

    def log_privacy(self, k, t): return log_add_exp(self.log_shares(k, t), self.log_disconnect(k))

    def log_correctness(self, k, t): return self.log_n + Hyp(self.n - 1, self.D, k).log_upper_tail(k - t + 1)

    @staticmethod
    def first(lo, hi, predicate):
        """The first value in lo…hi where a false-then-true predicate holds, or None (bisection)."""
        a, b = lo, hi + 1
        while a < b:
            mid = a + (b - a) // 2
            if predicate(mid):
                b = mid
            else:
                a = mid + 1
        return a if a <= hi else None

    def t_range(self, k):
        lowest = min(2, k)
        if self.log_disconnect(k) > self.privacy_budget:
            return None
        t_min = self.first(lowest, k, lambda t: self.log_privacy(k, t) <= self.privacy_budget)
        if t_min is None:
            return None
        t_max1 = self.first(lowest, k + 1, lambda t: t > k or self.log_correctness(k, t) > self.correctness_budget)
        if t_max1 is None or t_max1 - 1 < t_min:
            return None
        return (t_min, t_max1 - 1)

    def smallest_sparse(self):
        largest = (self.n - 2) & ~1
        if largest < 2:
            return None
        linear_end = min(largest, 1024)
        for k in range(2, linear_end + 1, 2):
            r = self.t_range(k)
            if r:
                return k, r
        if largest <= linear_end:
            return None
        upper = self.t_range(largest)
        if not upper:
            return None
        low, high, probe = linear_end, largest, linear_end * 2
        while probe < high:
            r = self.t_range(probe)
            if r:
                high, upper = probe, r
                break
            low, probe = probe, probe * 2
        while high - low > 2:
            mid = (low + high) // 4 * 2
            r = self.t_range(mid)
            if r:
                high, upper = mid, r
            else:
                low = mid
        best, k, misses = (high, upper), high - 2, 0
        while k > linear_end and misses < 64:
            r = self.t_range(k)
            if r:
                best, misses = (k, r), 0
            else:
                misses += 1
            k -= 2
        return best

    def balanced(self, k, r):
        pm = lambda t: self.log_privacy(k, t) - self.privacy_budget
        cm = lambda t: self.log_correctness(k, t) - self.correctness_budget
        crossing = self.first(r[0], r[1], lambda t: cm(t) > pm(t))
        if crossing is None:
            return r[1]
        if crossing == r[0]:
            return crossing
        before, at = max(pm(crossing - 1), cm(crossing - 1)), max(pm(crossing), cm(crossing))
        return crossing if at <= before else crossing - 1


def find(t):
    """§10.6 for the inputs of a vector case: the expected fields."""
    n, gamma, delta = t["clientCount"], t["corruptFraction"], t["dropoutFraction"]
    if not 2 <= n <= 2 ** 24:
        return {"error": "invalidClientCount"}
    for name, value in (("corruptFraction", gamma), ("dropoutFraction", delta)):
        if not (math.isfinite(value) and 0 <= value < 1):
            return {"error": "invalidParameter", "parameter": name}
    for name in ("sigma", "eta"):
        if not 1 <= t[name] <= 1000:
            return {"error": "invalidParameter", "parameter": name}
    if t["sessionAttempts"] < 1:
        return {"error": "invalidParameter", "parameter": "sessionAttempts"}
    C, D = min(n - 1, math.floor(gamma * n)), min(n - 1, math.floor(delta * n))
    active = t["model"] == "active"
    f = Finder(n, C, D, active, t["sigma"], t["eta"], t["sessionAttempts"])
    found = f.smallest_sparse()
    graph = "harary"
    if found is None:
        k, r, graph = n - 1, f.t_range(n - 1), "complete"
        if r is None:
            return {"error": "noFeasibleParameters",
                    "privacyMinimumThreshold": max((k + C) // 2 + 1 if active else C + 1, 2), "recoveryMaximumThreshold": k - D}
        found = (k, r)
    k, r = found
    th = f.balanced(k, r)
    def log2(v): return None if v == -math.inf else min(0.0, v / LN2)
    return {"corruptClientCount": C, "dropoutClientCount": D, "graph": graph, "degree": k, "threshold": th,
            "log2ShareFailure": log2(f.log_shares(k, th)), "log2DisconnectionFailure": log2(f.log_disconnect(k)),
            "log2PrivacyFailure": log2(f.log_privacy(k, th)), "log2CorrectnessFailure": log2(f.log_correctness(k, th))}


def check_finder(path):
    doc = load(path)
    for g in doc["testGroups"]:
        tol = g["log2Tolerance"]
        for t in g["tests"]:
            out = find(t)
            for key, value in out.items():
                if key.startswith("log2"):
                    ok = key in t and ((value is None and t[key] is None)
                                       or (value is not None and t[key] is not None and abs(value - t[key]) <= tol))
                else:
                    ok = t.get(key) == value
                check(ok, f"{path} {t['tcId']}: {key} = {value}, file {t.get(key)}")
            check((t["result"] == "invalid") == ("error" in out), f"{path} {t['tcId']}: result")


# ---------------------------------------------------------------- §10.2 the v3 ring order
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


# ---------------------------------------------------------------- §11.1 configurations
class WireError(Exception):
    pass


class Reader:
    def __init__(self, data): self.data, self.pos = data, 0
    def take(self, n):
        if self.pos + n > len(self.data):
            raise WireError("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out
    def u8(self): return self.take(1)[0]
    def u32(self): return struct.unpack("<I", self.take(4))[0]
    def u64(self): return struct.unpack("<Q", self.take(8))[0]
    def count(self, maximum):
        c = self.u32()
        if c > maximum:
            raise WireError("countOutOfRange")
        return c
    def index(self, n):
        i = self.u32()
        if not 1 <= i <= n:
            raise WireError("indexOutOfRange")
        return i
    def finish(self):
        if self.pos != len(self.data):
            raise WireError("trailingBytes")


def mask_limit(q_or_bits, pow2_ring):
    bits = q_or_bits if pow2_ring == "bits" else (q_or_bits - 1).bit_length()
    W = 4 if bits <= 32 else 8
    q = 1 << q_or_bits if pow2_ring == "bits" else q_or_bits
    return 2 ** 38 // W // (1 if q & (q - 1) == 0 else 2)


def privacy_failure(n, k, t, C, D, active):
    """§11.1 threshold rule, exactly: p_shares + p_disconnect."""
    tau = 2 * t - k if active else t
    tail = sum(math.comb(C, x) * math.comb(n - 1 - C, k - x) for x in range(max(tau, 0), k + 1))
    shares = Fraction(n * tail, math.comb(n - 1, k))
    removed, disconnect = min(n, C + D), Fraction(0)
    if k < n - 1 and n >= k + 2 and removed >= k:
        disconnect = Fraction(n * (n - k - 1), 2)
        for j in range(k):
            disconnect *= Fraction(removed - j, n - j)
    return shares + disconnect


def rule_passes(n, k, t, C, D, active, sigma):
    if t < 2 or t > k or (active and 2 * t <= k):
        return False
    return privacy_failure(n, k, t, C, D, active) <= Fraction(1, 2 ** sigma)


def configuration(data):
    """§11.1: the decoded fields, or the error name of the first failing check."""
    r = Reader(data)
    try:
        if r.u8() != VERSION:
            return {"error": "unsupportedVersion"}
        n, t, model = r.u32(), r.u32(), r.u8()
        if model not in (0, 1):
            return {"error": "invalidField"}
        kind, degree = r.u8(), r.u32()
        if kind not in (0, 1) or (kind == 0 and degree != 0):
            return {"error": "invalidField"}
        C, D, sigma = r.u32(), r.u32(), r.u32()
        r.take(32)
        inputs = []
        for _ in range(r.count(256)):
            name = r.take(r.u8())
            try:
                name.decode("utf-8")
            except UnicodeDecodeError:
                return {"error": "invalidField"}
            length = r.u64()
            if length > 2 ** 31:
                return {"error": "countOutOfRange"}
            ring_kind, value = r.u8(), r.u64()
            if ring_kind not in (0, 1) or (ring_kind == 0 and value > 64):
                return {"error": "invalidField"}
            inputs.append((name, length, ring_kind, value))
        keys = r.count(min(n, 2 ** 24))
        r.take(32 * keys)
        r.finish()
    except WireError as e:
        return {"error": str(e)}
    invalid = {"error": "invalidConfiguration"}
    if not 2 <= n <= 2 ** 24:
        return invalid
    if kind == 1 and (degree < 2 or degree % 2):
        return invalid
    k = n - 1 if kind == 0 else min(degree, n - 1)
    if not 1 <= t <= k or not 0 <= C < n or not 0 <= D < n or not 1 <= sigma <= 1000 or not 1 <= len(inputs) <= 256:
        return invalid
    names = set()
    for name, length, ring_kind, value in inputs:
        if not 1 <= len(name) <= 255 or name in names:
            return invalid
        names.add(name)
        if not (1 <= value <= 64 if ring_kind == 0 else 2 <= value <= 2 ** 62):
            return invalid
        if not 1 <= length <= min(2 ** 31, mask_limit(value, "bits" if ring_kind == 0 else "q")):
            return invalid
    if keys != (n if model == 1 else 0):
        return invalid
    if not rule_passes(n, k, t, C, D, model == 1, sigma):
        out = {"error": "insecureThreshold"}
        passing = [u for u in range(2, k + 1) if rule_passes(n, k, u, C, D, model == 1, sigma)]
        if passing:
            out["smallestSecureThreshold"] = passing[0]
        return out
    sparse = kind == 1 and degree < n - 1
    rounds = ["advertise-keys"] + (["seed-reveal"] if sparse else []) + ["share-keys", "masked-input"] \
        + (["consistency-check"] if model == 1 else []) + ["unmasking"]
    return {"configurationDigest": hashlib.sha256(b"secagg/v1/config" + data).hexdigest(), "degree": k,
            "sparse": sparse, "rounds": rounds}


def check_configurations():
    doc = load("protocol/configuration.json")
    for t in doc["testGroups"][0]["tests"]:
        out = configuration(bytes.fromhex(t["configuration"]))
        expected = {k: t[k] for k in ("configurationDigest", "degree", "sparse", "rounds", "error", "smallestSecureThreshold") if k in t}
        check(out == expected and (t["result"] == "invalid") == ("error" in out), f"configuration {t['tcId']}: {out}")


# ---------------------------------------------------------------- §12 a strict decoder with the §15 error names
P61 = (1 << 61) - 1
CLIENT_TAGS, SERVER_TAGS = {1, 2, 3, 4, 5, 6}, {0x81, 0x82, 0x83, 0x84, 0x86, 0x87, 0x88, 0x89, 0x8F}


def tag_allowed(tag, cfg):
    """§12 (v3): which session kinds a tag belongs to. SeedReveal (0x06) on sparse graphs; KeyCommitment (0x88) and
    Neighbourhood (0x86) on sparse graphs in the semi-honest model; SeedReveals (0x89) on sparse graphs in the
    active model; KeysBroadcast (0x81) everywhere but on sparse graphs in the semi-honest model."""
    sparse, active = cfg["sparse"], cfg["active"]
    if tag == 0x06:
        return sparse
    if tag in (0x86, 0x88):
        return sparse and not active
    if tag == 0x89:
        return sparse and active
    if tag == 0x81:
        return active or not sparse
    return True


def merkle_depth(n):
    """§2.7: L = ⌈log2 n⌉, the number of hashes in a proof over n slots."""
    return (n - 1).bit_length() if n > 1 else 0


def parse_config_for_wire(data):
    r = Reader(data)
    r.u8()
    cfg = {"n": r.u32(), "t": r.u32(), "active": r.u8() == 1}
    kind, degree = r.u8(), r.u32()
    cfg["sparse"] = kind == 1 and degree < cfg["n"] - 1
    cfg["k"] = min(degree, cfg["n"] - 1) if kind == 1 else cfg["n"] - 1
    r.take(12 + 32)
    cfg["inputs"] = []
    for _ in range(r.u32()):
        r.take(r.u8())
        length, ring_kind, value = r.u64(), r.u8(), r.u64()
        q = 1 << value if ring_kind == 0 else value
        cfg["inputs"].append((length, q, value if ring_kind == 0 else (value - 1).bit_length()))
    return cfg


def wire_decode(data, decoder, cfg):
    """None when the message decodes, else the WireFormatError name of the first defect in byte order."""
    n, k = cfg["n"], cfg["k"]
    r = Reader(data)

    def indexed_list(maximum, entry):
        previous = 0
        for _ in range(r.count(maximum)):
            i = r.index(n)
            if i <= previous:
                raise WireError("duplicateOrUnorderedIndex")
            previous = i
            entry()

    def bitmap():
        bits = r.take((n + 7) // 8)
        if n % 8 and bits[-1] >> (n % 8):
            raise WireError("invalidField")

    def share():
        raw = r.take(44)
        if int.from_bytes(raw[:4], "little") == 0 or any(
                int.from_bytes(raw[4 + 8 * j:12 + 8 * j], "little") >= P61 for j in range(5)):
            raise WireError("invalidField")

    try:
        if r.u8() != VERSION:
            return "unsupportedVersion"
        tag = r.u8()
        if tag not in CLIENT_TAGS | SERVER_TAGS:
            return "unknownTag"
        if (tag in CLIENT_TAGS) != (decoder == "client"):
            return "invalidField"
        if not tag_allowed(tag, cfg):
            return "invalidField"
        sig = 64 if cfg["active"] else 0
        extra = (32 if cfg["sparse"] else 0) + sig
        proof = 32 * merkle_depth(n)  # a §2.7 proof over the n client slots
        if tag == 0x01:
            r.take(32); r.index(n); r.take(64 + extra)
        elif tag == 0x06:
            r.take(32); r.index(n); r.take(32)
        elif tag == 0x02:
            r.take(32); r.index(n); r.take(32)
            indexed_list(k, lambda: r.take(128))
        elif tag == 0x03:
            r.take(32); r.index(n)
            indexed_list(k, lambda: r.take(32))
            for length, q, w in cfg["inputs"]:
                if unpack(r.take((length * w + 7) // 8), length, q, w) in ("nonzeroPadding", "elementOutOfRange"):
                    raise WireError("invalidField")
        elif tag == 0x04:
            r.take(32); r.index(n); r.take(64)
        elif tag == 0x05:
            r.take(32); r.index(n)
            indexed_list(k, share)
            indexed_list(k, share)
        elif tag == 0x81:
            r.take(32)
            count = r.count(n)
            entries = r.take(count * (68 + extra))
            previous = 0
            for e in range(count):
                i = int.from_bytes(entries[e * (68 + extra):e * (68 + extra) + 4], "little")
                if not 1 <= i <= n:
                    return "indexOutOfRange"
                if i <= previous:
                    return "duplicateOrUnorderedIndex"
                previous = i
        elif tag == 0x89:
            r.take(32)  # sessionId
            indexed_list(n, lambda: r.take(32))  # every reveal: LE32 i ascending ‖ r_i
        elif tag == 0x88:
            r.take(32); r.count(n); r.take(32)  # configDigest, advertisement count, key root
            r.index(n); r.take(64 + extra)  # the recipient's own entry (sparse: with its commitment)
            r.take(proof)
        elif tag == 0x86:
            r.take(32); r.index(n); r.take(32); r.take(proof)  # sessionId, recipient, reveal root, own reveal proof
            r.take(32)  # ring root

            def record():
                present = r.u8()
                if present == 1:
                    r.take(64 + 32)  # cPK, sPK, commitment (0x86 is semi-honest only: no signature)
                elif present != 0:
                    raise WireError("invalidField")
            indexed_list(k, record)
            r.take(32 * r.count(4 * merkle_depth(n)))  # the multiproof: LE32 h ≤ 4L, then h hashes
        elif tag == 0x82:
            r.take(32); r.index(n)
            indexed_list(k, lambda: r.take(128))
        elif tag == 0x83:
            r.take(32); bitmap()
        elif tag == 0x87:
            r.take(32); r.index(n)
            if r.u8() > 1:  # included: 0 or 1
                raise WireError("invalidField")
        elif tag == 0x84:
            r.take(32); r.index(n)
            indexed_list(k, lambda: None)
            indexed_list(k, lambda: None)
            indexed_list(k if cfg["active"] else 0, lambda: r.take(64))
        elif tag == 0x8F:
            r.take(33)
        r.finish()
    except WireError as e:
        return str(e)
    return None


# §12.4 Neighbourhood (0x86), field by field: sessionId ‖ LE32 u ‖ revealRoot ‖ proof[32L] ‖ ringRoot ‖ LE32 c ‖
# c × (LE32 v ‖ u8 present ‖ [cPK ‖ sPK ‖ commit]) ‖ LE32 h ‖ h × hash. Decoded into a dict, encoded back from it.
def neighbourhood_decode(data, n):
    r = Reader(data[2:])
    m = {"sessionId": r.take(32), "recipient": r.u32(), "revealRoot": r.take(32), "proof": r.take(32 * merkle_depth(n)),
         "ringRoot": r.take(32), "records": []}
    for _ in range(r.u32()):
        v, present = r.u32(), r.u8()
        m["records"].append((v, r.take(96) if present == 1 else None))  # cPK ‖ sPK ‖ commit, or absent
    m["multiproof"] = [r.take(32) for _ in range(r.u32())]
    r.finish()
    return m


def neighbourhood_encode(m):
    records = b"".join(le32(v) + (b"\x01" + fields if fields is not None else b"\x00") for v, fields in m["records"])
    return (bytes([VERSION, 0x86]) + m["sessionId"] + le32(m["recipient"]) + m["revealRoot"] + m["proof"] + m["ringRoot"]
            + le32(len(m["records"])) + records + le32(len(m["multiproof"])) + b"".join(m["multiproof"]))


def neighbourhood_fields(m):
    """The named fields of wire_v3.json, in order: (field, bytes, integer value or None)."""
    out = [("version", bytes([VERSION]), VERSION), ("tag", b"\x86", 0x86), ("sessionId", m["sessionId"], None),
           ("recipient", le32(m["recipient"]), m["recipient"]), ("revealRoot", m["revealRoot"], None),
           ("proof", m["proof"], None), ("ringRoot", m["ringRoot"], None),
           ("neighbourCount", le32(len(m["records"])), len(m["records"]))]
    for i, (v, fields) in enumerate(m["records"]):
        out += [(f"neighbours[{i}].index", le32(v), v),
                (f"neighbours[{i}].present", bytes([fields is not None]), int(fields is not None))]
        if fields is not None:
            out += [(f"neighbours[{i}].encryptionKey", fields[:32], None), (f"neighbours[{i}].maskingKey", fields[32:64], None),
                    (f"neighbours[{i}].seedCommitment", fields[64:96], None)]
    return out + [("multiproofCount", le32(len(m["multiproof"])), len(m["multiproof"])),
                  ("multiproof", b"".join(m["multiproof"]), None)]


def ring_of_seed(n, k, seed):
    """§10.2 (v3): (position of client i, client at position p) of H(n, k) seeded by `seed`."""
    if ring_is_prp(n, k):
        ring = RingPrp(n, k, seed)
        return (lambda i: ring.forward(i - 1)), (lambda p: ring.inverse(p) + 1)
    order = fisher_yates_order(n, k, seed)
    return order.index, order.__getitem__


def check_neighbourhood_client(path, group, cfg, neighbourhood):
    """§11.2 client checks on a group's Neighbourhood to u, from the same group's configuration, KeyCommitment to u
    and SeedReveal from u (one session): session id, own reveal proof, records = N(u) of the graph seed, and the
    multiproof of the window W(u) under ringRoot with u's own key leaf and the records' leaves. False when the
    group lacks the KeyCommitment or SeedReveal of that client."""
    n, k, t, L = cfg["n"], cfg["k"], cfg["t"], merkle_depth(cfg["n"])
    m = neighbourhood_decode(neighbourhood, n)
    u, name = m["recipient"], f"{path}: Neighbourhood to {m['recipient']}"
    valid = [bytes.fromhex(x["message"]) for x in group["tests"] if x["result"] == "valid"]
    commitments = [b for b in valid if b[1] == 0x88 and b[2 + 32 + 4 + 32:2 + 32 + 4 + 32 + 4] == le32(u)]
    reveals = [b for b in valid if b[1] == 0x06 and b[34:38] == le32(u)]
    if not commitments or not reveals:
        return False
    # KeyCommitment (§11.2, in order): the digest, u's entry proven in the key tree, count ≥ t + 1.
    digest = hashlib.sha256(b"secagg/v1/config" + bytes.fromhex(group["configuration"])).digest()
    kc = commitments[0][2:]
    count, key_root, entry_u, key_proof = struct.unpack("<I", kc[32:36])[0], kc[36:68], kc[68:168], kc[168:]
    check(kc[:32] == digest and merkle_verify(key_root, n, u - 1, leaf_hash(b"\x01" + entry_u), key_proof)
          and count >= t + 1, f"{name}: its KeyCommitment passes the client checks")
    for advert in (b for b in valid if b[1] == 0x01 and b[34:38] == le32(u)):
        check(advert[2:34] == digest and advert[34:] == entry_u, f"{name}: KeyCommitment holds u's own advertised entry")
    session_id = sha(b"secagg/v3/session-id" + digest + le32(count) + key_root)
    r_u = reveals[0][38:70]
    check(reveals[0][2:34] == session_id, f"{name}: the SeedReveal carries the session id")
    # Neighbourhood checks 1–4.
    check(m["sessionId"] == session_id, f"{name}: session id")
    check(merkle_verify(m["revealRoot"], n, u - 1, leaf_hash(b"\x01" + le32(u) + r_u), m["proof"]),
          f"{name}: own reveal proof")
    position, client_at = ring_of_seed(n, k, sha(b"secagg/v3/graph-seed" + session_id + m["revealRoot"]))
    p_u = position(u)
    window = sorted({(p_u + d) % n for d in range(-(k // 2), k // 2 + 1)})
    check([v for v, _ in m["records"]] == sorted(client_at(p) for p in window if p != p_u), f"{name}: records = N(u)")
    leaves = {p_u: leaf_hash(b"\x01" + entry_u)}
    for v, fields in m["records"]:
        leaves[position(v)] = leaf_hash(b"\x01" + le32(v) + fields if fields is not None else b"\x00" + le32(v))
    check(sorted(leaves) == window and len(m["multiproof"]) <= 4 * L
          and merkle_multiverify(m["ringRoot"], n, window, [leaves[p] for p in window], b"".join(m["multiproof"])),
          f"{name}: the multiproof of W(u) verifies under ringRoot")
    return True


def check_wire(path):
    doc = load(path)
    neighbourhoods_checked = 0
    for g in doc["testGroups"]:
        cfg = parse_config_for_wire(bytes.fromhex(g["configuration"]))
        check(cfg["n"] == g["clientCount"] and cfg["k"] == g["degree"], f"{path}: group configuration")
        for t in g["tests"]:
            data = bytes.fromhex(t["message"])
            out = wire_decode(data, t["decoder"], cfg)
            if t["result"] == "valid":
                check(out is None and "".join(f["bytes"] for f in t["fields"]) == t["message"], f"{path} {t['tcId']}: {out}")
                if data[1] == 0x86:
                    m = neighbourhood_decode(data, cfg["n"])
                    L, h = merkle_depth(cfg["n"]), len(m["multiproof"])
                    expected = [(f, b.hex(), None if v is None else str(v)) for f, b, v in neighbourhood_fields(m)]
                    check(neighbourhood_encode(m) == data
                          and [(f["field"], f["bytes"], f.get("value")) for f in t["fields"]] == expected,
                          f"{path} {t['tcId']}: Neighbourhood fields")
                    records = sum(5 + (96 if fields is not None else 0) for _, fields in m["records"])
                    check(len(data) == 110 + 32 * L + 32 * h + records <= 110 + 160 * L + 101 * cfg["k"],
                          f"{path} {t['tcId']}: Neighbourhood size (§12.4)")
                    neighbourhoods_checked += check_neighbourhood_client(path, g, cfg, data)
            else:
                check(out == t["error"], f"{path} {t['tcId']}: {out}, expected {t['error']}")
    if path.endswith("wire_v3.json"):
        check(neighbourhoods_checked >= 1, f"{path}: a Neighbourhood checked as its recipient would")


# ---------------------------------------------------------------- §2.7 a second Merkle tree, recursive over subtrees
def sha(b):
    return hashlib.sha256(b).digest()


def leaf_hash(payload):
    return sha(b"\x00" + payload)


def depth_of(n):
    d = 0
    while (1 << d) < n:
        d += 1
    return d


def subtree(leaves, lo, size):
    """The node covering slots lo ... lo + size - 1 (size a power of two); padding slots hold 32 zero bytes."""
    if size == 1:
        return leaves[lo] if lo < len(leaves) else bytes(32)
    half = size // 2
    return sha(b"\x01" + subtree(leaves, lo, half) + subtree(leaves, lo + half, half))


def proof_of(leaves, slot):
    d = depth_of(len(leaves))
    return b"".join(subtree(leaves, ((slot >> j) ^ 1) << j, 1 << j) for j in range(d))


def merkle_verify(root, n, slot, leaf, proof):
    d = depth_of(n)
    if not (1 <= n <= 1 << 24 and 0 <= slot < n and len(proof) == 32 * d):
        return False
    h = leaf
    for j in range(d):
        sib = proof[32 * j:32 * (j + 1)]
        h = sha(b"\x01" + h + sib) if (slot >> j) & 1 == 0 else sha(b"\x01" + sib + h)
    return h == root


def multiproof_needs(slots, lo, size):
    """The subtrees a multiproof of `slots` (a set) sends, as (level, position): walking down from the subtree at lo
    of `size` slots (which holds one of them), every child that holds none of them while its sibling does. Sorted,
    this is §2.7's order: level by level from the leaves, ascending within a level."""
    if size == 1:
        return []
    half, out = size // 2, []
    for child in (lo, lo + half):
        if any(child <= s < child + half for s in slots):
            out += multiproof_needs(slots, child, half)
        else:
            out.append((depth_of(half), child // half))
    return out


def multiproof_of(leaves, slots):
    d = depth_of(len(leaves))
    needs = sorted(multiproof_needs(set(slots), 0, 1 << d))
    return b"".join(subtree(leaves, position << level, 1 << level) for level, position in needs)


def merkle_multiverify(root, n, slots, leaves, multiproof):
    """§2.7 multiproof verification, recursively: the multiproof must hold exactly the subtrees the slots need, in
    their order; the root is then computed from the slots' leaves and those subtrees."""
    if not (1 <= n <= 1 << 24 and slots and len(leaves) == len(slots) and len(multiproof) % 32 == 0):
        return False
    if any(not 0 <= s < n for s in slots) or any(a >= b for a, b in zip(slots, slots[1:])):
        return False
    d, known = depth_of(n), dict(zip(slots, leaves))
    needs = sorted(multiproof_needs(set(slots), 0, 1 << d))
    if len(multiproof) != 32 * len(needs):
        return False
    given = {need: multiproof[32 * i:32 * (i + 1)] for i, need in enumerate(needs)}

    def node(lo, size):
        if not any(lo <= s < lo + size for s in known):
            return given[(depth_of(size), lo // size)]
        if size == 1:
            return known[lo]
        return sha(b"\x01" + node(lo, size // 2) + node(lo + size // 2, size // 2))
    return node(0, 1 << d) == root


def check_merkle():
    """§2.7 Merkle tree, proofs and multiproofs (hashlib only): primitives/merkle.json."""
    doc = json.load(open(os.path.join(VECTORS, "primitives/merkle.json")))
    check(doc["numberOfTests"] == sum(len(g["tests"]) + len(g.get("multiproofTests", [])) for g in doc["testGroups"]),
          "merkle: numberOfTests")
    for g in doc["testGroups"]:
        n = g["slotCount"]
        leaves = [leaf_hash(bytes.fromhex(p)) for p in g["leafPayloads"]]
        root = bytes.fromhex(g["root"])
        check(len(leaves) == n and g["depth"] == depth_of(n) and subtree(leaves, 0, 1 << depth_of(n)) == root,
              f"merkle: root of n = {n}")
        for t in g["tests"]:
            leaf = leaf_hash(bytes.fromhex(t["leafPayload"]))
            proof = bytes.fromhex(t["proof"])
            accepted = merkle_verify(root, n, t["slot"], leaf, proof)
            if t["result"] == "valid":
                check(accepted and proof == proof_of(leaves, t["slot"]), f"merkle {t['tcId']}")
            else:
                check(not accepted, f"merkle {t['tcId']}: must be rejected")
        for t in g.get("multiproofTests", []):
            slots, multiproof = t["slots"], bytes.fromhex(t["multiproof"])
            accepted = merkle_multiverify(root, n, slots, [leaf_hash(bytes.fromhex(p)) for p in t["leafPayloads"]],
                                          multiproof)
            if t["result"] == "valid":
                check(accepted and multiproof == multiproof_of(leaves, slots), f"merkle multiproof {t['tcId']}")
            else:
                check(not accepted, f"merkle multiproof {t['tcId']}: must be rejected")


check_ed25519()
check_shamir_rejections()
check_mask_limits()
check_planning()
check_quantization()
check_packing()
check_decoding()
check_layouts()
check_harary_permutation()
check_ring_prp()
check_finder("graph/parameter_finder.json")
check_finder("graph/parameter_table.json")
check_configurations()
check_wire("protocol/wire_v3.json")
check_wire("protocol/wire_v3_checks.json")
check_merkle()
print(f"{checked} checks passed: Python re-implementation of SPEC.md §2.5, §2.7, §4.5, §6.3–§6.4, §7, §8, §10.2–§10.8, §11.1 and §12 "
      "agrees with the new vector families")
