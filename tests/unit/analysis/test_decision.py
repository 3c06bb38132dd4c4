"""analysis.decision: the baseline against each candidate, the verdict words and the option
the drivers pick, from typed results built here."""

from __future__ import annotations

from typing import Any

from harness.analysis.decision import (
    BETTER,
    BLOCKED,
    FAILS,
    NO_CALL,
    NO_OPTION,
    NOT_DECIDABLE,
    NOT_MEASURED,
    READY,
    UNKNOWN,
    Decision,
    decide,
)
from harness.model.results import Results

MB = 1_000_000


def install(seconds: float) -> list[dict[str, Any]]:
    return [{"name": "pip-install", "kind": "install", "status": "passed", "seconds": seconds}]


def cell(
    base: str, depset: str, status: str = "passed", repeat: int = 0, **extra: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"{base}×{depset}",
        "base": base,
        "depset": depset,
        "status": status,
        "repeat": repeat,
        "steps": install(30.0 + repeat) if status == "passed" else [],
        "size_added_bytes": 100 * MB,
    }
    return record | extra


def base(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "reference": f"python:{name}",
        "status": "available",
        "size_bytes": 200 * MB,
        "libc": {"family": "glibc", "version": "2.36"},
        "os": "Debian GNU/Linux 12 (bookworm)",
        "python": "3.11.2",
    } | extra


def dockerfile_bases() -> list[dict[str, Any]]:
    """Two Dockerfile bases: "team" built FROM the py311-slim stand-in, "mine" FROM a
    pulled py311."""
    on_standin = {"base": "py311-slim", "origin": "stand-in", "standin": "stand-in for x"}
    return [
        base("team", origin="dockerfile", reference="Dockerfile", base_args={"BASE": on_standin}),
        base(
            "mine",
            origin="dockerfile",
            reference="Dockerfile",
            base_args={"BASE": {"base": "py311", "origin": "pulled"}},
        ),
    ]


def scan(critical: int, high: int) -> dict[str, Any]:
    return {
        "scanned": True,
        "scanner": "grype",
        "scanner_version": "0.80.0",
        "scanner_sha256": "ab" * 32,
        "db_built": "2026-11-30",
        "by_severity": {"critical": critical, "high": high},
        "fixable": 0,
        "total": critical + high,
    }


def results(
    bases: list[dict[str, Any]],
    cells: list[dict[str, Any]],
    run: dict[str, Any] | None = None,
    scans: dict[str, dict[str, Any]] | None = None,
) -> Results:
    depsets = list(dict.fromkeys(c["depset"] for c in cells))
    data: dict[str, Any] = {
        "schema_version": 1,
        "run": {"id": "r1", "started_at": "2026-12-04T10:00:00+00:00", "jobs": 2, **(run or {})},
        "bases": bases,
        "depsets": [{"name": d} for d in depsets],
        "cells": cells,
    }
    if scans is not None:
        data["sboms"] = {
            "sboms": [
                {"path": f"sbom/{b}.json", "kind": "base", "subject": b, "vulnerabilities": s}
                for b, s in scans.items()
            ]
        }
    return Results.from_dict(data)


def candidate(decision: Decision, name: str) -> Any:
    return next(c for c in decision.candidates if c.base == name)


def row(decision: Decision, name: str, driver: str) -> Any:
    return next(r for r in candidate(decision, name).rows if r.driver == driver)


def test_a_smaller_candidate_that_passes_everything_is_ready_and_chosen() -> None:
    found = decide(
        results(
            [base("a"), base("b", size_bytes=100 * MB)],
            [
                cell("a", "one"),
                cell("b", "one"),
                cell("a", "one", repeat=1),
                cell("b", "one", repeat=1),
            ],
            scans={"a": scan(0, 2), "b": scan(0, 2)},
        )
    )
    assert (
        candidate(found, "b").verdict == READY and candidate(found, "b").text == "ready to switch"
    )
    size = row(found, "b", "size")
    assert size.outcome == BETTER
    assert size.baseline == "one 300 MB" and size.candidate == "one 200 MB (-100 MB (-33 %))"
    assert found.chosen == "b"
    assert "size kept b" in found.because  # vulnerabilities tied, size decided


