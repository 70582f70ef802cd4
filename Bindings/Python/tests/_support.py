"""Shared helpers of the pytest suite: an in-process session driver with dropouts, late inputs and tampering."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import secagg

#: The repository root (the tests live in Bindings/Python/tests).
REPOSITORY = Path(__file__).resolve().parents[3]
#: The protocol vectors.
PROTOCOL_VECTORS = REPOSITORY / "Vectors" / "protocol"

#: The rounds a client can stop answering, in session order (the server message that starts each).
ROUNDS = ["advertise_keys", "seed_reveal", "share_keys", "masked_input", "consistency_check", "unmasking"]


def random_inputs(config: secagg.SessionConfiguration, rng: np.random.Generator) -> list[np.ndarray]:
    """One client's input: uniform elements of each configured ring."""
    return [rng.integers(0, spec.order, spec.length, dtype=np.uint64, endpoint=False) for spec in config.inputs]


def expected_sums(config: secagg.SessionConfiguration, inputs: dict[int, list[np.ndarray]], included) -> list[np.ndarray]:
    """The sum of each input over exactly `included`, in its ring (exact: Python integers)."""
    sums = []
    for i, spec in enumerate(config.inputs):
        total = np.zeros(spec.length, dtype=object)
        for client in included:
            total = total + inputs[client][i].astype(object)
        sums.append(np.array([int(x) % spec.order for x in total], dtype=np.uint64))
    return sums


class Session:
    """Runs a whole session in process, every message through its bytes.

    ``drops`` maps a client to the round whose request it stops answering (``"advertise_keys"``: it never
    sends round 0). ``late`` clients get their input only when they ask for it (``"input_required"``).
    ``signing_keys`` (active model) maps clients to their 32-byte seeds.
    """

    def __init__(self, config, inputs, *, drops=None, late=(), signing_keys=None, server=None):
        self.config = config
        self.inputs = inputs
        self.drops = dict(drops or {})
        self.late = set(late)
        published = config.to_bytes()
        self.server = server or secagg.Server(config)
        self.clients: dict[int, secagg.Client] = {}
        for u in range(1, config.clients + 1):
            key = None if signing_keys is None else signing_keys[u]
            received = secagg.SessionConfiguration.from_bytes(published)
            self.clients[u] = secagg.Client(
                received, u, None if u in self.late else inputs[u], signing_key=key
            )
        self.rounds: list[str] = []
        self.masked_input_senders: set[int] = set()

    def answers(self, client: int, round: str) -> bool:
        dropped = self.drops.get(client)
        return dropped is None or ROUNDS.index(round) < ROUNDS.index(dropped)

    def run(self) -> secagg.Result | None:
        for u, client in self.clients.items():
            if self.answers(u, "advertise_keys"):
                self.server.receive(client.start(), u)
        while self.server.state == "collecting":
            round = self.server.round
            outbox = self.server.advance()
            self.rounds.append(round)
            next_round = self.server.round
            for u in sorted(outbox):
                offline = u in self.drops if next_round is None else not self.answers(u, next_round)
                if offline:
                    continue
                client = self.clients[u]
                reply = client.handle(outbox[u])
                if reply is None and client.state == "input_required":
                    reply = client.provide_inputs(self.inputs[u])
                if reply is not None:
                    self.server.receive(reply, u)
                    if next_round == "masked_input":
                        self.masked_input_senders.add(u)
        return self.server.result


def rss_bytes() -> int:
    """The resident set size of this process."""
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
