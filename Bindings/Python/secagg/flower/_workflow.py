"""`SecAggWorkflow`: the fit workflow of a Flower ServerApp that aggregates through our secure aggregation.

Used exactly where Flower's `SecAggPlusWorkflow` goes::

    workflow = DefaultWorkflow(fit_workflow=SecAggWorkflow(num_shares=..., reconstruction_threshold=...))

One fit round is one secure-aggregation session over the clients the strategy sampled:

1. setup: each client receives the session configuration, its index and the quantization plan, starts its
   state machine and answers with its keys (AdvertiseKeys);
2. the engine's rounds (share keys; on sparse graphs the seed reveal before it; the masked input, for which the
   fit instructions travel with the forwarded shares and the client trains; in the active model the
   consistency check; unmasking), each one a Flower message to and a reply from every live client;
3. the end-of-session message to every client, then the strategy's `aggregate_fit` receives one `FitRes` per
   included client whose parameters are the decoded weighted mean, as Flower's SecAgg+ workflow hands them.

A client whose reply does not arrive within `timeout` seconds of a round, or arrives as an error (its
ClientApp raised), is a dropout at that round; the session goes on while the engine can recover.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from logging import ERROR, INFO, WARNING
from typing import Callable, Iterable

import numpy as np

import flwr.compat.common.recorddict_compat as compat
from flwr.app import ConfigRecord, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.common.logger import log
from flwr.server.compat.legacy_context import LegacyContext
from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD
from flwr.server.workflow.constant import Key as WorkflowKey

from . import _engine
from ._common import RECORD, STAGE_OUTCOME, STAGE_ROUND, STAGE_SETUP, payload_bytes
from ._finder import GraphParameters, find_parameters, flower_parameters

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
            plan = _engine.make_plan(n, self.clipping_range, self.modulus_bits, max_weight)
        except Exception as error:  # the planner refuses a cohort whose sum could wrap
            raise ValueError(
                f"SecAgg: {n} clients with max_weight {max_weight} can wrap around 2^{self.modulus_bits}: "
                f"{error} — raise modulus_bits or lower max_weight"
            ) from error
        info = _engine.plan_info(plan)
        config = _engine.make_configuration(
            n, graph.threshold, graph.degree, model=self.model, bits=self.modulus_bits, length=length,
            corrupt=graph.corrupt, dropouts=graph.dropouts,
        )
        config_bytes = config.to_bytes()
        plan_bytes = plan.to_bytes()
        session = config.nonce
        server = _engine.Server(config)
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
