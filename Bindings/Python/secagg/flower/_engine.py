"""The few engine operations the Flower integration needs, on top of the `secagg` Python API.

Kept in one place so that the Flower side (workflow, mod) does not depend on details of the binding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

import secagg

#: Round names, in protocol order (SPEC.md §11.3); the client's reply to a message answers the named round.
ROUNDS = ("advertise-keys", "seed-reveal", "share-keys", "masked-input", "consistency-check", "unmasking")

INPUT_NAME = "update"


@dataclass(frozen=True)
class PlanInfo:
    scale: float
    worst_case_mean_error: float
    clients: int
    max_weight: int
    bits: int


def make_plan(clients: int, clip: float, bits: int, max_weight: int) -> secagg.QuantizationPlan:
    return secagg.QuantizationPlan.plan(clients, clip, bits=bits, max_weight=max_weight, rounding="stochastic")


def plan_from_bytes(data: bytes) -> secagg.QuantizationPlan:
    return secagg.QuantizationPlan.from_bytes(data)


def plan_info(plan: secagg.QuantizationPlan) -> PlanInfo:
    return PlanInfo(
        scale=float(plan.scale),
        worst_case_mean_error=float(plan.worst_case_mean_error),
        clients=int(plan.clients),
        max_weight=int(plan.max_weight),
        bits=int(plan.bits),
    )


def make_configuration(
    clients: int, threshold: int, degree: int, *, model: str, bits: int, length: int, corrupt: int, dropouts: int
) -> secagg.SessionConfiguration:
    graph = None if degree >= clients - 1 else secagg.Harary(degree)
    return secagg.SessionConfiguration(
        clients, threshold, [secagg.Input(INPUT_NAME, length, bits=bits)], model=model, graph=graph,
        **_threat_kwargs(corrupt, dropouts),
    )


def _threat_kwargs(corrupt: int, dropouts: int) -> dict:
    # The threat the session must withstand (SPEC.md §11.1): the engine then refuses a threshold that does not
    # protect privacy against `corrupt` corrupt clients with `dropouts` dropouts.
    return {"corrupt_clients": corrupt, "dropped_clients": dropouts}


def configuration_from_bytes(data: bytes) -> secagg.SessionConfiguration:
    return secagg.SessionConfiguration.from_bytes(data)


def input_length(config: secagg.SessionConfiguration) -> int:
    return int(config.inputs[0].length)


def input_bits(config: secagg.SessionConfiguration) -> int:
    return int(config.inputs[0].bits)


def new_generator_seed() -> bytes:
    return os.urandom(32)


def new_client(config: secagg.SessionConfiguration, index: int, seed: bytes) -> secagg.Client:
    """A client whose every random draw comes from the ChaCha20 generator keyed with `seed` (SPEC.md §2.6), so
    that it can be rebuilt message by message from the seed and the messages it accepted (see `_mod.py`)."""
    # The binding names the C ABI's secagg_client_new_deterministic `_generator_seed` (it serves the transcript
    # replays there); here the seed is 32 fresh bytes from the OS per client and session, never a fixed one.
    return secagg.Client(config, index, _generator_seed=seed)


def _name(value) -> str | None:
    return None if value is None else str(value).replace("_", "-")


def client_state(client: secagg.Client) -> str:
    """The client's state with hyphens: "input-required", "completed", "aborted", …"""
    return _name(client.state)


def input_included(client: secagg.Client) -> bool | None:
    return getattr(client, "input_included", None)


class Server:
    """The engine's server with the round it collects."""

    def __init__(self, config: secagg.SessionConfiguration) -> None:
        self._server = secagg.Server(config)

    def receive(self, message: bytes, sender: int) -> None:
        self._server.receive(message, sender)

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
