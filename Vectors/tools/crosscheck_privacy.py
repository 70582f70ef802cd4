#!/usr/bin/env python3
"""Independent re-implementation of SPEC.md §15 (distributed differential privacy) from the text of the spec:
the noise stream, the exact discrete Laplace, discrete Gaussian, Poisson and Skellam samplers, the randomized
Hadamard rotation, conditional rounding and whole client encodings. Checks every case of Vectors/privacy/*.json
(samples, word counts, Float64 bit patterns, ring elements). Uses `cryptography` for ChaCha20 and `mpmath`
(320-bit) for the logarithms of the Poisson acceptance test; everything else is integer or Float64 arithmetic
in the order the spec gives. No Swift code is involved."""

import hashlib, json, math, os, struct, sys
from fractions import Fraction
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
import mpmath

mpmath.mp.prec = 320
HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "privacy")


def chacha20(key, nonce12, counter, length):
    c = Cipher(algorithms.ChaCha20(key, struct.pack("<I", counter) + nonce12), mode=None).encryptor()
    return c.update(bytes(length))


class Words:
    """§15.2: DRBG(seed) (§2.6) read as little-endian 64-bit words, in order; counts the words read."""

    def __init__(self, seed):
        self.seed, self.buffer, self.offset, self.count = seed, b"", 0, 0

    def next(self):
        if self.offset + 8 > len(self.buffer):
            need = len(self.buffer) + 8192
            self.buffer = chacha20(self.seed, b"SecAgg-DRBG1", 0, need)
        word = struct.unpack_from("<Q", self.buffer, self.offset)[0]
        self.offset += 8
        self.count += 1
        return word


def below(w, n):
    """below(n): 0 for n = 1; else the low bitlen(n-1) bits of the next ⌈bits/64⌉ words (low word first)."""
    if n <= 1:
        return 0
    bits = (n - 1).bit_length()
    words = (bits + 63) // 64
    mask = (1 << bits) - 1
    while True:
        r = 0
        for i in range(words):
            r |= w.next() << (64 * i)
        r &= mask
        if r < n:
            return r


def bern_exp_fraction(w, r, b):
    """Bernoulli(exp(-r/b)), 0 <= r < b: K = 1; while below(K) = 0 and below(b) < r: K += 1; return K odd."""
    k = 1
    while below(w, k) == 0 and below(w, b) < r:
        k += 1
    return k % 2 == 1


def bern_exp_one(w):
    k = 1
    while below(w, k) == 0:
        k += 1
    return k % 2 == 1


