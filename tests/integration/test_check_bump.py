"""`harness check` on a pull request's bump, end to end: a scratch git repository with two
commits (a multi-stage Dockerfile whose FROM moves, and a project with a lockfile and
tests), both images in a real local registry in the official layout, the run through the
pipeline, and the comment, the JSON, the job summary and the exit code it leaves.

Case 1 (tag bump): python:3.11-slim → python:3.13-slim; one of the project's tests uses
imghdr, which Python 3.13 removed (PEP 594): the new base breaks it, the comment names it,
exit 1. Case 2 (digest-only bump): the same tag, another digest; every cell passes and the
comment says what changed inside the image.

The images are the shared official-layout image on the Python 3.11 stand-in (built by
content hash, as test_registry_pull.py does), the Python 3.11 stand-in itself and the
Python 3.13 stand-in (already in the official layout since issue 25); no stand-in is built
here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.testing.registry import LocalRegistry
from tests.conftest import ROOT, git
from tests.integration.test_registry_support import _build, _docker_cli, _newest_standin

pytestmark = pytest.mark.integration

SERVICE = ROOT / "examples" / "service"
TRIXIE = "harness-standin/trixie-py3.13"
LEGACY_TEST = '''"""Reads an image header the way the service's upload check did before Pillow."""


def test_detects_png_with_imghdr():
    import imghdr  # removed in Python 3.13 (PEP 594)

    assert imghdr.what(None, h=b"\\x89PNG\\r\\n\\x1a\\n" + bytes(8)) == "png"
