"""Flower integration: our secure aggregation as a drop-in for Flower's SecAgg+ (flwr 1.42).

Server side, where `SecAggPlusWorkflow` goes::

    from secagg.flower import SecAggWorkflow
    workflow = DefaultWorkflow(fit_workflow=SecAggWorkflow(num_shares=..., reconstruction_threshold=...))

Client side, where `secaggplus_mod` goes::

    from secagg.flower import secagg_mod
    app = ClientApp(client_fn=client_fn, mods=[secagg_mod])

Needs flwr 1.42.0 (`pip install "flwr[simulation]==1.42.0"`; the package's optional extra `flower`).

How it fits Flower (what Flower's APIs decide):

* One fit round is one secure-aggregation session over the clients the strategy sampled. The ServerApp talks
  to the clients through the Grid: one Flower Message to and one reply from every live client per protocol
  round, our wire messages as bytes in a ConfigRecord named "secagg". The workflow pushes and polls the Grid
  itself (not `send_and_receive`, which sleeps 3 s between polls on a SuperLink) and closes a round as soon as
  every client answered, or when `timeout` passed.
* Flower runs a ClientApp once per message (a fresh process on a SuperNode), carrying only the Context's
  records between messages, so the mod keeps in the Context what rebuilds the client exactly (see
  `secagg_mod`).
* The fit instructions travel with the masked-input round, as in Flower's SecAgg+: the client trains while it
  answers that round.
* The strategy receives one FitRes per included client, each carrying the decoded weighted mean (so FedAvg's
  weighted mean of identical arrays is the aggregate itself) and the client's fit metrics; its num_examples is
  the mean weight (the server learns only the total weight, never one client's).

Sections: records shared by both sides; the SecAgg+ parameter finder; the engine adapter; the workflow; the mod.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, field
from logging import DEBUG, ERROR, INFO, WARNING
from typing import Callable

import numpy as np

import flwr.compat.common.recorddict_compat as compat
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.common.logger import log
from flwr.server.compat.legacy_context import LegacyContext
from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD
from flwr.server.workflow.constant import Key as WorkflowKey

import secagg

__all__ = [
    "GraphParameters",
    "RoundReport",
    "SecAggClientError",
    "SecAggWorkflow",
    "SessionReport",
    "find_parameters",
    "flower_parameters",
    "secagg_mod",
]


# ===================================================================================================================
# Records
#
# Record names shared by the workflow (ServerApp side) and the mod (ClientApp side).
# ===================================================================================================================

#: The ConfigRecord, in a Message's content, that carries our protocol in both directions.
RECORD = "secagg"
#: The ConfigRecord, in a ClientApp's Context state, that holds a client's session between messages.
STATE_RECORD = "secagg.state"

# Stages of a server message (the value of RECORD["stage"]).
STAGE_SETUP = "setup"  # the configuration, the client's index and the quantization plan
STAGE_ROUND = "round"  # a protocol message; the reply answers RECORD["round"]
STAGE_OUTCOME = "outcome"  # the end-of-session message (SessionComplete or Abort); the reply carries nothing


def payload_bytes(content) -> int:
    """Bytes of payload in a RecordDict: byte strings and arrays (what dominates what goes over the wire)."""
    total = 0
    for record in content.config_records.values():
        for value in record.values():
            if isinstance(value, bytes):
                total += len(value)
            elif isinstance(value, list):
                total += sum(len(v) for v in value if isinstance(v, bytes))
    for record in content.array_records.values():
        for array in record.values():
            total += len(array.data)
    return total

# ===================================================================================================================
# The SecAgg+ parameter finder
#
# The SecAgg+ parameter finder of SPEC.md §10.4–§10.6 (degree k and threshold t for a corrupt fraction γ and a
# dropout fraction δ), for choosing the graph from Python.
#
# The engine's own finder (`ParameterFinder.find` in SecAggGraph) is not reachable through the C ABI, so this is
# a transcription of the same rules: exact hypergeometric tails in log space, p_privacy = p_shares + p_disconnect
# ≤ 2^−σ, p_correctness ≤ 2^−η, the smallest feasible even degree, then the complete graph, and the threshold that
# minimises the worse margin (ties to the larger t). Its results are checked against the table of SPEC.md §10.8
# in the tests. Whatever it returns, the engine re-checks the threshold rule of SPEC.md §11.1 for the declared
# threat when the configuration is built.
# ===================================================================================================================

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

# ===================================================================================================================
# The engine adapter
#
# The few engine operations the Flower integration needs, on top of the `secagg` Python API.
#
# Kept in one place so that the Flower side (workflow, mod) does not depend on details of the binding.
# ===================================================================================================================

#: Round names, in protocol order (SPEC.md §11.3); the client's reply to a message answers the named round.
_ROUNDS = ("advertise-keys", "seed-reveal", "share-keys", "masked-input", "consistency-check", "unmasking")

_INPUT_NAME = "update"


@dataclass(frozen=True)
class _PlanInfo:
    scale: float
    worst_case_mean_error: float
    clients: int
    max_weight: int
    bits: int


def _make_plan(clients: int, clip: float, bits: int, max_weight: int) -> secagg.QuantizationPlan:
    return secagg.QuantizationPlan.plan(clients, clip, bits=bits, max_weight=max_weight, rounding="stochastic")


def _plan_from_bytes(data: bytes) -> secagg.QuantizationPlan:
    return secagg.QuantizationPlan.from_bytes(data)


def _plan_info(plan: secagg.QuantizationPlan) -> _PlanInfo:
    return _PlanInfo(
        scale=float(plan.scale),
        worst_case_mean_error=float(plan.worst_case_mean_error),
        clients=int(plan.clients),
        max_weight=int(plan.max_weight),
        bits=int(plan.bits),
    )


def _make_configuration(
    clients: int, threshold: int, degree: int, *, model: str, bits: int, length: int, corrupt: int, dropouts: int
) -> secagg.SessionConfiguration:
    graph = None if degree >= clients - 1 else secagg.Harary(degree)
    return secagg.SessionConfiguration(
        clients, threshold, [secagg.Input(_INPUT_NAME, length, bits=bits)], model=model, graph=graph,
        **_threat_kwargs(corrupt, dropouts),
    )


def _threat_kwargs(corrupt: int, dropouts: int) -> dict:
    # The threat the session must withstand (SPEC.md §11.1): the engine then refuses a threshold that does not
    # protect privacy against `corrupt` corrupt clients with `dropouts` dropouts.
    return {"corrupt_clients": corrupt, "dropped_clients": dropouts}


def _configuration_from_bytes(data: bytes) -> secagg.SessionConfiguration:
    return secagg.SessionConfiguration.from_bytes(data)


def _input_length(config: secagg.SessionConfiguration) -> int:
    return int(config.inputs[0].length)


def _input_bits(config: secagg.SessionConfiguration) -> int:
    return int(config.inputs[0].bits)


def _new_generator_seed() -> bytes:
    return os.urandom(32)


def _new_client(config: secagg.SessionConfiguration, index: int, seed: bytes) -> secagg.Client:
    """A client whose every random draw comes from the ChaCha20 generator keyed with `seed` (SPEC.md §2.6), so
    that it can be rebuilt message by message from the seed and the messages it accepted (see `_mod.py`)."""
    # `seed` is 32 fresh bytes from the OS per client and session, never a fixed one.
    return secagg.Client(config, index, secret_seed=seed)


def _name(value) -> str | None:
    return None if value is None else str(value).replace("_", "-")


def _client_state(client: secagg.Client) -> str:
    """The client's state with hyphens: "input-required", "completed", "aborted", …"""
    return _name(client.state)


