"""Hostile bytes (truncations, bit flips, trailing bytes, other sessions, wrong senders) raise a secagg.Error and
leave the party working: the session then completes with the right sum."""

from __future__ import annotations

import numpy as np
import pytest

import secagg
from _support import expected_sums, random_inputs

N = 6


def _config(nonce=None):
    return secagg.SessionConfiguration(
        N, 4, [secagg.Input("x", 16, bits=32), secagg.Input("y", 5, modulus=65521)], nonce=nonce
    )


def _flip(message: bytes, offset: int, bit: int = 0) -> bytes:
    changed = bytearray(message)
    changed[offset] ^= 1 << bit
    return bytes(changed)


def _rejected(call, *errors) -> secagg.Error:
    with pytest.raises(errors or (secagg.WireFormatError, secagg.ProtocolError)) as raised:
        call()
    return raised.value


def test_hostile_messages_are_rejected_and_the_session_completes():
    config = _config()
    other = _config()  # same shape, another nonce: another session
    rng = np.random.default_rng(11)
    inputs = {u: random_inputs(config, rng) for u in range(1, N + 1)}
    server = secagg.Server(config)
    clients = {u: secagg.Client(config, u, inputs[u]) for u in range(1, N + 1)}
    stranger = secagg.Client(other, 1, inputs[1])

    # Round 0, at the server.
    advert = clients[1].start()
    foreign = stranger.start()
    for length in range(len(advert)):
        assert _rejected(lambda: server.receive(advert[:length], 1), secagg.WireFormatError).kind == "truncated"
    assert _rejected(lambda: server.receive(advert + b"\x00", 1)).kind == "trailingBytes"
    assert _rejected(lambda: server.receive(_flip(advert, 0), 1)).kind == "unsupportedVersion"
    assert _rejected(lambda: server.receive(_flip(advert, 1, 3), 1)).kind in ("unknownTag", "truncated")
    server_tag = bytes([secagg.PROTOCOL_VERSION, 0x81]) + advert[2:]
    assert _rejected(lambda: server.receive(server_tag, 1), secagg.WireFormatError).kind == "invalidField"
    for offset in range(2, 34):  # the configuration digest
        assert _rejected(lambda: server.receive(_flip(advert, offset), 1)).kind == "wrongSession"
    assert _rejected(lambda: server.receive(_flip(advert, 34, 1), 1)).kind == "invalidClientMessage"  # sender 3
    assert _rejected(lambda: server.receive(_flip(advert, 34), 1)).kind == "indexOutOfRange"  # sender 0
    assert _rejected(lambda: server.receive(foreign, 1), secagg.ProtocolError).kind == "wrongSession"
    assert _rejected(lambda: server.receive(advert, 2), secagg.ProtocolError).kind == "invalidClientMessage"
    _rejected(lambda: server.receive(advert, 0), secagg.ProtocolError)  # no client 0
    assert server.awaited_clients == list(range(1, N + 1))
    server.receive(advert, 1)
    assert _rejected(lambda: server.receive(advert, 1), secagg.ProtocolError).kind == "duplicateMessage"
    for u in range(2, N + 1):
        server.receive(clients[u].start(), u)

    # The key broadcast, at a client.
    outbox = server.advance()
    broadcast = outbox[1]
    foreign_broadcast = secagg.Server(other)
    foreign_broadcast.receive(foreign, 1)
    for length in (0, 1, 2, 10, 37, len(broadcast) // 2, len(broadcast) - 1):
        assert _rejected(lambda: clients[1].handle(broadcast[:length]), secagg.WireFormatError).kind == "truncated"
    for offset in (2, 17, 33):
        assert _rejected(lambda: clients[1].handle(_flip(broadcast, offset))).kind == "wrongSession"
    assert _rejected(lambda: clients[1].handle(broadcast + b"\x01")).kind == "trailingBytes"
    _rejected(lambda: clients[1].handle(advert), secagg.WireFormatError)  # a client message
    assert clients[1].state == "share_keys"

    # Shares, masked inputs and unmasking: each party first gets a damaged copy of every message.
    session_id = None
    while server.state == "collecting":
        for u in sorted(outbox):
            message = outbox[u]
            _rejected(lambda: clients[u].handle(message[:-1]))
            _rejected(lambda: clients[u].handle(message + b"\x00"))
            if session_id is not None:
                _rejected(lambda: clients[u].handle(_flip(message, 2 + 31)), secagg.ProtocolError)
            before = clients[u].state
            reply = clients[u].handle(message)
            assert reply is not None, (u, before, clients[u].state)
            _rejected(lambda: server.receive(reply[:-1], u))
            _rejected(lambda: server.receive(_flip(reply, 5), u))  # session id: another session
            _rejected(lambda: server.receive(reply, u % N + 1), secagg.ProtocolError)
            server.receive(reply, u)
            _rejected(lambda: server.receive(reply, u), secagg.ProtocolError)
        outbox = server.advance()
        session_id = server.session_id

    result = server.result
    assert result is not None, server.abort_reason
    assert result.included == list(range(1, N + 1)) and result.flagged == []
    for got, want in zip(result.vectors, expected_sums(config, inputs, result.included)):
        np.testing.assert_array_equal(got, want)
    for u, client in clients.items():
        client.handle(outbox[u])
        assert client.state == "completed" and client.input_included


def test_random_mutations_never_crash():
    """2,000 random mutations of real messages: each is refused with a secagg.Error or, where it only changes
    an opaque field (a public key), accepted; the process never crashes."""
    config = _config()
    rng = np.random.default_rng(5)
    inputs = random_inputs(config, rng)
    adverts = [secagg.Client(config, u, inputs).start() for u in (1, 2)]
    server = secagg.Server(config)
    for u in range(3, N + 1):
        server.receive(secagg.Client(config, u, inputs).start(), u)
    responder = secagg.Client(config, 1, inputs)
    advert = responder.start()
    server.receive(advert, 1)
    server.receive(adverts[1], 2)
    broadcast = server.advance()[1]
    accepted = rejected = 0
    fresh = secagg.Client(config, 1, inputs)
    fresh.start()
    for trial in range(2000):
        target_is_server = trial % 2 == 0
        source = adverts[0] if target_is_server else broadcast
        message = bytearray(source)
        action = rng.integers(0, 4)
        if action == 0:
            message = message[: rng.integers(0, len(message))]
        elif action == 1:
            for _ in range(rng.integers(1, 4)):
                message[rng.integers(0, len(message))] ^= 1 << int(rng.integers(0, 8))
        elif action == 2:
            message[rng.integers(0, len(message))] = int(rng.integers(0, 256))
        else:
            message += bytes(rng.integers(0, 256, rng.integers(1, 40), dtype=np.uint8))
        try:
            if target_is_server:
                probe = secagg.Server(config)
                probe.receive(bytes(message), 1)
            else:
                fresh.handle(bytes(message))
                fresh = secagg.Client(config, 1, inputs)  # it moved on: start over
                fresh.start()
            accepted += 1
        except secagg.Error:
            rejected += 1
    assert rejected > 1500 and accepted + rejected == 2000
