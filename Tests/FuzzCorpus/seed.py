#!/usr/bin/env python3
"""Regenerates the seed inputs of the fuzz corpora from Vectors/ (standard library only).

    python3 Tests/FuzzCorpus/seed.py            # rewrites Tests/FuzzCorpus/<target>/seed-*
    python3 Tests/FuzzCorpus/seed.py --check    # exits 1 if a committed seed differs or is missing

Every seed is written as Tests/FuzzCorpus/<target>/seed-<description>; the `wire` target's seeds are live
session messages, written by `swift run SecAggFuzzer --write-seeds wire Tests/FuzzCorpus/wire` instead; files without the prefix were found
by fuzzing and kept by `libFuzzer -merge=1` (see Tests/FuzzCorpus/README.md). The input formats are
documented on each target in Sources/SecAggFuzzing/.
"""
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VECTORS = os.path.join(ROOT, "Vectors")
CORPUS = os.path.join(ROOT, "Tests", "FuzzCorpus")


def load(path):
    with open(os.path.join(VECTORS, path)) as f:
        return json.load(f)


def tests(document):
    for group in document["testGroups"]:
        for test in group["tests"]:
            yield group, test


def config_seeds():
    seeds = {}
    for name in ["transcript_semi_honest_complete", "transcript_semi_honest_harary", "transcript_active_complete"]:
        for i, group in enumerate(load("protocol/%s.json" % name)["testGroups"]):
            seeds["%s-%d" % (name, i)] = bytes.fromhex(group["configuration"])
    for i, group in enumerate(load("protocol/wire_v3.json")["testGroups"]):
        seeds["wire_v3-%d" % i] = bytes.fromhex(group["configuration"])
    return seeds


def model_file_seeds(fmt):
    seeds = {}
    for _, test in tests(load("files/fixtures.json")):
        if test["format"] == fmt:
            seeds[test["file"].rsplit(".", 1)[0]] = bytes.fromhex(test["fileHex"])
    return seeds


def bitpacking_seeds():
    # Header (BitPackingTarget.swift): kind, b1, 8 bytes of q, LE32 count, count mode, flags; then the payload.
    seeds = {}
    for group, test in tests(load("quantization/packing.json")):
        modulus = group["modulus"]
        if modulus.startswith("2^"):
            header = bytes([0, int(modulus[2:])]) + bytes(8)
            label = "pow2-%s" % modulus[2:]
        else:
            header = bytes([1, 0]) + struct.pack("<Q", int(modulus[2:]))
            label = "q-%s" % modulus[2:]
        flags = 1 if test["result"] == "valid" else 0
        header += struct.pack("<i", test["count"]) + bytes([0, flags])
        seeds["%s-tc%d" % (label, test["tcId"])] = header + bytes.fromhex(test["packedHex"])
    return seeds


def x25519_input(scalar, points):
    """Scalar mode 0, raw points (mode 0)."""
    assert 1 <= len(points) <= 24
    out = bytes([0]) + scalar + bytes([len(points) - 1])
    for p in points:
        out += bytes([0]) + p
    return out


