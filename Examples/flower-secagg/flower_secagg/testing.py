"""Apps for the tests and the side-by-side benchmark: the same model and data as the example, with either
implementation (ours or Flower's SecAgg+), injected failures, a pause between two protocol rounds, client-side
timing, and a JSON report that checks every aggregate against the plaintext weighted mean of exactly the
included clients.

Settings come from the run config (`flwr run … --run-config`) or, in process, from `make_apps(settings)`:

  impl              "secagg" (ours) or "flower" (SecAggPlusWorkflow + secaggplus_mod)
  num-server-rounds, min-clients, model-size, timeout, clipping-range, max-weight, modulus-bits
  num-shares, reconstruction-threshold      (≤ 0: let our finder choose, from corrupt-/dropout-fraction)
  corrupt-fraction, dropout-fraction
  fail              "PID:ROUND:ACTION,…": partition PID fails when it receives ROUND (our names: advertise-keys,
                    share-keys, masked-input, unmasking; Flower's stages are mapped to them); ACTION is "raise"
                    or "hang" (sleeps hang-seconds, then raises); PID may be "*%K=R" (every partition with pid % K == R)
  hang-seconds
  pause-after       a round name: after that round closed (ours only) the ServerApp logs "PAUSED after ROUND"
                    and waits until resume-file exists (at most pause-seconds), so that a test can kill
                    SuperNodes between two rounds of the protocol
  report-path       where the ServerApp writes its JSON report ("" = none)
"""

from __future__ import annotations

import json
import os
import time
from logging import INFO, WARNING

import numpy as np

from flwr.app import ConfigRecord
from flwr.client import ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.common import Context, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.common.logger import log
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow

from secagg.flower import SecAggWorkflow, secagg_mod
from secagg.flower import RECORD, payload_bytes

from flower_secagg import task

DEFAULTS = {
    "impl": "secagg", "num-server-rounds": 1, "min-clients": 10, "model-size": 1000, "timeout": 60.0,
    "clipping-range": 8.0, "max-weight": 1000.0, "modulus-bits": 32, "num-shares": 1.0,
    "reconstruction-threshold": 0.5, "corrupt-fraction": 0.05, "dropout-fraction": 0.1, "fail": "",
    "hang-seconds": 0.0, "pause-after": "", "pause-seconds": 0.0, "resume-file": "", "report-path": "",
}

FLOWER_STAGES = {"setup": "advertise-keys", "share_keys": "share-keys", "collect_masked_vectors": "masked-input",
                 "unmask": "unmasking"}


def _settings(context: Context, given: dict | None) -> dict:
    merged = dict(DEFAULTS)
    merged.update(dict(context.run_config))
    if given:
        merged.update(given)
    return merged


def _round_of(msg) -> str | None:
    records = msg.content.config_records
    if RECORD in records:
        return str(records[RECORD].get("round"))
    if RECORD_KEY_CONFIGS in records and Key.STAGE in records[RECORD_KEY_CONFIGS]:
        return FLOWER_STAGES.get(str(records[RECORD_KEY_CONFIGS][Key.STAGE]))
    return None


def _fails(plan: str, pid: int, round_name: str | None) -> str | None:
    for item in filter(None, (s.strip() for s in plan.split(","))):
        who, when, action = item.split(":")
        if who.startswith("*%"):
            k, r = who[2:].split("=")
            hit = pid % int(k) == int(r)
        else:
            hit = pid == int(who)
        if hit and when == round_name:
            return action
    return None


class _Client(NumPyClient):
    def __init__(self, pid: int) -> None:
        self.pid = pid

    def fit(self, parameters, config):
        return task.train(parameters, self.pid), task.num_examples(self.pid), {"partition-id": self.pid}