def _input_included(client: secagg.Client) -> bool | None:
    return getattr(client, "input_included", None)


class _EngineServer:
    """The engine's server with the round it collects."""

    def __init__(self, config: secagg.SessionConfiguration) -> None:
        self._server = secagg.Server(config)

    def receive(self, message: bytes, sender: int) -> None:
        self._server.receive(message, sender)

    def remove(self, client: int) -> None:
        """The client is gone (its ClientApp failed, or the SuperLink reports its node unavailable): it is no
        longer awaited, counts as dropped from this round, and gets no end-of-session message."""
        try:
            self._server.abort_client(client)
        except secagg.Error:
            pass  # already out of the session

    def advance(self) -> tuple[str, str | None, dict[int, bytes]]:
        """(step, round now collected, messages by recipient); step is "next", "completed" or "aborted"."""
        outbox = self._server.advance()
        state = str(self._server.state)
        if state == "completed":
            return "completed", None, outbox
        if state == "aborted":
            return "aborted", None, outbox
        return "next", self.round, outbox

    @property
    def round(self) -> str | None:
        return _name(self._server.round)

    @property
    def awaited(self) -> set[int]:
        return set(self._server.awaited_clients)

    @property
    def abort_reason(self) -> str:
        return str(getattr(self._server, "abort_reason", "") or "")

    def result(self) -> tuple[np.ndarray, list[int]]:
        result = self._server.result
        return np.asarray(result.vectors[0], dtype=np.uint64), list(result.included)

