"""Security and reliability against the real engine (issue 5): a secret given to the run
never reaches an output, the cell's container is locked down and offline for probes,
concurrent runs keep to themselves, and an engine restart mid-run ends in data."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.engine.container import INSTALL_CAPABILITIES
from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration

PROBES = ROOT / "tests" / "probes"
HARNESS_CLI = [sys.executable, "-m", "harness"]
ENSURE_DOCKER = ROOT / "scripts" / "ensure-docker.sh"
DOCKER_PIDFILE = Path("/var/run/docker.pid")
TOKEN = "FAKE-TOKEN-5f3a9c"
INDEX_WITH_TOKEN = f"https://harness:{TOKEN}@127.0.0.1:9/simple"
# What a leak could look like: the token itself, or the Basic auth header pip would send.
LEAK_FORMS = [TOKEN, base64.b64encode(f"harness:{TOKEN}".encode()).decode()]

# The py311 stand-in recipe exactly as in tests/matrices/slow.yaml: the cached image is reused.
PY311 = """\
bases:
  py311:
    image: python:3.11-slim
    standin:
      debootstrap: {suite: bookworm, python: "3.11"}
"""


def write_matrix(folder: Path, depsets: dict[str, Any], **settings: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    merged = {
        "jobs": 1,
        "timeout": 300,
        "memory": "1g",
        "cpus": 1,
        "pull_timeout": 20,
        "extra_probes_dir": str(PROBES),
        **settings,
    }
    path = folder / "matrix.yaml"
    path.write_text(
        "version: 1\n"
        + yaml.safe_dump({"settings": merged}, sort_keys=False)
        + PY311
        + yaml.safe_dump({"depsets": depsets}, sort_keys=False),
        encoding="utf-8",
    )
    return path


def tail(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def run_id_of(out: Path) -> str:
    return str(json.loads((out / "prepare.json").read_text())["run"]["id"])


def results_of(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "results.json").read_text()))


def labelled(client: Any, run_id: str) -> list[dict[str, Any]]:
    """The run's containers, sparse (no inspect: a container may vanish meanwhile)."""
    return list(client.api.containers(all=True, filters={"label": f"harness.run={run_id}"}))


def remove_run(client: Any, run_id: str) -> None:
    for row in labelled(client, run_id):
        with contextlib.suppress(Exception):  # already gone, or being removed
            client.api.remove_container(row["Id"], force=True)


# --- secrets ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token_run(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Any:
    """One run whose index URL and environment carry a fake token, printed by a probe."""
    root = tmp_path_factory.mktemp("secrets")
    matrix = write_matrix(
        root / "matrix",  # the only place the token may be: outside the outputs
        {
            "secret": {
                "pip": ["six"],
                "pip_args": ["--retries", "0", "--timeout", "3"],
                "probes": ["echo_env"],
            }
        },
        extra_index_urls=[INDEX_WITH_TOKEN],
        env={"HARNESS_API_TOKEN": TOKEN},
    )
    reports = root / "reports"
    out = reports / "run"
    done = harness("run", str(matrix), "--out", str(out), timeout=900)
    assert (out / "results.json").exists(), tail(done)
    yield {"done": done, "out": out, "reports": reports, "results": results_of(out)}
    remove_run(docker_client, run_id_of(out))


def _readable_text(path: Path) -> str:
    """A file's content as text; for the SQLite history, its values too (a page may split one)."""
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".sqlite":
        with contextlib.closing(sqlite3.connect(path)) as connection:
            raw += "\n".join(connection.iterdump())
    return raw


