"""Comparability across hosts: a run merged from shards that ran on two machines. Wherever
two timings are compared (the diff, compare, the ADR), timings of cells that ran on
different hosts are marked as such; timings taken on one host are not."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.compare import compare_bases
from harness.analysis.diff import diff_runs
from harness.documents.adr import render_adr
from harness.documents.compare import metric_delta_text
from harness.documents.diff import render_diff_text
from harness.model.plan import Plan, PlannedRun
from harness.model.results import Results
from harness.store.shards import ShardRun, merge_shards
from harness.testing.synthetic import MATRIX_SHA, synthetic_shard

# set0: base0 on shard 1 (runner-1), base1 on shard 2 (runner-2); set1: both on shard 1.
PLAN = Plan(
    id="0123456789abcdef",
    matrix_path="/synthetic/matrix.yaml",
    matrix_sha256=MATRIX_SHA,
    keyword=None,
    count=2,
    previous_run=None,
    runs=(
        PlannedRun("base0×set0", 0, 60.0, 1),
        PlannedRun("base0×set1", 0, 60.0, 1),
        PlannedRun("base1×set0", 0, 60.0, 2),
        PlannedRun("base1×set1", 0, 60.0, 1),
    ),
)


@pytest.fixture
def merged() -> dict[str, Any]:
    shards = [
        ShardRun(
            Path(f"/runs/{k}"), Results.from_dict(synthetic_shard(PLAN, k, host=f"runner-{k}"))
        )
        for k in (1, 2)
    ]
    results: dict[str, Any] = merge_shards(  # its JSON, edited below
        shards, "20270102-000000-abcdef", "2027-01-02T00:00:00+00:00"
    )
    for cell in results["cells"]:  # every cell measured, so every timing is compared
        cell["status"] = "passed"
        for step in cell["steps"]:
            step["status"] = "passed"
    return results


def test_the_diff_marks_timings_from_different_hosts(merged: dict[str, Any]) -> None:
    before = copy.deepcopy(merged)
    for cell in before["cells"]:
        del cell["host"]  # an ordinary run on runner-1
    before["run"] = {**before["run"], "id": "20270101-000000-abcdef", "shards": None}
    before["run"]["host"] = {"hostname": "runner-1"}
    after = copy.deepcopy(merged)
    for cell in after["cells"]:
        for step in cell["steps"]:
            step["seconds"] = step["seconds"] * 3 + 5  # far beyond noise everywhere
    run_diff = diff_runs(before, after)
    # Across hosts no faster/slower call is made: the change is listed as not compared.
    notes = {t.cell_id: t.withheld for t in (*run_diff.timing_changes, *run_diff.not_compared)}
    assert {t.cell_id for t in run_diff.not_compared} == {"base1×set0"}
    assert "runner-1" in notes["base1×set0"] and "runner-2" in notes["base1×set0"]
    assert notes["base0×set0"] == "" and notes["base1×set1"] == ""
    assert "different hosts" in render_diff_text(run_diff)


def test_compare_makes_no_call_across_hosts(merged: dict[str, Any]) -> None:
    comparison = compare_bases(merged, "base0", "base1")
    rows = {r.depset: r for r in comparison.rows}
    assert "base0 on runner-1; base1 on runner-2" in rows["set0"].verdict
    install = next(m for m in rows["set0"].metrics if m.name == "install")
    assert "different hosts" in metric_delta_text(install)
    assert "hosts" not in rows["set1"].verdict
    assert all(not m.withheld for m in rows["set1"].metrics)


def test_the_adr_says_where_cross_host_timings_were_measured(merged: dict[str, Any]) -> None:
    text = render_adr(merged, report_href="report.html", baseline="base0", candidates=["base1"])
    assert (
        "no faster/slower call: different hosts (base1 on runner-1, runner-2; base0 on runner-1)"
        in (text)
    )
    assert "Merged from 2 shard(s)" in text and "runner-2" in text
