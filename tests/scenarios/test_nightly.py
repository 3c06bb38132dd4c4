"""Nightly layer from results.json alone: diff, exit code, JUnit, CI summary, history.

Fixtures: tests/fixtures/nightly/run_a.json and run_b.json (see make_fixtures.py for
what differs between them), plus the report's tests/fixtures/results_v1.json.
"""

from __future__ import annotations

import copy
import json
import runpy
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.diff import (
    RunDiff,
    diff_runs,
)
from harness.analysis.gate import (
    DEFAULT_FAIL_ON,
    exit_code,
    exit_reasons,
    parse_fail_on,
    regressions,
)
from harness.analysis.view import IMPORT_TIME
from harness.documents.diff import render_diff_markdown, render_diff_text
from harness.documents.junit import write_junit
from harness.documents.summary import markdown_summary
from harness.model.errors import ConfigurationError, ResultsError
from harness.model.ids import base_anchor, cell_anchor
from harness.model.results import Results
from harness.model.status import worst
from harness.store.history import (
    cell_trend,
    earlier_runs,
    load_history,
    previous_run_dir,
    record_run,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
NIGHTLY = FIXTURES / "nightly"


def load(name: str) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((NIGHTLY / f"{name}.json").read_text(encoding="utf-8"))
    return results


@pytest.fixture
def run_a() -> dict[str, Any]:
    return load("run_a")


@pytest.fixture
def run_b() -> dict[str, Any]:
    return load("run_b")


@pytest.fixture
def diff(run_a: dict[str, Any], run_b: dict[str, Any]) -> RunDiff:
    return diff_runs(run_a, run_b)


def records(results: dict[str, Any], cell_id: str) -> list[dict[str, Any]]:
    return [c for c in results["cells"] if c["id"] == cell_id]


def set_status(results: dict[str, Any], cell_id: str, status: str) -> dict[str, Any]:
    """A copy of results where every repeat of cell_id has this status, steps passed."""
    out = copy.deepcopy(results)
    for cell in records(out, cell_id):
        cell["status"] = status
        cell["reason"] = None
        for step in cell["steps"]:
            step["status"] = "passed"
    return out


def single_runs(results: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(results)
    out["cells"] = [c for c in out["cells"] if c["repeat"] == 0]
    out["run"]["repeat"] = 1
    return out


def test_fixtures_match_their_generator() -> None:
    build_run = runpy.run_path(str(NIGHTLY / "make_fixtures.py"))["build_run"]
    assert build_run("a") == load("run_a")
    assert build_run("b") == load("run_b")


def test_anchor_convention() -> None:
    assert cell_anchor("py311-slim×ffmpeg") == "cell-py311-slim_x_ffmpeg"
    assert cell_anchor("a.b×c d") == "cell-a-b_x_c-d"
    assert cell_anchor("a-b×c") != cell_anchor("a×b-c")
    assert base_anchor("py311-slim") == "base-py311-slim"


# ------------------------------------------------------------------------ diff


def test_diff_names_status_changes(diff: RunDiff) -> None:
    changes = {(s.cell_id, s.before, s.after) for s in diff.status_changes}
    assert changes == {
        ("py313-slim×spacy", "passed", "failed"),
        ("alpine×torch", "expected-failure", "unexpected-pass"),
    }
    failed = next(s for s in diff.status_changes if s.cell_id == "py313-slim×spacy")
    assert failed.worse and "Failed building wheel for blis" in (failed.reason or "")


def test_diff_reports_timings_beyond_noise_only(diff: RunDiff) -> None:
    changes = {(t.cell_id, t.step, t.direction) for t in diff.timing_changes}
    assert changes == {
        ("py311-slim×spacy", "pip-install", "slower"),
        ("py313-slim×torch", "pip-install", "faster"),
    }
    slower = next(t for t in diff.timing_changes if t.direction == "slower")
    assert slower.delta.before.values == (20.1, 20.5, 20.3)
    assert slower.delta.after.values == (34.0, 34.8, 34.4)
    assert slower.delta.change == pytest.approx(14.1)
    assert slower.delta.spread_known


def test_change_inside_the_repeats_spread_is_noise(diff: RunDiff) -> None:
    """py311-slim×ffmpeg system-packages: medians 31.5 → 33.5 s, more than the 0.5 s
    floor and 5 %, but less than run A's spread of 3.0 s."""
    noise = next(
        t
        for t in diff.within_noise
        if t.cell_id == "py311-slim×ffmpeg" and t.step == "system-packages"
    )
    assert noise.delta.change == pytest.approx(2.0)
    assert noise.delta.threshold == pytest.approx(3.0)
    assert not noise.delta.significant
    assert all(t.cell_id != "py311-slim×ffmpeg" for t in diff.timing_changes)


def test_diff_size_change(diff: RunDiff) -> None:
    assert [(s.cell_id, s.direction) for s in diff.size_changes] == [("py311-slim×spacy", "larger")]
    assert diff.size_changes[0].delta.change == 43_000_000


def test_diff_says_why(diff: RunDiff) -> None:
    kinds = {(c.cell_id, c.name, c.kind) for c in diff.distribution_changes}
    assert kinds == {
        ("py311-slim×spacy", "spacy", "version"),
        ("py311-slim×spacy", "thinc", "version"),
        ("py311-slim×spacy", "blis", "wheel→sdist"),
    }
    [base] = diff.base_changes
    assert (base.base, base.field) == ("py311-slim", "image_id")
    assert base.before == "sha256:" + "4c1d" * 16 and base.after == "sha256:" + "9f8e" * 16
    [depset] = diff.depset_changes
    assert (depset.depset, depset.removed, depset.added) == (
        "spacy",
        ("spacy==3.8.2",),
        ("spacy==3.8.7",),
    )
    why = " | ".join(diff.why("py311-slim×spacy"))
    assert "spacy 3.8.2 → 3.8.7" in why
    assert "blis 1.3.0: no wheel any more, built from source (wheel → sdist)" in why
    assert "new image_id sha256:4c1d4c1d4c1d → sha256:9f8e9f8e9f8e" in why
    # the failing cell is explained by the pin change of its depset
    assert diff.why("py313-slim×spacy") == ("depset spacy: pip −spacy==3.8.2, +spacy==3.8.7",)
    assert any("matrix changed" in c for c in diff.caveats)


def test_sdist_to_wheel_and_added_removed(run_a: dict[str, Any]) -> None:
    before = copy.deepcopy(run_a)
    after = copy.deepcopy(run_a)
    for cell in records(before, "py311-slim×spacy"):
        cell["distributions"][2].update(wheel=False, tag=None)  # blis an sdist before
    for cell in records(after, "py311-slim×spacy"):
        cell["distributions"].pop()  # srsly gone
        cell["distributions"].append(
            {"name": "Wasabi", "version": "1.1.3", "wheel": True, "tag": "py3-none-any"}
        )
    kinds = {(c.name, c.kind) for c in diff_runs(before, after).distribution_changes}
    assert kinds == {("blis", "sdist→wheel"), ("srsly", "removed"), ("Wasabi", "added")}


def test_single_runs_use_the_default_threshold(
    run_a: dict[str, Any], run_b: dict[str, Any]
) -> None:
    diff = diff_runs(single_runs(run_a), single_runs(run_b))
    slower = next(t for t in diff.timing_changes if t.cell_id == "py311-slim×spacy")
    assert not slower.delta.spread_known
    assert slower.delta.threshold == pytest.approx(0.25 * 20.1)
    # 30.0 → 33.5 s is within 25 % when the spread is unknown
    assert all(t.cell_id != "py311-slim×ffmpeg" for t in diff.timing_changes)
    assert diff.spread_unknown
    assert "spread unknown" in render_diff_text(diff)
    assert "spread is unknown" in render_diff_markdown(diff)


def test_import_time_is_compared(run_a: dict[str, Any]) -> None:
    after = copy.deepcopy(run_a)
    for cell in records(after, "py311-slim×torch"):
        cell["probes"]["imports"]["import_seconds"]["torch"] = 3.9
    [change] = diff_runs(run_a, after).timing_changes
    assert (change.cell_id, change.step, change.direction) == (
        "py311-slim×torch",
        IMPORT_TIME,
        "slower",
    )


def test_identical_runs_have_no_changes(run_b: dict[str, Any]) -> None:
    diff = diff_runs(run_b, run_b)
    assert diff.empty and not diff.caveats
    assert "no changes" in render_diff_text(diff)


def test_cells_added_and_removed(run_a: dict[str, Any]) -> None:
    after = copy.deepcopy(run_a)
    after["cells"] = [c for c in after["cells"] if c["depset"] != "torch"]
    diff = diff_runs(run_a, after)
    assert set(diff.cells_removed) == {f"{b}×torch" for b in ("py311-slim", "py313-slim")} | {
        "alpine×torch",
        "custom×torch",
    }


def test_renderings_name_every_change(diff: RunDiff) -> None:
    text = render_diff_text(diff)
    markdown = render_diff_markdown(diff, report_href="report.html")
    for needle in (
        "py313-slim×spacy",
        "passed → failed",
        "UNEXPECTED PASS",
        "20.30 ± 0.20 s → 34.40 ± 0.40 s",
        "61.0 ± 1.0 s → 45.50 ± 0.50 s",
        "+43,000,000 bytes",
        "wheel → sdist",
        "spacy==3.8.7",
    ):
        assert needle in text
    assert "[py313-slim×spacy](report.html#cell-py313-slim_x_spacy)" in markdown
    assert "Unexpected passes" in markdown and "torch publishes no musllinux wheel" in markdown
    assert "wheel → sdist" in markdown and "image\\_id" in markdown


def test_markdown_escapes_container_text(run_a: dict[str, Any], run_b: dict[str, Any]) -> None:
    after = copy.deepcopy(run_b)
    for cell in records(after, "py313-slim×spacy"):
        cell["reason"] = "a|b <script>x</script>\nsecond line"
    markdown = render_diff_markdown(diff_runs(run_a, after))
    row = next(line for line in markdown.splitlines() if line.startswith("| py313-slim×spacy"))
    assert row.replace("\\|", "").count("|") == 6  # five columns, pipes escaped
    assert "<script>" not in markdown and "second line" in row


# ------------------------------------------------------------------- exit code


def test_exit_code_rules(run_a: dict[str, Any], run_b: dict[str, Any], diff: RunDiff) -> None:
    # run A: passed, expected-failure and unavailable cells only
    assert exit_code(run_a, None, DEFAULT_FAIL_ON) == 0
    # run B has a failed cell: red whatever --fail-on says
    assert exit_code(run_b, diff, {"none"}) == 1
    assert exit_code(run_b, None, DEFAULT_FAIL_ON) == 1
    assert "py313-slim×spacy: passed → failed since run 20261126-021500-a1b2c3" in regressions(
        diff, {"status"}
    )


def test_fail_on_selects_regressions(run_a: dict[str, Any], run_b: dict[str, Any]) -> None:
    fixed = set_status(run_b, "py313-slim×spacy", "passed")
    diff = diff_runs(run_a, fixed)
    assert exit_code(fixed, diff, {"none"}) == 0
    assert exit_code(fixed, diff, {"status"}) == 0
    assert exit_code(fixed, diff, {"slower"}) == 1
    assert exit_code(fixed, diff, {"size"}) == 1
    # an unexpected pass is good news: red only when asked for
    assert exit_code(fixed, diff, {"unexpected-pass"}) == 1
    assert exit_reasons(fixed, diff, {"unexpected-pass"}) == ["alpine×torch: unexpected-pass"]
    assert regressions(diff, {"slower"}) == [
        "py311-slim×spacy: pip-install slower by 14.1 s (threshold 1.0 s)"
    ]
    assert regressions(diff, {"size"}) == ["py311-slim×spacy: +43.0 MB added to the image"]
    assert regressions(diff, {"none"}) == []


@pytest.mark.parametrize("status", ["unavailable", "unsupported", "expected-failure"])
def test_statuses_that_never_fail_the_run(run_a: dict[str, Any], status: str) -> None:
    results = set_status(run_a, "py311-slim×ffmpeg", status)
    assert exit_code(results, None, {"status", "slower", "size", "unexpected-pass"}) == 0


@pytest.mark.parametrize("status", ["failed", "error", "timeout"])
def test_one_bad_repeat_fails_the_run(run_a: dict[str, Any], status: str) -> None:
    results = copy.deepcopy(run_a)
    records(results, "py311-slim×ffmpeg")[1]["status"] = status
    assert exit_code(results, None, {"none"}) == 1


def test_fail_on_parsing(run_a: dict[str, Any]) -> None:
    assert parse_fail_on("status, slower") == {"status", "slower"}
    assert parse_fail_on("none") == {"none"}
    with pytest.raises(ConfigurationError, match="slowr"):
        parse_fail_on("slowr")
    with pytest.raises(ConfigurationError):
        parse_fail_on("none,size")
    with pytest.raises(ConfigurationError):
        exit_code(run_a, None, {"sizes"})


def test_unknown_schema_version_is_refused(run_a: dict[str, Any]) -> None:
    with pytest.raises(ResultsError):
        diff_runs(run_a, {**run_a, "schema_version": 2})


# ----------------------------------------------------------------------- JUnit


def parse_junit(results: dict[str, Any], tmp_path: Path) -> ET.Element:
    path = tmp_path / "junit.xml"
    write_junit(results, path)
    return ET.parse(path).getroot()


def test_junit_has_one_testcase_per_cell_step(run_b: dict[str, Any], tmp_path: Path) -> None:
    root = parse_junit(run_b, tmp_path)
    cases = list(root.iter("testcase"))
    expected = {
        (c["id"], f"{s['name']} [repeat {c['repeat']}]") for c in run_b["cells"] for s in c["steps"]
    }
    expected |= {(c["id"], "cell") for c in run_b["cells"] if not c["steps"]}
    assert {(c.get("classname"), c.get("name")) for c in cases} == expected
    assert len(cases) == len(expected) == 147
    assert [s.get("name") for s in root] == ["py311-slim", "py313-slim", "alpine", "custom"]
    assert root.get("tests") == "147"
    for suite in root:
        assert int(suite.get("tests", "0")) == len(suite.findall("testcase"))


def case(root: ET.Element, cell_id: str, name: str) -> ET.Element:
    return next(
        c for c in root.iter("testcase") if c.get("classname") == cell_id and c.get("name") == name
    )


def test_junit_elements_per_status(run_b: dict[str, Any], tmp_path: Path) -> None:
    results = copy.deepcopy(run_b)
    timed_out = records(results, "py311-slim×torch")[0]
    timed_out["status"], timed_out["reason"] = "timeout", "pip-install timed out after 1500 s"
    timed_out["steps"][2]["status"] = "timeout"
    del timed_out["steps"][3:]
    root = parse_junit(results, tmp_path)

    failed = case(root, "py313-slim×spacy", "pip-install [repeat 0]")
    failure = failed.find("failure")
    assert failure is not None
    assert failure.get("message") == "pip-install failed (exit 1): Failed building wheel for blis"
    out = failed.findtext("system-out") or ""
    # ESC colour codes and NUL removed, the rest kept and escaped by the writer
    assert "error: command 'gcc' failed" in out and "\x1b" not in out and "\x00" not in out
    assert "note: <this> & that  happened" in out

    expected = case(root, "alpine×spacy", "pip-install [repeat 0]").find("skipped")
    assert expected is not None
    assert expected.get("message") == (
        "expected failure: no musllinux wheels for blis/thinc; building them needs a compiler"
    )
    unavailable = case(root, "custom×ffmpeg", "cell").find("skipped")
    assert unavailable is not None and "docker build failed" in unavailable.get("message", "")
    error = case(root, "py311-slim×torch", "pip-install [repeat 0]").find("error")
    assert error is not None and error.get("type") == "timeout"
    passed = case(root, "py311-slim×torch", "pip-install [repeat 1]")
    assert passed.find("failure") is None and passed.find("skipped") is None
    loud = case(root, "alpine×torch", "detect-package-manager [repeat 0]").findtext("system-out")
    assert loud is not None and loud.startswith("UNEXPECTED PASS")
    # steps before the failing one passed; none after it were run
    assert case(root, "py313-slim×spacy", "venv [repeat 0]").find("failure") is None


def test_junit_counts(run_b: dict[str, Any], tmp_path: Path) -> None:
    root = parse_junit(run_b, tmp_path)
    suites = {s.get("name"): s for s in root}
    assert suites["py313-slim"].get("failures") == "3"  # pip-install of 3 repeats
    assert suites["alpine"].get("skipped") == "3"  # expected failures
    assert suites["custom"].get("skipped") == "3"
    assert root.get("errors") == "0"


def test_junit_of_the_report_fixture(tmp_path: Path) -> None:
    results = json.loads((FIXTURES / "results_v1.json").read_text(encoding="utf-8"))
    root = parse_junit(results, tmp_path)
    assert len(list(root.iter("testcase"))) == sum(
        max(1, len(c.get("steps") or [])) for c in results["cells"]
    )


# --------------------------------------------------------------------- summary


def test_markdown_summary(run_a: dict[str, Any], run_b: dict[str, Any], diff: RunDiff) -> None:
    text = markdown_summary(run_b, diff, report_href="report.html")
    assert "## harness run 20261127-021500-d4e5f6" in text
    assert "**12 cells:** ✅ passed 6 · 🎉 unexpected-pass 1 · ☑️ expected-failure 1" in text
    assert "| base \\ depset | ffmpeg | spacy | torch |" in text
    assert "[❌ failed ×3](report.html#cell-py313-slim_x_spacy)" in text
    assert "### Unexpected results (1)" in text and "**py313-slim×spacy**: failed" in text
    assert "Unexpected passes (1)" in text and "torch publishes no musllinux wheel" in text
    assert "2 status change(s), 1 slower, 1 faster, 1 size change(s)" in text
    assert "No previous run" in markdown_summary(run_a, None)


def test_summary_of_mixed_repeats(run_a: dict[str, Any]) -> None:
    results = copy.deepcopy(run_a)
    records(results, "py311-slim×ffmpeg")[2]["status"] = "failed"
    assert "❌ failed (1/3)" in markdown_summary(results, None)


# --------------------------------------------------------------------- history


def test_history_round_trip(run_a: dict[str, Any], run_b: dict[str, Any], tmp_path: Path) -> None:
    history_dir = tmp_path / "history"
    path_b = record_run(Results.from_dict(run_b), history_dir)  # order of recording does not matter
    path_a = record_run(Results.from_dict(run_a), history_dir)
    assert path_a == path_b == history_dir / "history.sqlite"
    rows = load_history(history_dir)
    assert list(dict.fromkeys(r.run_id for r in rows)) == [
        "20261126-021500-a1b2c3",
        "20261127-021500-d4e5f6",
    ]
    cells = [r for r in rows if r.row == "cell"]
    steps = [r for r in rows if r.row == "step"]
    assert len(cells) == len(run_a["cells"]) + len(run_b["cells"])
    assert len(steps) == sum(len(c["steps"]) for c in run_a["cells"] + run_b["cells"])
    spacy_b = [
        r for r in cells if r.run_id == "20261127-021500-d4e5f6" and r.cell_id == "py311-slim×spacy"
    ]
    assert sorted(r.size_added_bytes or 0 for r in spacy_b) == [
        455_000_000,
        455_004_096,
        455_008_192,
    ]
    assert {r.sdists for r in spacy_b} == {1}
    assert {r.base_image_id for r in spacy_b} == {"sha256:" + "9f8e" * 16}
    pip = [r for r in steps if r.cell_id == "py311-slim×spacy" and r.step == "pip-install"]
    assert sorted(r.seconds or 0 for r in pip) == [20.1, 20.3, 20.5, 34.0, 34.4, 34.8]
    torch = [r for r in cells if r.cell_id == "alpine×torch"]
    assert {r.expected_failure for r in torch} == {"torch publishes no musllinux wheel"}
    assert cell_trend(rows, "py311-slim×spacy") == [
        ("20261126-021500-a1b2c3", 20.3),
        ("20261127-021500-d4e5f6", 34.4),
    ]
    only_a = load_history(history_dir, matrix_sha256=run_a["run"]["matrix"]["sha256"])
    assert {r.run_id for r in only_a} == {"20261126-021500-a1b2c3"}


def test_a_runs_history_entry_is_its_final_state(run_a: dict[str, Any], tmp_path: Path) -> None:
    # A resumed run records itself again: its one entry must then hold every cell.
    first_attempt = copy.deepcopy(run_a)
    first_attempt["cells"] = first_attempt["cells"][:1]
    path = record_run(Results.from_dict(first_attempt), tmp_path)
    assert record_run(Results.from_dict(run_a), tmp_path) == path
    cells = [r for r in load_history(tmp_path) if r.row == "cell"]
    assert len(cells) == len(run_a["cells"])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # one entry, no journal left


def test_previous_run_and_trend_come_from_the_history(
    run_a: dict[str, Any], tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    first = write_run(reports, "20261120-020000-aaaaaa", "X", run_a)
    write_run(reports, "20261121-020000-bbbbbb", "X", run_a)
    shutil.rmtree(first)  # old run directories may be pruned: the history keeps the trend
    now = copy.deepcopy(run_a)
    now["run"]["id"] = "20261127-020000-eeeeee"
    now["run"]["matrix"].update(sha256="X", path="/m/X.yaml")
    runs = earlier_runs(reports / "history", Results.from_dict(now))
    assert [r.run_id for r in runs] == ["20261120-020000-aaaaaa", "20261121-020000-bbbbbb"]
    some_cell = run_a["cells"][0]["id"]
    assert runs[0].cells[some_cell].status == worst(
        c["status"] for c in run_a["cells"] if c["id"] == some_cell
    )
    assert (
        previous_run_dir(reports / "history", Results.from_dict(now))
        == reports / "20261121-020000-bbbbbb"
    )


def test_history_empty_and_bad_run_id(run_a: dict[str, Any], tmp_path: Path) -> None:
    assert load_history(tmp_path / "none") == []
    assert not (tmp_path / "none").exists()  # reading creates nothing
    bad = copy.deepcopy(run_a)
    bad["run"]["id"] = "../escape"
    with pytest.raises(ResultsError):
        record_run(Results.from_dict(bad), tmp_path)


def write_run(
    reports: Path, run_id: str, sha: str, base: dict[str, Any], path: str | None = None
) -> Path:
    results = copy.deepcopy(base)
    results["run"]["id"] = run_id
    results["run"]["matrix"].update(sha256=sha, path=path or f"/m/{sha}.yaml")
    (reports / run_id).mkdir(parents=True)
    (reports / run_id / "results.json").write_text(json.dumps(results), encoding="utf-8")
    record_run(Results.from_dict(results), reports / "history", reports / run_id)
    return reports / run_id


def test_previous_run_dir(run_a: dict[str, Any], tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    first = write_run(reports, "20261120-020000-aaaaaa", "X", run_a)
    other = write_run(reports, "20261121-020000-bbbbbb", "Y", run_a)
    third = write_run(reports, "20261122-020000-cccccc", "X", run_a)
    later = write_run(reports, "20261129-020000-dddddd", "X", run_a)  # after "now"
    (reports / "20261123-020000-broken").mkdir()
    (reports / "20261123-020000-broken" / "results.json").write_text("{", encoding="utf-8")
    (reports / "latest").symlink_to(later)

    def now(run_id: str, sha: str, path: str | None = None) -> Results:
        results = copy.deepcopy(run_a)
        results["run"]["id"] = run_id
        results["run"]["matrix"].update(sha256=sha, path=path or f"/m/{sha}.yaml")
        return Results.from_dict(results)

    assert previous_run_dir(reports / "history", now("20261127-020000-eeeeee", "X")) == third
    assert previous_run_dir(reports / "history", now("20261127-020000-eeeeee", "Y")) == other
    assert previous_run_dir(reports / "history", now("20261122-020000-cccccc", "X")) == first
    assert previous_run_dir(reports / "history", now("20261120-020000-aaaaaa", "X")) is None
    assert previous_run_dir(reports / "history", now("20261127-020000-eeeeee", "Z")) is None
    assert previous_run_dir(tmp_path / "missing" / "history", now("x", "X")) is None
    # The same matrix file after a pin was bumped (new sha) still finds last night's run.
    bumped = now("20261127-020000-eeeeee", "W", path="/m/X.yaml")
    assert previous_run_dir(reports / "history", bumped) == third
