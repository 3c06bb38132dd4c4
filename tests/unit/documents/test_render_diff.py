"""A base rebuilt upstream (same tag, new digest) is named as the cause of what changed."""

from __future__ import annotations

from typing import Any

from harness.analysis.diff import diff_runs
from harness.documents.diff import render_diff_markdown
from tests.unit.builders import NEW_DIGEST as NEW
from tests.unit.builders import OLD_DIGEST as OLD
from tests.unit.builders import digest_run as _run


def test_a_moved_tag_is_named_as_rebuilt_upstream_once() -> None:
    diff = diff_runs(_run("a", OLD, "sha256:" + "1" * 64), _run("b", NEW, "sha256:" + "2" * 64))
    lines = [change.describe() for change in diff.base_changes]
    assert lines == [
        "py311-slim (python:3.11-slim): digest sha256:aaaaaaaaaaaa… → sha256:bbbbbbbbbbbb… "
        "(rebuilt upstream)"
    ]
    assert lines[0] in diff.why("py311-slim×spacy")
    assert lines[0] in render_diff_markdown(diff)


def _sized(run: dict[str, Any], added: int, dists: dict[str, int]) -> dict[str, Any]:
    cell = run["cells"][0]
    cell["size_added_bytes"] = added
    cell["probes"] = {
        "contents": {
            "os_packages": [],
            "distributions": [{"name": n, "size_bytes": b} for n, b in dists.items()],
        }
    }
    return run


def test_a_size_change_names_the_distributions_behind_it() -> None:
    same = "sha256:" + "1" * 64
    before = _sized(_run("a", OLD, same), 950_000_000, {"torch": 780_000_000, "numpy": 40_000_000})
    after = _sized(
        _run("b", OLD, same),
        1_090_000_000,
        {"torch": 900_000_000, "numpy": 40_000_000, "triton": 20_000_000},
    )
    diff = diff_runs(before, after)
    (change,) = diff.size_changes
    assert change.of_which == "of which torch 120 MB, triton 20.0 MB (new)"
    assert "; of which torch 120 MB, triton 20.0 MB (new)" in render_diff_markdown(diff)
    plain = diff_runs(_run("a", OLD, same) | {"cells": [before["cells"][0] | {"probes": {}}]},
                      after)  # fmt: skip
    assert plain.size_changes[0].of_which == ""  # no contents on one side: no claim
