"""`harness check`'s verdict from a run's results: pairs, the check's matrix, ready /
blocked / unmeasured per base, failing tests named, what changed inside a digest bump,
--fail-on and the JSON for bots. No git, no engine: results built here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.check import (
    BLOCKED,
    CHECK_FORMAT,
    READY,
    UNMEASURED,
    VERDICT_OF,
    base_pairs,
    check_matrix_data,
    check_verdict,
    parse_fail_on,
    project_depset,
)
from harness.analysis.decision import decide
from harness.model.baserefs import (
    BaseChange,
    BaseChanges,
    BaseUse,
    ChangeKind,
    GitSide,
    Unresolved,
    parse_reference,
)
from harness.model.errors import ConfigurationError
from harness.model.matrix import matrix_from_data
from harness.model.records import SCHEMA_VERSION
from harness.model.results import Results

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
REGISTRY = "127.0.0.1:5000/library/python"


def use(written: str, where: str = "stage app", line: int = 1) -> BaseUse:
    return BaseUse("Dockerfile", line, where, where, written, parse_reference(written))


def change(old: str, new: str, kind: ChangeKind, where: str = "stage app") -> BaseChange:
    return BaseChange(kind, "Dockerfile", where, use(old, where), use(new, where))


def changes(*found: BaseChange, unresolved: tuple[Unresolved, ...] = ()) -> BaseChanges:
    return BaseChanges(
        base=GitSide("main", "1" * 40),
        head=GitSide("HEAD", "2" * 40),
        files=("Dockerfile",),
        changes=found,
        unresolved=unresolved,
    )


def base(name: str, python: str, size: int, digest: str = DIGEST_A, **extra: Any) -> dict[str, Any]:
    return {
        "name": name, "status": "available", "reference": f"{REGISTRY}:x", "digest": digest,
        "python": python, "os": "Debian GNU/Linux 12", "size_bytes": size, **extra,
    }  # fmt: skip


def cell(
    base_name: str,
    depset: str,
    status: str = "passed",
    failing: tuple[str, ...] = (),
    passed: int = 3,
    packages: dict[str, str] | None = None,
    steps: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    junit = {
        "tests": passed + len(failing), "passed": passed, "failed": len(failing),
        "errors": 0, "skipped": 0,
        "failing": [{"name": n, "outcome": "failed", "message": "ModuleNotFoundError: "
                     "No module named 'imghdr'"} for n in failing],
    }  # fmt: skip
    probes: dict[str, Any] = {
        "tests": {"status": "failed" if failing else "passed", "command": "pytest", "junit": junit}
    }
    if packages is not None:
        probes["contents"] = {
            "os_packages": [{"name": n, "version": v} for n, v in packages.items()]
        }
    return {
        "id": f"{base_name}×{depset}", "base": base_name, "depset": depset, "status": status,
        "install_seconds": 12.5, "size_added_bytes": 40_000_000, "probes": probes,
        "steps": steps or [], "reason": "tests failed" if failing else None,
    }  # fmt: skip


def results(bases: list[dict[str, Any]], cells: list[dict[str, Any]], **run: Any) -> Results:
    depsets = sorted({c["depset"] for c in cells})
    data = {
        "schema_version": SCHEMA_VERSION,
        "run": {"id": "check-run", "jobs": 2, **run},
        "bases": bases,
        "depsets": [{"name": d} for d in depsets],
        "cells": cells,
    }
    return Results.from_json_data(data, "test")


def test_pairs_one_per_distinct_move_with_every_place_and_what_is_not_run() -> None:
    found = changes(
        change("python:3.11", "python:3.13", ChangeKind.TAG, "stage builder"),
        change("python:3.11-slim", "python:3.13-slim", ChangeKind.TAG, "stage runtime"),
        change("python:3.11", "python:3.13", ChangeKind.TAG, "stage tests"),
        BaseChange(ChangeKind.ADDED, "Dockerfile", "stage docs", None, use("nginx:1.27")),
        BaseChange(
            ChangeKind.PLATFORM, "Dockerfile", "stage x", use("debian:12"), use("debian:12")
        ),
    )
    pairs, not_run = base_pairs(found)
    assert [(p.key, p.old.familiar, p.new.familiar) for p in pairs] == [
        ("b1", "python:3.11", "python:3.13"),
        ("b2", "python:3.11-slim", "python:3.13-slim"),
    ]
    assert pairs[0].places == ("Dockerfile, stage builder", "Dockerfile, stage tests")
    assert [n.reason.split(":")[0] for n in not_run] == ["added", "only the --platform changed"]


def test_the_check_matrix_runs_the_depsets_on_both_references_and_loads() -> None:
    pairs, _ = base_pairs(changes(change(f"{REGISTRY}:3.11-slim", f"{REGISTRY}:3.13-slim",
                                         ChangeKind.TAG)))  # fmt: skip
    depset = project_depset("requirements.txt", None, "python -m pytest -q", has_pyproject=False)
    assert depset["tests"] == {"command": "python -m pytest -q", "junit": True}
    assert depset["requirements"] == ["requirements.txt"] and "project" not in depset
    data = check_matrix_data(pairs, {"project": {"pip": ["six"]}})
    where = "base of Dockerfile, stage app"
    assert data["bases"] == {
        "b1-old": {"image": f"{REGISTRY}:3.11-slim", "description": f"old {where}"},
        "b1-new": {"image": f"{REGISTRY}:3.13-slim", "description": f"new {where}"},
    }
    matrix = matrix_from_data(data, Path("/nowhere/harness-check.yaml"))
    assert [c.id for c in matrix.cells] == ["b1-old×project", "b1-new×project"]


def test_a_lockfile_project_installs_the_project_too_and_a_non_pytest_suite_has_no_junit() -> None:
    depset = project_depset(None, "uv.lock", "make test", has_pyproject=True)
    assert depset["lockfile"] == "uv.lock" and depset["project"] == {"path": "."}
    assert depset["tests"] == {"command": "make test", "junit": False} and depset["source"] == "."


def tag_bump(failing_new: tuple[str, ...] = ()) -> tuple[BaseChanges, Results]:
    found = changes(change("python:3.11-slim", "python:3.13-slim", ChangeKind.TAG))
    run = results(
        [base("b1-old", "3.11.2", 150_000_000), base("b1-new", "3.13.5", 138_000_000, DIGEST_B)],
        [
            cell("b1-old", "app", passed=97),
            cell("b1-new", "app", "failed" if failing_new else "passed", failing_new,
                 passed=97 - len(failing_new)),
            cell("b1-old", "worker", passed=97),
            cell("b1-new", "worker", passed=97),
        ],
    )  # fmt: skip
    return found, run


def test_ready_counts_depsets_tests_and_the_image_size() -> None:
    found, run = tag_bump()
    pairs, not_run = base_pairs(found)
    report = check_verdict(found, pairs, not_run, run)
    (verdict,) = report.verdicts
    assert verdict.verdict == READY and verdict.blockers == ()
    assert (verdict.depsets_passed, verdict.tests_passed, verdict.tests_total) == (2, 194, 194)
    assert verdict.image_change_bytes == -12_000_000
    assert "python: 3.11.2 → 3.13.5" in verdict.inside
    assert report.exit_code(parse_fail_on("regression")) == 0


def test_a_test_the_new_base_breaks_is_named_and_is_a_regression() -> None:
    found, run = tag_bump(failing_new=("tests/test_images.py::test_detects_png",))
    pairs, not_run = base_pairs(found)
    report = check_verdict(found, pairs, not_run, run)
    (verdict,) = report.verdicts
    assert verdict.verdict == BLOCKED
    (blocker,) = verdict.blockers
    assert blocker.depset == "app" and blocker.regression
    assert blocker.what.startswith("test tests/test_images.py::test_detects_png failed on the new")
    assert "No module named 'imghdr'" in blocker.what
    assert "Python 3.13.5" in blocker.fix and "logs/b1-new_x_app.r0.log" in blocker.fix
    assert report.exit_code(parse_fail_on("regression")) == 1
    assert report.exit_code(parse_fail_on("never")) == 0
    assert report.failures(parse_fail_on("regression")) == [
        "python:3.11-slim → python:3.13-slim: app: " + blocker.what
    ]


def test_a_failure_on_both_bases_is_not_a_regression_but_fails_with_failure() -> None:
    # Session 7: the verdict is the decision's rule (a depset that passes on no option
    # blocks none), so the bump is ready and the failure is said beside it, not blocking.
    found = changes(change("python:3.11-slim", "python:3.13-slim", ChangeKind.TAG))
    run = results(
        [base("b1-old", "3.11.2", 1), base("b1-new", "3.13.5", 1)],
        [cell("b1-old", "app", "failed", ("t::a",)), cell("b1-new", "app", "failed", ("t::a",))],
    )
    pairs, not_run = base_pairs(found)
    report = check_verdict(found, pairs, not_run, run)
    (verdict,) = report.verdicts
    assert verdict.verdict == READY and verdict.blockers == () and verdict.regressions == ()
    assert [f.what.split(" (")[0] for f in verdict.also_failing] == [
        "test t::a failed on the new base"
    ]
    assert report.exit_code(parse_fail_on("regression")) == 0
    assert report.exit_code(parse_fail_on("failure")) == 1


def test_a_distribution_without_a_wheel_is_the_blocker_with_pips_fix() -> None:
    found = changes(change("python:3.11-slim", "python:3.13-slim", ChangeKind.TAG))
    failed_step = {
        "name": "pip", "kind": "install", "status": "failed", "reason": "no wheel",
        "failure": {"distribution": "pydantic-core", "what": "no cp313 wheel at 2.9.2",
                    "hint": "pin pydantic-core>=2.27 (the first release with cp313 wheels)"},
    }  # fmt: skip
    new = cell("b1-new", "app", "failed", steps=[failed_step])
    new["probes"] = {}
    run = results([base("b1-old", "3.11.2", 1), base("b1-new", "3.13.5", 1)],
                  [cell("b1-old", "app"), new])  # fmt: skip
    pairs, not_run = base_pairs(found)
    (blocker,) = check_verdict(found, pairs, not_run, run).verdicts[0].blockers
    assert blocker.what == "pydantic-core: no cp313 wheel at 2.9.2"
    assert blocker.fix.startswith("pin pydantic-core>=2.27")


def test_a_new_base_that_cannot_be_pulled_is_unmeasured_and_fails_only_if_asked() -> None:
    found = changes(change("python:3.11-slim", "python:3.13-slim", ChangeKind.TAG))
    gone = {"name": "b1-new", "status": "unavailable", "reason": "registry refused the pull"}
    unavailable = {**cell("b1-new", "app", "unavailable"), "reason": "base unavailable"}
    run = results([base("b1-old", "3.11.2", 1), gone], [cell("b1-old", "app"), unavailable])
    pairs, not_run = base_pairs(found)
    report = check_verdict(found, pairs, not_run, run)
    assert report.verdicts[0].verdict == UNMEASURED
    assert report.verdicts[0].why == "registry refused the pull"
    assert report.exit_code(parse_fail_on("regression")) == 0
    assert report.exit_code(parse_fail_on("regression,unmeasured")) == 1


def test_a_digest_bump_says_what_changed_inside_though_every_cell_passes() -> None:
    found = changes(change(f"{REGISTRY}:3.11-slim@{DIGEST_A}", f"{REGISTRY}:3.11-slim@{DIGEST_B}",
                           ChangeKind.DIGEST))  # fmt: skip
    old_packages = {"libssl3": "3.0.11-1", "tzdata": "2024a", "python3.11-venv": "3.11.2-6"}
    new_packages = {"libssl3": "3.0.13-1", "tzdata": "2024a", "netbase": "6.4"}
    run = results(
        [base("b1-old", "3.11.2", 150_000_000, DIGEST_A,
              libc={"family": "glibc", "version": "2.36", "source": "os.confstr"}),
         base("b1-new", "3.11.9", 152_500_000, DIGEST_B,
              libc={"family": "glibc", "version": "2.41", "source": "os.confstr"})],
        [cell("b1-old", "app", packages=old_packages),
         cell("b1-new", "app", packages=new_packages)],
    )  # fmt: skip
    pairs, not_run = base_pairs(found)
    (verdict,) = check_verdict(found, pairs, not_run, run).verdicts
    assert verdict.verdict == READY
    assert verdict.pair.title == f"{REGISTRY}:3.11-slim @sha256:aaaaaaaaaaaa → @sha256:bbbbbbbbbbbb"
    assert verdict.inside == (
        "digest sha256:aaaaaaaaaaaa → sha256:bbbbbbbbbbbb",
        "python: 3.11.2 → 3.11.9",
        "libc: glibc 2.36 → glibc 2.41",
        "image size: 150 MB → 152 MB (+2.5 MB)",
        "OS packages: 1 changed, 1 added, 1 removed (libssl3 3.0.11-1 → 3.0.13-1, +netbase 6.4, "
        "−python3.11-venv)",
    )


def test_unresolved_references_are_named_and_fail_only_with_unmeasured() -> None:
    broken = BaseUse("Dockerfile", 3, "stage app", "stage app", "${BASE}", None,
                     problem="BASE has no default and no --build-arg")  # fmt: skip
    found = changes(unresolved=(Unresolved(broken, ("head",)),))
    report = check_verdict(found, (), (), None)
    assert report.unresolved == (
        "Dockerfile:3 FROM ${BASE}: BASE has no default and no --build-arg (head)",
    )
    assert report.exit_code(parse_fail_on("regression")) == 0
    assert report.exit_code(parse_fail_on("unmeasured")) == 1


def test_the_json_for_bots_is_versioned_and_round_trips() -> None:
    found, run = tag_bump(failing_new=("t::png",))
    pairs, not_run = base_pairs(found)
    report = check_verdict(found, pairs, not_run, run, links=[("report.html", "/r/report.html")])
    data = json.loads(json.dumps(report.to_dict(parse_fail_on("regression"))))
    assert data["format"] == CHECK_FORMAT and data["exit_code"] == 1
    (entry,) = data["bases"]
    assert entry["old"] == "python:3.11-slim" and entry["new"] == "python:3.13-slim"
    assert entry["verdict"] == "blocked" and entry["tests_passed"] == 193
    assert entry["blockers"][0]["what"].startswith("test t::png failed")
    assert {r["depset"]: r["regression"] for r in entry["rows"]} == {"app": True, "worker": False}
    assert data["links"] == [{"label": "report.html", "url": "/r/report.html"}]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("regresion", "unknown word(s) regresion"), ("", "(none given)"),
     ("never,failure", "'never' cannot go with other words")],
)  # fmt: skip
def test_fail_on_refuses_unknown_words_with_the_list(text: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_fail_on(text)
    assert problem in caught.value.message and caught.value.key == "--fail-on"
    assert caught.value.fix and ("regression" in caught.value.fix or "never" in caught.value.fix)


def test_a_test_passing_on_the_old_base_is_a_regression_though_the_old_failed_another() -> None:
    found = changes(change("python:3.11-slim", "python:3.13-slim", ChangeKind.TAG))
    run = results(
        [base("b1-old", "3.11.2", 1), base("b1-new", "3.13.5", 1)],
        [cell("b1-old", "app", "failed", ("t::uses_copy_replace",), passed=8),
         cell("b1-new", "app", "failed", ("t::uses_imghdr",), passed=8)],
    )  # fmt: skip
    pairs, not_run = base_pairs(found)
    report = check_verdict(found, pairs, not_run, run)
    (verdict,) = report.verdicts
    (row,) = verdict.rows
    assert row.regression and row.fixed == ("t::uses_copy_replace",)
    (blocker,) = verdict.blockers
    assert blocker.what.startswith("test t::uses_imghdr failed") and blocker.regression
    assert report.exit_code(parse_fail_on("regression")) == 1


def test_a_digest_bump_that_keeps_the_python_says_so() -> None:
    found = changes(change(f"{REGISTRY}:3.11-slim@{DIGEST_A}", f"{REGISTRY}:3.11-slim@{DIGEST_B}",
                           ChangeKind.DIGEST))  # fmt: skip
    run = results(
        [base("b1-old", "3.11.2", 1, DIGEST_A), base("b1-new", "3.11.2", 1, DIGEST_B)],
        [cell("b1-old", "app"), cell("b1-new", "app")],
    )
    pairs, not_run = base_pairs(found)
    (verdict,) = check_verdict(found, pairs, not_run, run).verdicts
    assert "python: 3.11.2 (unchanged)" in verdict.inside


# -- one rule: check's verdict is the decision's (analysis/decision.py decide) ---------------


def _agreement(found: BaseChanges, run: Results) -> tuple[str, str, set[str], set[str]]:
    """(check's verdict, the decision's, check's blocking depsets, the decision's)."""
    pairs, not_run = base_pairs(found)
    (verdict,) = check_verdict(found, pairs, not_run, run).verdicts
    decided = decide(run, baseline=pairs[0].old_base, options=[pairs[0].new_base])
    (candidate,) = decided.candidates
    return (
        verdict.verdict,
        VERDICT_OF[candidate.verdict],
        {b.depset for b in verdict.blockers},
        {b.depset for b in candidate.blockers},
    )


TAG = change("python:3.11-slim", "python:3.13-slim", ChangeKind.TAG)
BASES = [base("b1-old", "3.11.2", 1), base("b1-new", "3.13.5", 1)]
GONE = {"name": "b1-new", "status": "unavailable", "reason": "registry refused the pull"}


@pytest.mark.parametrize(
    ("bases", "cells", "expected"),
    [
        (BASES, [cell("b1-old", "app"), cell("b1-new", "app")], READY),
        (BASES, [cell("b1-old", "app"), cell("b1-new", "app", "failed", ("t::png",))], BLOCKED),
        # one known-failing test on both must not hide a test the new base breaks
        (BASES, [cell("b1-old", "app", "failed", ("t::a",)),
                 cell("b1-new", "app", "failed", ("t::a", "t::png"))], BLOCKED),
        (BASES, [cell("b1-old", "app", "failed", ("t::a",)),
                 cell("b1-new", "app", "failed", ("t::a",))], READY),
        ([BASES[0], GONE], [cell("b1-old", "app"),
                            {**cell("b1-new", "app", "unavailable"), "reason": "gone"}],
         UNMEASURED),
        # nothing measured on either side is no evidence, not a pass
        ([{**GONE, "name": "b1-old"}, GONE],
         [{**cell("b1-old", "app", "unavailable"), "reason": "gone"},
          {**cell("b1-new", "app", "unavailable"), "reason": "gone"}], UNMEASURED),
        (BASES, [cell("b1-old", "app"), {**cell("b1-new", "app", "expected-failure"),
                 "expected_failure": {"reason": "imghdr is gone in 3.13"}}], BLOCKED),
    ],
)  # fmt: skip
def test_check_and_the_decision_agree_on_the_verdict_and_the_blockers(
    bases: list[dict[str, Any]], cells: list[dict[str, Any]], expected: str
) -> None:
    check, decided, check_blocking, decided_blocking = _agreement(
        changes(TAG), results(bases, cells)
    )
    assert check == decided == expected
    assert check_blocking == decided_blocking


def test_a_busy_host_voids_the_timing_call_beside_the_verdict() -> None:
    pip = [{"name": "pip-install", "kind": "install", "status": "passed", "seconds": 12.5}]
    slower = [{**pip[0], "seconds": 30.0}]
    run = results(
        BASES,
        [cell("b1-old", "app", steps=pip), cell("b1-old", "app", steps=pip) | {"repeat": 1},
         cell("b1-new", "app", steps=slower), cell("b1-new", "app", steps=slower) | {"repeat": 1}],
        load={"cpus": 2, "load1_max": 9.6},
    )  # fmt: skip
    pairs, not_run = base_pairs(changes(TAG))
    (verdict,) = check_verdict(changes(TAG), pairs, not_run, run).verdicts
    assert verdict.verdict == READY
    (install, _speed) = verdict.timings
    assert install.startswith("install time: +17.5 s") and "no faster/slower call" in install
    assert "the host was busy during the run (load 9.6 on 2 cores)" in install
    assert any("no timing of this run is called faster or slower" in c for c in verdict.cannot_tell)
    assert not any("b1-" in line for line in (*verdict.timings, *verdict.cannot_tell))