def test_fewer_high_vulnerabilities_come_before_size() -> None:
    found = decide(
        results(
            [base("a"), base("b", size_bytes=100 * MB)],
            [cell("a", "one"), cell("b", "one")],
            scans={"a": scan(0, 1), "b": scan(0, 5)},
        )
    )
    assert found.chosen == "a"
    vulns = row(found, "b", "vulnerabilities")
    assert vulns.change == "+0 critical, +4 high" and "grype 0.80.0" in vulns.candidate
    assert "DB built 2026-11-30" in vulns.candidate


def test_torch_without_a_musllinux_wheel_blocks_with_the_fix() -> None:
    failure = {
        "name": "pip-install",
        "kind": "install",
        "status": "failed",
        "failure": {"kind": "no-matching-distribution", "distribution": "torch==2.13.0+cpu"},
    }
    found = decide(
        results(
            [base("slim"), base("alpine", libc={"family": "musl", "version": "1.2.5"})],
            [
                cell("slim", "torch"),
                cell("alpine", "torch", "failed", steps=[failure]),
                cell("slim", "spacy"),
                cell("alpine", "spacy"),
            ],
        )
    )
    alpine = candidate(found, "alpine")
    assert alpine.verdict == BLOCKED
    assert (
        alpine.text == "blocked by: torch (no musllinux wheel) — fix: stay on glibc or drop torch"
    )
    assert row(found, "alpine", "compatibility").outcome == FAILS
    assert "only musllinux wheels install" in row(found, "alpine", "libc").candidate
    assert found.chosen == "slim"


def test_an_expected_failure_blocks_with_the_matrix_reason() -> None:
    expected = {"reason": "needs torch, which has no musllinux wheel", "link": "https://x.test/1"}
    found = decide(
        results(
            [base("slim"), base("alpine")],
            [
                cell("slim", "tf"),
                cell("alpine", "tf", "expected-failure", expected_failure=expected),
            ],
        )
    )
    assert candidate(found, "alpine").text == (
        "blocked by: tf (needs torch, which has no musllinux wheel) — fix: see https://x.test/1"
    )


def test_an_unmeasured_base_is_not_decidable_and_says_why() -> None:
    reason = "no registry, no stand-in"
    found = decide(
        results(
            [base("a"), base("b", status="unavailable", reason=reason)],
            [cell("a", "one"), cell("b", "one", "unavailable", reason=reason)],
        )
    )
    b = candidate(found, "b")
    assert b.verdict == NOT_DECIDABLE
    assert b.text == f"not decidable here: b was not measured ({reason})"
    assert found.chosen == "a" and "not decidable here: b" in found.because
    assert f"b: nothing measured ({reason})" in found.cannot_tell


def test_no_option_meets_the_drivers_when_each_breaks_something() -> None:
    found = decide(
        results(
            [base("a"), base("b")],
            [
                cell("a", "one"),
                cell("b", "one", "failed", reason="smoke test failed"),
                cell("a", "two", "failed", reason="import error"),
                cell("b", "two"),
            ],
        )
    )
    assert found.chosen is None
    assert found.because.startswith(f"{NO_OPTION} (must: compatibility, tests): a: blocked by: two")
    assert found.outcome_text == found.because


def test_the_team_suite_names_its_failing_tests() -> None:
    def suite(failed: int) -> dict[str, Any]:
        failing = [{"name": "tests/test_api.py::test_upload", "outcome": "failed"}] * failed
        junit = {"tests": 8, "passed": 8 - failed, "failed": failed, "failing": failing}
        status = "failed" if failed else "passed"
        return {"tests": {"status": status, "seconds": 2.5, "command": "pytest", "junit": junit}}

    found = decide(
        results(
            [base("a"), base("b")],
            [cell("a", "app", probes=suite(0)), cell("b", "app", probes=suite(1))],
        )
    )
    tests = row(found, "b", "tests")
    assert tests.baseline == "app: 8 passed of 8 in 2.5 s"
    assert tests.candidate.endswith("failing: tests/test_api.py::test_upload")
    assert candidate(found, "b").verdict == BLOCKED
    assert "app's test suite (tests/test_api.py::test_upload)" in candidate(found, "b").text