def test_a_fake_token_never_reaches_any_output(token_run: dict[str, Any]) -> None:
    done, out, results = token_run["done"], token_run["out"], token_run["results"]
    cell = results["cells"][0]
    # The fake index fails fast, PyPI still serves six: the cell really ran its probe...
    assert done.returncode == 0 and cell["status"] == "passed", tail(done)
    # ...which printed the secret on stdout, stderr and in its JSON: it flowed, masked.
    assert cell["probes"]["echo_env"]["token"] == "***"
    assert any("HARNESS_API_TOKEN=***" in p.read_text() for p in (out / "logs").glob("*.log"))

    written = [p for p in token_run["reports"].rglob("*") if p.is_file() and not p.is_symlink()]
    names = {p.relative_to(out).as_posix() for p in written if p.is_relative_to(out)}
    for expected in ("results.json", "report.html", "junit.xml", "summary.md", "prepare.json"):
        assert expected in names, sorted(names)
    assert any(n.startswith("cells/") for n in names) and any(n.startswith("logs/") for n in names)
    assert any(p.suffix == ".sqlite" for p in written), "no history written?"

    leaks = [
        f"{path.relative_to(token_run['reports'])}: {form!r}"
        for path in written
        for form in LEAK_FORMS
        if form in _readable_text(path)
    ]
    leaks += [f"CLI {stream}: {form!r}" for stream in ("stdout", "stderr") for form in LEAK_FORMS
              if form in getattr(done, stream)]  # fmt: skip
    assert leaks == [], "the fake token leaked into:\n" + "\n".join(leaks)


def test_redaction_masks_the_secret_not_the_user_name(token_run: dict[str, Any]) -> None:
    cell = token_run["results"]["cells"][0]
    pip = next(s for s in cell["steps"] if s["name"] == "pip-install")
    assert "/opt/harness-venv/bin/python -m pip install" in pip["command"], pip["command"]


# --- the container's locks ---------------------------------------------------------------


def test_cell_container_is_locked_down_and_probes_run_offline(
    tmp_path: Path, docker_client: Any
) -> None:
    matrix = write_matrix(tmp_path / "matrix", {"lockdown": {"probes": ["netcheck", "sandbox"]}})
    out = tmp_path / "reports" / "run"
    done = harness("run", str(matrix), "--out", str(out), "--keep", timeout=900)
    assert (out / "prepare.json").exists(), tail(done)
    run_id = run_id_of(out)
    try:
        assert done.returncode == 0, tail(done)
        kept = labelled(docker_client, run_id)
        assert len(kept) == 1, kept
        attrs = docker_client.api.inspect_container(kept[0]["Id"])
        host = attrs["HostConfig"]

        assert host["Privileged"] is False
        assert "ALL" in (host.get("CapDrop") or [])
        added = {c.removeprefix("CAP_") for c in host.get("CapAdd") or []}
        assert added <= set(INSTALL_CAPABILITIES), added
        assert any(o.startswith("no-new-privileges") for o in host.get("SecurityOpt") or [])
        for mode in ("NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode"):
            assert host.get(mode) != "host", (mode, host.get(mode))
        assert not host.get("Devices"), host.get("Devices")

        mounts = attrs["Mounts"]
        assert any(m["Destination"] == "/harness/probes" for m in mounts), mounts
        for mount in mounts:
            assert "docker.sock" not in mount["Source"] + mount["Destination"], mount
            assert "containerd" not in mount["Source"], mount
            assert mount["Type"] == "bind" and mount["RW"] is False, mount
        assert all(bind.endswith(":ro") for bind in host.get("Binds") or []), host["Binds"]

        # The network was cut before the probes: no network left on the kept container...
        assert not attrs["NetworkSettings"]["Networks"], attrs["NetworkSettings"]["Networks"]
        cell = results_of(out)["cells"][0]
        assert cell["status"] == "passed", cell.get("reason")
        assert cell["probes_offline"] is True
        steps = {s["name"]: s for s in cell["steps"]}
        assert steps["probe:netcheck"]["network"] == "none"
        assert steps["probe:sandbox"]["network"] == "none"
        assert steps["venv"]["network"] == "bridge"
        # ...and from inside, nothing could be reached and the only interface is lo.
        netcheck = cell["probes"]["netcheck"]
        assert netcheck["status"] == "passed" and netcheck["connected"] == [], netcheck
        assert set(netcheck["attempts"]) >= {"1.1.1.1:53", "pypi.org:443"}
        assert all(v != "connected" for v in netcheck["attempts"].values())
        assert netcheck["interfaces"] == ["lo"], netcheck["interfaces"]
        # Seen from inside too: no forbidden capability, no-new-privileges, no socket, ro.
        sandbox = cell["probes"]["sandbox"]
        assert sandbox["status"] == "passed", sandbox
        assert sandbox["no_new_privs"] == "1" and sandbox["forbidden_capabilities"] == []
        assert sandbox["mounts"] and all(m["read_only"] for m in sandbox["mounts"])
    finally:
        remove_run(docker_client, run_id)
    assert labelled(docker_client, run_id) == []


