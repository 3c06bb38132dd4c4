"""A base rebuilt upstream (same tag, new digest) is named as the cause of what changed."""

from __future__ import annotations

from harness.analysis.diff import diff_runs
from tests.unit.builders import NEW_DIGEST as NEW
from tests.unit.builders import OLD_DIGEST as OLD
from tests.unit.builders import digest_run as _run


def test_a_digest_from_another_reference_is_not_called_a_rebuild() -> None:
    before = _run("a", OLD, "x", pulled_reference="mirror:1/library/python:3.11-slim")
    after = _run("b", NEW, "y", pulled_reference="python:3.11-slim")
    (change,) = (c for c in diff_runs(before, after).base_changes if c.field == "digest")
    assert change.describe().endswith("(a different reference)")


def test_the_same_digest_is_no_change() -> None:
    assert not diff_runs(_run("a", OLD, "x"), _run("b", OLD, "x")).base_changes
