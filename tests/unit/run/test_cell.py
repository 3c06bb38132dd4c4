"""What a cell will run, decided without Docker: commands, environment, mounts, security."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from harness.engine.container import CellContainer, ContainerSpec, Mount
from harness.model.matrix import Cell, DepsetSpec, Settings, Timeouts, load_matrix
from harness.model.results import BaseRecord
from harness.run.cell import (
    CA_MOUNT,
    CellJob,
    container_environment,
    imports_probe_args,
    pip_install_command,
    reproducer,
    system_install_command,
)
from harness.run.uv import UvFetched

ROOT = Path(__file__).resolve().parents[3]


def _base(**fields: Any) -> BaseRecord:
    """A resolved base's record, as the run gives it to a cell."""
    return BaseRecord.from_dict({"name": "b", **fields})


def job(tmp_path: Path, **settings: object) -> CellJob:
    cell = Cell("py311", "spacy", Timeouts(60, 60), 1, "2g", None)
    return CellJob(
        cell=cell,
        repeat=0,
        run_id="r1",
        runner="host:1",
        base=_base(image="harness-standin/x:1", image_id="sha256:1", standin="stand-in for y"),
        depset=DepsetSpec(pip=["spacy>=3"], pip_args=["--only-binary", ":all:"]),
        settings=Settings(**settings),
        probes_dir=ROOT / "probes",
        matrix_dir=tmp_path,
        out_dir=tmp_path,
    )


def test_system_install_commands_per_package_manager() -> None:
    apt = system_install_command("apt", ["ffmpeg", "curl"])
    assert "apt-get install -y -q --no-install-recommends ffmpeg curl" in apt
    assert "rm -rf /var/lib/apt/lists/*" in apt  # size added is what a good Dockerfile adds
    assert system_install_command("apk", ["ffmpeg"]) == "apk add --no-cache ffmpeg"


def test_pip_command_uses_report_wheelhouses_and_args(tmp_path: Path) -> None:
    command = pip_install_command(job(tmp_path), [tmp_path])
    assert "--report /tmp/harness/pip-report.json" in command
    assert "--find-links /harness/wheelhouse/0" in command
    assert "--only-binary :all: 'spacy>=3'" in command
    assert "--no-index" not in command and "--no-compile" not in command


