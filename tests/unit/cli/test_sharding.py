"""`harness plan`'s output forms: what a CI job matrix consumes as it is."""

from __future__ import annotations

import json

import yaml

from harness.cli.sharding import render_plan
from harness.testing.synthetic import synthetic_plan

PLAN = synthetic_plan(bases=2, depsets=3, repeat=2, shards=3)


def test_github_form_is_one_line_for_fromjson_in_strategy_matrix() -> None:
    text = render_plan(PLAN, "github")
    assert "\n" not in text  # $GITHUB_OUTPUT takes one line
    entries = json.loads(text)["include"]
    assert [e["shard"] for e in entries] == ["1/3", "2/3", "3/3"]
    assert {e["plan"] for e in entries} == {PLAN.id}
    assert sum(e["cell_runs"] for e in entries) == len(PLAN.runs) == 12


def test_gitlab_form_is_a_hidden_job_with_parallel_matrix() -> None:
    job = yaml.safe_load(render_plan(PLAN, "gitlab"))[".harness-shards"]
    assert job["parallel"]["matrix"] == [{"HARNESS_SHARD": ["1/3", "2/3", "3/3"]}]
    assert job["variables"]["HARNESS_PLAN_ID"] == PLAN.id


def test_json_form_is_the_whole_plan() -> None:
    record = json.loads(render_plan(PLAN, "json"))
    assert record["id"] == PLAN.id and record["shards"] == 3 and len(record["runs"]) == 12
