"""`harness check --list-changes`: lines a reviewer reads, JSON a bot reads, exit 2 for
a bad flag, ref or path (the one error format)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.entry import main
from tests.conftest import git

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64

OLD = (
    "# syntax=docker/dockerfile:1\n"
    "ARG PY=3.11\n"
    "ARG BASE\n"
    "FROM python:${PY}-slim AS builder\n"
    "RUN <<EOF\n"
    "FROM not:a-stage\n"
    "EOF\n"
    "FROM ${BASE} AS custom\n"
    f"FROM debian:bookworm-slim@{DIGEST_A}\n"
)
NEW = OLD.replace("PY=3.11", "PY=3.13").replace(DIGEST_A, DIGEST_B)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: the old Dockerfile and compose file; branch bump (checked out): the new ones."""
    repo = tmp_path / "project"
    (repo / "deploy").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "Dockerfile").write_text(OLD)
    (repo / "deploy" / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.25\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "checkout", "-q", "-b", "bump")
    (repo / "Dockerfile").write_text(NEW)
    (repo / "deploy" / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    git(repo, "commit", "-q", "-am", "two")
    return repo


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out.splitlines(), err.splitlines()


def test_the_changes_as_lines(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["check", "--list-changes", "--repo", str(repo)], capsys)
    assert code == 0 and err == []
    assert out[:4] == [
        "python:3.11-slim → python:3.13-slim (Dockerfile, stage builder)",
        "debian:bookworm-slim: digest sha256:aaaaaaaaaaaa… → sha256:bbbbbbbbbbbb… "
        "(same tag; Dockerfile, stage 2)",
        "nginx:1.25 → nginx:1.27 (deploy/compose.yaml, service web)",
        "cannot resolve (base and head): Dockerfile:8 FROM ${BASE}: "
        "BASE has no default and no --build-arg",
    ]
    assert out[4].startswith("3 base image change(s) between merge-base(main, HEAD) (")
    assert out[4].endswith("; 1 reference(s) not resolved (see above)") and len(out) == 5


def test_the_changes_as_json_for_the_files_given(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--list-changes", "--repo", str(repo), "--format", "json", "--dockerfile",
            "Dockerfile", "--build-arg", "BASE=python:3.13", "--base-ref", "main"]  # fmt: skip
    code, out, _ = run(argv, capsys)
    document = json.loads("\n".join(out))
    assert code == 0 and document["format"] == "harness-base-changes/1"
    assert document["base"]["ref"] == "main" and document["files"] == ["Dockerfile"]
    assert document["unresolved"] == []
    assert [(c["kind"], c["where"]) for c in document["changes"]] == [
        ("tag", "stage builder"),
        ("digest", "stage 2"),
    ]
    assert document["changes"][1]["new"]["image"] == {
        "reference": f"debian:bookworm-slim@{DIGEST_B}",
        "registry": "docker.io",
        "repository": "library/debian",
        "tag": "bookworm-slim",
        "digest": DIGEST_B,
    }


def test_no_change_says_so(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", "--list-changes", "--repo", str(repo), "--base-ref", "bump",
            "--dockerfile", "Dockerfile", "--build-arg", "BASE=x"]  # fmt: skip
    code, out, _ = run(argv, capsys)
    assert code == 0 and len(out) == 1
    assert out[0].startswith("no base image changed between bump (")


@pytest.mark.parametrize(
    ("extra", "head", "fix"),
    [
        ([], "harness: error: --matrix: nothing to run on the changed bases",
         "--requirements FILE / --lockfile FILE / --tests CMD"),
        (["--tests", "pytest", "--fail-on", "regresion"], "harness: error: --fail-on: "
         "'regresion': unknown word(s) regresion", "regression, failure, unmeasured, never"),
        (["--matrix", "m.yaml", "--tests", "pytest"], "harness: error: --matrix: given with "
         "--tests: both say what to run", "--matrix FILE alone"),
        (["--requirements", "nope.txt"], "harness: error: --requirements: nope.txt: no such "
         "file in", "relative to --repo"),
        (["--tests", "pytest", "--jobs", "0"], "harness: error: --jobs: 0: must be 1 or more",
         "--jobs 2"),
        (["--list-changes", "--base-ref", "nope"], "harness: error: --base-ref: 'nope' is not a "
         "commit", "fetch-depth: 0"),
        (["--list-changes", "--head-ref", "nope"], "harness: error: --head-ref: 'nope'", "git log"),
        (["--list-changes", "--build-arg", "=x"], "harness: error: --build-arg: =x is not "
         "NAME=VALUE", "--build-arg BASE="),
        (["--list-changes", "--dockerfile", "../elsewhere/Dockerfile"], "harness: error: "
         "--dockerfile: ../elsewhere/Dockerfile is outside the repository", "inside"),
        (["--list-changes", "--compose", "compose.yaml"], "harness: error: --compose: "
         "compose.yaml is in neither", "git ls-files"),
        (["--matrix", "m.yaml"], "harness: error: ", "matrix"),
        (["--list-changes", "--bases", "x"], "harness: error: --bases x: "
         "unrecognized argument(s)", "--help"),
        (["--list-changes", "--format", "jsn"], "harness: error: --format: invalid choice",
         "did you mean 'json'?"),
    ],
)  # fmt: skip
def test_user_mistakes_are_exit_2_in_the_one_format(
    repo: Path, extra: list[str], head: str, fix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["check", "--repo", str(repo), *extra], capsys)
    assert code == 2 and out == []
    assert err[0].startswith(head), err
    assert err[1].startswith("fix: ") and fix in err[1] and len(err) == 2, err


def test_outside_a_repository_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["check", "--list-changes", "--repo", str(tmp_path)], capsys)
    assert code == 2 and err[0] == f"harness: error: --repo: {tmp_path} is not in a git repository"


