"""Whole sessions driven from Python: the result is the sum over exactly the included clients."""

from __future__ import annotations

import numpy as np
import pytest

import secagg
from _support import Session, expected_sums, random_inputs

PRIME = 2_147_483_647  # 2^31 − 1


def _inputs():
    return [
        secagg.Input("weights", 1000, bits=32),
        secagg.Input("counts", 100, modulus=PRIME),
        secagg.Input("flags", 37, bits=13),
    ]


@pytest.mark.parametrize("model", ["semi-honest", "active"])
def test_complete_graph_with_dropouts_at_every_round(model):
    """n = 20, three named inputs (2^32, a prime, 2^13), one client dropping at each round that can have one,
    two clients whose input arrives after the shares."""
    n = 20
    rng = np.random.default_rng(20 if model == "active" else 21)
    signing_keys = {u: bytes(rng.integers(0, 256, 32, dtype=np.uint8)) for u in range(1, n + 1)}
    keys = [secagg.verification_key(signing_keys[u]) for u in range(1, n + 1)]
    config = secagg.SessionConfiguration(
        n, 13, _inputs(), model=model, verification_keys=keys if model == "active" else None
    )
    inputs = {u: random_inputs(config, rng) for u in range(1, n + 1)}
    drops = {3: "advertise_keys", 5: "share_keys", 8: "masked_input", 14: "unmasking"}
    if model == "active":
        drops[11] = "consistency_check"
    session = Session(
        config, inputs, drops=drops, late={2, 9}, signing_keys=signing_keys if model == "active" else None,
        server=secagg.Server(config, verification_keys=keys if model == "active" else None),
    )
    result = session.run()

    assert session.server.state == "completed", session.server.abort_reason
    expected_rounds = ["advertise_keys", "share_keys", "masked_input"]
    expected_rounds += ["consistency_check"] if model == "active" else []
    assert session.rounds == expected_rounds + ["unmasking"]
    # U3: every client whose masked input arrived (those dropping later are still in the sum).
    included = sorted(set(range(1, n + 1)) - {3, 5, 8})
    assert result.included == included == sorted(session.masked_input_senders)
    for got, want in zip(result.vectors, expected_sums(config, inputs, included)):
        assert got.dtype == np.uint64
        np.testing.assert_array_equal(got, want)
    assert result.flagged == []
    for u, client in session.clients.items():
        if u in drops:
            assert client.state != "completed"
        else:
            assert client.state == "completed" and client.input_included is True
    assert session.clients[3].state == "advertise_keys"


def test_sparse_harary_graph_with_dropouts():
    """SecAgg+ on H(20, 10) with its seed-reveal round, dropouts after it."""
    n = 20
    rng = np.random.default_rng(7)
    config = secagg.SessionConfiguration(n, None, _inputs()[:2], graph=secagg.Harary(10))
    assert config.sparse and config.degree == 10 and config.threshold == 7
    inputs = {u: random_inputs(config, rng) for u in range(1, n + 1)}
    session = Session(config, inputs, drops={4: "share_keys", 12: "masked_input", 17: "unmasking"}, late={1})
    result = session.run()
    assert session.rounds == ["advertise_keys", "seed_reveal", "share_keys", "masked_input", "unmasking"]
    included = sorted(set(range(1, n + 1)) - {4, 12})
    assert result.included == included
    for got, want in zip(result.vectors, expected_sums(config, inputs, included)):
        np.testing.assert_array_equal(got, want)


def test_missing_seed_reveal_aborts_and_tells_the_clients():
    n = 10
    rng = np.random.default_rng(3)
    config = secagg.SessionConfiguration(n, None, [secagg.Input("x", 8)], graph=secagg.Harary(4))
    inputs = {u: random_inputs(config, rng) for u in range(1, n + 1)}
    session = Session(config, inputs, drops={6: "seed_reveal"})
    assert session.run() is None
    assert session.server.state == "aborted"
    assert "did not reveal" in session.server.abort_reason
    assert session.server.result is None and session.server.round is None
    for u, client in session.clients.items():
        if u != 6:
            assert client.state == "aborted"
            assert "aborted" in client.abort_reason