def test_a_busy_host_voids_the_install_time_call() -> None:
    load = {"load1_max": 9.6, "cpus": 2}
    cells = [
        cell("a", "one", steps=install(27.3)),
        cell("a", "one", repeat=1, steps=install(27.5)),
        cell("b", "one", steps=install(48.4)),
        cell("b", "one", repeat=1, steps=install(48.5)),
    ]
    quiet = row(decide(results([base("a"), base("b")], cells)), "b", "install_time")
    assert quiet.outcome == "worse" and quiet.change.startswith("in all: +21")
    busy = row(
        decide(results([base("a"), base("b")], cells, run={"load": load})), "b", "install_time"
    )
    assert busy.outcome == UNKNOWN
    assert f"{NO_CALL}: the host was busy during the run (load 9.6 on 2 cores)" in busy.change


def test_one_sample_timings_are_shown_not_compared() -> None:
    cells = [cell("a", "one", steps=install(20.0)), cell("b", "one", steps=install(40.0))]
    found = decide(results([base("a"), base("b")], cells))
    assert row(found, "b", "install_time").change.endswith("one sample, noise unknown")
    assert any(line.startswith("every timing is one sample") for line in found.cannot_tell)


def test_total_and_compressed_sizes_are_read_when_recorded() -> None:
    recorded: dict[str, Any] = {"image_size_bytes": 449 * MB, "image_compressed_bytes": 150 * MB}
    smaller: dict[str, Any] = {"image_size_bytes": 342 * MB, "image_compressed_bytes": 60 * MB}
    found = decide(
        results([base("a"), base("b")], [cell("a", "one", **recorded), cell("b", "one", **smaller)])
    )
    assert row(found, "b", "size").candidate == "one 342 MB (-107 MB (-24 %))"
    assert row(found, "b", "pull_size").candidate == "one 60.0 MB (-90.0 MB (-60 %))"
    absent = decide(results([base("a"), base("b")], [cell("a", "one"), cell("b", "one")]))
    assert row(absent, "b", "pull_size").candidate == NOT_MEASURED


def test_not_scanned_gives_the_command_and_never_a_zero() -> None:
    command = "trivy sbom --offline-scan sbom/b.json"
    reason = {
        "scanned": False,
        "reason": "not scanned: no vulnerability database",
        "command": command,
    }
    found = decide(
        results(
            [base("a"), base("b")],
            [cell("a", "one"), cell("b", "one")],
            scans={"a": reason, "b": reason},
        )
    )
    vulns = row(found, "b", "vulnerabilities")
    assert vulns.outcome == UNKNOWN and vulns.candidate == "not scanned"
    said = [line for line in found.cannot_tell if line.startswith("vulnerabilities:")]
    assert said == [
        f"vulnerabilities: {reason['reason']}; `{command}` gives the counts "
        "(the same with each base's SBOM: a, b)"
    ]
    assert "vulnerabilities could not rank them (not scanned)" in found.because


def test_the_block_is_echoed_and_its_baseline_used() -> None:
    decision = {"baseline": "b", "must": ["compatibility", "support"], "prefer": ["speed"]}
    found = decide(
        results(
            [base("a"), base("b")], [cell("a", "one"), cell("b", "one")], run={"decision": decision}
        )
    )
    assert found.baseline == "b" and [c.base for c in found.candidates] == ["a"]
    lines = found.rule.lines()
    assert lines[0] == "baseline: b"
    assert lines[2].startswith("must: support: the Python version and the OS release are final")
    assert lines[3].startswith("prefer 1: speed:")


def test_a_prerelease_python_fails_the_support_driver() -> None:
    decision = {"must": ["compatibility", "support"]}
    found = decide(
        results(
            [base("a"), base("b", python="3.16.0a1")],
            [cell("a", "one"), cell("b", "one")],
            run={"decision": decision},
        )
    )
    b = candidate(found, "b")
    assert b.verdict == BLOCKED and "Python 3.16.0a1: an alpha of 3.16" in b.text
    assert "fix: use a final release under security support" in b.text


def test_what_the_run_cannot_tell_names_standins_and_installer_versions() -> None:
    standin = "Debian 12 + Debian's python3.11, built locally"
    found = decide(
        results(
            [base("a", standin=standin), base("b")],
            [
                cell("a", "one", installer={"name": "pip", "version": "23.0.1"}),
                cell("b", "one", installer={"name": "pip", "version": "25.1"}),
            ],
        )
    )
    told = "\n".join(found.cannot_tell)
    assert f"a was measured on a stand-in, not python:a: {standin}" in told
    assert "pip 23.0.1 on a; pip 25.1 on b" in told and "issue #25" in told