# --- concurrent runs ---------------------------------------------------------------------


def _start_runs(matrix: Path, outs: list[Path], logs: list[Path]) -> list[subprocess.Popen[bytes]]:
    processes = []
    for out, log in zip(outs, logs, strict=True):
        with log.open("w") as handle:
            processes.append(
                subprocess.Popen(
                    [*HARNESS_CLI, "run", str(matrix), "--out", str(out), "--jobs", "1"],
                    cwd=ROOT,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                )
            )
    return processes


def _watch_containers(
    docker_client: Any, processes: list[subprocess.Popen[bytes]]
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Poll the engine while the runs last: every container seen (id -> its labels and names)
    and the run ids seen with containers at the same moment. Kills runs left at the end."""
    seen: dict[str, dict[str, Any]] = {}
    together: set[str] = set()
    deadline = time.monotonic() + 900
    try:
        while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
            try:
                rows = docker_client.api.containers(all=True, filters={"label": "harness.run"})
            except Exception:  # the engine is busy; look again
                rows = []
            for row in rows:
                seen.setdefault(row["Id"], {"labels": row["Labels"], "names": row["Names"]})
            runs_now = {row["Labels"]["harness.run"] for row in rows}
            if len(runs_now) > 1:
                together |= runs_now
            time.sleep(0.3)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=60)
    return seen, together


def _check_run_kept_to_itself(
    run_id: str, out: Path, pid: int, seen: dict[str, dict[str, Any]]
) -> None:
    results = results_of(out)
    assert results["run"]["id"] == run_id
    assert [c["id"] for c in results["cells"]] == ["py311×tiny"]
    for cell in results["cells"]:
        assert cell["status"] == "passed", cell.get("reason")
        assert cell["container"].startswith(f"harness-{run_id}-"), cell["container"]
        assert cell["runner_pid"] == pid
    assert [p.name for p in (out / "cells").iterdir()] == ["py311_x_tiny.r0.json"]
    mine = [c for c in seen.values() if c["labels"]["harness.run"] == run_id]
    assert mine, f"never saw a container of run {run_id}"
    host = os.uname().nodename
    for container in mine:
        assert container["labels"]["harness.runner"] == f"{host}:{pid}", container
        assert container["names"] == [f"/harness-{run_id}-py311_x_tiny-r0"], container
        assert container["labels"]["harness.cell"] == "py311×tiny"


def test_concurrent_runs_keep_to_their_own_containers_and_results(
    tmp_path: Path, docker_client: Any
) -> None:
    matrix = write_matrix(tmp_path / "matrix", {"tiny": {"pip": ["six"], "probes": ["nap"]}})
    reports = tmp_path / "reports"  # shared, as reports/ is for two runs on one machine
    outs = [reports / "a", reports / "b"]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = _start_runs(matrix, outs, logs)
    seen, together = _watch_containers(docker_client, processes)
    output = [log.read_text()[-3000:] for log in logs]
    assert [p.returncode for p in processes] == [0, 0], output

    ids = [run_id_of(out) for out in outs]
    assert ids[0] != ids[1]
    assert set(ids) <= together, f"the two runs never had containers at once: {together}"
    for run_id, out, process in zip(ids, outs, processes, strict=True):
        _check_run_kept_to_itself(run_id, out, process.pid, seen)
        assert labelled(docker_client, run_id) == [], "a container of the run was left behind"


# --- the engine restarting mid-run ------------------------------------------------------


def _dockerd_pid() -> int | None:
    try:
        pid = int(DOCKER_PIDFILE.read_text().strip())
        return pid if Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd" else None
    except (OSError, ValueError):
        return None


def _exited(pid: int) -> bool:
    """Gone, or a zombie nobody reaps (no init system here): either way it no longer runs."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    state = next(line.split()[1] for line in status.splitlines() if line.startswith("State:"))
    return state in ("Z", "X")


def _engine_answers() -> bool:
    done = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


def _ensure_engine() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ENSURE_DOCKER)], capture_output=True, text=True, timeout=300, check=False
    )


