"""harness as a user installs it: a wheel in a fresh venv outside the checkout.

The wheel must carry everything a run needs (probes, templates, the schema, the musl
recipe); a checkout-relative path would make a pipx install unable to run one cell. And it
must stay small: `pip install harness` adds under 100 MB to a fresh venv (no pandas,
pyarrow or numpy: the history is SQLite, from the standard library).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path
from typing import Any, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_ADDED_BYTES = 100 * 1000 * 1000  # what `pip install harness` may add to a fresh venv
ONE_CELL = """\
version: 1
settings: {jobs: 1, timeout: 600, memory: 2g, cpus: 1, pull_timeout: 10}
bases:
  py311:
    image: python:3.11-slim
    standin:
      debootstrap: {suite: bookworm, python: "3.11"}
depsets:
  tiny:
    pip: [six]
    imports: [six]
"""


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


class Installed(NamedTuple):
    bin: Path
    added_bytes: int  # what installing the wheel and its dependencies added to site-packages


def _tree_bytes(folder: Path) -> int:
    """The bytes of every file under ``folder`` (apparent sizes, symlinks not followed)."""
    return sum(
        (Path(top) / name).lstat().st_size for top, _, names in os.walk(folder) for name in names
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A venv holding harness from its wheel, and nothing of the checkout."""
    where = tmp_path_factory.mktemp("installed")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where), str(ROOT)],
        where,
        600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(where.glob("harness-*.whl"))
    venv.create(where / "venv", with_pip=True)
    python = where / "venv" / "bin" / "python"
    site = Path(sysconfig.get_path("purelib", vars={"base": str(where / "venv")}))
    before = _tree_bytes(site)  # pip and setuptools, seeded by venv
    done = _run([str(python), "-m", "pip", "install", "-q", str(wheel)], where, 900)
    assert done.returncode == 0, done.stderr[-3000:]
    return Installed(where / "venv" / "bin", _tree_bytes(site) - before)


@pytest.mark.integration
def test_the_install_is_small(installed: Installed) -> None:
    assert 0 < installed.added_bytes < MAX_ADDED_BYTES, f"{installed.added_bytes / 1e6:.1f} MB"
    heavy = "('pandas', 'pyarrow', 'numpy')"
    code = f"import importlib.util as u; print([m for m in {heavy} if u.find_spec(m)])"
    done = _run([str(installed.bin / "python"), "-c", code], installed.bin, 60)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


@pytest.mark.integration
def test_the_wheel_carries_its_data(installed: Installed) -> None:
    code = (
        "import harness, pathlib; root = pathlib.Path(harness.__file__).parent; "
        "print(sorted(p.name for p in (root / 'probes').glob('*.py'))); "
        "print((root / 'documents' / 'templates' / 'report.html.j2').is_file(), "
        "(root / 'schema' / 'matrix.schema.json').is_file(), "
        "(root / 'standins' / 'musl' / 'Dockerfile').is_file())"
    )
    done = _run([str(installed.bin / "python"), "-c", code], installed.bin, 60)
    assert done.returncode == 0, done.stderr
    probes, flags = done.stdout.splitlines()
    assert "env.py" in probes and "imports.py" in probes and "smoke_spacy.py" in probes
    assert flags == "True True True"


@pytest.mark.integration
@pytest.mark.usefixtures("docker_client")
def test_an_installed_harness_runs_a_cell_in_another_folder(
    installed: Installed, tmp_path: Path
) -> None:
    (tmp_path / "matrix.yaml").write_text(ONE_CELL, encoding="utf-8")
    done = _run([str(installed.bin / "harness"), "run", "--out", "out"], tmp_path, 1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results: dict[str, Any] = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [c["status"] for c in results["cells"]] == ["passed"]
    assert (tmp_path / "out" / "report.html").is_file()
    assert (tmp_path / "out" / "history" / "history.sqlite").is_file()  # without pandas
