"""The installer as evidence: pip_version's command, the venv's pip version, the record."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.model.matrix import BaseSpec, DepsetSpec, Invalid, Settings, pip_version_text
from harness.model.results import BaseRecord
from harness.run import installer

VENV = "/opt/harness-venv"


def job(
    base_pip: str | None = None,
    pip: str | None = None,
    kind: str = "pip",
    depset: DepsetSpec | None = None,
) -> Any:
    return SimpleNamespace(
        cell=SimpleNamespace(installer=kind),
        depset=depset or DepsetSpec(pip=["six"]),
        base=BaseRecord(name="b", pip_version=base_pip),
        settings=Settings(pip_version=pip),
    )


def test_no_pip_version_means_no_step() -> None:
    assert installer.pip_seed_command(job(), VENV) is None


def test_the_matrix_wide_pip_version_is_installed_from_the_same_links() -> None:
    command = installer.pip_seed_command(job(pip="24.0"), VENV, ["/wheelhouse/0"])
    assert command == (
        f"{VENV}/bin/python -m pip install --progress-bar off --disable-pip-version-check"
        " --find-links /wheelhouse/0 pip==24.0"
    )


def test_the_base_pip_version_wins_over_the_matrix_one() -> None:
    command = installer.pip_seed_command(job(base_pip="25.1.1", pip="24.0"), VENV)
    assert command is not None and command.endswith(" pip==25.1.1")


def test_a_specifier_is_kept_and_quoted_for_the_shell() -> None:
    command = installer.pip_seed_command(job(pip=">=24, <25"), VENV)
    assert command is not None and command.endswith(" 'pip>=24,<25'")


def test_a_uv_cell_gets_no_pip_step() -> None:
    assert installer.pip_seed_command(job(pip="24.0", kind="uv"), VENV) is None


@pytest.mark.parametrize(
    ("output", "version"),
    [
        (
            "pip 24.0 from /opt/harness-venv/lib/python3.11/site-packages/pip (python 3.11)\n",
            "24.0",
        ),
        ("WARNING: x\npip 23.0.1 from /usr/lib/python3/dist-packages/pip (python 3.11)", "23.0.1"),
        ("/opt/harness-venv/bin/python: No module named pip\n", None),
        ("", None),
    ],
)
def test_the_venv_pip_version_is_read_from_pip_version(output: str, version: str | None) -> None:
    assert installer.parse_pip_version(output) == version


def test_the_version_command_asks_the_venv() -> None:
    assert installer.installer_version_command(VENV) == f"{VENV}/bin/python -m pip --version"


def test_the_record_names_the_found_and_the_requested_pip() -> None:
    record = installer.pip_installer_record("24.0", job(pip="~=24.0"))
    assert record.to_dict() == {"name": "pip", "version": "24.0", "requested": "~=24.0"}
    assert installer.pip_installer_record(None, job()).requested is None


@pytest.mark.parametrize("value", ["24.0", "25.1.1", "~=24.2", ">=24,<25", "==24.0", " 24.0 "])
def test_pip_versions_and_specifiers_load(value: str) -> None:
    assert pip_version_text(value) == value.strip()
    assert Settings(pip_version=value).pip_version == value.strip()


@pytest.mark.parametrize("value", ["latest", "", "24.0,", "pip==24.0", "=>24"])
def test_other_pip_versions_are_refused_with_the_fix(value: str) -> None:
    with pytest.raises(Invalid) as caught:
        pip_version_text(value)
    assert "24.0" in caught.value.fix


def test_a_base_takes_its_own_pip_version() -> None:
    spec = BaseSpec(image="python:3.11-slim", pip_version="24.0")
    assert spec.pip_version == "24.0"


def test_a_bad_pip_version_in_a_matrix_is_exit_2_with_its_key(tmp_path: Path) -> None:
    from harness.model.errors import ConfigurationError
    from harness.model.matrix import load_matrix

    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nsettings:\n  pip_version: newest\nbases:\n  a:\n    image: x:1\n"
        "    pip_version: '24'\ndepsets:\n  one: {pip: [six]}\n"
    )
    with pytest.raises(ConfigurationError) as caught:
        load_matrix(path)
    assert caught.value.exit_code == 2
    problems = list(caught.value.problems)
    assert [(p.line, p.key) for p in problems] == [(3, "settings.pip_version")]
    assert "24.0" in str(problems[0])


def test_only_cells_that_install_with_pip_get_the_pip_step() -> None:
    assert installer.installs_with_pip(job())
    assert not installer.installs_with_pip(job(kind="uv"))
    assert not installer.installs_with_pip(job(depset=DepsetSpec(system={"apt": ["ffmpeg"]})))


# -- wired into the cell's install steps (run/cell.py CellRun._pip_seed) ---------------------


class PipBox:
    """A container stand-in: every command passes except the ones named to fail; pip
    answers ``--version`` with the version the last pip-upgrade installed."""

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.fail = fail
        self.pip = "24.0"
        self.scripts: list[str] = []

    def run_shell(self, script: str, **_: object) -> Any:
        from harness.engine.container import ExecOutcome

        self.scripts.append(script)
        if any(word in script for word in self.fail):
            return ExecOutcome(1, "", "ERROR: No matching distribution found for pip==0.0.1", 0.1)
        if "install --progress-bar off --disable-pip-version-check" in script:
            self.pip = script.rsplit("pip==", 1)[-1]
        return ExecOutcome(0, "", "", 0.1)

    def exec(self, argv: list[str], timeout: float) -> Any:  # noqa: ARG002
        from harness.engine.container import ExecOutcome

        if argv[-1].endswith("-m pip --version"):
            return ExecOutcome(
                0, f"pip {self.pip} from {VENV}/lib/python3.11/site-packages/pip\n", "", 0.01
            )
        return ExecOutcome(0, "", "", 0.01)

    def size_added(self) -> int:
        return 0


def cell_run(tmp_path: Path, pip_version: str | None = None) -> Any:
    from harness.model.matrix import Cell, Timeouts
    from harness.run.cell import CellJob, CellRun
    from harness.run.redact import Redactor

    cell_job = CellJob(
        cell=Cell("py311", "six", Timeouts(60, 60), 1, "2g", None),
        repeat=0,
        run_id="r1",
        runner="host:1",
        base=BaseRecord.from_dict(
            {
                "name": "b",
                "image": "i:1",
                "image_id": "sha256:1",
                "tools": {"package_manager": "apt-get"},
            }
        ),
        depset=DepsetSpec(pip=["six"]),
        settings=Settings(pip_version=pip_version),
        probes_dir=tmp_path,
        matrix_dir=tmp_path,
        out_dir=tmp_path,
    )
    run = CellRun(cell_job, client=None, redactor=Redactor())  # type: ignore[arg-type]
    return run


def test_a_failed_install_still_records_the_venvs_pip(tmp_path: Path) -> None:
    run, box = cell_run(tmp_path), PipBox(fail=("--report",))
    assert not run._install(box)
    assert [s.name for s in run.steps] == ["venv", "pip-install"]
    assert run.facts.installer is not None
    assert run.facts.installer.to_dict() == {"name": "pip", "version": "24.0", "requested": None}


def test_pip_version_runs_its_own_step_before_the_install(tmp_path: Path) -> None:
    run, box = cell_run(tmp_path, "25.0.1"), PipBox()
    assert run._install(box)
    assert [s.name for s in run.steps] == ["venv", installer.PIP_SEED_STEP, "pip-install"]
    assert run.steps[1].command.endswith(" pip==25.0.1")
    assert run.facts.installer is not None
    assert run.facts.installer.to_dict() == {
        "name": "pip",
        "version": "25.0.1",
        "requested": "25.0.1",
    }


def test_a_pip_version_no_index_has_fails_the_cell_with_its_kind(tmp_path: Path) -> None:
    run, box = cell_run(tmp_path, "0.0.1"), PipBox(fail=("pip==0.0.1",))
    assert not run._install(box)
    assert run.steps[-1].name == installer.PIP_SEED_STEP
    assert run.steps[-1].status == "failed"
    assert run.steps[-1].failure_kind == "no-matching-distribution"
    assert str(run.facts.reason).startswith(f"{installer.PIP_SEED_STEP}: no-matching-distribution")
