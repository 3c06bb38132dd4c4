"""The shard planner: balanced within the best split the cell times allow, deterministic,
repeats free to go to different shards, and the previous run's times as its estimates."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from harness.model.errors import ConfigurationError
from harness.model.matrix import load_matrix
from harness.model.plan import parse_shard, plan_from_record
from harness.model.results import Results
from harness.run.shard import balance, make_plan
from harness.store.history import record_run

MATRIX = """
version: 1
settings: {repeat: 3}
bases:
  one: {image: "example/one:1"}
  two: {image: "example/two:1"}
depsets:
  small: {pip: [six]}
  big: {pip: [numpy, scipy], system: {apt: [ffmpeg]}}
"""


def _loads(durations: list[float], shards: list[int], count: int) -> list[float]:
    loads = [0.0] * count
    for seconds, shard in zip(durations, shards, strict=True):
        loads[shard] += seconds
    return loads


def _best_makespan(durations: list[float], count: int) -> float:
    return min(
        max(_loads(durations, list(assignment), count))
        for assignment in itertools.product(range(count), repeat=len(durations))
    )


def test_balance_is_within_four_thirds_of_the_best_split_on_random_cases() -> None:
    rng = random.Random(7)
    optimal = 0
    for _ in range(60):
        count = rng.choice([2, 3])
        durations = [float(rng.randint(1, 40)) for _ in range(rng.randint(2, 8))]
        best = _best_makespan(durations, count)
        got = max(_loads(durations, balance(durations, count), count))
        assert got <= best * 4 / 3 + 1e-9, (durations, count)
        optimal += got == best
    assert optimal >= 50  # the exchanges reach the best split in most cases


@pytest.mark.parametrize(
    ("durations", "count", "best"),
    [
        ([3.0, 3.0, 2.0, 2.0, 2.0], 2, 6.0),  # LPT alone gives 7
        ([5.0, 4.0, 3.0, 3.0, 3.0], 2, 9.0),  # LPT alone gives 10
        ([10.0, 1.0, 1.0], 2, 10.0),  # one long cell bounds the split
    ],
)
def test_exchanges_reach_the_best_split_where_longest_first_alone_does_not(
    durations: list[float], count: int, best: float
) -> None:
    assert max(_loads(durations, balance(durations, count), count)) == best


def test_every_item_gets_one_shard_and_no_shard_is_left_empty() -> None:
    shards = balance([1.0] * 7, 3)
    assert len(shards) == 7 and sorted(set(shards)) == [0, 1, 2]
    assert balance([], 2) == []


def _matrix(tmp_path: Path) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(MATRIX)
    return path


def test_the_same_inputs_give_the_same_plan_and_id(tmp_path: Path) -> None:
    matrix = load_matrix(_matrix(tmp_path))
    first = make_plan(matrix, None, 3, tmp_path / "reports")
    second = make_plan(load_matrix(_matrix(tmp_path)), None, 3, tmp_path / "reports")
    assert first == second
    assert make_plan(matrix, None, 2, tmp_path / "reports").id != first.id
    assert make_plan(matrix, "small", 3, tmp_path / "reports").id != first.id
    assert plan_from_record(first.record(), "test") == first


def test_repeats_are_runs_of_their_own_and_may_go_to_different_shards(tmp_path: Path) -> None:
    matrix = load_matrix(_matrix(tmp_path))
    plan = make_plan(matrix, "one and big", 3, tmp_path / "reports")
    assert [(r.cell_id, r.repeat) for r in plan.runs] == [("one×big", k) for k in range(3)]
    assert sorted(r.shard for r in plan.runs) == [1, 2, 3]


def _previous_run(tmp_path: Path, matrix_path: Path, seconds: dict[str, float]) -> None:
    matrix = load_matrix(matrix_path)
    run_dir = tmp_path / "reports" / "20270101-000000-aaaaaa"
    run_dir.mkdir(parents=True)
    results = {
        "schema_version": 1,
        "run": {
            "id": run_dir.name,
            "started_at": "2027-01-01T00:00:00+00:00",
            "matrix": {"path": str(matrix.path), "sha256": matrix.sha256},
            "host": {"hostname": "h"},
        },
        "bases": [],
        "depsets": [],
        "cells": [
            {"id": cid, "base": cid.partition("×")[0], "depset": cid.partition("×")[2], "repeat": r,
             "status": "passed",
             "seconds": value}
            for cid, value in seconds.items()
            for r in range(3)
        ],
    }  # fmt: skip
    (run_dir / "results.json").write_text(json.dumps(results))
    record_run(Results.from_dict(results), tmp_path / "reports" / "history", run_dir)


def test_estimates_come_from_the_previous_run_and_change_the_plan_id(tmp_path: Path) -> None:
    matrix_path = _matrix(tmp_path)
    before = make_plan(load_matrix(matrix_path), None, 2, tmp_path / "reports")
    assert before.previous_run is None
    _previous_run(tmp_path, matrix_path, {"one×small": 300.0, "two×small": 10.0, "one×big": 20.0})
    after = make_plan(load_matrix(matrix_path), None, 2, tmp_path / "reports")
    assert after.previous_run == "20270101-000000-aaaaaa" and after.id != before.id
    seconds = {(r.cell_id, r.repeat): r.expected_seconds for r in after.runs}
    assert seconds[("one×small", 0)] == 300.0
    assert seconds[("two×big", 0)] == 20.0  # a new cell: its depset's time on the other base
    # 3 × 300 s of one×small cannot be split evenly: each shard's total stays within the
    # longest cell run of the other's.
    loads = [after.expected_seconds(k) for k in (1, 2)]
    assert abs(loads[0] - loads[1]) <= 300.0


@pytest.mark.parametrize("text", ["", "2", "0/2", "3/2", "1/0", "a/b", "1/2/3"])
def test_a_bad_shard_is_exit_2_with_the_fix(text: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_shard(text)
    assert caught.value.exit_code == 2 and "--shard" in str(caught.value)


def test_shard_text_is_read_as_k_of_n() -> None:
    assert parse_shard("2/4") == (2, 4) and parse_shard(" 1 / 1 ") == (1, 1)


def test_a_selection_without_cells_and_zero_shards_are_refused(tmp_path: Path) -> None:
    matrix = load_matrix(_matrix(tmp_path))
    with pytest.raises(ConfigurationError, match="selects no cell"):
        make_plan(matrix, "nothing-like-this", 2, tmp_path)
    with pytest.raises(ConfigurationError, match="at least one shard"):
        make_plan(matrix, None, 0, tmp_path)


def test_a_damaged_plan_names_the_key_and_a_later_key_is_ignored() -> None:
    import pytest

    from harness.model.errors import ConfigurationError
    from harness.model.plan import PLAN_FORMAT

    record = {
        "plan_format": PLAN_FORMAT,
        "id": "abc",
        "matrix": {"path": "m.yaml", "sha256": "00"},
        "shards": 2,
        "runs": [{"cell": "a×b", "repeat": 0, "shard": 1, "expected_seconds": 3}],
        "a_later_key": [1],
    }
    plan = plan_from_record(record, "plan.json")
    assert plan.count == 2 and plan.runs[0].expected_seconds == 3.0 and plan.keyword is None
    damaged = {**record, "runs": [{"cell": "a×b", "repeat": "first", "shard": 1}]}
    with pytest.raises(ConfigurationError, match=r"plan.json: .* damaged \(runs\.0\.repeat: "):
        plan_from_record(damaged, "plan.json")