# ===================================================================================================================
# The workflow (ServerApp)
#
# `SecAggWorkflow`: the fit workflow of a Flower ServerApp that aggregates through our secure aggregation.
#
# Used exactly where Flower's `SecAggPlusWorkflow` goes::
#
#     workflow = DefaultWorkflow(fit_workflow=SecAggWorkflow(num_shares=..., reconstruction_threshold=...))
#
# One fit round is one secure-aggregation session over the clients the strategy sampled:
#
# 1. setup: each client receives the session configuration, its index and the quantization plan, starts its
#    state machine and answers with its keys (AdvertiseKeys);
# 2. the engine's rounds (share keys; on sparse graphs the seed reveal before it; the masked input, for which the
#    fit instructions travel with the forwarded shares and the client trains; in the active model the
#    consistency check; unmasking), each one a Flower message to and a reply from every live client;
# 3. the end-of-session message to every client, then the strategy's `aggregate_fit` receives one `FitRes` per
#    included client whose parameters are the decoded weighted mean, as Flower's SecAgg+ workflow hands them.
#
# A client whose reply does not arrive within `timeout` seconds of a round, or arrives as an error (its
# ClientApp raised), is a dropout at that round; the session goes on while the engine can recover.
# ===================================================================================================================

MODELS = ("semi-honest", "active")


def _short(text: str, limit: int = 160) -> str:
    """The part of an error that says what happened (Ray wraps a ClientApp's exception in its traceback)."""
    text = str(text)
    for marker in ("Message: ", "RuntimeError: ", "Error: "):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
            break
    text = " ".join(text.split()).rstrip("'>")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class RoundReport:
    """What one round of a session did (passed to `on_round`, kept in `SecAggWorkflow.reports`)."""

    fl_round: int
    name: str  # "setup" (answers advertise-keys), "share-keys", "masked-input", …, "outcome"
    sent_to: int
    answered: int
    dropped: dict[int, str]  # node id -> why (timeout, the ClientApp's error, a rejected message)
    seconds: float
    server_seconds: float  # time spent outside the Grid (our engine, decoding, Flower's records)
    bytes_down: int
    bytes_up: int


@dataclass
class SessionReport:
    """One secure-aggregation session (one fit round)."""

    fl_round: int
    clients: int
    degree: int
    threshold: int
    model: str
    modulus_bits: int
    scale: float
    worst_case_mean_error: float
    included: list[int] = field(default_factory=list)  # node ids whose update is in the aggregate
    dropped: dict[int, str] = field(default_factory=dict)
    completed: bool = False
    abort_reason: str = ""
    seconds: float = 0.0
    server_seconds: float = 0.0
    bytes_down: int = 0
    bytes_up: int = 0
    total_weight: int = 0
    rounds: list[RoundReport] = field(default_factory=list)