def x25519_seeds():
    seeds = {}
    base = (9).to_bytes(32, "little")
    rfc = load("rfc/rfc7748_x25519.json")
    for group, test in tests(rfc):
        if group["type"] == "ScalarMultiplication":
            scalar, u = bytes.fromhex(test["scalar"]), bytes.fromhex(test["u"])
            flipped = u[:31] + bytes([u[31] ^ 0x80])
            seeds["rfc7748-tc%d" % test["tcId"]] = x25519_input(scalar, [u, flipped, base])
        elif group["type"] == "DiffieHellman":
            for who, peer in [("alice", "bob"), ("bob", "alice")]:
                seeds["rfc7748-dh-%s" % who] = x25519_input(
                    bytes.fromhex(test[who + "Private"]),
                    [bytes.fromhex(test[peer + "Public"]), base])
    # Wycheproof: 24 public keys per input under the private key of the first case of the chunk.
    cases = [t for _, t in tests(load("wycheproof/x25519_test.json"))]
    for start in range(0, len(cases), 24):
        chunk = cases[start:start + 24]
        points = [bytes.fromhex(t["public"]) for t in chunk]
        if len(points) == 1:
            points.append(base)
        seeds["wycheproof-tc%d-%d" % (chunk[0]["tcId"], chunk[-1]["tcId"])] = x25519_input(
            bytes.fromhex(chunk[0]["private"]), points)
    # Shaped points (the modes of X25519Target.swift) under the RFC 7748 §5.2 scalar.
    scalar = bytes.fromhex(next(t for g, t in tests(rfc) if g["type"] == "ScalarMultiplication")["scalar"])
    limbs = {"max": 4, "one": 1, "zero": 0, "p0": 6, "top-1": 5}
    shaped = {
        # 2^255 - 1, p, p - 1 and all-limbs-(2^51 - 2), as limb patterns; with bit 255 set (0x82).
        "limbs": [bytes([2] + [limbs["max"]] * 5), bytes([2, limbs["p0"]] + [limbs["max"]] * 4),
                  bytes([0x82, limbs["p0"]] + [limbs["max"]] * 4), bytes([2] + [limbs["top-1"]] * 5),
                  bytes([2, 11, 0, 12, 50, 4, 4, 13]) + bytes(range(8)) + bytes([1])],
        # p + delta: 0, 1, 18, 19 (= 2^255, wraps to 0), -1, -19, -20.
        "near-p": [bytes([3]) + struct.pack("<h", d) for d in (0, 1, 18, 19, -1, -19, -20)]
        + [bytes([0x83]) + struct.pack("<h", 5)],
        # Every low-order point, plain and with bit 255 set.
        "low-order": [bytes([4, i]) for i in range(7)] + [bytes([0x84, i]) for i in range(7)],
        # Small u and 2^k + delta.
        "small": [bytes([5]) + struct.pack("<H", v) for v in (2, 3, 4, 9, 0xffff)]
        + [bytes([6, k, d & 0xff]) for k, d in ((255, -1), (254, 0), (51, -1), (102, 0), (204, 1))],
        # Copies: identical and nearly identical lanes.
        "copies": [bytes([0]) + base, bytes([7, 0, 0, 9]), bytes([7, 0, 31, 0x80]), bytes([7, 1, 0, 10])],
    }
    for name, points in shaped.items():
        seeds["shaped-" + name] = bytes([0]) + scalar + bytes([len(points) - 1]) + b"".join(points)
    seeds["shaped-scalar-ones"] = bytes([3, 0xff, 7]) + b"".join(shaped["limbs"]) + bytes([4, 2, 4, 3])
    seeds["shaped-scalar-zeros"] = bytes([3, 0x00, 4]) + b"".join(shaped["near-p"][:5])
    return seeds


def chacha_input(flags, bits, count, counter, skip, key, nonce, contents):
    # Header (ChaChaAddTarget.swift): flags, bits - 1, LE16 count, LE32 counter, skip, key, nonce, contents.
    return (bytes([flags, bits - 1]) + struct.pack("<HI", count, counter) + bytes([skip]) + key + nonce
            + contents)


