#!/usr/bin/env python3
"""Side by side with Flower's SecAgg+: the same Flower app (Examples/flower-secagg: the same clients, data and
local training, the same FedAvg) run in Flower's simulation runtime with Flower's `SecAggPlusWorkflow` +
`secaggplus_mod` and with our `SecAggWorkflow` + `secagg_mod`, on the same machine, one fit round per run.

Per run it prints:
  server s   time the ServerApp's fit workflow spent outside the Grid (not waiting for clients): Flower's
             workflow's own work, or our engine's plus our records' (our polling sleeps are excluded too)
  client s   mean per client of the time spent in the secure-aggregation mod, excluding the local training
  MB down/up payload bytes of the messages' records (byte strings and arrays) from and to the server
  match      whether the aggregate equals the plaintext weighted mean of exactly the included clients within
             the implementation's own worst-case quantization bound (ours: the plan's bound; Flower's:
             2·c·n/q_total for the rounding of n clients plus the error of its quantized weight ratios,
             2·c·(W/2Q)/min w), with the largest error seen

Usage: side_by_side.py [--clients 20 100] [--length 100000] [--drop 0 0.1] [--impl flower secagg]
                       [--num-shares 1.0 --threshold 0.5] [--json out.json]
Each run is a separate process (`python -m flower_secagg.testing`), one CPU per virtual client (Ray).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "Examples" / "flower-secagg"
sys.path.insert(0, str(EXAMPLE))

from flower_secagg import task  # noqa: E402

Q, CLIP, W = 1 << 22, 8.0, 1000.0


def run(impl: str, clients: int, length: int, drop: float, shares: float, threshold: float, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        every = round(1 / drop) if drop > 0 else 0
        settings = {
            "impl": impl, "min-clients": clients, "model-size": length, "num-server-rounds": 1,
            "timeout": timeout, "num-shares": shares, "reconstruction-threshold": threshold,
            "clipping-range": CLIP, "max-weight": W, "modulus-bits": 32,
            "fail": f"*%{every}={every - 1}:masked-input:raise" if every else "", "report-path": str(report),
        }
        (Path(tmp) / "settings.json").write_text(json.dumps(settings))
        env = dict(os.environ, FLWR_TELEMETRY_ENABLED="0", RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=os.pathsep.join([str(EXAMPLE), os.environ.get("PYTHONPATH", "")]))
        started = time.time()
        proc = subprocess.run([sys.executable, "-m", "flower_secagg.testing", str(Path(tmp) / "settings.json"),
                               str(clients)], cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.time() - started
        output = proc.stdout + proc.stderr
        refused = [line for line in output.splitlines() if "Error: " in line and "RayTaskError" not in line]
        if not report.exists() or (refused and "ConfigurationError" in refused[-1]):
            return {"impl": impl, "clients": clients, "drop": drop, "error": output[-3000:],
                    "reason": refused[-1].split("Error: ", 1)[1][:300] if refused else "see the output"}
        data = json.loads(report.read_text())
    if not data["rows"]:
        return {"impl": impl, "clients": clients, "drop": drop, "error": output[-3000:], "reason": "see the output"}
    row = data["rows"][0]
    out = {"impl": impl, "clients": clients, "length": length, "drop": drop, "run_seconds": wall, **row}
    if impl == "secagg" and data.get("sessions"):
        session = data["sessions"][0]
        out["server_seconds"] = session.get("server_seconds", out.get("server_seconds"))
        out["bound"] = session["worst_case_mean_error"]
        out["completed"] = session["completed"]
        out["abort_reason"] = session["abort_reason"]
    if data["checks"]:
        check = data["checks"][0]
        pids = check["included"]
        out["included"] = len(pids)
        out["max_error"] = check["max_error"]
        if impl == "flower":
            q_total = sum(round(task.num_examples(p) / W * Q) for p in pids)
            min_w = min(task.num_examples(p) for p in pids)
            out["bound"] = 2 * CLIP * len(pids) / q_total + 2 * CLIP * (W / (2 * Q)) / min_w
            out["completed"] = True
        out["match"] = check["max_error"] <= out["bound"]
    else:
        out["included"] = 0
        out["completed"] = out.get("completed", False)
        out["match"] = None
    return out


def fmt(row: dict) -> str:
    if "error" in row:
        return f"| {row['impl']} | {row['clients']} | {row['drop']:.0%} | did not run: {row['reason']} | | | | |"
    client = row.get("mean_client_seconds")
    client = "n/a" if client is None else f"{client:.3f}"
    match = ("yes" if row["match"] else "NO") if row["match"] is not None else "round aborted"
    err = f" (max err {row['max_error']:.2g} ≤ {row['bound']:.2g})" if row.get("max_error") is not None else ""
    return (f"| {'Flower SecAgg+' if row['impl'] == 'flower' else 'ours'} | {row['clients']} | {row['drop']:.0%} | "
            f"{row['server_seconds']:.3f} | {client} | {row['bytes_down'] / 1e6:.1f} / {row['bytes_up'] / 1e6:.1f} | "
            f"{row.get('included', 0)} | {match}{err} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, nargs="+", default=[20, 100])
    ap.add_argument("--length", type=int, default=100_000)
    ap.add_argument("--drop", type=float, nargs="+", default=[0.0, 0.1])
    ap.add_argument("--impl", nargs="+", default=["flower", "secagg"], choices=["flower", "secagg"])
    ap.add_argument("--num-shares", type=float, default=1.0, help="Flower's num_shares (1.0: every client)")
    ap.add_argument("--threshold", type=float, default=0.5, help="Flower's reconstruction_threshold")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    print("| implementation | n | dropout | server s | client s (mean) | MB down / up | included | matches plaintext mean |")
    print("|---|---|---|---|---|---|---|---|")
    for clients in args.clients:
        for drop in args.drop:
            for impl in args.impl:
                row = run(impl, clients, args.length, drop, args.num_shares, args.threshold, args.timeout)
                rows.append(row)
                print(fmt(row), flush=True)
                if args.json:
                    args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
