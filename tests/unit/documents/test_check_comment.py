"""`harness check`'s comment: one verdict line per changed base first, the rows, the
marker last; under GitHub's comment limit for a 10-base × 20-depset change, and the job
summary under 1 MiB."""

from __future__ import annotations

from harness.analysis.check import (
    BLOCKED,
    BasePair,
    BaseVerdict,
    Blocker,
    CheckReport,
    DepsetRow,
    NotRun,
    Side,
    parse_fail_on,
)
from harness.documents.check import (
    COMMENT_BYTES,
    COMMENT_MARKER,
    SUMMARY_BYTES,
    render_comment,
    verdict_line,
)
from harness.model.baserefs import GitSide, parse_reference

REGRESSION = parse_fail_on("regression")


def side(status: str, passed: int = 97, total: int = 97) -> Side:
    return Side(status, None, passed, total, 12.5, 40_000_000, "logs/x.r0.log")


def verdict(
    key: str, old: str, new: str, depsets: int = 2, failing: str | None = None, why: str = ""
) -> BaseVerdict:
    rows = tuple(DepsetRow(f"depset-{i}", side("passed"), side("passed")) for i in range(depsets))
    blockers: tuple[Blocker, ...] = ()
    verdict_word = "ready" if not why else "unmeasured"
    if failing:
        rows = (DepsetRow("app", side("passed"), side("failed", 96)), *rows[1:])
        blockers = (
            Blocker("app", f"test {failing} failed on the new base (ModuleNotFoundError: No "
                    "module named 'imghdr')", "make it pass on Python 3.13.5 (or keep the old "
                    "base); its output: logs/b1-new_x_app.r0.log", regression=True),
        )  # fmt: skip
        verdict_word = BLOCKED
    return BaseVerdict(
        pair=BasePair(key, parse_reference(old), parse_reference(new), "tag",
                      ("Dockerfile, stage app",)),
        verdict=verdict_word, why=why, rows=rows, blockers=blockers,
        old_image_bytes=150_000_000, new_image_bytes=138_000_000,
        old_python="3.11.2", new_python="3.13.5", inside=("python: 3.11.2 → 3.13.5",),
    )  # fmt: skip


def report(*verdicts: BaseVerdict, not_run: tuple[NotRun, ...] = ()) -> CheckReport:
    return CheckReport(
        base=GitSide("main", "1" * 40), head=GitSide("HEAD", "2" * 40), verdicts=verdicts,
        not_run=not_run, unresolved=(), run_id="r1", run_dir="/runs/r1",
        links=(("the CI run and its artifact", "https://github.com/o/r/actions/runs/1"),
               ("report.html", "/runs/r1/report.html")),
    )  # fmt: skip


def test_the_first_line_is_the_verdict_of_the_first_base() -> None:
    text = render_comment(report(verdict("b1", "python:3.11-slim", "python:3.13-slim")), REGRESSION)
    lines = text.splitlines()
    assert lines[0] == "python:3.11-slim → python:3.13-slim: ready — 2 depsets pass, tests " \
        "194/194, image −12.0 MB"  # fmt: skip
    assert lines[-1] == COMMENT_MARKER and text.count(COMMENT_MARKER) == 1
    assert "| depset-0 | passed → passed | 97/97 → 97/97 | 12.5 s → 12.5 s | 40.0 MB → 40.0 MB |" \
        in lines  # fmt: skip
    assert "[the CI run and its artifact](https://github.com/o/r/actions/runs/1)" in text
    assert "exit 0 with --fail-on regression" in text


def test_a_blocked_base_names_the_failing_test_and_the_fix_on_its_line() -> None:
    blocked = verdict("b1", "python:3.11-slim", "python:3.13-slim", failing="tests/test_x.py::t")
    ready = verdict("b2", "python:3.11", "python:3.13")
    lines = render_comment(report(blocked, ready), REGRESSION).splitlines()
    assert lines[0].startswith(
        "python:3.11-slim → python:3.13-slim: blocked — app: test tests/test\\_x.py::t failed on "
        "the new base (ModuleNotFoundError: No module named 'imghdr'); fix: make it pass on "
        "Python 3.13.5"
    )
    assert lines[1] == "" and lines[2].startswith("python:3.11 → python:3.13: ready")
    assert any("exit 1 with --fail-on regression (1 reason(s))" in line for line in lines)


