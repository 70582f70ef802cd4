#!/usr/bin/env python3
"""Writes the .npy / .safetensors fixtures in this directory and fixtures.json (their expected values).

Run from anywhere: python3 Vectors/files/make_fixtures.py. Needs numpy and the `safetensors` package.
Every .npy file is written by numpy (np.save / np.lib.format.write_array); every .safetensors file by
safetensors.numpy.save, except bf16.safetensors: numpy has no bfloat16, so that one file's header is
built here by hand in the layout the safetensors writer uses (compact JSON, space-padded to 8 bytes).
"""
import hashlib
import io
import json
import os
import struct

import numpy as np
import safetensors
from safetensors.numpy import save

HERE = os.path.dirname(os.path.abspath(__file__))

# Values exactly representable in every dtype they are stored in (f2 included).
MATRIX = np.array([[1.5, -2.25, 0.0], [3.0, -0.5, 1024.0]])
VECTOR = np.array([0.1, -7.75, 1e-3, 123456.789])
HALF = np.array([0.5, -1.0, 65504.0, 2.0 ** -24])
INTS = np.array([[-3, 0], [7, 2147483647]])

def npy_bytes(array, version=None):
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()

def bf16_file():
    values = np.array([1.0, -2.5, 3.140625, 0.0], dtype=np.float32)
    raw = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = json.dumps({"w": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, len(raw)]}},
                        separators=(",", ":")).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    return struct.pack("<Q", len(header)) + header + raw, {"w": ("BF16", [2, 2], values.astype(np.float64))}

fixtures = []

def add_npy(name, array, version=None):
    data = npy_bytes(array, version)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    dtype = {"<f2": "F16", "<f4": "F32", "<f8": "F64", "<i4": "I32", "<i8": "I64"}[array.dtype.str]
    fixtures.append({"file": name, "format": "npy", "fileHex": data.hex(), "tensors": [
        {"name": os.path.splitext(name)[0], "dtype": dtype, "shape": list(array.shape),
         "values": [float(v) for v in array.astype(np.float64).ravel(order="C")]}]})

def add_safetensors(name, tensors, metadata=None, data=None, expected=None):
    if data is None:
        data = save(tensors, metadata=metadata)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    if expected is None:
        expected = {k: ({"float16": "F16", "float32": "F32", "float64": "F64", "int32": "I32", "int64": "I64"}[
            str(v.dtype)], list(v.shape), v.astype(np.float64)) for k, v in tensors.items()}
    # Data-offset order, as the reader returns them.
    header_size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + header_size])
    order = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"])
    fixtures.append({"file": name, "format": "safetensors", "fileHex": data.hex(),
                     "metadata": header.get("__metadata__", {}), "tensors": [
        {"name": k, "dtype": expected[k][0], "shape": expected[k][1],
         "values": [float(v) for v in expected[k][2].ravel()]} for k in order]})

add_npy("matrix_f4.npy", MATRIX.astype("<f4"))
add_npy("matrix_f8.npy", MATRIX.astype("<f8"))
add_npy("vector_f8.npy", VECTOR.astype("<f8"))
add_npy("vector_f2.npy", HALF.astype("<f2"))
add_npy("ints_i4.npy", INTS.astype("<i4"))
add_npy("ints_i8.npy", INTS.astype("<i8"))
add_npy("scalar_f8.npy", np.array(2.5, dtype="<f8"))
add_npy("empty_f4.npy", np.zeros((0, 3), dtype="<f4"))
add_npy("matrix_v2.npy", MATRIX.astype("<f4"), version=(2, 0))
add_npy("matrix_v3.npy", MATRIX.astype("<f8"), version=(3, 0))

add_safetensors("model_f32_f64.safetensors", {
    "dense.weight": MATRIX.astype(np.float32), "dense.bias": np.array([0.25, -0.125, 8.0], dtype=np.float32),
    "head": VECTOR.astype(np.float64)}, metadata={"format": "np", "round": "7"})
add_safetensors("mixed_dtypes.safetensors", {
    "half": HALF.astype(np.float16), "ints32": INTS.astype(np.int32), "ints64": INTS.astype(np.int64),
    "scalar": np.array(-4.5, dtype=np.float64)})
data, expected = bf16_file()
add_safetensors("bf16.safetensors", None, data=data, expected=expected)

document = {
    "algorithm": "secagg-model-files",
    "schemaVersion": "secagg-vectors-v1",
    "specVersion": "1",
    "generator": "Vectors/files/make_fixtures.py (numpy %s, safetensors %s)" % (np.__version__, safetensors.__version__),
    "header": "Model-update files written by numpy and the safetensors package (bf16.safetensors: header by hand), "
              "embedded as hex, with the tensors a reader must decode (SPEC.md section 9).",
    "numberOfTests": len(fixtures),
    "testGroups": [{"tests": [dict(tcId=i + 1, comment=f["file"], result="valid", **f)
                              for i, f in enumerate(fixtures)]}],
}
with open(os.path.join(HERE, "fixtures.json"), "w") as f:
    json.dump(document, f, indent=2, sort_keys=True)
    f.write("\n")
print("wrote %d fixtures" % len(fixtures))
