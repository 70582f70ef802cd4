#!/usr/bin/env python3
"""The cost of driving a session from Python: the same session through the `secagg` package and through
`secagg bench protocol`, side by side.

    pip install ./Bindings/Python
    python3 Benchmarks/python_overhead.py                 # n = 100, m = 100,000, Z_2^32, 10% drop after sharing keys
    python3 Benchmarks/python_overhead.py --clients 20 --length 10000

The session: n clients, one input of m elements of Z_{2^bits}, threshold ⌈2(n − 1)/3⌉ on the complete graph, and
a fraction of the clients dropping after they shared keys (they do not answer the masked-input request: the
dropouts that cost the server one pairwise mask per surviving neighbour). All parties run in this one process,
one client at a time, every message through its bytes.

What is compared. `secagg bench protocol` reports one included client's compute over the session (its thread's
CPU time, mean over the included clients, per round) and the server's (wall clock of its calls). Its session
compute is therefore

    swift = included × client_s + dropped × (client time of advertise-keys and share-keys) + server_s,

the whole session run one party at a time. Both sides run the server's unmasking on one thread
(`--server-threads 1`, `unmasking_threads=1`) and the clients one at a time (`--side-by-side 1`), so every
party works on the thread that calls it. The Python side is measured three ways:

* compute, exactly as the benchmark measures: each client call by the calling thread's CPU time, each server
  call by the wall clock (like for like with `swift`: the cost of the binding on each call);
* session CPU: the driving thread's CPU time over the whole session, construction of every party, the Python
  loop, ctypes and numpy conversions included (inputs are made beforehand, as the benchmark hands them over
  untimed) — everything Python adds, and insensitive to other work on the machine;
* wall clock of the whole session, which on a shared machine also counts the time other processes held the
  cores (the load average is printed).

The ratio against the target is session CPU over `swift`. Each side runs `--repeat` times (default 3) and keeps
its best figures, as the benchmarks of this package do on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import secagg

REPOSITORY = Path(__file__).resolve().parents[1]


def swift_benchmark(args) -> tuple[dict, list[str]]:
    """Runs `secagg bench protocol` for the same session; returns its JSON report and the command."""
    command = [
        "swift", "run", "-c", "release", "secagg", "bench", "protocol",
        "--clients", str(args.clients), "--length", str(args.length), "--bits", str(args.bits),
        "--drop", f"{args.drop}@masked-input", "--side-by-side", "1", "--server-threads", "1", "--json",
    ]
    output = subprocess.run(command, cwd=REPOSITORY, check=True, capture_output=True, text=True).stdout
    report = json.loads(output.strip().splitlines()[-1])
    return report, command


def swift_session_seconds(report: dict) -> float:
    """The Swift session's compute, every party one after the other."""
    rounds = report["client_rounds_s"]  # advertise-keys, share-keys, masked-input, unmasking (complete graph)
    dropped = report["dropped_after_sharing"]
    return report["included"] * report["client_s"] + dropped * (rounds[0] + rounds[1]) + report["server_s"]