class SecAggWorkflow:
    """Secure aggregation of the fit round with swift-secure-aggregation, a drop-in for `SecAggPlusWorkflow`.

    Parameters (Flower's names and meanings first)
    ----------
    num_shares : int | float | None
        Shares of each client's secrets, counting the one Flower's clients keep (so each client has
        `num_shares - 1` neighbours); a float is a fraction of the sampled clients; ≥ the cohort size means the
        complete graph (the original SecAgg). Omit it (with `reconstruction_threshold`) to let our parameter
        finder choose the graph from `corrupt_fraction` and `dropout_fraction`.
    reconstruction_threshold : int | float | None
        Shares needed to reconstruct a secret (a float: a fraction of `num_shares`). Our clients keep no share of
        their own, so this many *neighbours* must answer; the engine refuses a value that gives no privacy.
    max_weight : float (default 1000.0)
        The largest FedAvg weight (number of examples) of one client; larger ones are capped with a warning.
    clipping_range : float (default 8.0)
        Every parameter is clipped to [-clipping_range, clipping_range] before quantization.
    timeout : float | None (default None)
        Seconds to wait for the replies of each round; whoever has not answered is dropped. None waits forever
        (as Flower does), which a client that vanished turns into a hang.
    model : "semi-honest" | "active" (default "semi-honest")
        The adversary model (the active model adds signatures and the consistency-check round; it needs a PKI
        of Ed25519 keys, which this workflow does not set up, so only "semi-honest" is accepted for now).
    modulus_bits : int (default 32)
        The ring Z_{2^b} of the masked vectors (Flower's default `modulus_range` is 2^32). The quantization
        plan takes the largest scale for which the sum of the cohort can never wrap; more bits, more precision.
    corrupt_fraction, dropout_fraction : float | None
        The threat for our parameter finder (SPEC.md §10): the fraction of clients that may be corrupt and that
        may drop. Used when `num_shares` is omitted (defaults 0.05 and 0.1 then).
    notify_outcome : bool (default True)
        Send the end-of-session message, so each client learns whether its input was included and discards its
        session state at once (one more short round trip).
    on_round : callable(RoundReport) | None
        Called after every round (monitoring, tests).
    quantization_range, modulus_range
        Accepted for compatibility with `SecAggPlusWorkflow`: `modulus_range` (a power of two) sets
        `modulus_bits`; `quantization_range` is ignored (our planner picks the largest safe scale).
    """

    def __init__(  # pylint: disable=too-many-arguments
        self,
        num_shares: int | float | None = None,
        reconstruction_threshold: int | float | None = None,
        *,
        max_weight: float = 1000.0,
        clipping_range: float = 8.0,
        timeout: float | None = None,
        model: str = "semi-honest",
        modulus_bits: int | None = None,
        corrupt_fraction: float | None = None,
        dropout_fraction: float | None = None,
        notify_outcome: bool = True,
        on_round: Callable[[RoundReport], None] | None = None,
        quantization_range: int | None = None,
        modulus_range: int | None = None,
    ) -> None:
        if (num_shares is None) != (reconstruction_threshold is None):
            raise ValueError("give both num_shares and reconstruction_threshold, or neither (then the finder chooses)")
        if num_shares is not None:
            if isinstance(num_shares, bool) or not isinstance(num_shares, (int, float)) or num_shares <= 0:
                raise ValueError("num_shares must be a positive int or float")
            if isinstance(num_shares, int) and num_shares <= 2 and num_shares != 1:
                raise ValueError("num_shares as an integer must be greater than 2")
            if isinstance(reconstruction_threshold, float) and not 0 < reconstruction_threshold <= 1:
                raise ValueError("reconstruction_threshold as a float must be in (0, 1]")
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}")
        if model == "active":
            raise ValueError(
                "model='active' needs every client's Ed25519 verification key in the configuration (a PKI), which "
                "Flower does not provide; use 'semi-honest'"
            )
        if not (isinstance(max_weight, (int, float)) and max_weight >= 1):
            raise ValueError("max_weight must be at least 1 (weights are whole numbers of examples)")
        if not (clipping_range > 0 and math.isfinite(clipping_range)):
            raise ValueError("clipping_range must be positive and finite")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive (or None)")
        if modulus_range is not None:
            if modulus_range <= 1 or modulus_range & (modulus_range - 1):
                raise ValueError("modulus_range must be a power of two")
            bits = modulus_range.bit_length() - 1
            if modulus_bits is not None and modulus_bits != bits:
                raise ValueError("modulus_bits and modulus_range disagree")
            modulus_bits = bits
        if modulus_bits is None:
            modulus_bits = 32
        if not 2 <= modulus_bits <= 64:
            raise ValueError("modulus_bits must be in 2…64")
        for name, value in (("corrupt_fraction", corrupt_fraction), ("dropout_fraction", dropout_fraction)):
            if value is not None and not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1)")
        # Two clients of weight max_weight must fit: n·W ≤ 2^(b−1) − 1 (the planner re-checks for the cohort).
        if 2 * math.floor(max_weight) > (1 << (modulus_bits - 1)) - 1:
            raise ValueError(
                f"max_weight {max_weight} cannot be summed without wrap-around in 2^{modulus_bits}: raise modulus_bits"
            )
        self.num_shares = 1.0 if num_shares == 1 else num_shares
        self.reconstruction_threshold = 1.0 if reconstruction_threshold == 1 else reconstruction_threshold
        self.max_weight = max_weight
        self.clipping_range = float(clipping_range)
        self.timeout = timeout
        self.model = model
        self.modulus_bits = int(modulus_bits)
        self.corrupt_fraction = corrupt_fraction
        self.dropout_fraction = dropout_fraction
        self.notify_outcome = notify_outcome
        self.on_round = on_round
        if quantization_range is not None:
            log(WARNING, "SecAggWorkflow: quantization_range is ignored (the planner picks the largest safe scale)")
        #: One report per session (fit round), most recent last.
        self.reports: list[SessionReport] = []

    # ------------------------------------------------------------------------------------------------------------

    def graph_parameters(self, clients: int) -> GraphParameters:
        """The degree and threshold for a cohort of `clients`."""
        if self.num_shares is not None:
            params = flower_parameters(clients, self.num_shares, self.reconstruction_threshold, model=self.model)
            corrupt = math.floor((self.corrupt_fraction or 0.0) * clients)
            dropouts = math.floor((self.dropout_fraction or 0.0) * clients)
            return GraphParameters(clients, params.degree, params.threshold, params.complete, corrupt, dropouts)
        gamma = 0.05 if self.corrupt_fraction is None else self.corrupt_fraction
        delta = 0.1 if self.dropout_fraction is None else self.dropout_fraction
        return find_parameters(clients, gamma, delta, model=self.model)

    def __call__(self, grid, context) -> None:  # noqa: C901 (one session, in order)
        if not isinstance(context, LegacyContext):
            raise TypeError(f"Expect a LegacyContext, but get {type(context).__name__}.")
        started = time.perf_counter()
        self._grid_seconds = 0.0
        cfg = context.state.config_records[MAIN_CONFIGS_RECORD]
        fl_round = int(cfg[WorkflowKey.CURRENT_ROUND])
        parameters = compat.arrayrecord_to_parameters(context.state.array_records[MAIN_PARAMS_RECORD], keep_input=True)
        proxy_fitins = context.strategy.configure_fit(fl_round, parameters, context.client_manager)
        if not proxy_fitins:
            log(INFO, "configure_fit: no clients selected, cancel")
            return
        log(INFO, "configure_fit: strategy sampled %s clients (out of %s)", len(proxy_fitins),
            context.client_manager.num_available())
        n = len(proxy_fitins)
        if n < 3:
            log(ERROR, "SecAgg: secure aggregation needs at least 3 sampled clients, got %s", n)
            return
        node_ids = [proxy.node_id for proxy, _ in proxy_fitins]
        random.shuffle(node_ids)  # indices carry no meaning; on Harary graphs the ring order is drawn by the protocol
        index_of = {nid: i + 1 for i, nid in enumerate(node_ids)}
        node_of = {i: nid for nid, i in index_of.items()}
        proxies = {proxy.node_id: proxy for proxy, _ in proxy_fitins}
        fitins = {proxy.node_id: ins for proxy, ins in proxy_fitins}

        globals_ = parameters_to_ndarrays(parameters)
        length = sum(int(a.size) for a in globals_) + 1  # + the weight coordinate
        graph = self.graph_parameters(n)
        max_weight = int(math.floor(self.max_weight))
        try:
            plan = _make_plan(n, self.clipping_range, self.modulus_bits, max_weight)
        except Exception as error:  # the planner refuses a cohort whose sum could wrap
            raise ValueError(
                f"SecAgg: {n} clients with max_weight {max_weight} can wrap around 2^{self.modulus_bits}: "
                f"{error} — raise modulus_bits or lower max_weight"
            ) from error
        info = _plan_info(plan)
        config = _make_configuration(
            n, graph.threshold, graph.degree, model=self.model, bits=self.modulus_bits, length=length,
            corrupt=graph.corrupt, dropouts=graph.dropouts,
        )
        config_bytes = config.to_bytes()
        plan_bytes = plan.to_bytes()
        session = config.nonce
        server = _EngineServer(config)
        report = SessionReport(
            fl_round=fl_round, clients=n, degree=graph.degree, threshold=graph.threshold, model=self.model,
            modulus_bits=self.modulus_bits, scale=info.scale, worst_case_mean_error=info.worst_case_mean_error,
        )
        self.reports.append(report)
        log(INFO, "SecAgg: session of %s clients, %s, threshold %s, %s, Z_2^%s, %s values + weight, clip ±%g, "
            "max weight %s, scale %.6g, worst-case error of the mean %.3g", n,
            "complete graph" if graph.complete else f"Harary graph of degree {graph.degree}", graph.threshold,
            self.model, self.modulus_bits, length - 1, self.clipping_range, max_weight, info.scale,
            info.worst_case_mean_error)

        group = str(fl_round)
        metrics: dict[int, dict] = {}

        # Setup: the configuration, the index and the plan; the replies are the AdvertiseKeys messages.
        def setup_content(nid: int) -> RecordDict:
            return RecordDict({RECORD: ConfigRecord({
                "stage": STAGE_SETUP, "round": "advertise-keys", "session": session,
                "configuration": config_bytes, "index": index_of[nid], "plan": plan_bytes,
            })})

        outgoing = {nid: setup_content(nid) for nid in node_ids}
        round_name = "advertise-keys"
        while True:
            self._exchange(grid, server, outgoing, round_name, group, index_of, report, metrics)
            step, next_round, outbox = server.advance()
            if step != "next":
                break
            round_name = next_round or "?"
            outgoing = {}
            for index, message in outbox.items():
                nid = node_of[index]
                if round_name == "masked-input":
                    # The fit instructions travel with the forwarded shares, as in Flower's SecAgg+ (the client
                    # trains while answering this round).
                    content = compat.fitins_to_recorddict(fitins[nid], True)
                else:
                    content = RecordDict()
                content.config_records[RECORD] = ConfigRecord(
                    {"stage": STAGE_ROUND, "round": round_name, "session": session, "message": message})
                outgoing[nid] = content

        if step == "aborted":
            report.abort_reason = server.abort_reason
            log(ERROR, "SecAgg: session aborted: %s", report.abort_reason or "(no reason given)")
        if self.notify_outcome and outbox:
            outgoing = {node_of[i]: RecordDict({RECORD: ConfigRecord(
                {"stage": STAGE_OUTCOME, "round": "outcome", "session": session, "message": m})})
                for i, m in outbox.items()}
            self._exchange(grid, None, outgoing, "outcome", group, index_of, report, metrics,
                           timeout=min(self.timeout or 30.0, 30.0))
        if step != "completed":
            report.seconds = time.perf_counter() - started
            report.server_seconds = report.seconds - self._grid_seconds
            log(INFO, "Secure aggregation halted.")
            return

        aggregate, included_indices = server.result()
        included = [node_of[i] for i in included_indices]
        report.included = included
        report.completed = True
        total_weight = int(aggregate[-1])
        report.total_weight = total_weight
        mean = plan.decode_mean(aggregate, clients=len(included))
        arrays, offset = [], 0
        for g in globals_:
            arrays.append(np.asarray(mean[offset:offset + g.size], dtype=np.float64).reshape(g.shape).astype(g.dtype))
            offset += g.size
        aggregated = ndarrays_to_parameters(arrays)
        # Each included client's FitRes carries the aggregate; its weight is the mean weight (the server learns
        # only the total), so FedAvg's weighted mean of identical arrays is the aggregate itself.
        mean_weight = max(1, round(total_weight / max(1, len(included))))
        results = [
            (proxies[nid], FitRes(Status(Code.OK, "secure aggregation"), aggregated, mean_weight, metrics.get(nid, {})))
            for nid in included
        ]
        failures = [Exception(f"node {nid} dropped: {why}") for nid, why in report.dropped.items()]
        report.seconds = time.perf_counter() - started
        report.server_seconds = report.seconds - self._grid_seconds
        log(INFO, "SecAgg: completed with %s of %s clients (total weight %s); %.2f s, of which %.3f s outside the "
            "Grid; %.1f KB down, %.1f KB up", len(included), n, total_weight, report.seconds, report.server_seconds,
            report.bytes_down / 1e3, report.bytes_up / 1e3)
        log(INFO, "aggregate_fit: received %s results and %s failures", len(results), len(failures))
        parameters_aggregated, metrics_aggregated = context.strategy.aggregate_fit(fl_round, results, failures)
        if parameters_aggregated:
            context.state.array_records[MAIN_PARAMS_RECORD] = compat.parameters_to_arrayrecord(
                parameters_aggregated, True)
            context.history.add_metrics_distributed_fit(server_round=fl_round, metrics=metrics_aggregated)

    # ------------------------------------------------------------------------------------------------------------

    _grid_seconds = 0.0

    def _exchange(self, grid, server, outgoing: dict[int, RecordDict], round_name: str, group: str,
                  index_of: dict[int, int], report: SessionReport, metrics: dict[int, dict],
                  timeout: float | None = None) -> None:
        """Sends one message per client and feeds the replies to the server as they arrive, until every client
        answered or the round's deadline passed (then whoever did not answer is dropped by `advance`)."""
        if not outgoing:
            return
        timeout = self.timeout if timeout is None else timeout
        started = time.perf_counter()
        grid_seconds = 0.0
        bytes_down = sum(payload_bytes(c) for c in outgoing.values())
        messages = [Message(content=c, dst_node_id=nid, message_type=MessageType.TRAIN, group_id=group)
                    for nid, c in outgoing.items()]
        t0 = time.perf_counter()
        ids = list(grid.push_messages(messages))
        grid_seconds += time.perf_counter() - t0
        pending = {mid: msg.metadata.dst_node_id for mid, msg in zip(ids, messages)}
        del messages
        dropped: dict[int, str] = {}
        answered = 0
        bytes_up = 0
        deadline = None if timeout is None else started + timeout
        interval = 0.02
        while pending:
            t0 = time.perf_counter()
            replies = list(grid.pull_messages(list(pending)))
            grid_seconds += time.perf_counter() - t0
            for reply in replies:
                mid = reply.metadata.reply_to_message_id
                nid = pending.pop(mid, None)
                if nid is None:
                    continue
                if reply.has_error():  # the ClientApp raised, or the SuperLink reports the node unreachable
                    dropped[nid] = f"error in {round_name}: {_short(reply.error.reason)}"
                    if server is not None:
                        server.remove(index_of[nid])
                    continue
                if reply.metadata.src_node_id != nid:
                    dropped[nid] = f"a {round_name} reply from node {reply.metadata.src_node_id}"
                    continue
                record = reply.content.config_records.get(RECORD)
                bytes_up += payload_bytes(reply.content)
                if server is None:  # the end-of-session message: nothing comes back
                    answered += 1
                    continue
                message = record.get("message") if record is not None else None
                if not isinstance(message, bytes) or not message:
                    dropped[nid] = f"no protocol message in its {round_name} reply"
                    continue
                try:
                    server.receive(message, index_of[nid])
                except Exception as error:  # a rejected message leaves the server as it was; the client is dropped
                    dropped[nid] = f"{round_name} message rejected: {_short(str(error))}"
                    continue
                answered += 1
                if "fitres.metrics" in reply.content.config_records:
                    metrics[nid] = dict(reply.content.config_records["fitres.metrics"])
            if not pending:
                break
            now = time.perf_counter()
            if deadline is not None and now >= deadline:
                break
            pause = interval if deadline is None else min(interval, max(0.0, deadline - now))
            t0 = time.perf_counter()
            time.sleep(pause)
            grid_seconds += time.perf_counter() - t0
            interval = min(interval * 1.5, 0.5)
        for nid in pending.values():
            dropped[nid] = f"no reply to {round_name} within {timeout} s"
        seconds = time.perf_counter() - started
        self._grid_seconds += grid_seconds
        report.bytes_down += bytes_down
        report.bytes_up += bytes_up
        if server is not None:
            report.dropped.update(dropped)
        name = "setup" if round_name == "advertise-keys" else round_name
        rr = RoundReport(report.fl_round, name, len(outgoing), answered, dropped, seconds, seconds - grid_seconds,
                         bytes_down, bytes_up)
        report.rounds.append(rr)
        log(INFO, "SecAgg [%s]: %s/%s answered in %.2f s (%.1f KB down, %.1f KB up)%s", name, answered,
            len(outgoing), seconds, bytes_down / 1e3, bytes_up / 1e3,
            "" if not dropped else f"; dropped {len(dropped)}: " + "; ".join(
                f"node {nid}: {why}" for nid, why in sorted(dropped.items())))
        if self.on_round is not None:
            self.on_round(rr)