def make_client_app(settings: dict | None = None) -> ClientApp:
    def client_fn(context: Context):
        return _Client(int(context.node_config["partition-id"])).to_client()

    def fault_and_timing_mod(msg, ctxt, call_next):
        s = _settings(ctxt, settings)
        pid = int(ctxt.node_config["partition-id"])
        round_name = _round_of(msg)
        action = _fails(str(s["fail"]), pid, round_name)
        if action == "hang":
            time.sleep(float(s["hang-seconds"]))
            raise RuntimeError(f"partition {pid} hung in {round_name}")
        if action == "raise":
            raise RuntimeError(f"partition {pid} fails in {round_name} (injected)")
        inner = secagg_mod if s["impl"] == "secagg" else secaggplus_mod
        fit_seconds = 0.0

        def timed_next(m, c):
            nonlocal fit_seconds
            t0 = time.perf_counter()
            out = call_next(m, c)
            fit_seconds += time.perf_counter() - t0
            return out

        t0 = time.perf_counter()
        out = inner(msg, ctxt, timed_next)
        if round_name is not None and not out.has_error():
            out.content.config_records["bench"] = ConfigRecord(
                {"client-seconds": time.perf_counter() - t0 - fit_seconds, "round": round_name})
        return out

    return ClientApp(client_fn=client_fn, mods=[fault_and_timing_mod])


class _CheckingFedAvg(FedAvg):
    """FedAvg that checks each aggregate against the plaintext weighted mean of the included clients."""

    def __init__(self, settings: dict, checks: list, **kwargs) -> None:
        super().__init__(**kwargs)
        self._settings, self._checks, self._globals = settings, checks, None

    def configure_fit(self, server_round, parameters, client_manager):
        self._globals = parameters_to_ndarrays(parameters)
        return super().configure_fit(server_round, parameters, client_manager)

    def aggregate_fit(self, server_round, results, failures):
        pids = sorted(int(fitres.metrics["partition-id"]) for _, fitres in results)
        if results:
            got = parameters_to_ndarrays(results[0][1].parameters)
            want = task.expected_mean(self._globals, pids, float(self._settings["clipping-range"]),
                                      float(self._settings["max-weight"]))
            err = max(float(np.max(np.abs(g.astype(np.float64) - w))) for g, w in zip(got, want))
            self._checks.append({"round": server_round, "included": pids, "max_error": err,
                                 "total_weight": sum(min(task.num_examples(p), float(self._settings["max-weight"]))
                                                     for p in pids)})
        return super().aggregate_fit(server_round, results, failures)


class _TimedGrid:
    """The Grid with the time spent in it, the payload bytes in both directions, and the client timings."""

    def __init__(self, grid) -> None:
        self._grid, self.seconds, self.down, self.up, self.client = grid, 0.0, 0, 0, []

    def __getattr__(self, name):
        return getattr(self._grid, name)

    def push_messages(self, messages):
        messages = list(messages)
        self.down += sum(payload_bytes(m.content) for m in messages)
        t0 = time.perf_counter()
        try:
            return self._grid.push_messages(messages)
        finally:
            self.seconds += time.perf_counter() - t0

    def _account(self, replies):
        for r in replies:
            if r.has_content():
                self.up += payload_bytes(r.content)
                bench = r.content.config_records.get("bench")
                if bench is not None:
                    self.client.append((r.metadata.src_node_id, float(bench["client-seconds"])))

    def pull_messages(self, message_ids):
        t0 = time.perf_counter()
        try:
            replies = list(self._grid.pull_messages(message_ids))
        finally:
            self.seconds += time.perf_counter() - t0
        self._account(replies)
        return replies

    def send_and_receive(self, messages, *, timeout=None):
        messages = list(messages)
        self.down += sum(payload_bytes(m.content) for m in messages)
        t0 = time.perf_counter()
        try:
            replies = list(self._grid.send_and_receive(messages, timeout=timeout))
        finally:
            self.seconds += time.perf_counter() - t0
        self._account(replies)
        return replies


class _TimedFit:
    """Runs a fit workflow with a timed Grid and records one row per fit round."""

    def __init__(self, inner, rows: list) -> None:
        self.inner, self.rows = inner, rows

    def __call__(self, grid, context) -> None:
        timed = _TimedGrid(grid)
        t0 = time.perf_counter()
        self.inner(timed, context)
        wall = time.perf_counter() - t0
        per_client: dict[int, float] = {}
        for nid, seconds in timed.client:
            per_client[nid] = per_client.get(nid, 0.0) + seconds
        self.rows.append({
            "wall_seconds": wall, "server_seconds": wall - timed.seconds, "grid_seconds": timed.seconds,
            "bytes_down": timed.down, "bytes_up": timed.up,
            "mean_client_seconds": (sum(per_client.values()) / len(per_client)) if per_client else None,
            "clients_timed": len(per_client),
        })