MATRIX = """\
version: 1
settings: {jobs: 1, pull: auto}
bases:
  mine: {image: "python:3.11-slim"}
depsets:
  app: {pip: [six], imports: [six]}
cells:
  exclude: [{base: mine, depset: app}]
  expected_failures: [{depset: "a*", installer: uv, reason: no uv cells here}]
"""


def test_check_runs_the_matrixs_depsets_on_each_old_and_new_base_and_writes_the_verdict(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pipeline's run replaced by one that records the matrix it is given (built in
    memory) and writes results for it: the comment, the JSON and the job summary follow."""
    from harness.model.records import SCHEMA_VERSION
    from harness.pipeline import steps

    (repo / "matrix.yaml").write_text(MATRIX)
    given: list[steps.RunOptions] = []

    def fake_run(options: steps.RunOptions) -> steps.RunOutcome:
        given.append(options)
        assert options.loaded is not None
        out = Path(options.out or tmp_path / "run")
        out.mkdir(parents=True)
        cells = []
        for name in options.loaded.spec.bases:
            failing = name == "b1-new"
            junit = {"tests": 4, "passed": 3 if failing else 4, "failed": int(failing),
                     "failing": [{"name": "tests.test_x::test_y", "outcome": "failed",
                                  "message": "AssertionError"}] if failing else []}  # fmt: skip
            cells.append(
                {
                    "id": f"{name}×app",
                    "base": name,
                    "depset": "app",
                    "status": "failed" if failing else "passed",
                    "probes": {
                        "tests": {"status": "failed" if failing else "passed", "junit": junit}
                    },
                }
            )
        bases = [{"name": n, "status": "available", "python": "3.11.2"}
                 for n in options.loaded.spec.bases]  # fmt: skip
        data = {"schema_version": SCHEMA_VERSION, "run": {"id": "fake"}, "bases": bases,
                "depsets": [{"name": "app"}], "cells": cells}  # fmt: skip
        (out / "results.json").write_text(json.dumps(data))
        return steps.RunOutcome(0, out)

    monkeypatch.setattr(steps, "run", fake_run)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    comment, as_json = tmp_path / "comment.md", tmp_path / "check.json"
    argv = [
        "check",
        "--repo",
        str(repo),
        "--base-ref",
        "main",
        "--matrix",
        "matrix.yaml",
        "--comment",
        str(comment),
        "--json",
        str(as_json),
        "--out",
        str(tmp_path / "run"),
    ]
    code, out, err = run(argv, capsys)  # fmt: skip
    assert given, (code, out, err)
    # The matrix: the changed references as bases, the matrix's depsets and its rules over
    # every base; its own base and the rules naming it are gone.
    (options,) = given
    matrix = options.loaded
    assert matrix is not None and matrix.path == (repo / "harness-check.yaml").resolve()
    assert {n: b.image for n, b in matrix.spec.bases.items()} == {
        "b1-old": "python:3.11-slim", "b1-new": "python:3.13-slim",
        "b2-old": f"debian:bookworm-slim@{DIGEST_A}", "b2-new": f"debian:bookworm-slim@{DIGEST_B}",
        "b3-old": "nginx:1.25", "b3-new": "nginx:1.27",
    }  # fmt: skip
    assert list(matrix.spec.depsets) == ["app"] and matrix.spec.cells.exclude == []
    assert [e.depset for e in matrix.spec.cells.expected_failures] == ["a*"]
    assert matrix.settings.pull == "auto"  # the matrix's own choice is kept
    # The verdict: b1 breaks a test (exit 1), the others are ready.
    assert code == 1, err
    first = comment.read_text().splitlines()[0]
    assert first.startswith("python:3.11-slim → python:3.13-slim: blocked — app: test "
                            "tests.test\\_x::test\\_y failed on the new base")  # fmt: skip
    assert summary.read_text().splitlines()[0] == first
    data = json.loads(as_json.read_text())
    assert [b["verdict"] for b in data["bases"]] == ["blocked", "ready", "ready"]
    assert data["unresolved"][0].startswith("Dockerfile:8 FROM ${BASE}: ")
    assert (tmp_path / "run" / "check.md").read_text() == comment.read_text()
    assert out[0].startswith("harness check: python:3.11-slim → python:3.13-slim: blocked")


def test_a_bad_project_file_names_its_flag_before_anything_runs(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "deps.lock").write_text("not a lock file\n")
    code, out, err = run(["check", "--repo", str(repo), "--lockfile", "deps.lock"], capsys)
    assert code == 2 and out == []
    assert err == [
        "harness: error: --lockfile: deps.lock: not a supported lock file (supported: uv.lock, "
        "poetry.lock, pylock.toml)",
        "fix: export it to a requirements file and pass that with --requirements",
    ]