def test_one_blocker_of_two_depsets_is_said_once() -> None:
    failure = {"kind": "no-matching-distribution", "distribution": "torch==2.13.0+cpu"}
    step = {"name": "pip-install", "kind": "install", "status": "failed", "failure": failure}
    musl = base("alpine", libc={"family": "musl", "version": "1.2.6"})
    found = decide(
        results(
            [base("slim"), musl],
            [
                cell("slim", "torch"),
                cell("alpine", "torch", "failed", steps=[step]),
                cell("slim", "whisper"),
                cell("alpine", "whisper", "failed", steps=[step]),
            ],
        )
    )
    text = candidate(found, "alpine").text
    assert text == "blocked by: torch (no musllinux wheel) — fix: stay on glibc or drop torch"
    assert (
        row(found, "alpine", "compatibility").candidate == "0 of 2 pass; breaking: torch, whisper"
    )


def pybench(median: float, **extra: Any) -> dict[str, Any]:
    stats = {"median_s": median, "rel_iqr": 0.02}
    return {
        "status": "passed",
        "settings": {"scale": 1},
        "startup": {"bare": stats},
        "workloads": {"regex": stats, "json": stats},
        **extra,
    }


def test_interpreter_speed_is_called_only_on_a_quiet_host() -> None:
    quiet = decide(
        results(
            [base("a", interpreter_speed=pybench(0.2)), base("b", interpreter_speed=pybench(0.1))],
            [cell("a", "one"), cell("b", "one")],
        )
    )
    speed = row(quiet, "b", "speed")
    assert speed.outcome == BETTER and speed.change.startswith("3 faster, 0 slower")
    busy = {"measured": {"host_load1_max": 9.6, "host_cpus": 2}}
    loaded = decide(
        results(
            [
                base("a", interpreter_speed=pybench(0.2)),
                base("b", interpreter_speed=pybench(0.1, **busy)),
            ],
            [cell("a", "one"), cell("b", "one")],
        )
    )
    speed = row(loaded, "b", "speed")
    assert speed.outcome == UNKNOWN
    assert speed.change == f"{NO_CALL}: not compared: measured on a busy host (load 9.6 on 2 cores)"


def test_vulnerabilities_as_a_must_driver_use_the_block_limits() -> None:
    decision = {"must": ["compatibility", "vulnerabilities"], "max_critical": 0, "max_high": 3}
    found = decide(
        results(
            [base("a"), base("b"), base("c")],
            [cell("a", "one"), cell("b", "one"), cell("c", "one")],
            run={"decision": decision},
            scans={"a": scan(0, 3), "b": scan(1, 0), "c": scan(0, 4)},
        )
    )
    assert candidate(found, "b").verdict == BLOCKED and candidate(found, "c").verdict == BLOCKED
    assert (
        "vulnerabilities (1 critical, 0 high; 0 fixable (grype 0.80.0" in candidate(found, "b").text
    )
    assert found.chosen == "a"
    assert (
        "must: vulnerabilities: fewer critical, then fewer high vulnerabilities in the base "
        "image (at most 0 critical, 3 high)" in found.rule.lines()
    )


def test_a_support_table_over_a_year_old_says_so_in_the_section() -> None:
    old = results(
        [base("a"), base("b")],
        [cell("a", "one"), cell("b", "one")],
        run={"started_at": "2028-01-02T00:00:00+00:00"},
    )
    assert "the support table is as of 2026-12-04, over a year old: it may be stale" in (
        decide(old).cannot_tell
    )
    assert not any(
        "support table" in line
        for line in decide(results([base("a")], [cell("a", "one")])).cannot_tell
    )


def test_an_empty_run_says_it_has_no_base() -> None:
    found = decide(results([], []))
    assert (found.chosen, found.because) == (None, f"{NO_OPTION}: the run has no base")
    assert found.candidates == ()


