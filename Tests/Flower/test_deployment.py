"""A real Flower deployment on loopback: `flower-superlink`, ten `flower-supernode` processes and `flwr run`
of the example app, with secure aggregation by secagg.flower. Two SuperNodes are killed with SIGKILL between
two rounds of our protocol (after share-keys, so the server must remove their pairwise masks); the session
completes with the eight survivors and the aggregate equals the plaintext weighted mean of exactly those
clients within the quantization plan's bound. Every process is started and stopped here, on free ports, and
the test is bounded in time.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import EXAMPLE, free_port

SUPERNODES = 10
KILLED = 2
BUDGET = 420  # seconds for the whole deployment, start to report
BIN = Path(sys.executable).parent


def _write_app(app: Path) -> None:
    """The example app with the test components (failures, pause, report) as its ServerApp and ClientApp."""
    shutil.copytree(EXAMPLE / "flower_secagg", app / "flower_secagg",
                    ignore=shutil.ignore_patterns("__pycache__"))
    text = (EXAMPLE / "pyproject.toml").read_text()
    text = text.replace('"flower_secagg.server_app:app"', '"flower_secagg.testing:serverapp"')
    text = text.replace('"flower_secagg.client_app:app"', '"flower_secagg.testing:clientapp"')
    text = re.sub(r"\[tool\.flwr\.app\.config\].*", "", text, flags=re.S)
    text += "\n[tool.flwr.app.config]\n" + "\n".join(
        f"{k} = {json.dumps(v)}" for k, v in {
            "impl": "secagg", "num-server-rounds": 1, "min-clients": SUPERNODES, "model-size": 2000,
            "timeout": 45.0, "clipping-range": 8.0, "max-weight": 1000.0, "modulus-bits": 32,
            "num-shares": 1.0, "reconstruction-threshold": 0.5, "corrupt-fraction": 0.05, "dropout-fraction": 0.1,
            "fail": "", "hang-seconds": 0.0, "pause-after": "share-keys", "pause-seconds": 120.0,
            "resume-file": str(app.parent / "resume"),
            "report-path": str(app.parent / "report.json"),
        }.items()) + "\n"
    (app / "pyproject.toml").write_text(text)


def _wait_port(port: int, deadline: float, proc) -> None:
    import socket
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the SuperLink exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def test_deployment_survives_two_killed_supernodes(tmp_path, processes):
    deadline = time.time() + BUDGET
    home = tmp_path / "flwr-home"
    home.mkdir()
    # The SuperLink and SuperNodes start their helpers (flower-superexec, flwr-serverapp, flwr-clientapp) by
    # name: this interpreter's scripts must come first on PATH.
    env = dict(os.environ, FLWR_HOME=str(home), PYTHONUNBUFFERED="1",
               PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    app = tmp_path / "app"
    _write_app(app)

    port = free_port()
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "test"\n\n[superlink.test]\naddress = "127.0.0.1:{port}"\ninsecure = true\n')
    superlink = processes.start([str(BIN / "flower-superlink"), "--insecure", "--port", str(port),
                                 "--disable-runtime-dependency-installation"], tmp_path / "superlink.log", env=env,
                                cwd=tmp_path)
    _wait_port(port, time.time() + 60, superlink)
    nodes = []
    for pid in range(SUPERNODES):
        nodes.append(processes.start(
            [str(BIN / "flower-supernode"), "--insecure", "--superlink", f"127.0.0.1:{port}",
             "--port", str(free_port()), "--node-config", f"partition-id={pid} num-partitions={SUPERNODES}"],
            tmp_path / f"supernode-{pid}.log", env=env, cwd=tmp_path))

    run = subprocess.Popen([str(BIN / "flwr"), "run", str(app), "test", "--stream"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=tmp_path,
                           start_new_session=True)
    processes.procs.append(run)
    lines: list[str] = []
    killed: list[int] = []
    buffer = b""
    while time.time() < deadline:
        ready, _, _ = select.select([run.stdout], [], [], 1.0)
        if ready:
            chunk = os.read(run.stdout.fileno(), 65536)
            if not chunk:
                break
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            for raw in done:
                line = raw.decode(errors="replace")
                lines.append(line)
                if "PAUSED after share-keys" in line and not killed:
                    for victim in nodes[:KILLED]:
                        processes.kill(victim, signal.SIGKILL)
                        killed.append(victim.pid)
                    for victim in nodes[:KILLED]:
                        victim.wait(timeout=10)
                    (tmp_path / "resume").touch()  # the ServerApp goes on with the masked-input round
        elif run.poll() is not None:
            break
    log = "\n".join(lines)
    (tmp_path / "flwr-run.log").write_text(log)
    assert time.time() < deadline, f"the deployment did not finish within {BUDGET} s:\n{log[-4000:]}"
    assert killed, f"the run never reached the pause after share-keys:\n{log[-4000:]}"
    report_path = tmp_path / "report.json"
    assert report_path.exists(), f"no report:\n{log[-4000:]}"
    report = json.loads(report_path.read_text())
    session = report["sessions"][0]
    assert session["completed"], session
    assert session["clients"] == SUPERNODES
    assert session["included"] == SUPERNODES - KILLED, session
    names = [r["name"] for r in session["rounds"]]
    masked = session["rounds"][names.index("masked-input")]
    assert masked["sent_to"] == SUPERNODES and masked["answered"] == SUPERNODES - KILLED, session["rounds"]
    check = report["checks"][0]
    assert len(check["included"]) == SUPERNODES - KILLED
    assert check["max_error"] <= session["worst_case_mean_error"], (check, session)