# ===================================================================================================================
# The mod (ClientApp)
#
# `secagg_mod`: the ClientApp mod that answers `SecAggWorkflow`, used where Flower's `secaggplus_mod` goes::
#
#     app = ClientApp(client_fn=client_fn, mods=[secagg_mod])
#
# Flower runs a ClientApp once per message, in a fresh process on a SuperNode, and carries only the Context's
# records from one message to the next. The engine's client is a state machine in memory, so the mod keeps in
# the Context what rebuilds it exactly: the configuration, the index, the plan, a 32-byte generator seed drawn
# from the OS for this session, and the server messages the client accepted so far. For every new message the
# mod rebuilds the client (start, then each accepted message in order; the masked-input round with a zero
# vector, whose output is discarded — nothing after that round depends on the input) and hands it the new one.
#
# Security of the rebuild: every random draw of the client (its key pairs, self-mask seed, Shamir coefficients,
# share-encryption nonces) comes from ChaCha20 keyed with the seed (SPEC.md §2.6), so a rebuilt client is the
# same client, and it refuses exactly what the original would (a second unmasking request, a grown survivor
# set). The seed is as secret as the keys it generates; it lives where Flower's own SecAgg+ mod keeps its
# private keys (the Context of the SuperNode), and it is deleted when the session ends. The client's model
# update never enters the Context.
# ===================================================================================================================

