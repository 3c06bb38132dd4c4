"""Timings read with their noise: no faster/slower call between two runs when either
recorded a busy host or engine, when their concurrency differs or their hosts do; the
reason is said instead. Sizes and statuses are still compared."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from harness.analysis.compare import compare_bases
from harness.analysis.diff import diff_runs
from harness.analysis.gate import exit_code, regressions
from harness.analysis.speed import speed_ratios, speed_table
from harness.analysis.view import busy_phrases, measured_busy, runs_not_compared
from harness.documents.compare import metric_delta_text, render_comparison_markdown
from harness.documents.diff import render_diff_markdown, render_diff_text
from harness.documents.speed import render_speed_markdown
from harness.model.results import BaseRecord, InterpreterSpeed, MeasuredAt, RunInfo
from harness.store.rundir import load_results
from harness.testing.synthetic import synthetic_plan, synthetic_shard

QUIET = {
    "cpus": 2,
    "samples": 20,
    "interval_seconds": 10.0,
    "load1_max": 1.4,
    "load1_median": 0.9,
    "other_containers_max": 0,
    "other_containers_unknown": 0,
    "docker_builds_max": 0,
}
BUSY = QUIET | {"load1_max": 9.6, "load1_median": 7.2}


def _runs(load_a: dict[str, Any], load_b: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The same 6-cell matrix run twice; the second run's pip installs took 77 % longer
    (what waiting for the CPU does to them), nothing else changed."""
    a = synthetic_shard(synthetic_plan(3, 2, 1, 1), 1)
    for cell in a["cells"]:  # every cell passed, so every cell has a pip-install timing
        cell.update(status="passed", reason=None)
        for step in cell["steps"]:
            step.update(status="passed", exit_code=0)
    b = copy.deepcopy(a)
    b["run"]["id"] = "20270101-030000-000002"
    for cell in b["cells"]:
        for step in cell["steps"]:
            if step["name"] == "pip-install":
                step["seconds"] = round(step["seconds"] * 1.77, 2)
    a["run"]["load"], b["run"]["load"] = load_a, load_b
    return a, b


def test_a_quiet_pair_still_calls_a_slowdown() -> None:
    diff = diff_runs(*_runs(QUIET, QUIET))
    assert [t.direction for t in diff.timing_changes] == ["slower"] * 6
    assert not diff.not_compared
    text = render_diff_text(diff)
    assert "slower  pip-install" in text and "not compared" not in text
    assert regressions(diff, {"slower"})


def test_a_busy_run_makes_no_call_and_says_why() -> None:
    a, b = _runs(QUIET, BUSY)
    diff = diff_runs(a, b)
    assert not diff.timing_changes
    assert [t.step for t in diff.not_compared] == ["pip-install"] * 6
    why = f"not compared: the host was busy during run {b['run']['id']} (load 9.6 on 2 cores)"
    assert diff.timings_not_compared == why
    for text in (render_diff_text(diff), render_diff_markdown(diff)):
        assert "slower" not in text and "faster" not in text
        assert why in text
    assert "not compared pip-install: " in render_diff_text(diff)


def test_a_busy_engine_before_is_named_for_its_run() -> None:
    a, b = _runs(QUIET | {"other_containers_max": 3, "docker_builds_max": 1}, QUIET)
    diff = diff_runs(a, b)
    assert not diff.timing_changes
    assert diff.timings_not_compared == (
        f"not compared: the engine was busy during run {a['run']['id']} "
        "(up to 3 other container(s); 1 docker build(s))"
    )


def test_different_concurrency_makes_no_call() -> None:
    a, b = _runs(QUIET, QUIET)
    a["run"]["jobs"], b["run"]["jobs"] = 1, 2
    diff = diff_runs(a, b)
    assert not diff.timing_changes and len(diff.not_compared) == 6
    assert diff.timings_not_compared == "not compared: jobs 1 → 2"
    assert "not compared: jobs 1 → 2" in render_diff_markdown(diff)


def test_different_hosts_make_no_call() -> None:
    a, b = _runs(QUIET, QUIET)
    for cell in b["cells"]:
        cell["host"] = "runner-2"
    diff = diff_runs(a, b)
    assert not diff.timing_changes
    assert diff.not_compared[0].withheld == (
        "not compared: different hosts (before on runner-1; after on runner-2)"
    )


def test_sizes_and_statuses_are_still_compared_on_a_busy_pair() -> None:
    a, b = _runs(QUIET, BUSY)
    b["cells"][0]["size_added_bytes"] += 50_000_000
    b["cells"][1]["status"] = "failed"
    diff = diff_runs(a, b)
    assert [s.cell_id for s in diff.size_changes] == [b["cells"][0]["id"]]
    assert [s.cell_id for s in diff.status_changes] == [b["cells"][1]["id"]]


def test_the_gate_does_not_fail_slower_on_a_busy_pair() -> None:
    a, b = _runs(BUSY, QUIET)
    diff = diff_runs(a, b)
    assert regressions(diff, {"slower"}) == []
    assert exit_code(b, diff, {"status", "slower"}) == 0
    quiet = diff_runs(*_runs(QUIET, QUIET))
    assert exit_code(_runs(QUIET, QUIET)[1], quiet, {"slower"}) == 1