def test_a_dockerfile_built_on_a_standin_is_said_to_be_measured_on_one() -> None:
    on_standin = {"base": "py311-slim", "origin": "stand-in", "standin": "stand-in for x"}
    pulled = {"base": "py311", "origin": "pulled"}
    found = decide(
        results(
            [
                base(
                    "team",
                    origin="dockerfile",
                    reference="Dockerfile",
                    base_args={"BASE": on_standin},
                ),
                base(
                    "mine", origin="dockerfile", reference="Dockerfile", base_args={"BASE": pulled}
                ),
            ],
            [cell("team", "one"), cell("mine", "one")],
        )
    )
    told = [line for line in found.cannot_tell if "measured on a stand-in" in line]
    assert len(told) == 1 and told[0].startswith("team was measured on a stand-in, not Dockerfile")
    assert "FROM py311-slim (stand-in for x)" in told[0]


def test_a_cell_whose_suite_failed_after_a_complete_install_still_has_its_size() -> None:
    # The service example: the baseline installs but one of the team's tests fails on it.
    suite_failed = cell("a", "one", status="failed", steps=install(30.0))
    found = decide(
        results([base("a"), base("b", size_bytes=100 * MB)], [suite_failed, cell("b", "one")])
    )
    size = row(found, "b", "size")
    assert size.baseline == "one 300 MB" and size.candidate.startswith("one 200 MB (-100 MB")
    # An install that did not complete has no size to compare.
    broken = cell("a", "one", status="failed", steps=[{**install(5.0)[0], "status": "failed"}])
    none = row(decide(results([base("a"), base("b")], [broken, cell("b", "one")])), "b", "size")
    assert none.baseline == NOT_MEASURED and none.change.endswith("no depset installed on both")


def test_speed_withheld_names_the_pybench_load_before_the_runs() -> None:
    # pybench is cached per image: its own measurement's load is the reason, not the run's.
    busy = {"measured": {"host_load1_max": 9.6, "host_cpus": 2}}
    found = decide(
        results(
            [
                base("a", interpreter_speed=pybench(0.2)),
                base("b", interpreter_speed=pybench(0.1, **busy)),
            ],
            [cell("a", "one"), cell("b", "one")],
            run={"load": {"load1_max": 11.6, "cpus": 2}},
        )
    )
    speed = row(found, "b", "speed")
    assert speed.outcome == UNKNOWN and "measured on a busy host (load 9.6" in speed.change
    assert speed.baseline == "measured: the reference of the ratios"


def test_a_failing_suite_is_named_once_by_the_tests_driver_not_again_by_compatibility() -> None:
    junit = {"tests": 8, "passed": 7, "failed": 1, "errors": 0, "skipped": 0}
    junit["failing"] = [{"name": "tests.test_app::test_copy", "outcome": "failed"}]  # type: ignore[assignment]
    suite = {"status": "failed", "command": "pytest", "junit": junit}
    failed = cell("a", "app", "failed", steps=install(30.0), probes={"tests": suite})
    passed_suite = {
        **suite,
        "status": "passed",
        "junit": {**junit, "passed": 8, "failed": 0, "failing": []},
    }
    found = decide(
        results([base("a"), base("b")], [failed, cell("b", "app", probes={"tests": passed_suite})]),
        baseline="b",
    )
    candidate = next(c for c in found.candidates if c.base == "a")
    assert [b.driver for b in candidate.blockers] == ["tests"], candidate.blockers
    assert "test_copy" in candidate.blockers[0].what


def test_the_smoke_tests_workload_is_shown_with_its_range() -> None:
    figure = {
        "what": "nlp.pipe over 200 documents",
        "unit": "documents/s",
        "values": [790.0, 812.0, 805.0],
        "median": 805.0,
        "higher_is_better": True,
    }
    smoke = {"status": "passed", "workload": figure}
    found = decide(
        results(
            [base("a"), base("b")],
            [cell("a", "spacy", probes={"smoke_spacy": smoke}), cell("b", "spacy")],
        )
    )
    workload = row(found, "b", "workload")
    assert (
        workload.baseline
        == "spacy: nlp.pipe over 200 documents 805 documents/s (3 repeats, 790–812)"
    )
    assert workload.candidate == NOT_MEASURED


