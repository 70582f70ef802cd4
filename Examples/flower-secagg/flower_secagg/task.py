"""The model and the local training: a linear regression trained with a few steps of gradient descent.

Everything is deterministic in (partition id, global parameters), so that a verifier who knows which clients
were included can recompute the plaintext weighted mean the secure aggregate must match (`expected_mean`).
"""

from __future__ import annotations

import numpy as np

NUM_PARTITIONS_DEFAULT = 20


def model_shapes(model_size: int) -> list[tuple[int, ...]]:
    """The model's arrays for `model_size` parameters in total: a weight matrix, a weight vector, a bias.

    Several arrays of different shapes and dtypes on purpose: secure aggregation must carry any layout.
    """
    if model_size < 4:
        raise ValueError("model-size must be at least 4")
    cols = 2
    rows = (model_size - 1) // (2 * cols)
    vector = model_size - 1 - rows * cols
    return [(rows, cols), (vector,), (1,)]


def initial_parameters(model_size: int) -> list[np.ndarray]:
    """Zero weights, float32 like most deep-learning frameworks hand out."""
    return [np.zeros(shape, dtype=np.float32) for shape in model_shapes(model_size)]


def num_examples(partition_id: int) -> int:
    """Each partition has between 5 and 24 local examples: the FedAvg weights differ."""
    return 5 + (partition_id * 7) % 20


def _local_data(partition_id: int, size: int, examples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # A few nonzero features per example keep training cheap at 100K parameters.
    rng = np.random.default_rng(1000 + partition_id)
    true_w = np.random.default_rng(7).normal(0.0, 0.5, size)
    feats = 16
    idx = rng.integers(0, size, (examples, feats))
    val = rng.normal(0.0, 1.0, (examples, feats))
    y = (val * true_w[idx]).sum(axis=1) + rng.normal(0.0, 0.1, examples)
    return idx, val, y


def train(parameters: list[np.ndarray], partition_id: int, local_steps: int = 5, lr: float = 0.2) -> list[np.ndarray]:
    """Local training: `local_steps` of gradient descent on the partition's data; returns the new arrays
    (same shapes and dtypes as given)."""
    flat = np.concatenate([p.astype(np.float64).ravel() for p in parameters])
    size = flat.size - 1  # the last parameter is the bias
    examples = num_examples(partition_id)
    idx, val, y = _local_data(partition_id, size, examples)
    w, b = flat[:size].copy(), flat[size]
    for _ in range(local_steps):
        pred = (val * w[idx]).sum(axis=1) + b
        err = pred - y
        grad = np.zeros(size)
        np.add.at(grad, idx, val * err[:, None] / examples)
        w -= lr * grad
        b -= lr * err.mean()
    out = np.concatenate([w, [b]])
    arrays, offset = [], 0
    for p in parameters:
        arrays.append(out[offset:offset + p.size].reshape(p.shape).astype(p.dtype))
        offset += p.size
    return arrays


def expected_mean(
    parameters: list[np.ndarray], partition_ids: list[int], clip: float, max_weight: float | None = None
) -> list[np.ndarray]:
    """The plaintext FedAvg mean over exactly `partition_ids`: each client's arrays clipped to [-clip, clip],
    weighted by its number of examples (capped at `max_weight`)."""
    total, weight_sum = None, 0.0
    for pid in partition_ids:
        w = float(num_examples(pid))
        if max_weight is not None:
            w = min(w, max_weight)
        flat = np.concatenate([a.astype(np.float64).ravel() for a in train(parameters, pid)])
        flat = np.clip(flat, -clip, clip) * w
        total = flat if total is None else total + flat
        weight_sum += w
    assert total is not None
    mean = total / weight_sum
    arrays, offset = [], 0
    for p in parameters:
        arrays.append(mean[offset:offset + p.size].reshape(p.shape))
        offset += p.size
    return arrays


def loss(parameters: list[np.ndarray], partition_ids: list[int]) -> float:
    """Mean squared error over the given partitions (a progress indicator for the example)."""
    flat = np.concatenate([p.astype(np.float64).ravel() for p in parameters])
    size = flat.size - 1
    errs = []
    for pid in partition_ids:
        idx, val, y = _local_data(pid, size, num_examples(pid))
        errs.append(((val * flat[:size][idx]).sum(axis=1) + flat[size] - y) ** 2)
    return float(np.concatenate(errs).mean())