class SecAggClientError(RuntimeError):
    """The mod refuses a message (another session, a bad setup, a failed fit); the ClientApp reports an error
    and the server counts this client as dropped."""


def secagg_mod(msg: Message, ctxt: Context, call_next) -> Message:
    """Answers the workflow's messages with our client state machine; passes every other message through."""
    if msg.metadata.message_type != MessageType.TRAIN or RECORD not in msg.content.config_records:
        return call_next(msg, ctxt)
    started = time.perf_counter()
    record = msg.content.config_records[RECORD]
    stage = record.get("stage")
    node = msg.metadata.dst_node_id
    if stage == STAGE_SETUP:
        reply, state, round_name = _setup(record, node)
        ctxt.state.config_records[STATE_RECORD] = state
        content = RecordDict()
    elif stage == STAGE_OUTCOME:
        # The end of the session: whatever it says, this client's session state goes. A client that left the
        # session before it learnt the session id cannot check the message; it just forgets the session.
        round_name, reply, content = "outcome", None, RecordDict()
        state = ctxt.state.config_records.get(STATE_RECORD)
        if state is not None and state.get("session") == record.get("session"):
            client = _rebuild(state)
            try:
                client.handle(record.get("message") or b"")
            except Exception as error:  # noqa: BLE001 (reported, then the session is over for this client)
                log(WARNING, "SecAgg node %s: end-of-session message refused: %s", node, error)
            else:
                log(DEBUG, "SecAgg node %s: session %s, input %s", node, _client_state(client),
                    "included" if _input_included(client) else "not included")
            del ctxt.state.config_records[STATE_RECORD]
    elif stage == STAGE_ROUND:
        state = ctxt.state.config_records.get(STATE_RECORD)
        if state is None or state.get("session") != record.get("session"):
            raise SecAggClientError(f"node {node}: a {stage} message of a session this client has not set up")
        client = _rebuild(state)
        message = record.get("message")
        if not isinstance(message, bytes):
            raise SecAggClientError(f"node {node}: no protocol message")
        round_name = str(record.get("round", "?"))
        content = RecordDict()
        reply = client.handle(message)
        if _client_state(client) == "input-required":
            reply, content = _train_and_mask(client, msg, ctxt, call_next, state, node)
        state["history"] = list(state["history"]) + [message]
        client_state = _client_state(client)
        if client_state in ("completed", "aborted"):
            del ctxt.state.config_records[STATE_RECORD]  # the seed and the messages go with the session
            if client_state == "completed":
                log(DEBUG, "SecAgg node %s: session completed, input %s", node,
                    "included" if _input_included(client) else "not included")
            else:
                log(WARNING, "SecAgg node %s: session aborted: %s", node, getattr(client, "abort_reason", ""))
        else:
            ctxt.state.config_records[STATE_RECORD] = state
    else:
        raise SecAggClientError(f"node {node}: unknown secure-aggregation stage {stage!r}")
    content.config_records[RECORD] = ConfigRecord({"round": round_name, "message": reply or b""})
    log(DEBUG, "SecAgg node %s: answered %s in %.3f s", node, round_name, time.perf_counter() - started)
    return Message(content, reply_to=msg)