def test_too_many_dropouts_abort_the_session():
    n = 5
    config = secagg.SessionConfiguration(n, 3, [secagg.Input("x", 4)])
    rng = np.random.default_rng(0)
    inputs = {u: random_inputs(config, rng) for u in range(1, n + 1)}
    session = Session(config, inputs, drops={1: "masked_input", 2: "masked_input"})
    session.run()
    assert session.server.state == "aborted"
    assert "only 3 live clients" in session.server.abort_reason
    with pytest.raises(secagg.ProtocolError) as raised:
        session.server.advance()
    assert raised.value.kind == "alreadyAborted"


def test_caller_abort_and_client_removal():
    n = 6
    config = secagg.SessionConfiguration(n, 3, [secagg.Input("x", 4)])
    rng = np.random.default_rng(1)
    inputs = {u: random_inputs(config, rng) for u in range(1, n + 1)}
    server = secagg.Server(config)
    clients = {u: secagg.Client(config, u, inputs[u]) for u in range(1, n + 1)}
    for u, client in clients.items():
        server.receive(client.start(), u)
    assert server.is_round_complete and server.awaited_clients == []
    broadcast = server.advance()
    assert len(set(map(id, broadcast.values()))) == 1  # one bytes object for every recipient
    replies = {u: clients[u].handle(broadcast[u]) for u in clients}
    notice = server.abort_client(6)
    assert 6 not in server.awaited_clients
    assert clients[6].handle(notice) is None and clients[6].state == "aborted"
    assert "removed" in clients[6].abort_reason or "aborted" in clients[6].abort_reason
    for u in range(1, 6):
        server.receive(replies[u], u)
    with pytest.raises(secagg.ProtocolError) as raised:
        server.receive(replies[6], 6)  # a removed client's answer is refused
    assert raised.value.kind == "notParticipating"
    notices = server.abort()
    assert server.state == "aborted" and "stopped by the server's caller" in server.abort_reason
    assert sorted(notices) == [1, 2, 3, 4, 5]
    for u in range(1, 6):
        assert clients[u].handle(notices[u]) is None and clients[u].state == "aborted"


def test_configuration_round_trip_and_fields():
    nonce = bytes(range(32))
    keys = [secagg.verification_key(bytes([u]) * 32) for u in range(1, 8)]
    config = secagg.SessionConfiguration(
        7, 5, [secagg.Input("α", 3, modulus=65521), secagg.Input("b", 9, bits=64)], model="active", nonce=nonce,
        verification_keys=keys, corrupt_clients=1, dropped_clients=2, sigma=30,
    )
    assert config.nonce == nonce and config.model == "active" and config.verification_keys == tuple(keys)
    assert config.threat == (1, 2, 30) and config.graph is None and config.degree == 6 and not config.sparse
    assert config.inputs == (secagg.Input("α", 3, modulus=65521), secagg.Input("b", 9, bits=64))
    data = config.to_bytes()
    assert data[0] == secagg.PROTOCOL_VERSION == 3
    again = secagg.SessionConfiguration.from_bytes(data)
    assert again == config and again.to_bytes() == data and again.digest == config.digest and len(config.digest) == 32
    assert config.max_client_message_bytes("masked_input") >= 2 + 32 + 4 + 3 * 2 + 9 * 8
    assert config.max_server_message_bytes >= 2 + 32 + 4 + 7 * (4 + 64 + 64)
    with pytest.raises(ValueError):
        config.max_client_message_bytes("lunch")
    with pytest.raises(secagg.WireFormatError) as raised:
        secagg.SessionConfiguration.from_bytes(data[:-1])
    assert raised.value.kind == "truncated"
    with pytest.raises(secagg.WireFormatError):
        secagg.SessionConfiguration.from_bytes(b"\x01" + data[1:])
    with pytest.raises(TypeError):
        secagg.SessionConfiguration.from_bytes("text")
    default = secagg.SessionConfiguration(20, None, [secagg.Input("x", 1)])
    assert default.threshold == secagg.default_threshold(20) == 13 and len(default.nonce) == 32
    assert default.inputs[0].bits == 32