def test_an_unmeasured_base_and_what_was_not_run_are_said() -> None:
    gone = verdict("b1", "python:3.11-slim", "python:3.13-slim", why="registry refused the pull")
    text = render_comment(
        report(gone, not_run=(NotRun("nginx:1.27 (Dockerfile, stage docs)", "added"),)),
        REGRESSION,
    )
    assert text.splitlines()[0] == (
        "python:3.11-slim → python:3.13-slim: not measured — registry refused the pull"
    )
    assert "- nginx:1.27 (Dockerfile, stage docs): added" in text


def test_ten_bases_by_twenty_depsets_stay_under_the_comment_and_summary_limits() -> None:
    verdicts = [
        verdict(f"b{i}", f"registry.example.com/team/python-service-{i}:3.11-slim-bookworm",
                f"registry.example.com/team/python-service-{i}:3.13-slim-trixie", depsets=20,
                failing="tests/integration/test_a_rather_long_module_name.py::test_" + "x" * 200
                if i % 2 else None)
        for i in range(10)
    ]  # fmt: skip
    full = report(*verdicts)
    comment = render_comment(full, REGRESSION, COMMENT_BYTES)
    summary = render_comment(full, REGRESSION, SUMMARY_BYTES)
    assert len(comment.encode()) < 64 * 1024 and len(summary.encode()) < 1024 * 1024
    # every base's verdict line is there, first, and every section too (they fit)
    firsts = comment.splitlines()[:20:2]
    assert firsts == [verdict_line(v).replace("_", "\\_") for v in verdicts]
    assert comment.count("| depset-") == 5 * 20 + 5 * 19 and "left out" not in comment


def test_sections_that_do_not_fit_are_left_out_and_said_so() -> None:
    verdicts = [verdict(f"b{i}", f"python:3.{i}", f"python:3.{i + 1}", depsets=400)
                for i in range(10)]  # fmt: skip
    comment = render_comment(report(*verdicts), REGRESSION, COMMENT_BYTES)
    assert len(comment.encode()) <= COMMENT_BYTES
    assert comment.splitlines()[0].startswith("python:3.0 → python:3.1: ready — 400 depsets pass")
    assert "base section(s) left out to stay under the comment's size limit" in comment
    assert comment.rstrip().endswith(COMMENT_MARKER)
    summary = render_comment(report(*verdicts), REGRESSION, SUMMARY_BYTES)
    assert "left out" not in summary and len(summary.encode()) < 1024 * 1024


def test_one_depset_passes_in_the_singular() -> None:
    line = verdict_line(verdict("b1", "python:3.11-slim", "python:3.13-slim", depsets=1))
    assert line == "python:3.11-slim → python:3.13-slim: ready — 1 depset passes, tests 97/97, " \
        "image −12.0 MB"  # fmt: skip


def test_a_failure_the_old_base_shares_is_said_beside_a_ready_verdict_with_the_confounds() -> None:
    shared = Blocker("app", "test t::a failed on the new base", "see logs/x.r0.log", False)
    ready = verdict("b1", "python:3.11-slim", "python:3.13-slim")
    rows = (DepsetRow("app", side("failed", 96), side("failed", 96)), *ready.rows[1:])
    ready = BaseVerdict(
        **{**ready.__dict__, "rows": rows, "also_failing": (shared,),
           "timings": ("install time: +1.0 s (+8 %): no faster/slower call: the host was busy",),
           "cannot_tell": ("every timing is one sample",)},
    )  # fmt: skip
    text = render_comment(report(ready), REGRESSION)
    assert text.splitlines()[0] == (
        "python:3.11-slim → python:3.13-slim: ready — 1 of 2 depsets pass, tests 193/194, "
        "image −12.0 MB; also failing (it fails on the old base too): app: test t::a failed on "
        "the new base"
    )
    assert "- install time: +1.0 s (+8 %): no faster/slower call: the host was busy" in text
    assert "What this run cannot tell:\n- every timing is one sample" in text
    assert "exit 0 with --fail-on regression" in text
    assert "exit 1 with --fail-on failure" in render_comment(
        report(ready), parse_fail_on("failure")
    )


def test_skipped_tests_are_said_so_a_passed_suite_does_not_read_as_failures() -> None:
    skipping = Side("passed", None, 39, 80, 12.5, 40_000_000, "logs/x.r0.log", tests_skipped=41)
    assert skipping.tests == "39/80, 41 skipped"
    one = verdict("Dockerfile", "python:3.11-slim", "python:3.13-slim", depsets=1)
    one = BaseVerdict(**{**one.__dict__, "rows": (DepsetRow("app", skipping, skipping),)})
    assert "tests 39/80, 41 skipped" in verdict_line(one)
    assert "39/80, 41 skipped" in render_comment(report(one), REGRESSION)
