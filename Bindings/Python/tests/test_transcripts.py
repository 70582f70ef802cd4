"""The protocol transcripts of Vectors/protocol/ (SPEC.md §13.2) replayed byte for byte through the Python API.

Fresh clients, each seeded with its recorded generator seed (the test-only deterministic generator of SPEC.md
§2.6) and given its recorded input and signing key, are fed the recorded server messages; a fresh server is fed
the recorded client messages. Every message either side produces must equal the recording at its position, and
the server's result must be the recorded aggregate over the recorded included clients.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import secagg
from _support import PROTOCOL_VECTORS

TRANSCRIPTS = sorted(PROTOCOL_VECTORS.glob("transcript_*.json"))


def test_the_transcripts_are_there():
    assert [path.name for path in TRANSCRIPTS] == [
        "transcript_active_complete.json",
        "transcript_active_harary.json",
        "transcript_semi_honest_complete.json",
        "transcript_semi_honest_harary.json",
        "transcript_semi_honest_harary_absent.json",
    ]


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda path: path.stem)
def test_transcript_replays_byte_for_byte(path):
    document = json.loads(path.read_text())
    # specVersion is the version of SPEC.md; the protocol version is the first byte of the configuration and of
    # every message.
    for group in document["testGroups"]:
        assert bytes.fromhex(group["configuration"])[0] == secagg.PROTOCOL_VERSION
        assert all(
            bytes.fromhex(test["message"])[0] == secagg.PROTOCOL_VERSION
            for test in group["tests"] if test["kind"] == "message"
        )
    for group in document["testGroups"]:
        replay(group)


def replay(group: dict) -> None:
    config = secagg.SessionConfiguration.from_bytes(bytes.fromhex(group["configuration"]))
    assert config.to_bytes().hex() == group["configuration"]
    assert config.digest.hex() == group["configurationDigest"]
    assert config.clients == group["clientCount"] and config.threshold == group["threshold"]
    assert config.model == group["securityModel"]

    clients: dict[int, secagg.Client] = {}
    for entry in group["clients"]:
        u = entry["index"]
        inputs = [np.array([int(x) for x in vector], dtype=np.uint64) for vector in entry["input"]]
        seed = entry["testOnlySecrets"].get("signingKeySeed")
        signing_key = bytes.fromhex(seed) if seed else None
        if signing_key is not None:
            assert secagg.verification_key(signing_key) == config.verification_keys[u - 1]
        clients[u] = secagg.Client(
            config, u, inputs, signing_key=signing_key, _generator_seed=bytes.fromhex(entry["rngSeed"])
        )
    server = secagg.Server(config, unmasking_threads=1)

    batch = None  # the server's messages of the round being delivered, in recipient order
    replies: dict[int, bytes | None] = {}
    checked = 0
    for test in group["tests"]:
        if test["kind"] != "message":
            continue
        u = test["client"]
        recorded = bytes.fromhex(test["message"])
        where = f"tcId {test['tcId']} ({test['comment']})"
        if test["direction"] == "clientToServer":
            batch = None
            produced = clients[u].start() if test["round"] == "advertise-keys" else replies.pop(u)
            assert produced == recorded, f"client {u} differs at {where}"
            server.receive(recorded, u)
        else:
            if batch is None:
                batch = sorted(server.advance().items())
                if test["round"] == "seed-reveal":
                    assert server.round == "seed_reveal"
            recipient, produced = batch.pop(0)
            assert (recipient, produced) == (u, recorded), f"server differs at {where}"
            # Clients that dropped in the recording answer too; their replies are never compared.
            replies[u] = clients[u].handle(recorded)
        checked += 1
    assert checked == len([t for t in group["tests"] if t["kind"] == "message"]) > 30
    assert batch is None or batch == []

    server.advance()
    result = server.result
    assert result is not None, server.abort_reason
    assert result.included == group["includedClients"]
    for got, want in zip(result.vectors, group["aggregate"]):
        np.testing.assert_array_equal(got, np.array([int(x) for x in want], dtype=np.uint64))
    assert server.session_id.hex() == group["sessionId"]