'''
DOCKERFILE = """# The service: wheels built in one stage, run in the next.
FROM {image} AS build
COPY . /src
RUN python -m pip wheel --no-deps --wheel-dir /wheels /src

FROM {image}
COPY --from=build /wheels /wheels
RUN python -m pip install /wheels/*.whl
CMD ["python", "-m", "inventory.app"]
"""


@dataclass(frozen=True)
class Images:
    registry: LocalRegistry
    py311: str  # tag reference of the official-layout 3.11 image
    py313: str
    py311_digest: str
    py311_other_digest: str  # the same tag, pushed again from the stand-in itself


def _newest(repository: str) -> str | None:
    listed = _docker_cli("images", repository, "--format", "{{.Repository}}:{{.Tag}}")
    tags = [line for line in listed.stdout.split() if not line.endswith(":<none>")]
    return tags[0] if listed.returncode == 0 and tags else None


@pytest.fixture(scope="module")
def images(docker_client: Any) -> Iterator[Images]:  # noqa: ARG001 (an engine, first)
    bookworm, trixie = _newest_standin(), _newest(TRIXIE)
    if bookworm is None or trixie is None:
        pytest.skip("the Python 3.11 and 3.13 stand-ins are not built (make bases builds them)")
    official = _build(bookworm, "root")
    with LocalRegistry() as registry:
        other = registry.push(bookworm, "library/python:3.11-slim")
        digest = registry.push(official, "library/python:3.11-slim")  # the tag's newest
        registry.push(trixie, "library/python:3.13-slim")
        yield Images(
            registry,
            registry.ref("library/python:3.11-slim"),
            registry.ref("library/python:3.13-slim"),
            digest,
            other,
        )


def scratch_repo(where: Path, old: str, new: str, *, only_311_tests: bool = False) -> Path:
    """main: the service with its lockfile and tests on ``old``; branch bump: ``new``.

    The service's tests include one that needs Python 3.13 (copy.replace): it fails on 3.11
    and passes on 3.13. ``only_311_tests`` leaves that file out."""
    repo = where / "service"
    shutil.copytree(
        SERVICE, repo, ignore=shutil.ignore_patterns("matrix.yaml", "__pycache__", "*.pyc")
    )
    if only_311_tests:
        (repo / "tests" / "test_stock.py").unlink()
    (repo / "tests" / "test_legacy.py").write_text(LEGACY_TEST, encoding="utf-8")
    (repo / "Dockerfile").write_text(DOCKERFILE.format(image=old), encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the service")
    git(repo, "checkout", "-q", "-b", "bump")
    (repo / "Dockerfile").write_text(DOCKERFILE.format(image=new), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "Update python Docker tag")
    return repo


@dataclass(frozen=True)
class Checked:
    exit_code: int
    console: str
    comment: str
    summary: str
    data: dict[str, Any]


def harness_check(repo: Path, tmp_path: Path, *extra: str) -> Checked:
    comment, as_json, summary = tmp_path / "comment.md", tmp_path / "check.json", tmp_path / "s.md"
    argv = [
        sys.executable, "-m", "harness", "check", "--repo", str(repo),
        "--lockfile", "uv.lock", "--tests", "python -m pytest -q tests",
        "--comment", str(comment), "--json", str(as_json), "--out", str(tmp_path / "run"),
        "--jobs", "2", *extra,
    ]  # fmt: skip
    done = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)},
    )
    console = done.stdout + done.stderr
    assert comment.exists() and as_json.exists(), console[-4000:]
    return Checked(
        done.returncode,
        console,
        comment.read_text(encoding="utf-8"),
        summary.read_text(encoding="utf-8"),
        json.loads(as_json.read_text(encoding="utf-8")),
    )


def test_a_tag_bump_that_breaks_a_test_is_blocked_and_names_it(
    images: Images, tmp_path: Path
) -> None:
    repo = scratch_repo(tmp_path, images.py311, images.py313)
    checked = harness_check(repo, tmp_path)
    # The one changed base (both stages moved together), run on both references.
    (base,) = checked.data["bases"]
    assert (base["old"], base["new"], base["kind"]) == (images.py311, images.py313, "tag")
    assert len(base["places"]) == 2 and base["places"][0] == "Dockerfile, stage build", base
    assert base["verdict"] == "blocked", checked.console[-4000:]
    assert (base["old_python"] or "").startswith("3.11") and base["new_python"].startswith("3.13")
    # The failing test named: it passed on the old base, so it is a regression, though the
    # old base failed a test of its own (copy.replace, new in 3.13), fixed by the new one.
    (row,) = base["rows"]
    assert row["old"]["status"] == "failed" and row["new"]["status"] == "failed", row
    assert row["regression"] is True
    assert row["fixed_tests"] == ["tests.test_stock::test_records_copy_with_changes"], row
    assert row["old"]["tests_passed"] == row["old"]["tests_total"] - 1 > 1
    assert row["new"]["tests_passed"] == row["new"]["tests_total"] - 1
    (blocker,) = base["blockers"]
    assert "tests.test_legacy::test_detects_png_with_imghdr" in blocker["what"], blocker
    assert "imghdr" in blocker["what"] and blocker["regression"] is True
    # The comment: the verdict first, the marker last; the job summary says the same.
    first = checked.comment.splitlines()[0]
    assert first.startswith(f"{images.py311} → {images.py313}: blocked — project: test "), first
    assert "test\\_legacy::test\\_detects\\_png\\_with\\_imghdr failed on the new base" in first
    assert "; fix: make it pass on Python 3.13" in first
    assert checked.comment.rstrip().endswith("<!-- harness-check -->")
    assert len(checked.comment.encode()) < 64 * 1024
    assert checked.summary.splitlines()[0] == first
    # The exit code: the new base breaks what the old one passed.
    assert checked.exit_code == 1, checked.console[-3000:]
    assert checked.data["exit_code"] == 1 and checked.data["fail_on"] == ["regression"]


def test_a_digest_only_bump_says_what_changed_inside_though_every_cell_passes(
    images: Images, tmp_path: Path
) -> None:
    old = f"{images.py311}@{images.py311_other_digest}"
    new = f"{images.py311}@{images.py311_digest}"
    repo = scratch_repo(tmp_path, old, new, only_311_tests=True)
    checked = harness_check(repo, tmp_path)
    (base,) = checked.data["bases"]
    assert base["kind"] == "digest" and base["verdict"] == "ready", checked.console[-4000:]
    assert checked.exit_code == 0, checked.console[-3000:]
    first = checked.comment.splitlines()[0]
    short_old, short_new = images.py311_other_digest[7:19], images.py311_digest[7:19]
    assert first.startswith(
        f"{images.py311} @sha256:{short_old} → @sha256:{short_new}: ready — 1 depset passes, tests "
    ), first
    # What changed inside, from the nightly diff and the contents probe.
    inside = base["inside"]
    assert f"digest sha256:{short_old} → sha256:{short_new}" in inside, inside
    assert any(line.startswith("image size: ") for line in inside), inside
    assert "python: 3.11.2 (unchanged)" in inside, inside
    packages = next(line for line in inside if line.startswith("OS packages: "))
    assert "removed" in packages, packages  # the official layout purges Debian's venv packages
    assert "What changed inside the image:" in checked.comment
