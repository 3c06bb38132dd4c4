"""tests.artifacts: what a suite wrote, copied into the run dir, bounded (issue 25)."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from harness.model.errors import ConfigurationError
from harness.model.matrix import ARTIFACTS_MAX_BYTES, load_matrix
from harness.model.results import TestsProbe
from harness.run import artifacts
from harness.store.files import artifacts_folder


class _Outcome:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.exit_code, self.stdout, self.stderr = done.returncode, done.stdout, done.stderr


class _LocalBox:
    """A CellContainer stand-in that runs the pack script with this python, on this host,
    with ``INSIDE_TAR`` moved into a temporary folder; get_archive wraps the file in a tar
    as the engine does."""

    def __init__(self, tar: Path) -> None:
        self.tar = tar
        self.container = self

    def exec(self, argv: list[str], _timeout: float, user: str = "") -> _Outcome:  # noqa: ARG002
        argv = [str(self.tar) if a == artifacts.INSIDE_TAR else a for a in argv]
        if argv[0] != "rm":
            argv[0] = sys.executable
        return _Outcome(subprocess.run(argv, capture_output=True, text=True, check=False))

    def get_archive(self, _path: str) -> tuple[Any, dict[str, Any]]:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as outer:
            outer.add(self.tar, arcname=self.tar.name)
        data = buffer.getvalue()
        return iter([data[:1000], data[1000:]]), {}


def _suite_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "reports" / "deep").mkdir(parents=True)
    (folder / "reports" / "snapshot.html").write_text("<p>3 failed</p>", encoding="utf-8")
    (folder / "reports" / "deep" / "coverage.xml").write_text("<coverage/>", encoding="utf-8")
    (folder / "reports" / "link.html").symlink_to("/etc/passwd")
    (folder / "src.py").write_text("x = 1\n", encoding="utf-8")
    return folder


def test_what_the_globs_match_is_copied_into_the_run_dir(tmp_path: Path) -> None:
    folder, out = _suite_folder(tmp_path), tmp_path / "run"
    box = _LocalBox(tmp_path / "inside.tar")
    record = artifacts.collect(box, "python", str(folder), ["reports/**"], out, "py311×service", 0)
    assert record["folder"] == artifacts_folder("py311×service", 0)
    assert record["folder"].startswith("artifacts/")
    copied = {f["path"]: f["bytes"] for f in record["files"]}
    assert copied == {"reports/deep/coverage.xml": 11, "reports/snapshot.html": 15}
    where = out / record["folder"]
    assert (where / "reports" / "snapshot.html").read_text(encoding="utf-8") == "<p>3 failed</p>"
    assert not (where / "src.py").exists() and not (where / "reports" / "link.html").exists()
    assert {"path": "reports/link.html", "why": "not a regular file"} in record["skipped"]
    assert record["total_bytes"] == 26 and record["limit_bytes"] == ARTIFACTS_MAX_BYTES
    assert "problem" not in record
    TestsProbe.from_dict({"status": "failed", "artifacts": record})  # the typed field


def test_files_over_the_bound_are_listed_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, out = _suite_folder(tmp_path), tmp_path / "run"
    monkeypatch.setattr(artifacts, "ARTIFACTS_MAX_BYTES", 20)
    record = artifacts.collect(
        _LocalBox(tmp_path / "in.tar"), "python", str(folder), ["reports/**"], out, "c", 0
    )
    assert [f["path"] for f in record["files"]] == ["reports/deep/coverage.xml"]
    over = next(s for s in record["skipped"] if s["path"] == "reports/snapshot.html")
    assert over["bytes"] == 15 and "over the bound of 20 bytes" in over["why"]


def test_a_suite_that_wrote_nothing_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    record = artifacts.collect(
        _LocalBox(tmp_path / "in.tar"), "python", str(folder), ["*.xml"], tmp_path, "c", 0
    )
    assert record["files"] == [] and "wrote nothing" in record["problem"]


def test_unpack_refuses_paths_outside_and_links(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w") as tar:
        for name, data in (("ok.txt", b"ok"), ("../escape.txt", b"no"), ("/abs.txt", b"no")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    outer = io.BytesIO()
    with tarfile.open(fileobj=outer, mode="w") as tar:
        info = tarfile.TarInfo("harness-artifacts.tar")
        info.size = len(inner.getvalue())
        tar.addfile(info, io.BytesIO(inner.getvalue()))
    copied, skipped = artifacts.unpack(outer.getvalue(), tmp_path / "target")
    assert copied == [{"path": "ok.txt", "bytes": 2}]
    assert {s["path"] for s in skipped} == {"../escape.txt", "/abs.txt", "link"}
    assert not (tmp_path / "escape.txt").exists()
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == ["ok.txt"]


MATRIX = """version: 1
bases:
  a: {image: "python:3.11-slim"}
depsets:
  service:
    source: project
    tests:
      command: pytest
      artifacts: [{glob}]
"""


@pytest.mark.parametrize("glob", ["/etc/passwd", "../secrets/*", "''"])
def test_a_glob_outside_the_project_is_exit_2_with_line_key_and_fix(
    tmp_path: Path, glob: str
) -> None:
    (tmp_path / "project").mkdir()
    path = tmp_path / "m.yaml"
    path.write_text(MATRIX.replace("{glob}", glob), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_matrix(path)
    assert caught.value.exit_code == 2
    [problem] = caught.value.problems
    assert problem.key == "depsets.service.tests.artifacts" and problem.line == 9
    assert "no leading /, no .." in (problem.fix or "")


def test_relative_globs_load(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    path = tmp_path / "m.yaml"
    path.write_text(MATRIX.replace("{glob}", "'reports/**', coverage.xml"), encoding="utf-8")
    tests = load_matrix(path).spec.depsets["service"].tests
    assert tests is not None and tests.artifacts == ["reports/**", "coverage.xml"]