def test_warm_cells_install_offline_without_byte_compiling_and_remove_later(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from harness.run.cell import CellRun

    warm = replace(job(tmp_path), warm_wheelhouse=str(tmp_path), warm_image="sha256:" + "a" * 64)
    command = pip_install_command(warm, [])
    assert "--no-index" in command and "--no-compile" in command
    assert "--find-links /harness/wheelhouse/warm" in command
    assert imports_probe_args(replace(warm, depset=DepsetSpec(imports=["a", "b"]))) == [
        "--runs",
        "1",
        "a",
        "b",
    ]
    assert imports_probe_args(replace(job(tmp_path), depset=DepsetSpec(imports=["a"]))) == ["a"]
    spec = CellRun(warm, client=None, redactor=None)._container_spec()  # type: ignore[arg-type]
    assert spec.image == warm.warm_image and spec.remove_in_background
    cold = CellRun(job(tmp_path), client=None, redactor=None)._container_spec()  # type: ignore[arg-type]
    assert not cold.remove_in_background and cold.has_timeout is None  # no base facts: ask


def test_base_facts_spare_the_per_cell_checks(tmp_path: Path) -> None:
    from dataclasses import replace

    from harness.run.cell import CellRun

    known = replace(
        job(tmp_path), base=_base(**job(tmp_path).base.to_dict(), tools={"timeout": True})
    )
    spec = CellRun(known, client=None, redactor=None)._container_spec()  # type: ignore[arg-type]
    assert spec.has_timeout is True


def test_environment_points_tls_at_the_mounted_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    env = container_environment(Settings(ca_bundle=str(bundle)), tmp_path)
    assert env["PIP_CERT"] == env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == CA_MOUNT
    assert "PIP_CERT" not in container_environment(Settings(ca_bundle=None), tmp_path)
    secret = container_environment(
        Settings(extra_index_urls=["https://u:tok@idx.example/simple"]),
        tmp_path,
    )
    assert secret["PIP_EXTRA_INDEX_URL"].startswith("https://u:tok@")  # env, never argv


def test_reproducer_has_a_dockerfile_and_commands(tmp_path: Path) -> None:
    steps = [
        {"name": "venv", "kind": "install", "command": "python3.11 -m venv /opt/harness-venv"},
        {"name": "probe:env", "kind": "probe", "command": "/opt/harness-venv/bin/python env.py"},
    ]
    mounts = [Mount(str(ROOT / "probes"), "/harness/probes"), Mount("/etc/ca.crt", CA_MOUNT)]
    out = reproducer(job(tmp_path), steps, mounts, {"PIP_CERT": CA_MOUNT})
    assert out["dockerfile"].splitlines()[1] == "FROM harness-standin/x:1"
    assert "COPY ca.crt /harness/ca.crt" in out["dockerfile"]
    assert "RUN python3.11 -m venv /opt/harness-venv" in out["dockerfile"]
    assert out["commands"][0].startswith("docker run -d --name harness-r1-py311_x_spacy-r0")
    assert any("network disconnect" in c for c in out["commands"])
    assert out["commands"][-1].startswith("docker rm -f")


def test_containers_are_unprivileged_with_read_only_mounts() -> None:
    spec = ContainerSpec(
        image="img",
        name="n",
        labels={"harness.run": "r"},
        mounts=[Mount("/probes", "/harness/probes")],
        memory="1g",
        cpus=1.5,
    )
    kwargs = CellContainer(client=None, spec=spec)._run_kwargs()  # type: ignore[arg-type]
    assert kwargs["privileged"] is False and kwargs["cap_drop"] == ["ALL"]
    assert "SYS_ADMIN" not in kwargs["cap_add"] and "NET_ADMIN" not in kwargs["cap_add"]
    assert all(v["mode"] == "ro" for v in kwargs["volumes"].values())
    assert not any("docker.sock" in k for k in kwargs["volumes"])
    assert kwargs["mem_limit"] == kwargs["memswap_limit"] == "1g"
    assert kwargs["nano_cpus"] == 1_500_000_000
    assert kwargs["labels"] == {"harness.run": "r"}


def test_keyword_selection_matches_cell_ids() -> None:
    matrix = load_matrix(ROOT / "matrix.yaml")
    chosen = {c.id for c in matrix.select("py311 and spacy")}
    assert chosen == {"py311-slim×spacy"}
    assert len(matrix.select("")) == len(matrix.cells)
    assert all("ffmpeg" not in c.id for c in matrix.select("not ffmpeg"))


def test_longest_cells_come_first_and_unknown_cells_borrow_their_depsets_time() -> None:
    from harness.model.results import Results
    from harness.run.schedule import estimate, longest_first, previous_durations

    items = ["a", "b", "c", "d", "e"]
    assert longest_first(items, [10.0, 50.0, 40.0, 30.0, 20.0]) == ["b", "c", "d", "e", "a"]
    assert longest_first(items, [1.0, 2.0, 2.0, 1.0, 0.0]) == ["b", "c", "a", "d", "e"]
    previous = Results.from_json_data(
        {
            "schema_version": 1,
            "run": {},
            "cells": [
                {"id": "x", "base": "b", "depset": "d", "status": "passed", "seconds": s}
                for s in (3, 5, 100)
            ]
            + [{"id": "y", "base": "b", "depset": "d", "status": "error"}],  # no time: left out
        },
        "previous",
    )
    assert previous_durations(previous) == {"x": 5}
    assert previous_durations(None) == {}
    cell = Cell("b", "d", Timeouts(60, 60), 1, None, None)
    assert estimate(cell, DepsetSpec(pip=["x"]), {"b×d": 7.0}) == 7.0
    # A base new to the matrix: its cell takes the depset's median on the other bases.
    assert estimate(cell, DepsetSpec(pip=["x"]), {"a×d": 80.0, "c×d": 90.0, "a×e": 1.0}) == 85.0
    assert estimate(cell, DepsetSpec(pip=["x", "y"]), {}) > estimate(cell, DepsetSpec(), {})


def test_alpine_path_renders_apk_commands_and_reproducer(tmp_path: Path) -> None:
    alpine = CellJob(
        cell=Cell("alpine", "ffmpeg", Timeouts(60, 60), 1, None, None),
        repeat=0,
        run_id="r",
        runner="h:1",
        base=_base(image="python:3.15-alpine", image_id="sha256:2", standin=None),
        depset=DepsetSpec(system={"apt": ["ffmpeg"], "apk": ["ffmpeg"]}),
        settings=Settings(),
        probes_dir=ROOT / "probes",
        matrix_dir=tmp_path,
        out_dir=tmp_path,
    )
    command = system_install_command("apk", alpine.depset.system["apk"])
    steps = [{"name": "system-packages", "kind": "install", "command": command}]
    out = reproducer(alpine, steps, [], {})
    assert "FROM python:3.15-alpine" in out["dockerfile"]
    assert "RUN apk add --no-cache ffmpeg" in out["dockerfile"]
    assert any("apk add --no-cache ffmpeg" in c for c in out["commands"])


def test_environment_limits_can_be_scoped_to_bases() -> None:
    from harness.model.matrix import LimitRule

    rule = LimitRule(pattern="x", reason="y", bases=["*-slim"])
    assert rule.applies_to("py313-slim") and not rule.applies_to("py315-alpine")
    assert LimitRule(pattern="x", reason="y").applies_to("anything")


def test_an_oom_cell_fails_the_run() -> None:
    from harness.analysis.gate import exit_code

    cell = {"id": "a×b", "base": "a", "depset": "b", "status": "oom", "repeat": 0}
    results = {"schema_version": 1, "run": {"id": "r"}, "bases": [], "cells": [cell]}
    assert exit_code(results, None, {"status"}) == 1


def test_background_removals_are_waited_for() -> None:
    import threading

    from harness.engine.container import _BackgroundRemovals

    removed = threading.Event()

    class SlowContainer:
        # Stands in for docker's Container.remove, called with force=True by keyword.
        def remove(self, force: bool) -> None:  # noqa: ARG002
            threading.Event().wait(0.2)
            removed.set()

    pending = _BackgroundRemovals()
    pending.submit(SlowContainer())  # type: ignore[arg-type]
    assert not removed.is_set()  # the cell does not wait for it...
    pending.wait(timeout=10)
    assert removed.is_set()  # ...the session end does


def test_env_facts_cache_key_follows_image_interpreter_and_probe_code(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from harness.engine.bases import env_cache_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    probes = tmp_path / "probes"
    probes.mkdir()
    (probes / "env.py").write_text("v1")
    first = env_cache_path(probes, "sha256:1", "python3")
    assert first.is_relative_to(tmp_path / "cache" / "harness")
    assert env_cache_path(probes, "sha256:1", "python3") == first
    assert env_cache_path(probes, "sha256:2", "python3") != first
    assert env_cache_path(probes, "sha256:1", "python3.11") != first
    (probes / "env.py").write_text("v2")
    assert env_cache_path(probes, "sha256:1", "python3") != first


# -- the uv installer: a base×depset+uv cell -------------------------------------------


def uv_job(tmp_path: Path, uv: UvFetched | None, **settings: object) -> CellJob:
    from dataclasses import replace

    cell = Cell("py311", "spacy", Timeouts(60, 60), 1, "2g", None, installer="uv")
    return replace(job(tmp_path, **settings), cell=cell, uv=uv)


UV_FACTS: UvFetched = {
    "path": "/cache/uv-0.13.9/uv",
    "version": "0.13.9",
    "wheel": "uv.whl",
    "static": True,
}


def test_uv_cell_installs_with_the_pips_indexes_wheelhouses_and_ca(tmp_path: Path) -> None:
    from harness.run.cell import CellRun, uv_install_shell

    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    settings = {"ca_bundle": str(ca), "index_url": "https://idx.example/simple"}
    settings["wheelhouses"] = [str(tmp_path)]  # type: ignore[assignment]
    uv_cell = uv_job(
        tmp_path, UV_FACTS, extra_index_urls=["https://more.example/simple"], **settings
    )
    command = uv_install_shell(uv_cell, [tmp_path])
    assert command.startswith("/harness/uv/uv pip install --python /opt/harness-venv/bin/python")
    for part in (
        "--no-cache",
        "--compile-bytecode",
        "--index-strategy unsafe-best-match",
        "--default-index https://idx.example/simple",
        "--index https://more.example/simple",
        "--find-links /harness/wheelhouse/0",
        "--only-binary :all: 'spacy>=3'",
    ):
        assert part in command, part
    run = CellRun(uv_cell, client=None, redactor=None)  # type: ignore[arg-type]
    assert run._env()["SSL_CERT_FILE"] == CA_MOUNT == run._env()["PIP_CERT"]
    assert run._env()["UV_NO_CONFIG"] == "1"
    mounts = {m.target: m for m in run._mounts()}
    assert mounts["/harness/uv/uv"].host == UV_FACTS["path"] and mounts["/harness/uv/uv"].read_only
    assert mounts["/harness/wheelhouse/0"].host == str(tmp_path)


def test_warm_uv_cell_installs_offline_without_byte_compiling(tmp_path: Path) -> None:
    from dataclasses import replace

    from harness.run.cell import uv_install_shell

    warm = replace(uv_job(tmp_path, UV_FACTS), warm_wheelhouse=str(tmp_path))
    command = uv_install_shell(warm, [])
    assert "--no-index" in command and "--compile-bytecode" not in command
    assert "--find-links /harness/wheelhouse/warm" in command


def test_uv_cell_records_its_installer_and_strategy(tmp_path: Path) -> None:
    from harness.run.cell import installer_record

    record = installer_record(uv_job(tmp_path, UV_FACTS, uv_index_strategy="first-index"))
    assert record is not None
    assert record.name == "uv" and record.version == "0.13.9"
    assert record.index_strategy == "first-index" and record.compile_bytecode is True
    assert installer_record(job(tmp_path)) is None  # pip's version comes from its report


def test_uv_cell_is_unavailable_with_the_fetchs_reason(tmp_path: Path) -> None:
    from harness.run.cell import CellRun, installer_unavailable

    reason = "could not fetch uv==0.0.1 from the index on the host: ERROR: No matching ..."
    missing = uv_job(tmp_path, {"reason": reason})
    assert installer_unavailable(missing) == f"uv unavailable: {reason}"
    assert installer_unavailable(uv_job(tmp_path, None)) == (
        "uv unavailable: uv was not fetched for this run"
    )
    assert installer_unavailable(uv_job(tmp_path, UV_FACTS)) is None
    assert installer_unavailable(job(tmp_path)) is None
    # Decided before any container starts: no client is needed.
    from dataclasses import replace

    base_ok = replace(missing, base=_base(**{**missing.base.to_dict(), "status": "available"}))
    record = CellRun(base_ok, client=None, redactor=None).run()  # type: ignore[arg-type]
    assert record.status == "unavailable" and record.reason == f"uv unavailable: {reason}"
    assert record.id == "py311×spacy+uv" and record.steps == []


def test_keyword_selection_knows_installers() -> None:
    matrix = load_matrix(ROOT / "matrices" / "installers.yaml")
    chosen = {c.id for c in matrix.select("py311 and spacy")}
    assert chosen == {"py311-slim×spacy", "py311-slim×spacy+uv"}
    assert {c.id for c in matrix.select("py311 and spacy and not uv")} == {"py311-slim×spacy"}
    assert {c.id for c in matrix.select("py311 and spacy+uv")} == {"py311-slim×spacy+uv"}
    assert {c.id for c in matrix.select("py311 and spacy and pip")} == {"py311-slim×spacy"}


def test_a_new_uv_cell_borrows_the_time_of_uv_cells_of_its_depset() -> None:
    from harness.run.schedule import estimate

    known = {"a×spacy": 100.0, "a×spacy+uv": 20.0, "a×ffmpeg": 50.0}
    depset = DepsetSpec(pip=["spacy"])
    assert (
        estimate(Cell("b", "spacy", Timeouts(1, 1), 1, None, None, installer="uv"), depset, known)
        == 20.0
    )
    assert estimate(Cell("b", "spacy", Timeouts(1, 1), 1, None, None), depset, known) == 100.0


def test_a_non_root_image_gets_root_only_for_system_packages_and_the_venv(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from harness.run.cell import non_root_user, venv_command

    assert [non_root_user(u) for u in (None, "", "root", "0", "0:0", "app", "1000:1000")] == [
        "",
        "",
        "",
        "",
        "",
        "app",
        "1000:1000",
    ]
    assert venv_command("python3", "") == "python3 -m venv /opt/harness-venv"
    assert venv_command("python3", "app").endswith("&& chown -R app /opt/harness-venv")
    steps = [
        {"name": "system-packages", "kind": "install", "command": "apt-get install x", "user": "0"},
        {"name": "venv", "kind": "install", "command": "python3 -m venv v", "user": "0"},
        {"name": "pip-install", "kind": "install", "command": "v/bin/pip install y", "user": "app"},
    ]
    non_root = replace(job(tmp_path), base=_base(image="img:1", image_id="x", user="app"))
    out = reproducer(non_root, steps, [], {})
    runs = [line for line in out["dockerfile"].splitlines() if line.startswith(("USER", "RUN"))]
    assert runs[0] == "USER root" and runs[3] == "USER app" and runs[4].startswith("RUN v/bin")
    assert " --user 0 " in out["commands"][0]
    assert out["commands"][1].startswith("docker exec -u 0 ")
    assert out["commands"][3].startswith("docker exec -u app harness-")


class GrowingBox:
    """A container stand-in whose writable layer grows by a known amount per step."""

    GROWTH: ClassVar[dict[str, int]] = {
        "apt-get": 180_000_000,
        "-m venv": 12_000_000,
        "pip install": 400_000_000,
    }

    def __init__(self) -> None:
        self.size = 0
        self.size_queries = 0

    def run_shell(self, script: str, **_: object) -> Any:
        from harness.engine.container import ExecOutcome

        self.size += sum(v for k, v in self.GROWTH.items() if k in script)
        return ExecOutcome(0, "", "", 0.1)

    def exec(self, argv: list[str], timeout: float) -> Any:  # noqa: ARG002
        from harness.engine.container import ExecOutcome

        if "pip.log" in argv[-1] and "rm -rf" in argv[-1]:
            self.size -= 1_000  # pip's log and report, removed after the step
        return ExecOutcome(0, "", "", 0.01)

    def size_added(self) -> int:
        self.size_queries += 1
        return self.size


def on_apt(cell_job: CellJob) -> CellJob:
    from dataclasses import replace

    return replace(
        cell_job, base=_base(**{**cell_job.base.to_dict(), "tools": {"package_manager": "apt-get"}})
    )


def test_each_install_step_records_the_bytes_it_added(tmp_path: Path) -> None:
    from dataclasses import replace

    from harness.analysis.sizes import step_sizes
    from harness.run.cell import CellRun
    from harness.run.redact import Redactor

    ffmpeg = replace(job(tmp_path), depset=DepsetSpec(pip=["av"], system={"apt": ["ffmpeg"]}))
    run = CellRun(on_apt(ffmpeg), client=None, redactor=Redactor())  # type: ignore[arg-type]
    box = GrowingBox()
    run._start_sizing(box)  # type: ignore[arg-type]
    assert run._install(box)  # type: ignore[arg-type]
    box.size += 5_000  # what the probes write (bytecode of a module pip did not compile)
    run._record_size(box)  # type: ignore[arg-type]
    added = {s.name: s.bytes_added for s in run.steps}
    assert added == {
        "system-packages": 180_000_000,
        "venv": 12_000_000,
        "pip-install": 400_000_000 - 1_000,  # measured after pip's own clean-up
    }
    assert run.facts.size_added_bytes == 180_000_000 + 12_000_000 + 399_999_000 + 5_000
    assert run.facts.size_probes_bytes == 5_000
    facts = {k: getattr(run.facts, k) for k in ("size_start_bytes", "size_added_bytes")}
    sizes = step_sizes(
        {
            **facts,
            **{"id": "b×d", "base": "b", "depset": "d", "status": "passed"},
            "size_probes_bytes": run.facts.size_probes_bytes,
            "size_measure_seconds": run.facts.size_measure_seconds,
            "steps": [s.to_dict() for s in run.steps],
        }
    )
    assert sizes is not None and sizes.accounted == sizes.total
    assert box.size_queries == 5  # start, three steps, the end: the cost in engine calls


def test_a_failed_step_still_records_what_it_left_behind(tmp_path: Path) -> None:
    from harness.run.cell import CellRun
    from harness.run.redact import Redactor

    class FailingPip(GrowingBox):
        def run_shell(self, script: str, **kwargs: object) -> Any:
            from harness.engine.container import ExecOutcome

            outcome = super().run_shell(script, **kwargs)
            return ExecOutcome(1, "", "ERROR", 0.1) if "pip install" in script else outcome

    run = CellRun(on_apt(job(tmp_path)), client=None, redactor=Redactor())  # type: ignore[arg-type]
    box = FailingPip()
    run._start_sizing(box)  # type: ignore[arg-type]
    assert not run._install(box)  # type: ignore[arg-type]
    pip = next(s for s in run.steps if s.name == "pip-install")
    assert pip.status == "failed" and pip.bytes_added == 399_999_000


def test_a_stand_in_without_a_package_manager_is_a_limit_of_here(tmp_path: Path) -> None:
    """The musl stand-in has no apk; python:3.15-alpine has one: not `unsupported`."""
    from dataclasses import replace

    from harness.run.cell import CellRun
    from harness.run.redact import Redactor

    musl = replace(
        job(tmp_path),
        depset=DepsetSpec(system={"apt": ["ffmpeg"], "apk": ["ffmpeg"]}),
        base=_base(image_id="x", reference="python:3.15-alpine", standin="musl, no apk",
                   tools={"package_manager": "none"}),
    )  # fmt: skip
    run = CellRun(musl, client=None, redactor=Redactor())  # type: ignore[arg-type]
    assert not run._install(GrowingBox())  # type: ignore[arg-type]
    assert run.steps[-1].status == "unavailable"
    assert str(run.facts.environment_limit).startswith(
        "this stand-in for python:3.15-alpine has no package manager"
    )
    image = replace(
        musl, base=_base(**{**musl.base.to_dict(), "standin": None})
    )  # the image itself: its property
    run = CellRun(image, client=None, redactor=Redactor())  # type: ignore[arg-type]
    assert not run._install(GrowingBox())  # type: ignore[arg-type]
    assert run.steps[-1].status == "unsupported"


def test_an_empty_writable_layer_is_zero_bytes_not_unknown() -> None:
    class Api:
        def __init__(self, rows: list[dict[str, Any]]) -> None:
            self.rows = rows

        def containers(self, **_: object) -> list[dict[str, Any]]:
            return self.rows

    class Client:
        def __init__(self, rows: list[dict[str, Any]]) -> None:
            self.api = Api(rows)

    def size(rows: list[dict[str, Any]]) -> int | None:
        box = CellContainer(Client(rows), None)  # type: ignore[arg-type]
        box.container = type("C", (), {"id": "abc"})()
        return box.size_added()

    assert size([{"Id": "abc"}]) == 0  # the engine omits SizeRw when it is 0
    assert size([{"Id": "abc", "SizeRw": 4096}]) == 4096
    assert size([]) is None  # not listed: unknown


class PrintingBox(GrowingBox):
    """A container whose every command prints ``stdout`` and exits 0."""

    def __init__(self, stdout: str) -> None:
        super().__init__()
        self.stdout = stdout

    def run_shell(self, script: str, **_: object) -> Any:  # noqa: ARG002
        from harness.engine.container import ExecOutcome

        return ExecOutcome(0, self.stdout, "", 0.2)


def test_a_probe_output_of_the_wrong_shape_is_an_error_step_not_a_crash(tmp_path: Path) -> None:
    from harness.run.cell import CellRun
    from harness.run.redact import Redactor

    run = CellRun(job(tmp_path), client=None, redactor=Redactor())  # type: ignore[arg-type]
    box = PrintingBox('{"status": "passed", "libc": {"family": 3}}')
    assert run._probe(box, "python", "env", [])  # type: ignore[arg-type]
    step = run.steps[-1]
    assert step.status == "error" and "$.env.libc.family" in str(step.error)
    assert run.facts.probes["env"] == {"status": "error", "error": step.error}


def test_the_cell_record_is_built_once_frozen_and_written_as_strict_json(
    tmp_path: Path,
) -> None:
    import json
    import time

    import pydantic
    import pytest

    from harness.model.results import CellRecord
    from harness.run.cell import CellRun, write_cell_result
    from harness.run.redact import Redactor

    run = CellRun(job(tmp_path), client=None, redactor=Redactor())  # type: ignore[arg-type]
    box = PrintingBox('{"status": "passed", "seconds": NaN, "timings": {"x": Infinity}}')
    assert run._probe(box, "python", "smoke_spacy", [])  # type: ignore[arg-type]
    record = run._finish(run._status(), None, time.time())
    assert isinstance(record, CellRecord) and record.status == "passed"
    assert record.steps[0].name == "probe:smoke_spacy" and record.steps[0].status == "passed"
    with pytest.raises(pydantic.ValidationError):
        record.status = "failed"  # type: ignore[misc]
    path = write_cell_result(tmp_path, "py311-spacy.r0.json", record, "log")
    written = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(c))
    assert written["probes"]["smoke_spacy"]["seconds"] is None
    assert written["non_finite"] == {
        "$.probes.smoke_spacy.seconds": "nan",
        "$.probes.smoke_spacy.timings.x": "inf",
    }
    # every key today's record has, and the same values
    for key in ("id", "base", "depset", "repeat", "status", "reason", "standin", "container",
                "package_manager", "steps", "distributions", "download_bytes",
                "size_added_bytes", "probes", "probes_offline", "expected_failure",
                "runner_pid", "warm", "installer", "started_at", "ended_at", "seconds",
                "install_seconds", "reproducer"):  # fmt: skip
        assert key in written, key
    assert written["installer"] == {"name": "pip", "version": None}