def bern_exp(w, a, b):
    """Bernoulli(exp(-a/b)): floor(a/b) coins of exp(-1) (stop at the first 0), then the fraction."""
    for _ in range(a // b):
        if not bern_exp_one(w):
            return False
    return bern_exp_fraction(w, a % b, b)


def discrete_laplace(w, t):
    while True:
        u = below(w, t)
        if not bern_exp_fraction(w, u, t):
            continue
        v = 0
        while bern_exp_one(w):
            v += 1
        x = u + t * v
        negative = below(w, 2) == 0
        if negative and x == 0:
            continue
        return -x if negative else x


def discrete_gaussian(w, num, den):
    t = math.isqrt(num // den) + 1
    while True:
        y = discrete_laplace(w, t)
        a = abs(y) * t * den - num
        if bern_exp(w, a * a, 2 * num * t * t * den):
            return y


def poisson_mode(w, m):
    """Poisson(m), m >= 1 integer: propose k = m + Y, Y ~ DL(t); accept with exp(-D)."""
    t = math.isqrt(m) + 1
    log_m = mpmath.log(m)
    while True:
        y = discrete_laplace(w, t)
        k = m + y
        if k < 0:
            continue
        if y == 0:
            if bern_exp(w, t + 2, 2 * t):
                return k
            continue
        d = mpmath.loggamma(k + 1) - mpmath.loggamma(m + 1) - y * log_m + mpmath.mpf(t + 2 - 2 * abs(y)) / (2 * t)
        if accept(w, d):
            return k


def accept(w, d):
    """§15.4 canonical test: exp(-1) coins while D - c > 1; then K-loop with lazy uniform comparisons."""
    consumed = 0
    while d - consumed > 1:
        if not bern_exp_one(w):
            return False
        consumed += 1
    r = d - consumed
    k = 1
    while True:
        target = r / k
        u, bits = w.next(), 64
        while True:
            low = mpmath.mpf(u) / mpmath.mpf(2) ** bits
            high = mpmath.mpf(u + 1) / mpmath.mpf(2) ** bits
            if high <= target:
                below_ = True
                break
            if low >= target:
                below_ = False
                break
            u, bits = (u << 64) | w.next(), bits + 64
        if not below_:
            break
        k += 1
    return k % 2 == 1


def poisson(w, num, den):
    m, f = num // den, num % den
    x = poisson_mode(w, m) if m >= 1 else 0
    if f > 0:
        trials = poisson_mode(w, 1)
        for _ in range(trials):
            if below(w, den) < f:
                x += 1
    return x


def skellam(w, num, den):
    a = poisson(w, num, den)
    b = poisson(w, num, den)
    return a - b


def digest_words(values):
    return hashlib.sha256(b"".join(struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF) for v in values)).hexdigest()


def f64(hexbits):
    return struct.unpack(">d", bytes.fromhex(hexbits))[0]


def bits(x):
    return struct.pack(">d", x).hex()


def f64_words(values):
    return [struct.unpack("<Q", struct.pack("<d", v))[0] for v in values]


# §15.5 rotation.
def padded(d):
    p = 1
    while p < d:
        p <<= 1
    return p


def wht(v):
    n, h = len(v), 1
    while h < n:
        for s in range(0, n, 2 * h):
            for j in range(s, s + h):
                a, b = v[j], v[j + h]
                v[j], v[j + h] = a + b, a - b
        h <<= 1


def normalization(n):
    k = n.bit_length() - 1
    power = math.ldexp(1.0, -(k // 2))
    return float.fromhex("0x1.6a09e667f3bcdp-1") * power if k % 2 else power


def signs(seed, n):
    w = Words(seed)
    words = [w.next() for _ in range((n + 63) // 64)]
    return [(words[i >> 6] >> (i & 63)) & 1 for i in range(n)]


def rotate(x, seed):
    n = padded(len(x))
    v = list(x) + [0.0] * (n - len(x))
    s = signs(seed, n)
    v = [-a if s[i] else a for i, a in enumerate(v)]
    wht(v)
    c = normalization(n)
    return [a * c for a in v]


def inverse(y, d, seed):
    v = list(y)
    wht(v)
    c = normalization(len(v))
    s = signs(seed, len(v))
    v = [-(a * c) if s[i] else a * c for i, a in enumerate(v)]
    return v[:d]


def squared_bound(l2):
    q = Fraction(l2) ** 2
    return q.numerator // q.denominator


def round_conditionally(v, bound, w):
    for attempt in range(1, 1001):
        z, total = [], 0
        for x in v:
            fl = math.floor(x)
            u = (w.next() >> 11) * 2.0 ** -53
            value = int(fl) + (1 if u < x - fl else 0)
            z.append(value)
            total += value * value
        if total <= bound:
            return z, attempt
    return None, None


failures = 0
checks = 0


def check(ok, what):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
        print("FAIL", what)


def load(name):
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)


for t in load("rotation.json")["testGroups"][0]["tests"]:
    seed, x = bytes.fromhex(t["seed"]), [f64(h) for h in t["input"]]
    y = rotate(x, seed)
    back = inverse(y, len(x), seed)
    check(len(y) == t["paddedDimension"] and [bits(a) for a in y[:32]] == t["rotatedFirst"]
          and digest_words(f64_words(y)) == t["rotatedDigest"] and digest_words(f64_words(back)) == t["inverseDigest"],
          f"rotation {t['tcId']}")
    if all(a == int(a) for a in x):
        check([round(a) for a in back] == x, f"rotation {t['tcId']}: integers come back after rounding")

for t in load("rounding.json")["testGroups"][0]["tests"]:
    v, l2 = [f64(h) for h in t["input"]], f64(t["l2Bound"])
    bound = squared_bound(l2)
    w = Words(bytes.fromhex(t["noiseSeed"]))
    z, attempts = round_conditionally(v, bound, w)
    if t["result"] == "valid":
        check(str(bound) == t["squaredNormBound"] and z == t["output"] and attempts == t["attempts"]
              and w.count == t["wordCount"], f"rounding {t['tcId']}")
    else:
        check(z is None and str(bound) == t["squaredNormBound"], f"rounding {t['tcId']} must fail")

samplers = {"discreteGaussian": discrete_gaussian, "poisson": poisson, "skellam": skellam}
for g in load("samplers.json")["testGroups"]:
    num, den, draw = int(g["numerator"]), int(g["denominator"]), samplers[g["distribution"]]
    for t in g["tests"]:
        w = Words(bytes.fromhex(t["seed"]))
        out = [draw(w, num, den) for _ in range(t["count"])]
        check(out[:32] == t["first"] and digest_words(out) == t["digest"] and w.count == t["wordCount"],
              f"sampler {t['tcId']} ({g['distribution']} {num}/{den})")


def embed(z, modulus):
    b = int(modulus[2:])
    return z & ((1 << b) - 1)


for g in load("encoding.json")["testGroups"]:
    e = g["encoding"]
    d, clip, scale, l2 = e["dimension"], e["clipNorm"], e["scale"], e["l2Bound"]
    noise = e["noise"]
    kind, num, den = noise["mechanism"], int(noise["numerator"]), int(noise["denominator"])
    for t in g["tests"]:
        x = [f64(h) for h in t["input"]]
        total = 0.0
        for a in x:
            total += a * a
        norm = math.sqrt(total)
        clipped = norm > clip
        if clipped:
            factor = clip / norm
            x = [a * factor for a in x]
        session = bytes.fromhex(t["sessionId"])
        rotation_seed = hashlib.sha256(b"secagg/v1/dp-rotation" + session).digest()
        v = [a * scale for a in rotate(x, rotation_seed)]
        w = Words(bytes.fromhex(t["noiseSeed"]))
        z, attempts = round_conditionally(v, squared_bound(l2), w)
        if kind == "ddgauss":
            z = [a + discrete_gaussian(w, num, den) for a in z]
        else:
            z = [a + skellam(w, num, den) for a in z]
        modulus = e["modulus"]
        ring = modulus["powerOfTwo"]["bitWidth"] if "powerOfTwo" in modulus else None
        elements = [a & ((1 << ring) - 1) for a in z]
        check([str(a) for a in elements[:32]] == t["elementsFirst"] and digest_words(elements) == t["elementsDigest"]
              and clipped == t["wasClipped"] and attempts == t["attempts"], f"encoding {t['tcId']}")

print(f"{checks} checks, {failures} failed")
sys.exit(1 if failures else 0)
