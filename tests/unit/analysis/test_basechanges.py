"""The base images changed between two commits of a scratch git repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.analysis.basechanges import ChangeQuery, find_base_changes
from harness.model.baserefs import ChangeKind
from harness.model.errors import ConfigurationError
from harness.store import gitrefs
from tests.conftest import git

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def commit(repo: Path, files: dict[str, str | None], message: str) -> str:
    """Write (or, for None, delete) ``files`` and commit them; the new commit's id."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


MULTI_STAGE = (
    "ARG PY=3.11\n"
    "FROM python:${PY}-slim AS builder\n"
    "RUN pip wheel -w /w .\n"
    "FROM builder AS tests\n"
    "RUN pytest\n"
    "FROM gcr.io/distroless/python3-debian12\n"
    "COPY --from=builder /w /w\n"
)


def test_a_moved_from_in_a_multi_stage_dockerfile_on_a_branch(repo: Path) -> None:
    base = commit(repo, {"Dockerfile": MULTI_STAGE, "app.py": ""}, "one")
    git(repo, "checkout", "-q", "-b", "bump")
    head = commit(repo, {"Dockerfile": MULTI_STAGE.replace("PY=3.11", "PY=3.13")}, "two")
    commit(repo, {"app.py": "print()\n"}, "the branch moves on")
    git(repo, "checkout", "-q", "main")
    commit(repo, {"other.txt": "x"}, "main moves on")
    git(repo, "checkout", "-q", "bump")
    found = find_base_changes(ChangeQuery(repo))
    assert found.base.commit == base and found.base.ref == "merge-base(main, HEAD)"
    assert found.head.commit != head  # HEAD is the branch's last commit, after the bump
    assert found.files == ("Dockerfile",)
    (change,) = found.changes
    assert (change.kind, change.file) == (ChangeKind.TAG, "Dockerfile")
    assert change.where == "stage builder"
    assert change.old and change.old.image and change.old.image.familiar == "python:3.11-slim"
    assert change.new and change.new.image and change.new.image.familiar == "python:3.13-slim"
    assert found.unresolved == ()


def test_an_arg_default_and_a_build_arg_override(repo: Path) -> None:
    text = "ARG BASE=python:3.11-slim\nFROM ${BASE} AS app\n"
    base = commit(repo, {"Dockerfile": text}, "one")
    head = commit(repo, {"Dockerfile": text.replace("3.11", "3.13")}, "two")
    found = find_base_changes(ChangeQuery(repo, base_ref=base, head_ref=head))
    (change,) = found.changes
    assert change.old and change.old.image and change.old.image.familiar == "python:3.11-slim"
    assert change.new and change.new.image and change.new.image.familiar == "python:3.13-slim"
    # A --build-arg wins over both defaults: nothing changes then.
    pinned = ChangeQuery(repo, base, head, build_args={"BASE": "python:3.12"})
    assert find_base_changes(pinned).changes == ()


def test_a_digest_only_bump_and_a_compose_image_change(repo: Path) -> None:
    compose = "services:\n  web:\n    image: ${WEB:-nginx:1.25}\n  app:\n    build: .\n"
    base = commit(
        repo,
        {
            "docker/app.Dockerfile": f"FROM python:3.11-slim@{DIGEST_A}\n",
            "compose.yaml": compose,
            "node_modules/pkg/Dockerfile": "FROM node:20\n",
        },
        "one",
    )
    head = commit(
        repo,
        {
            "docker/app.Dockerfile": f"FROM python:3.11-slim@{DIGEST_B}\n",
            "compose.yaml": compose.replace("1.25", "1.27"),
            "node_modules/pkg/Dockerfile": "FROM node:22\n",  # vendored: not looked at
        },
        "two",
    )
    found = find_base_changes(ChangeQuery(repo, base_ref=base, head_ref=head))
    assert found.files == ("docker/app.Dockerfile", "compose.yaml")
    assert [(c.kind, c.file, c.where) for c in found.changes] == [
        (ChangeKind.DIGEST, "docker/app.Dockerfile", "stage 0"),
        (ChangeKind.TAG, "compose.yaml", "service web"),
    ]
    digest = found.changes[0]
    assert digest.old and digest.old.image and digest.old.image.digest == DIGEST_A
    assert digest.new and digest.new.image and digest.new.image.digest == DIGEST_B


