"""The SecAgg+ parameter finder of SPEC.md §10.4–§10.6 (degree k and threshold t for a corrupt fraction γ and a
dropout fraction δ), for choosing the graph from Python.

The engine's own finder (`ParameterFinder.find` in SecAggGraph) is not reachable through the C ABI, so this is
a transcription of the same rules: exact hypergeometric tails in log space, p_privacy = p_shares + p_disconnect
≤ 2^−σ, p_correctness ≤ 2^−η, the smallest feasible even degree, then the complete graph, and the threshold that
minimises the worse margin (ties to the larger t). Its results are checked against the table of SPEC.md §10.8
in the tests. Whatever it returns, the engine re-checks the threshold rule of SPEC.md §11.1 for the declared
threat when the configuration is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_LN2 = math.log(2.0)


@dataclass(frozen=True)
class GraphParameters:
    """A degree and threshold: `degree` is the number of neighbours per client (n − 1: the complete graph)."""

    clients: int
    degree: int
    threshold: int
    complete: bool
    corrupt: int
    dropouts: int


class _LogFactorials:
    def __init__(self, n: int) -> None:
        self.table = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])

    def comb(self, a: int, b: np.ndarray) -> np.ndarray:
        b = np.asarray(b)
        out = np.full(b.shape, -np.inf)
        ok = (b >= 0) & (b <= a)
        bb = b[ok]
        out[ok] = self.table[a] - self.table[bb] - self.table[a - bb]
        return out


def _upper_tails(lf: _LogFactorials, population: int, marked: int, draws: int) -> np.ndarray:
    """ln P[Hyp(population, marked, draws) ≥ x] for x = 0 … draws + 1 (the last is −∞)."""
    x = np.arange(draws + 1)
    lpmf = lf.comb(marked, x) + lf.comb(population - marked, draws - x) - lf.comb(population, np.array(draws))
    rev = np.logaddexp.accumulate(lpmf[::-1])[::-1]
    return np.concatenate([rev, [-np.inf]])


def _log2_disconnect(n: int, k: int, removed: int) -> float:
    if k >= n - 1 or n < k + 2 or removed < k:
        return -math.inf
    value = math.log(n * (n - k - 1) / 2.0)
    for j in range(k):
        value += math.log((removed - j) / (n - j))
    return value / _LN2


def _feasible(n: int, k: int, C: int, D: int, active: bool, sigma: float, eta: float, lf: _LogFactorials):
    """(t, worse margin) of the best threshold at degree k, or None."""
    priv_tail = _upper_tails(lf, n - 1, C, k) / _LN2  # log2 P[corrupt neighbours ≥ x]
    corr_tail = _upper_tails(lf, n - 1, D, k) / _LN2  # log2 P[dropped neighbours ≥ x]
    union = math.log2(n)
    disconnect = _log2_disconnect(n, k, min(n, C + D))
    best = None
    for t in range(2 if k >= 2 else 1, k + 1):
        if active and 2 * t <= k:
            continue
        tau = 2 * t - k if active else t
        shares = union + (priv_tail[max(tau, 0)] if tau <= k else -math.inf)
        privacy = np.logaddexp2(shares, disconnect) if disconnect > -math.inf else shares
        correct = union + corr_tail[k - t + 1]
        if privacy > -sigma or correct > -eta:
            continue
        margin = max(privacy + sigma, correct + eta)
        if best is None or margin <= best[1]:
            best = (t, margin)
    return best


def find_parameters(
    clients: int, corrupt_fraction: float, dropout_fraction: float, *, model: str = "semi-honest",
    sigma: float = 40, eta: float = 20,
) -> GraphParameters:
    """The smallest even Harary degree (scanned up to 1024, as the engine does before doubling) with a feasible
    threshold, else the complete graph; ValueError when no threshold exists at all."""
    n = clients
    if n < 2:
        raise ValueError("secure aggregation needs at least 2 clients")
    if not (0 <= corrupt_fraction < 1 and 0 <= dropout_fraction < 1):
        raise ValueError("corrupt_fraction and dropout_fraction must be in [0, 1)")
    active = model == "active"
    C, D = math.floor(corrupt_fraction * n), math.floor(dropout_fraction * n)
    lf = _LogFactorials(n)
    for k in range(2, min(n - 2, 1024) + 1, 2):
        found = _feasible(n, k, C, D, active, sigma, eta, lf)
        if found is not None:
            return GraphParameters(n, k, found[0], False, C, D)
    # The complete graph: privacy t ≥ C + 1 (semi-honest) or t ≥ ⌊(n − 1 + C)/2⌋ + 1 (active); recovery t ≤ n − 1 − D.
    t = n - 1 - D
    need = (n - 1 + C) // 2 + 1 if active else C + 1
    if t < max(need, 2):
        raise ValueError(
            f"no feasible SecAgg parameters for n={n}, corrupt_fraction={corrupt_fraction}, "
            f"dropout_fraction={dropout_fraction} ({model}): privacy needs t ≥ {max(need, 2)} but recovery allows "
            f"t ≤ {t}; the complete graph works only if C + D < n − 1 (semi-honest) or C + 2D < n − 1 (active)"
        )
    return GraphParameters(n, n - 1, t, True, C, D)


def flower_parameters(
    clients: int, num_shares: int | float, reconstruction_threshold: int | float, *, model: str = "semi-honest"
) -> GraphParameters:
    """Flower's `num_shares` / `reconstruction_threshold` (SecAggPlusWorkflow's rules for floats, odd share
    counts and the minimum of 2) as our degree and threshold.

    Flower counts shares including the one a client keeps of its own secrets, so its graph degree is
    num_shares − 1. Our clients keep no share of their own secrets (SPEC.md §10.3), so our threshold counts
    neighbours only: we use t = reconstruction_threshold, which any coalition must reach among the neighbours
    (at least as private as Flower's; a client needs t live neighbours instead of t − 1).
    """
    n = clients
    if isinstance(num_shares, float):
        shares = round(num_shares * n)
        if shares < n and shares % 2 == 0:
            shares += 1
        if shares <= 2:
            shares = n
    else:
        shares = int(num_shares)
    if shares < n and shares % 2 == 0:
        shares += 1  # Flower: "the number of shares should better be odd"
    degree = min(shares - 1, n - 1)
    if degree >= n - 2:
        degree = n - 1  # a Harary degree must be ≤ n − 2; n − 2 or more neighbours is the complete graph here
    if isinstance(reconstruction_threshold, float):
        t = max(round(reconstruction_threshold * shares), 2)
    else:
        t = int(reconstruction_threshold)
    t = min(t, degree)
    if t < 2:
        raise ValueError(f"reconstruction_threshold gives t = {t}; secure aggregation needs t ≥ 2")
    if model == "active" and 2 * t <= degree:
        raise ValueError(
            f"active model: t = {t} with {degree} neighbours per client lets a server that splits views obtain "
            f"both shares of a client; need 2t > {degree}"
        )
    return GraphParameters(n, degree, t, degree >= n - 1, 0, 0)