def python_session(args) -> dict:
    """Runs the session through the Python package; returns its timings and whether the sum verified."""
    n, m = args.clients, args.length
    rng = np.random.default_rng(args.seed)
    order = 1 << args.bits
    inputs = {u: [rng.integers(0, order, m, dtype=np.uint64)] for u in range(1, n + 1)}
    dropped = set(int(u) for u in rng.permutation(np.arange(1, n + 1))[: round(args.drop * n)])
    client_seconds = {u: 0.0 for u in range(1, n + 1)}
    server_seconds = 0.0

    def timed_client(u, call, *arguments):
        start = time.thread_time()
        result = call(*arguments)
        client_seconds[u] += time.thread_time() - start
        return result

    def timed_server(call, *arguments):
        nonlocal server_seconds
        start = time.perf_counter()
        result = call(*arguments)
        server_seconds += time.perf_counter() - start
        return result

    wall_start = time.perf_counter()
    cpu_start = time.thread_time()
    config = secagg.SessionConfiguration(n, secagg.default_threshold(n), [secagg.Input("input", m, bits=args.bits)])
    server = secagg.Server(config, unmasking_threads=1)
    clients = {u: secagg.Client(config, u, inputs[u]) for u in range(1, n + 1)}
    for u, client in clients.items():
        timed_server(server.receive, timed_client(u, client.start), u)
    while server.state == "collecting":
        outbox = timed_server(server.advance)
        for u in sorted(outbox):
            if u in dropped and server.round != "share_keys":
                continue  # dropped after sharing keys: answers nothing after the key broadcast
            reply = timed_client(u, clients[u].handle, outbox[u])
            if reply is not None:
                timed_server(server.receive, reply, u)
    result = server.result
    cpu = time.thread_time() - cpu_start
    wall = time.perf_counter() - wall_start

    verified = False
    if result is not None:
        expected = np.zeros(m, dtype=np.uint64)
        for u in result.included:
            expected += inputs[u][0]  # wraps modulo 2^64; reduced below
        verified = bool(np.array_equal(result.vectors[0], expected % np.uint64(order) if args.bits < 64 else expected))
    included = result.included if result is not None else []
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "client_s": sum(client_seconds.values()),
        "client_s_per_included": sum(client_seconds[u] for u in included) / max(1, len(included)),
        "server_s": server_seconds,
        "included": len(result.included) if result else 0,
        "dropped_after_sharing": len(dropped),
        "verified": verified,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--length", type=int, default=100_000)
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--drop", type=float, default=0.1, help="fraction dropping after sharing keys")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the best figures are kept")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    reports = []
    for _ in range(max(1, args.repeat)):
        report, command = swift_benchmark(args)
        if not report.get("verified"):
            print("the Swift session did not verify", file=sys.stderr)
            return 1
        reports.append(report)
    report = min(reports, key=swift_session_seconds)
    swift = swift_session_seconds(report)
    runs = []
    for _ in range(max(1, args.repeat)):
        run = python_session(args)
        if not run["verified"]:
            print("the Python session did not verify", file=sys.stderr)
            return 1
        runs.append(run)
    python = min(runs, key=lambda run: run["cpu_s"])
    python["wall_s"] = min(run["wall_s"] for run in runs)
    python_compute = python["client_s"] + python["server_s"]
    summary = {
        "clients": args.clients,
        "length": args.length,
        "bits": args.bits,
        "dropped_after_sharing": python["dropped_after_sharing"],
        "swift_command": " ".join(command),
        "swift_session_s": swift,
        "swift_client_s": report["client_s"],
        "swift_server_s": report["server_s"],
        "python_session_cpu_s": python["cpu_s"],
        "python_wall_s": python["wall_s"],
        "python_compute_s": python_compute,
        "python_client_s": python["client_s_per_included"],
        "python_server_s": python["server_s"],
        "ratio": python["cpu_s"] / swift,
        "compute_ratio": python_compute / swift,
        "wall_ratio": python["wall_s"] / swift,
        "load_average": os.getloadavg()[0],
        "cores": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"session: n={args.clients} m={args.length} Z_2^{args.bits}, "
              f"{python['dropped_after_sharing']} clients dropping after sharing keys, {os.cpu_count()} cores")
        print(f"swift  ({' '.join(command)}):")
        print(f"  session compute {swift:.3f} s (client {report['client_s']:.4f} s each, server {report['server_s']:.3f} s)")
        print("python (secagg package, one process, one party at a time):")
        print(f"  session CPU {python['cpu_s']:.3f} s; compute {python_compute:.3f} s "
              f"(client {summary['python_client_s']:.4f} s each, server {python['server_s']:.3f} s); "
              f"wall clock {python['wall_s']:.3f} s (load average {summary['load_average']:.1f})")
        print(f"ratio python/swift: {summary['ratio']:.3f} (session CPU; target ≤ 1.3), "
              f"{summary['compute_ratio']:.3f} (compute per call), {summary['wall_ratio']:.3f} (wall clock)")
    return 0 if math.isfinite(summary["ratio"]) else 1


if __name__ == "__main__":
    sys.exit(main())