def test_a_test_that_passes_elsewhere_blocks_though_its_depset_passes_on_no_option() -> None:
    # One test fails everywhere (the depset passes on no base); a test that passes on the
    # baseline and fails on the candidate still blocks it: the rule harness check follows.
    def suite(*failing: str) -> dict[str, Any]:
        junit: dict[str, Any] = {"tests": 8, "passed": 8 - len(failing), "failed": len(failing)}
        junit |= {"errors": 0, "skipped": 0, "failing": [{"name": n} for n in failing]}
        return {"tests": {"status": "failed", "command": "pytest", "junit": junit}}

    found = decide(
        results(
            [base("a"), base("b"), base("c")],
            [
                cell("a", "app", "failed", steps=install(30.0), probes=suite("t::known")),
                cell("b", "app", "failed", steps=install(30.0), probes=suite("t::known", "t::new")),
                cell("c", "app", "failed", steps=install(30.0), probes=suite("t::known")),
            ],
        )
    )
    assert candidate(found, "b").verdict == BLOCKED
    assert [b.what for b in candidate(found, "b").blockers] == ["app's test suite (t::new)"]
    assert candidate(found, "c").verdict == READY
    assert (
        "app passes whole on no base: only its tests that pass on some base decide between them"
        in found.cannot_tell
    )


def test_a_base_with_nothing_measured_is_not_decidable_though_nothing_passes_anywhere() -> None:
    gone = {"status": "unavailable", "reason": "registry refused the pull"}
    found = decide(
        results(
            [base("a", **gone), base("b", **gone)],
            [
                cell("a", "app", "unavailable", reason="base unavailable"),
                cell("b", "app", "unavailable", reason="base unavailable"),
            ],
        )
    )
    (only,) = found.candidates
    assert only.verdict == NOT_DECIDABLE and only.undecided == (
        f"b was {NOT_MEASURED} (registry refused the pull)",
    )
    assert found.chosen is None


def test_memory_is_what_the_probes_added_over_what_the_container_held() -> None:
    # a single-stage cell still holds the install's page cache when its probes start; a
    # runtime cell's fresh container holds a few MB: the peaks alone would mislead
    single = cell("a", "spacy", memory_peak_bytes=519 * MB, memory_at_reset_bytes=381 * MB)
    runtime = cell("b", "spacy", memory_peak_bytes=167 * MB, memory_at_reset_bytes=4 * MB)
    memory = row(decide(results([base("a"), base("b")], [single, runtime])), "b", "memory")
    assert memory.baseline == (
        "spacy +138 MB over the 381 MB held when the probes started (peak 519 MB)"
    )
    assert memory.candidate.startswith("spacy +163 MB over the 4.0 MB held")
    bare = cell("b", "spacy", memory_peak_bytes=167 * MB)  # an older record: the peak alone
    memory = row(decide(results([base("a"), base("b")], [single, bare])), "b", "memory")
    assert memory.candidate == "spacy 167 MB (peak)"


def test_nothing_passing_on_any_base_makes_no_option_ready() -> None:
    # every cell fails the same way (the suite cannot start): 0 of 0 pass is no evidence
    suite = {"status": "error", "problem": "the command exited 1: No module named pytest"}
    cells = [
        cell(b, "app", status="failed", reason="tests failed", probes={"tests": suite})
        for b in ("a", "b")
    ]
    found = decide(results([base("a"), base("b")], cells))
    assert found.chosen is None
    assert candidate(found, "b").verdict == NOT_DECIDABLE
    assert "nothing passes on any base" in candidate(found, "b").text
    assert "the baseline a included" in found.because and "app failed" in found.because


def test_a_suite_failing_without_junit_where_others_have_counts_is_not_decidable() -> None:
    counted = {
        "status": "failed",
        "junit": {"tests": 10, "passed": 9, "failed": 1, "errors": 0, "skipped": 0},
        "failing": [{"name": "t.test_tz", "kind": "failed"}],
    }
    bare = {"status": "failed", "problem": "the command exited 1"}
    found = decide(
        results(
            [base("a"), base("b")],
            [
                cell("a", "app", status="failed", probes={"tests": counted}),
                cell("b", "app", status="failed", probes={"tests": bare}),
            ],
        )
    )
    b = candidate(found, "b")
    assert b.verdict == NOT_DECIDABLE and "without a JUnit report" in b.text


def test_the_chosen_option_names_the_standin_it_was_measured_on() -> None:
    standin = base("b", python="3.13.5", standin="stand-in for python:b: Debian's python3.13")
    found = decide(
        results(
            [base("a"), standin],
            [cell("a", "d"), cell("b", "d", size_added_bytes=10 * MB)],
        )
    )
    assert found.chosen == "b"
    assert found.because.endswith("b was measured on a stand-in (CPython 3.13.5), not on python:b")