def test_files_given_are_the_only_ones_read_and_a_new_file_adds_its_stages(repo: Path) -> None:
    base = commit(repo, {"Dockerfile": "FROM python:3.11\n"}, "one")
    head = commit(
        repo,
        {"Dockerfile": "FROM python:3.13\n", "ci/Containerfile": "FROM alpine:3.20 AS ci\n"},
        "two",
    )
    only = ChangeQuery(repo, base, head, dockerfiles=("ci/Containerfile",))
    (change,) = find_base_changes(only).changes
    assert (change.kind, change.where, change.old) == (ChangeKind.ADDED, "stage ci", None)
    with pytest.raises(ConfigurationError) as err:
        find_base_changes(ChangeQuery(repo, base, head, dockerfiles=("Dockerfle",)))
    assert err.value.key == "--dockerfile" and "Dockerfle is in neither" in err.value.message


def test_an_unresolvable_variable_is_named(repo: Path) -> None:
    base = commit(repo, {"Dockerfile": "ARG BASE\nFROM python:3.11\n"}, "one")
    head = commit(repo, {"Dockerfile": "ARG BASE\nFROM ${BASE}\n"}, "two")
    found = find_base_changes(ChangeQuery(repo, base, head))
    assert found.changes == ()
    (item,) = found.unresolved
    assert item.sides == ("head",)
    assert f"{item.use.located}: {item.use.problem}" == (
        "Dockerfile:2 FROM ${BASE}: BASE has no default and no --build-arg"
    )


def test_bad_refs_and_missing_default_branches_are_configuration_errors(
    repo: Path, tmp_path: Path
) -> None:
    commit(repo, {"Dockerfile": "FROM python:3.11\n"}, "one")
    with pytest.raises(ConfigurationError) as err:
        find_base_changes(ChangeQuery(repo, base_ref="no-such-ref"))
    assert err.value.key == "--base-ref" and "fetch-depth: 0" in (err.value.fix or "")
    git(repo, "branch", "-m", "main", "trunk")
    with pytest.raises(ConfigurationError, match="no default branch"):
        find_base_changes(ChangeQuery(repo))
    with pytest.raises(ConfigurationError, match="not in a git repository"):
        find_base_changes(ChangeQuery(tmp_path))


def test_the_default_branch_follows_origin_head(repo: Path) -> None:
    commit(repo, {"a": "1"}, "one")
    git(repo, "branch", "-m", "main", "trunk")
    git(repo, "update-ref", "refs/remotes/origin/trunk", "HEAD")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    assert gitrefs.default_branch(repo) == "origin/trunk"


@pytest.mark.parametrize(
    ("path", "dockerfile", "compose", "vendored"),
    [
        ("Dockerfile", True, False, False),
        ("svc/api.Dockerfile", True, False, False),
        ("Dockerfile.dev", True, False, False),
        ("Dockerfile.dockerignore", False, False, False),
        ("build/Containerfile", True, False, False),
        ("docker-compose.yml", False, True, False),
        ("deploy/compose.yaml", False, True, False),
        ("compose.override.yml", False, True, False),
        ("compose.prod.yaml", False, False, False),
        ("third_party/x/Dockerfile", True, False, True),
        ("notes/Dockerfiles.md", False, False, False),
    ],
)
def test_which_files_are_found(path: str, dockerfile: bool, compose: bool, vendored: bool) -> None:
    assert gitrefs.is_dockerfile(path) is dockerfile
    assert gitrefs.is_compose(path) is compose
    assert gitrefs.is_vendored(path) is vendored


def test_a_repository_of_another_user_is_named_with_the_fix(repo: Path) -> None:
    commit(repo, {"a": "1"}, "one")
    if os.geteuid() != 0:
        pytest.skip("only root can give the folder to another user")
    os.chown(repo, 12345, 12345)  # runs as root here; git then refuses the folder
    check = subprocess.run(["git", "-C", str(repo), "status"], capture_output=True, text=True)
    if "dubious ownership" not in check.stderr:
        pytest.skip("git reads this folder anyway (safe.directory, or not root)")
    with pytest.raises(ConfigurationError) as err:
        find_base_changes(ChangeQuery(repo))
    assert "belongs to another user" in err.value.message
    assert err.value.fix == f"git config --global --add safe.directory {repo.resolve()}"


def test_a_bump_in_the_dotenv_beside_a_compose_file(repo: Path) -> None:
    compose = "services:\n  db:\n    image: postgres:${PG:-15}\n"
    base = commit(repo, {"deploy/compose.yaml": compose, "deploy/.env": "PG=16\n"}, "one")
    head = commit(repo, {"deploy/.env": "PG=17\n"}, "two")
    (change,) = find_base_changes(ChangeQuery(repo, base, head)).changes
    assert change.old and change.old.image and change.old.image.familiar == "postgres:16"
    assert change.new and change.new.image and change.new.image.familiar == "postgres:17"