def _setup(record: ConfigRecord, node: int):
    config_bytes = record.get("configuration")
    plan_bytes = record.get("plan")
    index = record.get("index")
    session = record.get("session")
    if not isinstance(config_bytes, bytes) or not isinstance(plan_bytes, bytes) or not isinstance(index, int):
        raise SecAggClientError(f"node {node}: incomplete setup message")
    config = _configuration_from_bytes(config_bytes)  # decoded and validated (threshold rule included)
    if config.nonce != session:
        raise SecAggClientError(f"node {node}: the setup's session does not match its configuration")
    plan = _plan_from_bytes(plan_bytes)  # re-validated: no wrap for its client count
    info = _plan_info(plan)
    if info.clients < config.clients or info.bits != _input_bits(config):
        raise SecAggClientError(f"node {node}: the quantization plan does not fit the session (it could wrap)")
    seed = _new_generator_seed()
    client = _new_client(config, index, seed)
    reply = client.start()
    state = ConfigRecord({
        "session": session, "configuration": config_bytes, "index": index, "plan": plan_bytes, "seed": seed,
        "history": [],
    })
    return reply, state, "advertise-keys"


def _rebuild(state: ConfigRecord):
    """The client as it was after the last accepted message (see the module's docstring)."""
    config = _configuration_from_bytes(state["configuration"])
    client = _new_client(config, int(state["index"]), state["seed"])
    client.start()
    zeros = None
    for message in state["history"]:
        client.handle(message)
        if _client_state(client) == "input-required":
            if zeros is None:
                zeros = np.zeros(_input_length(config), dtype=np.uint64)
            client.provide_inputs([zeros])
    return client