def _wait_for_probe(client: Any, out: Path, probe: str, seconds: float = 400) -> str:
    """Wait until the run's container is running `probe`; return the container id."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (out / "prepare.json").exists():
            for row in labelled(client, run_id_of(out)):
                if row["State"] != "running":
                    continue
                try:
                    # -ww: ps would cut the command line short, and the probe's name with it
                    top = client.api.top(row["Id"], ps_args="-ww -eo pid,args")
                    processes = top["Processes"] or []
                except Exception:
                    continue
                if any(f"{probe}.py" in " ".join(p) for p in processes):
                    return str(row["Id"])
        time.sleep(0.5)
    raise AssertionError(f"the run never started probe {probe}")


def _stop_or_dump(process: subprocess.Popen[bytes], log: Path, seconds: float) -> str | None:
    """Wait for the run; if it hangs, make it dump every thread's stack (faulthandler)."""
    try:
        process.wait(timeout=seconds)
        return None
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER=1: stacks to stderr
        time.sleep(5)
        process.kill()
        process.wait(timeout=60)
        return log.read_text()[-12000:]


@pytest.mark.disruptive
def test_engine_restart_mid_run_ends_in_data_and_resumes(
    tmp_path: Path, docker_client: Any
) -> None:
    pid = _dockerd_pid()
    if pid is None:
        pytest.skip("the engine is not a local dockerd (no /var/run/docker.pid) to restart")
    matrix = write_matrix(tmp_path / "matrix", {"slow": {"probes": ["slow"]}, "tiny": {}})
    out = tmp_path / "reports" / "run"
    log = tmp_path / "run.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [*HARNESS_CLI, "run", str(matrix), "--out", str(out)],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        )
    try:
        _restart_mid_probe_then_resume(docker_client, pid, process, matrix, out, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
        if not _engine_answers():
            _ensure_engine()
        if (out / "prepare.json").exists():
            remove_run(docker_client, run_id_of(out))


def _restart_mid_probe_then_resume(
    client: Any, pid: int, process: subprocess.Popen[bytes], matrix: Path, out: Path, log: Path
) -> None:
    _wait_for_probe(client, out, "slow")
    os.kill(pid, signal.SIGTERM)
    stopping = time.monotonic()
    while not _exited(pid):
        assert time.monotonic() - stopping < 180, "dockerd did not stop within 180 s"
        time.sleep(0.5)
    started = _ensure_engine()
    assert started.returncode == 0, started.stdout + started.stderr
    # The run must end by itself, well before the slow probe's 120 s would have.
    hung = _stop_or_dump(process, log, seconds=300)
    assert hung is None, f"the run hung after the engine restart; its stacks:\n{hung}"

    output = log.read_text()
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-6000:]
    assert (out / "results.json").exists(), output[-6000:]
    assert process.returncode == 1, output[-6000:]  # a cell failed: exit 1, not a crash
    cells = {c["depset"]: c for c in results_of(out)["cells"]}
    slow = cells["slow"]
    assert slow["status"] in ("error", "timeout"), (slow["status"], slow.get("reason"))
    if slow["status"] == "error":
        assert any(w in (slow.get("reason") or "").lower() for w in ("engine", "docker")), slow
    # The other cell went on after the engine came back, or is left for --resume.
    tiny = cells.get("tiny")
    if tiny is not None and tiny["status"] != "passed":
        assert tiny["status"] == "error" and "engine" in (tiny.get("reason") or ""), tiny

    resumed = harness("run", "--resume", str(out), str(matrix), timeout=900)
    assert resumed.returncode == 0, tail(resumed)
    after = {c["depset"]: c for c in results_of(out)["cells"]}
    assert after["slow"]["status"] == "passed", after["slow"].get("reason")
    assert after["tiny"]["status"] == "passed", after["tiny"].get("reason")
    assert labelled(client, run_id_of(out)) == [], "the resumed run left containers behind"
