"""Flower's simulation runtime (Ray backend) with 20 virtual clients: each fit round is one session of our
secure aggregation, and its aggregate must equal the plaintext FedAvg mean over exactly the included clients
within the quantization plan's worst-case bound. Clients fail on purpose — raising in every round, hanging past
the round's timeout — and are dropped while the rounds complete.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import EXAMPLE

from flower_secagg import task

CLIENTS = 20


def _simulate(tmp_path, **settings) -> dict:
    report = tmp_path / "report.json"
    settings = {"report-path": str(report), "min-clients": CLIENTS, **settings}
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(EXAMPLE), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "flower_secagg.testing", str(path), str(CLIENTS)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    (tmp_path / "simulation.log").write_text(proc.stdout + proc.stderr)
    assert report.exists(), f"no report (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-6000:]}"
    return json.loads(report.read_text())


def _check_exact(report: dict, expected_included: list[list[int]]) -> None:
    sessions, checks = report["sessions"], report["checks"]
    assert len(checks) == len(expected_included), report
    for session, check, want in zip(sessions, checks, expected_included):
        assert session["completed"], session
        assert check["included"] == want, (check["included"], want)
        assert session["included"] == len(want)
        # The aggregate is the plaintext weighted mean of exactly these clients, up to the plan's bound.
        assert check["max_error"] <= session["worst_case_mean_error"], (check, session)
        assert check["total_weight"] == sum(task.num_examples(p) for p in want)


def test_complete_graph_with_a_failure_in_every_round(tmp_path):
    # Partition 1 raises when the setup arrives (advertise-keys), 2 in share-keys, 3 hangs past the timeout in
    # masked-input (while it trains), 4 raises in unmasking (after its masked input arrived: it stays included).
    report = _simulate(
        tmp_path, **{"num-server-rounds": 1, "model-size": 5000, "num-shares": 1.0, "reconstruction-threshold": 0.5,
                     "timeout": 15.0, "hang-seconds": 18.0,
                     "fail": "1:advertise-keys:raise,2:share-keys:raise,3:masked-input:hang,4:unmasking:raise"})
    session = report["sessions"][0]
    assert session["degree"] == CLIENTS - 1 and session["threshold"] == 10
    rounds = {r["name"]: r for r in session["rounds"]}
    assert [rounds[n]["dropped"] for n in ("setup", "share-keys", "masked-input", "unmasking")] == [1, 1, 1, 1]
    _check_exact(report, [[p for p in range(CLIENTS) if p not in (1, 2, 3)]])


def test_secagg_plus_graph_from_the_finder_over_two_rounds(tmp_path):
    # No num_shares: the finder picks a Harary graph for γ = 5 %, δ = 25 % (SecAgg+ with its seed-reveal round);
    # every partition with pid % 10 == 7 (two of them) raises in masked-input, in both fit rounds.
    report = _simulate(
        tmp_path, **{"num-server-rounds": 2, "model-size": 3000, "num-shares": 0.0, "corrupt-fraction": 0.05,
                     "dropout-fraction": 0.25, "timeout": 30.0, "fail": "*%10=7:masked-input:raise"})
    for session in report["sessions"]:
        assert session["degree"] < CLIENTS - 1, session  # sparse
        assert "seed-reveal" in [r["name"] for r in session["rounds"]]
    included = [p for p in range(CLIENTS) if p % 10 != 7]
    _check_exact(report, [included, included])