def _train_and_mask(client, msg: Message, ctxt: Context, call_next, state: ConfigRecord, node: int):
    """Runs the local training (the rest of the ClientApp), quantizes every returned array and the weight, and
    returns the masked input with the fit's metrics."""
    fit_started = time.perf_counter()
    out = call_next(msg, ctxt)
    fit_seconds = time.perf_counter() - fit_started
    if out.has_error():
        raise SecAggClientError(f"node {node}: the fit failed: {out.error.reason}")
    fitres = compat.recorddict_to_fitres(out.content, keep_input=True)
    if fitres.status.code != Code.OK:
        raise SecAggClientError(f"node {node}: the fit returned {fitres.status.code}: {fitres.status.message}")
    arrays = parameters_to_ndarrays(fitres.parameters)
    expected = parameters_to_ndarrays(compat.recorddict_to_fitins(msg.content, keep_input=True).parameters)
    if [a.shape for a in arrays] != [e.shape for e in expected]:
        raise SecAggClientError(
            f"node {node}: the fit returned arrays of shapes {[a.shape for a in arrays]}, the model has "
            f"{[e.shape for e in expected]}")
    flat = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays]) if arrays else np.zeros(0)
    plan = _plan_from_bytes(state["plan"])
    max_weight = _plan_info(plan).max_weight
    weight = int(fitres.num_examples)
    if weight < 0:
        raise SecAggClientError(f"node {node}: negative num_examples")
    if weight > max_weight:
        log(WARNING, "SecAgg node %s: num_examples %s exceeds max_weight %s; capped", node, weight, max_weight)
        weight = max_weight
    if not np.all(np.isfinite(flat)):
        raise SecAggClientError(f"node {node}: the fit returned NaN or infinite parameters")
    quantized = plan.quantize(flat, weight=weight)
    reply = client.provide_inputs([quantized])
    content = RecordDict()
    content.config_records["fitres.metrics"] = ConfigRecord(dict(fitres.metrics))
    log(DEBUG, "SecAgg node %s: fit in %.3f s, %s values masked", node, fit_seconds, flat.size)
    return reply, content


