"""Fast checks of secagg.flower without a Flower runtime: the transcribed parameter finder against the table
of SPEC.md §10.8, Flower's knobs mapped to our degree and threshold, and refusals."""

from __future__ import annotations

import pytest

import secagg
from secagg.flower import SecAggWorkflow, find_parameters, flower_parameters


@pytest.mark.parametrize("n,gamma,model,k,t", [
    (100, 0.05, "semi-honest", 12, 7), (1000, 0.05, "semi-honest", 30, 18), (10_000, 0.05, "semi-honest", 34, 20),
    (100, 0.33, "semi-honest", 68, 35), (1000, 0.33, "semi-honest", 280, 147),
    (100, 0.05, "active", 16, 11), (1000, 0.05, "active", 52, 37), (10_000, 0.05, "active", 62, 44),
])
def test_finder_matches_the_spec_table(n, gamma, model, k, t):
    found = find_parameters(n, gamma, gamma, model=model)
    assert (found.degree, found.threshold, found.complete) == (k, t, False)


def test_finder_refuses_what_no_threshold_protects():
    with pytest.raises(ValueError, match="no feasible"):
        find_parameters(100, 0.33, 0.33, model="active")


def test_finder_result_passes_the_engines_threshold_rule():
    # The engine re-checks the threshold for the declared threat (C = ⌊γn⌋, D = ⌊δn⌋); one below must fail.
    found = find_parameters(200, 0.1, 0.1)
    inputs = [secagg.Input("update", 8, bits=32)]
    secagg.SessionConfiguration(200, found.threshold, inputs, graph=secagg.Harary(found.degree),
                                corrupt_clients=found.corrupt, dropped_clients=found.dropouts)
    with pytest.raises(secagg.ConfigurationError):
        secagg.SessionConfiguration(200, 2, inputs, graph=secagg.Harary(found.degree),
                                    corrupt_clients=found.corrupt, dropped_clients=found.dropouts)


def test_flower_knobs():
    # Flower's float forms: a fraction of the cohort (made odd) and of the shares.
    assert flower_parameters(20, 1.0, 0.5).degree == 19  # every client: the complete graph
    assert flower_parameters(20, 1.0, 0.5).threshold == 10
    p = flower_parameters(100, 5, 3)  # SecAgg+: 5 shares = 4 neighbours, t = 3
    assert (p.degree, p.threshold, p.complete) == (4, 3, False)
    assert flower_parameters(100, 4, 3).degree == 4  # an even share count is made odd, as Flower does
    with pytest.raises(ValueError):
        flower_parameters(100, 5, 2, model="active")  # 2t ≤ k: a server that splits views gets both shares


def test_workflow_refuses_what_could_wrap_or_is_incomplete():
    with pytest.raises(ValueError, match="wrap"):
        SecAggWorkflow(max_weight=1 << 20, modulus_bits=16)
    with pytest.raises(ValueError):
        SecAggWorkflow(num_shares=5)  # without reconstruction_threshold
    with pytest.raises(ValueError, match="power of two"):
        SecAggWorkflow(modulus_range=3 << 20)
    assert SecAggWorkflow(modulus_range=1 << 32).modulus_bits == 32
