"""Quantize → aggregate → decode_mean against numpy, and the plan's checks."""

from __future__ import annotations

import numpy as np
import pytest

import secagg
from _support import Session


@pytest.mark.parametrize("rounding", ["stochastic", "nearest"])
def test_quantize_aggregate_decode_matches_numpy_mean(rounding):
    """float32 model updates of 8 clients (a 3-D tensor each), one dropping after sharing keys: the decoded mean of
    the included clients is numpy's mean of their updates within the plan's bound."""
    n = 8
    plan = secagg.QuantizationPlan.plan(n, 0.5, bits=32, rounding=rounding)
    rng = np.random.default_rng(8)
    updates = {u: rng.uniform(-0.5, 0.5, size=(4, 5, 6)).astype(np.float32) for u in range(1, n + 1)}
    quantized = {u: [plan.quantize(update)] for u, update in updates.items()}
    assert quantized[1][0].dtype == np.uint64 and quantized[1][0].shape == (120,)
    config = secagg.SessionConfiguration(n, 5, [secagg.Input("model", plan.vector_length(120), bits=32)])
    result = Session(config, quantized, drops={3: "masked_input"}).run()
    assert result.included == [1, 2, 4, 5, 6, 7, 8]
    mean = plan.decode_mean(result.vectors[0], clients=len(result.included))
    want = np.mean([updates[u].astype(np.float64) for u in result.included], axis=0).reshape(-1)
    assert mean.dtype == np.float64 and mean.shape == want.shape
    bound = plan.worst_case_mean_error
    assert 0 < bound < 1e-6
    assert np.max(np.abs(mean - want)) <= bound
    # With the wrong client count the decode fails or lands far off: the bound really is that tight.
    wrong = plan.decode_mean(result.vectors[0], clients=len(result.included) - 1)
    assert np.max(np.abs(wrong - want)) > 100 * bound


def test_weighted_plan_decodes_the_weighted_mean():
    plan = secagg.QuantizationPlan.plan(4, 2.0, bits=48, max_weight=100, rounding="nearest")
    assert plan.weighted and plan.max_weight == 100 and plan.vector_length(10) == 11
    rng = np.random.default_rng(4)
    updates = [rng.uniform(-2, 2, 10) for _ in range(3)]
    weights = [10, 30, 60]
    total = sum(plan.quantize(x, weight=w).astype(object) for x, w in zip(updates, weights))
    aggregate = np.array([int(v) % 2**48 for v in total], dtype=np.uint64)
    mean = plan.decode_mean(aggregate, clients=3, total_weight=100)
    want = sum(w * x for x, w in zip(updates, weights)) / 100
    assert np.max(np.abs(mean - want)) <= plan.worst_case_mean_error * 3
    with pytest.raises(secagg.QuantizationError):
        plan.decode_mean(aggregate, clients=3, total_weight=99)
    with pytest.raises(secagg.QuantizationError) as raised:
        plan.quantize(updates[0], weight=101)
    assert raised.value.kind == "weightOutOfRange"


def test_prime_modulus_and_round_trip():
    plan = secagg.QuantizationPlan.plan(10, 1.0, modulus=2_147_483_647)
    assert plan.modulus == 2_147_483_647 and plan.bits is None and plan.rounding == "stochastic"
    elements = plan.quantize(np.array([[0.25, -0.25], [1.5, -7.0]], dtype=np.float64))
    assert elements.max() < 2_147_483_647
    mean = plan.decode_mean(elements, clients=1)
    np.testing.assert_allclose(mean, [0.25, -0.25, 1.0, -1.0], atol=plan.worst_case_mean_error)
    again = secagg.QuantizationPlan.from_bytes(plan.to_bytes())
    assert again == plan and again.scale == plan.scale
    assert b'"clientCount":10' in plan.to_bytes()
    with pytest.raises(secagg.QuantizationError) as raised:
        secagg.QuantizationPlan.from_bytes(b'{"clientCount": 10}')
    assert raised.value.kind == "invalidPlanEncoding"
    with pytest.raises(secagg.QuantizationError):
        secagg.QuantizationPlan.from_bytes(plan.to_bytes().replace(b'"clientCount":10', b'"clientCount":0'))


def test_plan_refusals_and_argument_checks():
    with pytest.raises(secagg.QuantizationError) as raised:
        secagg.QuantizationPlan.plan(10**6, 1.0, bits=8)
    assert raised.value.kind == "wrapUnavoidable"
    with pytest.raises(secagg.QuantizationError):
        secagg.QuantizationPlan.plan(10, float("nan"))
    with pytest.raises(ValueError):
        secagg.QuantizationPlan.plan(10, 1.0, bits=8, modulus=7)
    with pytest.raises(ValueError):
        secagg.QuantizationPlan.plan(10, 1.0, rounding="up")
    with pytest.raises(TypeError):
        secagg.QuantizationPlan()
    plan = secagg.QuantizationPlan.plan(10, 1.0)
    with pytest.raises(secagg.QuantizationError) as raised:
        plan.quantize(np.array([1.0, np.nan], dtype=np.float32))
    assert raised.value.kind == "nonFiniteValue"
    for bad in (np.arange(3), np.arange(3, dtype=np.float16), [0.5, 0.25]):
        with pytest.raises(TypeError):
            plan.quantize(bad)
    with pytest.raises(secagg.QuantizationError):
        plan.quantize(np.zeros(3, dtype=np.float32), weight=2)
    with pytest.raises(TypeError):
        plan.decode_mean(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError):
        plan.decode_mean(np.zeros((3, 1), dtype=np.uint64))
    with pytest.raises(secagg.QuantizationError) as raised:
        plan.decode_mean(np.full(3, 2**31, dtype=np.uint64), clients=1)
    assert raised.value.kind == "aggregateOutOfRange"
    with pytest.raises(secagg.QuantizationError):
        plan.decode_mean(np.zeros(3, dtype=np.uint64), clients=11)
    # Non-contiguous input is flattened in C order.
    grid = np.arange(12, dtype=np.float32).reshape(3, 4) / 100
    np.testing.assert_allclose(
        plan.decode_mean(plan.quantize(grid.T), clients=1), grid.T.reshape(-1), atol=plan.worst_case_mean_error
    )