def chacha_add_seeds():
    seeds = {}
    for _, test in tests(load("rfc/rfc8439_chacha20.json")):
        key, nonce = bytes.fromhex(test["key"]), bytes.fromhex(test["nonce"])
        counter, text = test["counter"], bytes.fromhex(test["plaintext"])
        tc = "rfc8439-tc%d" % test["tcId"]
        # The C kernel: 32-bit words (2 groups + 17), 64-bit words subtracting (3 groups + 5).
        seeds[tc + "-kernel32-add"] = chacha_input(0x00, 32, 2 * 256 + 17, counter, 0, key, nonce, text)
        seeds[tc + "-kernel64-sub"] = chacha_input(0x03, 64, 3 * 128 + 5, counter, 0, key, nonce, text)
        # MaskPrg (stream = first 4 nonce bytes) at the RFC's block, mid-block start, 2^24 and 2^48.
        seeds[tc + "-maskprg24"] = chacha_input(0x04, 24, 700, counter, 3, key, nonce, text)
        seeds[tc + "-maskprg48-sub"] = chacha_input(0x05, 48, 300, counter, 5, key, nonce, text)
    key = bytes(range(32))
    nonce = bytes.fromhex("000000000000004a00000000")
    ones, zeros, rand = 0x10, 0x20, 0x30
    end, small, groups = 0x40, 0x80, 0xC0
    edges = {
        # The end of the counter space: the kernel must stop at whole groups before block 2^32.
        "kernel-end-of-counter": chacha_input(end | ones, 32, 1399, 0, 0, key, nonce, b""),
        "kernel-end-groups-wide": chacha_input(groups | 2, 64, 1399, 3, 0, key, nonce, b""),
        "kernel-last-group": chacha_input(0x00, 32, 1024, 0xFFFFFFF0, 0, key, nonce, b""),
        "kernel-crossing": chacha_input(0x00, 32, 1024, 0xFFFFFFE8, 0, key, nonce, b""),
        "kernel-mask1-sub": chacha_input(small | 1, 1, 600, 7, 0, key, nonce, b""),
        "kernel-mask33-wide": chacha_input(rand | 2, 33, 900, 1, 0, key, nonce, b""),
        "kernel-mask63-narrow": chacha_input(zeros, 63, 256, 0, 0, key, nonce, b""),
        "kernel-partial-only": chacha_input(0x00, 32, 255, 0, 0, key, nonce, b""),
        "maskprg-end-of-stream": chacha_input(end | 0x04, 32, 1000, 0, 9, key, nonce, b""),
        "maskprg-end-wide-sub": chacha_input(end | 0x05, 64, 1000, 0, 3, key, nonce, b""),
        "maskprg-q-pow2": chacha_input(0x0C, 20, 1100, 5, 1, key, nonce, b""),
        "maskprg-q-pow2-wide": chacha_input(0x0C | ones, 62, 513, 5, 7, key, nonce, b""),
        "maskprg-bits1": chacha_input(0x04, 1, 1300, 0, 0, key, nonce, b""),
        "maskprg-bits33": chacha_input(0x04 | rand, 33, 1399, 2, 0, key, nonce, b""),
    }
    for name, data in edges.items():
        seeds[name] = data
    return seeds


TARGETS = {
    "config": config_seeds,
    "npy": lambda: model_file_seeds("npy"),
    "safetensors": lambda: model_file_seeds("safetensors"),
    "bitpacking": bitpacking_seeds,
    "x25519": x25519_seeds,
    "chacha-add": chacha_add_seeds,
}


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for target, make in TARGETS.items():
        directory = os.path.join(CORPUS, target)
        os.makedirs(directory, exist_ok=True)
        seeds = {"seed-" + name: data for name, data in make().items()}
        existing = {n for n in os.listdir(directory) if n.startswith("seed-")}
        for name, data in sorted(seeds.items()):
            path = os.path.join(directory, name)
            if check:
                if not os.path.exists(path) or open(path, "rb").read() != data:
                    stale.append(path)
            else:
                with open(path, "wb") as f:
                    f.write(data)
        for name in sorted(existing - set(seeds)):
            if check:
                stale.append(os.path.join(directory, name))
            else:
                os.remove(os.path.join(directory, name))
        print("%-12s %3d seeds" % (target, len(seeds)))
    if stale:
        print("out of date:\n  " + "\n  ".join(stale))
        sys.exit(1)


if __name__ == "__main__":
    main()