def test_configuration_refusals():
    with pytest.raises(secagg.ConfigurationError) as raised:
        secagg.SessionConfiguration(10, 1, [secagg.Input("x", 4)])
    assert raised.value.kind == "insecureThreshold"
    with pytest.raises(secagg.ConfigurationError) as raised:
        secagg.SessionConfiguration(10, 5, [secagg.Input("x", 4)], corrupt_clients=6)
    assert raised.value.kind == "insecureThreshold" and "would pass" in str(raised.value)
    with pytest.raises(secagg.ConfigurationError):
        secagg.SessionConfiguration(4, 3, [secagg.Input("x", 4), secagg.Input("x", 5)])
    with pytest.raises(secagg.ConfigurationError):
        secagg.SessionConfiguration(4, 3, [secagg.Input("x", 4)], model="active")  # no verification keys
    with pytest.raises(ValueError):
        secagg.SessionConfiguration(4, 3, [secagg.Input("x", 4)], nonce=b"short")
    with pytest.raises(ValueError):
        secagg.SessionConfiguration(4, 3, [secagg.Input("x", 4)], model="malicious")
    with pytest.raises(TypeError):
        secagg.SessionConfiguration(4, 3, ["x"])
    with pytest.raises(ValueError):
        secagg.Input("x", 4, bits=65)
    with pytest.raises(ValueError):
        secagg.Input("x", 4, bits=8, modulus=7)
    with pytest.raises(ValueError):
        secagg.Harary(3)


def test_keys_must_match_the_configuration():
    keys = [secagg.verification_key(bytes([u]) * 32) for u in range(1, 5)]
    config = secagg.SessionConfiguration(4, 3, [secagg.Input("x", 4)], model="active", verification_keys=keys)
    with pytest.raises(secagg.ConfigurationError):
        secagg.Server(config, verification_keys=keys[::-1])
    secagg.Server(config, verification_keys=keys).close()
    with pytest.raises(secagg.ConfigurationError):
        secagg.Client(config, 1, signing_key=bytes([2]) * 32)
    with pytest.raises(ValueError):
        secagg.Client(config, 1, signing_key=b"short")
    with pytest.raises(ValueError):
        secagg.Client(config, 1)  # the active model needs the signing key
    with pytest.raises(ValueError):
        secagg.Client(config, 5, signing_key=bytes([1]) * 32)
    semi_honest = secagg.SessionConfiguration(4, 3, [secagg.Input("x", 4)])
    with pytest.raises(ValueError):
        secagg.Client(semi_honest, 1, signing_key=bytes(32))


def test_input_checks():
    config = secagg.SessionConfiguration(4, 3, [secagg.Input("x", 4, bits=8), secagg.Input("y", 2, modulus=11)])
    client = secagg.Client(config, 1)
    good = [np.array([1, 2, 3, 255], dtype=np.uint64), np.array([0, 10], dtype=np.uint64)]
    assert client.provide_inputs(good) is None
    assert client.provide_inputs([good[0].astype(np.uint8), good[1].astype(np.uint32)]) is None
    bad = [
        (TypeError, [good[0].astype(np.int64), good[1]]),
        (TypeError, [good[0].astype(np.float64), good[1]]),
        (TypeError, good[0]),
        (TypeError, [list(good[0]), good[1]]),
        (ValueError, [good[0][:3], good[1]]),
        (ValueError, [good[0].reshape(2, 2), good[1]]),
        (ValueError, [good[0]]),
        (ValueError, [np.array([1, 2, 3, 256], dtype=np.uint64), good[1]]),
        (ValueError, [good[0], np.array([0, 11], dtype=np.uint64)]),
    ]
    for error, inputs in bad:
        with pytest.raises(error):
            client.provide_inputs(inputs)
    # A strided view is accepted (copied to contiguous memory).
    wide = np.arange(8, dtype=np.uint64)[::2]
    assert client.provide_inputs([wide, good[1]]) is None
    assert client.state == "advertise_keys"
    with pytest.raises(TypeError):
        secagg.Client(config, "1")
    with pytest.raises(TypeError):
        secagg.Client(config, True)
    with pytest.raises(TypeError):
        client.handle("not bytes")


def test_closed_objects_refuse_calls():
    config = secagg.SessionConfiguration(3, 2, [secagg.Input("x", 2)])
    with secagg.Client(config, 1) as client:
        client.start()
    with pytest.raises(ValueError, match="closed"):
        client.start()
    client.close()  # twice is fine
    server = secagg.Server(config)
    server.close()
    with pytest.raises(ValueError, match="closed"):
        server.advance()


def test_versions():
    assert secagg.library_version() == secagg.__version__
    assert secagg.PROTOCOL_VERSION == 3