def test_a_run_without_a_load_record_falls_back_on_its_warnings() -> None:
    run = _run(warnings=["busy host: the load average reached 9.6 on 2 cores during the run"])
    assert busy_phrases(run, "during run x") == [
        "the host was busy during run x (the run's warnings say so)"
    ]
    assert busy_phrases(_run(warnings=["engine load unknown: 1 of 3 queries"]), "x") == []
    both = QUIET | {"load1_max": 6.7, "other_containers_max": 2}
    assert busy_phrases(_run(load=both), "during run y") == [
        "the host and the engine were busy during run y (load 6.7 on 2 cores; "
        "up to 2 other container(s))"
    ]
    assert busy_phrases(_run(load=QUIET, warnings=["busy host: …"]), "x") == []


def _run(**fields: Any) -> RunInfo:
    return RunInfo.from_dict(fields)


def test_the_reasons_add_up_and_unknown_jobs_are_no_reason() -> None:
    a, b = _run(load=BUSY, jobs=1), _run(load=BUSY, jobs=2)
    assert runs_not_compared(a, b, ("run a", "run b")) == (
        "not compared: the host was busy during run a (load 9.6 on 2 cores); "
        "the host was busy during run b (load 9.6 on 2 cores); jobs 1 → 2"
    )
    assert runs_not_compared(_run(load=QUIET), _run(load=QUIET, jobs=2), ("a", "b")) == ""


def test_an_interpreter_timing_measured_on_a_busy_host() -> None:
    assert measured_busy(MeasuredAt(host_load1_max=9.6, host_cpus=2)) == (
        "not compared: measured on a busy host (load 9.6 on 2 cores)"
    )
    assert measured_busy(MeasuredAt(host_load1_max=1.9, host_cpus=2)) == ""
    assert measured_busy(None) == ""


# -- compare: two cells of one run read the run's load ---------------------------------------


def _fixture_run() -> dict[str, Any]:
    results = load_results(
        Path(__file__).resolve().parents[2] / "fixtures" / "nightly" / "run_b.json"
    )
    return copy.deepcopy(results)


def _torch(results: dict[str, Any]) -> Any:
    comparison = compare_bases(results, "py313-slim", "alpine", ["torch"])
    return comparison.rows[0]


def test_compare_calls_a_quiet_run_and_not_a_busy_one() -> None:
    quiet = _fixture_run()
    quiet["run"]["load"] = QUIET
    assert _torch(quiet).verdict.startswith("works on both; slower on alpine by ")
    busy = _fixture_run()
    busy["run"]["load"] = BUSY
    row = _torch(busy)
    why = "not compared: the host was busy during the run (load 9.6 on 2 cores)"
    assert row.verdict == f"works on both; install time {why}"
    install = next(m for m in row.metrics if m.name == "install")
    assert install.withheld == why and metric_delta_text(install) == why
    size = next(m for m in row.metrics if m.name == "size added")
    assert size.withheld == "" and "noise" in metric_delta_text(size)  # sizes still compared
    text = render_comparison_markdown(compare_bases(busy, "py313-slim", "alpine", ["torch"]))
    assert why in text and "slower on alpine" not in text


# -- interpreter speed: a ratio measured on a busy host is no finding ------------------------


def _pybench(median: float, load1: float) -> InterpreterSpeed:
    return InterpreterSpeed.from_dict(_pybench_output(median, load1))


def _pybench_output(median: float, load1: float) -> dict[str, Any]:
    return {
        "status": "passed",
        "settings": {"scale": 1.0},
        "workloads": {"regex": {"median_s": median, "rel_iqr": 0.02}},
        "measured": {"at": "2026-12-04T16:00:00Z", "host_load1_max": load1, "host_cpus": 2},
    }


def test_a_speed_ratio_measured_on_a_busy_host_is_not_a_finding() -> None:
    quiet = speed_ratios(_pybench(0.0573, 0.8), _pybench(0.2535, 1.1))
    assert quiet[0].verdict == "4.42× slower"
    busy = speed_ratios(_pybench(0.0573, 0.8), _pybench(0.2535, 9.6))
    assert busy[0].verdict == "not compared: measured on a busy host (load 9.6 on 2 cores)"
    assert busy[0].ratio == 4.4241  # the figure stays in the data, never as a finding
    baseline_busy = speed_ratios(_pybench(0.0573, 9.6), _pybench(0.2535, 1.1))
    assert baseline_busy[0].verdict == (
        "not compared: the baseline measured on a busy host (load 9.6 on 2 cores)"
    )
    table = speed_table(
        [
            BaseRecord(name="slim", status="available", interpreter_speed=_pybench(0.0573, 0.8)),
            BaseRecord(name="alpine", status="available", interpreter_speed=_pybench(0.2535, 9.6)),
        ]
    )
    text = "\n".join(render_speed_markdown(table))
    assert "253.5 ms (not compared: measured on a busy host (load 9.6 on 2 cores))" in text
    assert "slower" not in text
