"""Flower integration: our secure aggregation as a drop-in for Flower's SecAgg+ (flwr 1.42).

Server side, where `SecAggPlusWorkflow` goes::

    from secagg.flower import SecAggWorkflow
    workflow = DefaultWorkflow(fit_workflow=SecAggWorkflow(num_shares=..., reconstruction_threshold=...))

Client side, where `secaggplus_mod` goes::

    from secagg.flower import secagg_mod
    app = ClientApp(client_fn=client_fn, mods=[secagg_mod])

Install with `pip install "./Bindings/Python[flower]"`.
"""

from ._finder import GraphParameters, find_parameters, flower_parameters
from ._mod import SecAggClientError, secagg_mod
from ._workflow import RoundReport, SecAggWorkflow, SessionReport

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
