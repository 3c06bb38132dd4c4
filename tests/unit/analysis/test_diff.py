"""A base rebuilt upstream (same tag, new digest) is named as the cause of what changed."""

from __future__ import annotations

from typing import Any

from harness.analysis.diff import diff_runs
from harness.model.records import SCHEMA_VERSION

OLD, NEW = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def _run(run_id: str, digest: str, image_id: str, **base: Any) -> dict[str, Any]:
    record = {
        "name": "py311-slim",
        "reference": "python:3.11-slim",
        "kind": "image",
        "origin": "pulled",
        "status": "available",
        "digest": digest,
        "image_id": image_id,
        **base,
    }
    cell = {"id": "py311-slim×spacy", "base": "py311-slim", "depset": "spacy", "repeat": 0}
    cell.update(status="passed", steps=[], seconds=1.0)
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {"id": run_id},
        "bases": [record],
        "depsets": [],
        "cells": [cell],
    }


def test_a_digest_from_another_reference_is_not_called_a_rebuild() -> None:
    before = _run("a", OLD, "x", pulled_reference="mirror:1/library/python:3.11-slim")
    after = _run("b", NEW, "y", pulled_reference="python:3.11-slim")
    (change,) = (c for c in diff_runs(before, after).base_changes if c.field == "digest")
    assert change.describe().endswith("(a different reference)")


def test_the_same_digest_is_no_change() -> None:
    assert not diff_runs(_run("a", OLD, "x"), _run("b", OLD, "x")).base_changes