def make_server_app(settings: dict | None = None) -> ServerApp:
    app = ServerApp()

    @app.main()
    def main(grid, context: Context) -> None:
        s = _settings(context, settings)
        clients = int(s["min-clients"])
        checks: list = []
        rows: list = []
        strategy = _CheckingFedAvg(
            s, checks, fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=clients,
            min_available_clients=clients,
            initial_parameters=ndarrays_to_parameters(task.initial_parameters(int(s["model-size"]))),
        )
        legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=int(s["num-server-rounds"])),
                               strategy=strategy)
        num_shares, threshold = float(s["num-shares"]), float(s["reconstruction-threshold"])
        # Flower's forms: a float ≤ 1 is a fraction, a larger number a count.
        num_shares = num_shares if num_shares <= 1 else int(num_shares)
        threshold = threshold if threshold <= 1 else int(threshold)
        ours = s["impl"] == "secagg"
        if ours:
            def on_round(report):
                if s["pause-after"] and report.name == s["pause-after"]:
                    log(INFO, "PAUSED after %s for up to %s s", report.name, s["pause-seconds"])
                    until = time.time() + float(s["pause-seconds"])
                    while time.time() < until and not (s["resume-file"] and os.path.exists(str(s["resume-file"]))):
                        time.sleep(0.2)
                    log(INFO, "RESUMED")

            finder = num_shares <= 0
            fit = SecAggWorkflow(
                None if finder else num_shares, None if finder else threshold,
                max_weight=float(s["max-weight"]), clipping_range=float(s["clipping-range"]),
                timeout=float(s["timeout"]), modulus_bits=int(s["modulus-bits"]),
                corrupt_fraction=float(s["corrupt-fraction"]), dropout_fraction=float(s["dropout-fraction"]),
                on_round=on_round,
            )
        else:
            fit = SecAggPlusWorkflow(
                num_shares, threshold,
                max_weight=float(s["max-weight"]), clipping_range=float(s["clipping-range"]),
                timeout=float(s["timeout"]),
            )
        started = time.time()
        try:
            DefaultWorkflow(fit_workflow=_TimedFit(fit, rows))(grid, legacy)
        finally:
            report = {"settings": s, "checks": checks, "rows": rows, "seconds": time.time() - started}
            if ours:
                report["sessions"] = [
                    {"round": r.fl_round, "clients": r.clients, "degree": r.degree, "threshold": r.threshold,
                     "completed": r.completed, "abort_reason": r.abort_reason, "included": len(r.included),
                     "seconds": r.seconds, "server_seconds": r.server_seconds,
                     "dropped": {str(k): v for k, v in r.dropped.items()},
                     "worst_case_mean_error": r.worst_case_mean_error, "scale": r.scale,
                     "rounds": [{"name": x.name, "answered": x.answered, "sent_to": x.sent_to,
                                 "seconds": x.seconds, "dropped": len(x.dropped)} for x in r.rounds]}
                    for r in fit.reports]
            if s["report-path"]:
                with open(str(s["report-path"]), "w") as f:
                    json.dump(report, f, indent=1)
            else:
                log(WARNING, "report: %s", json.dumps(report)[:2000])

    return app


serverapp = make_server_app()
clientapp = make_client_app()


def simulate(settings: dict, supernodes: int) -> None:
    """Runs the apps in Flower's simulation runtime (Ray backend, one CPU per virtual client)."""
    from flwr.simulation import run_simulation

    run_simulation(
        make_server_app(settings), make_client_app(settings), num_supernodes=supernodes,
        backend_config={"client_resources": {"num_cpus": 1}},
    )


if __name__ == "__main__":  # python -m flower_secagg.testing SETTINGS.json SUPERNODES
    import sys

    with open(sys.argv[1]) as f:
        simulate(json.load(f), int(sys.argv[2]))
