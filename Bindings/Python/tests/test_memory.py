"""2,000 whole sessions in a loop do not grow the process: every handle and buffer is released."""

from __future__ import annotations

import gc

import numpy as np

import secagg
from _support import Session, expected_sums, random_inputs, rss_bytes

SESSIONS = 2000
WARM_UP = 200


def _one_session(rng: np.random.Generator, index: int) -> None:
    n = 5
    config = secagg.SessionConfiguration(n, 3, [secagg.Input("x", 512, bits=32), secagg.Input("y", 3, modulus=97)])
    inputs = {u: random_inputs(config, rng) for u in range(1, n + 1)}
    # Every fourth session loses a client after it shared keys, so the server also rebuilds a pairwise mask.
    drops = {1 + index % n: "masked_input"} if index % 4 == 0 else {}
    session = Session(config, inputs, drops=drops)
    result = session.run()
    assert result is not None
    if index % 100 == 0:
        for got, want in zip(result.vectors, expected_sums(config, inputs, result.included)):
            np.testing.assert_array_equal(got, want)
    # A plan and a rejected message too: their objects and error strings must not accumulate either.
    plan = secagg.QuantizationPlan.plan(n, 1.0)
    plan.decode_mean(plan.quantize(np.zeros(8, dtype=np.float32)), clients=1)
    try:
        session.server.receive(b"\x02", 1)
    except secagg.WireFormatError:
        pass


def test_sessions_in_a_loop_do_not_grow_memory(capsys):
    rng = np.random.default_rng(2000)
    for index in range(WARM_UP):
        _one_session(rng, index)
    gc.collect()
    before = rss_bytes()
    for index in range(WARM_UP, SESSIONS):
        _one_session(rng, index)
    gc.collect()
    after = rss_bytes()
    with capsys.disabled():
        print(f"\nRSS after {WARM_UP} sessions {before / 2**20:.1f} MiB, after {SESSIONS}: {after / 2**20:.1f} MiB")
    # A leaked session (configuration, 5 clients, server, 5 outboxes, their buffers) is several KiB: 1,800 of
    # them would add megabytes.
    assert after - before < 2 * 2**20, f"RSS grew by {(after - before) / 2**20:.1f} MiB"
