"""Stories across modules: every document tells the same status and links the same ids."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.diff import diff_runs
from harness.cli.entry import main
from harness.documents.adr import render_adr
from harness.documents.diff import render_diff_text
from harness.documents.junit import write_junit
from harness.documents.report import render_report
from harness.documents.summary import markdown_summary
from harness.model.ids import base_anchor, cell_anchor
from harness.store.rundir import load_results

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "results_v1.json"


@pytest.fixture
def results() -> dict[str, Any]:
    return load_results(FIXTURE)


def _with_repeats(results: dict[str, Any], cell_id: str, statuses: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(results)
    original = next(c for c in out["cells"] if c["id"] == cell_id)
    out["cells"] = [c for c in out["cells"] if c["id"] != cell_id]
    for repeat, word in enumerate(statuses):
        record = copy.deepcopy(original)
        record.update(repeat=repeat, status=word, reason=f"repeat {repeat} was {word}")
        if word in ("oom", "failed", "error", "timeout"):
            record["steps"][-1]["status"] = word
        if word == "expected-failure":
            record["expected_failure"] = {"reason": "declared", "link": None}
        out["cells"].append(record)
    return out


def _grid_status(html: str, cell_id: str) -> str:
    match = re.search(rf'<td class="cell st-([a-z-]+)[^"]*" id="grid-{cell_anchor(cell_id)}"', html)
    assert match, f"no grid cell for {cell_id}"
    return match.group(1)


@pytest.mark.parametrize(
    ("repeats", "expected"),
    [
        (["expected-failure", "unsupported"], "expected-failure"),
        (["passed", "oom", "failed"], "oom"),
        (["unavailable", "unsupported"], "unsupported"),
    ],
)
def test_a_mixed_group_has_one_status_in_every_document(
    results: dict[str, Any], tmp_path: Path, repeats: list[str], expected: str
) -> None:
    cell_id = "py311-slim×spacy"
    mixed = _with_repeats(results, cell_id, repeats)
    assert _grid_status(render_report(mixed), cell_id) == expected
    row = next(
        line
        for line in markdown_summary(mixed, None).splitlines()
        if line.startswith("| py311-slim ")
    )
    assert row.split(" | ")[2].split(" ")[1] == expected  # the spacy column
    write_junit(mixed, tmp_path / "junit.xml")
    case = next(
        c
        for c in ET.parse(tmp_path / "junit.xml").iter("testcase")
        if cell_id in c.get("classname", "") + c.get("name", "")
    )
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["harness.cell_status"] in repeats
    diff = diff_runs(results, mixed)
    change = next(s for s in diff.status_changes if s.cell_id == cell_id)
    assert change.after == expected
    assert expected in render_diff_text(diff)


def test_oom_is_a_junit_failure_and_has_its_own_label(
    results: dict[str, Any], tmp_path: Path
) -> None:
    oom = _with_repeats(results, "py311-slim×spacy", ["oom"])
    write_junit(oom, tmp_path / "junit.xml")
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    failures = [f for f in suite.iter("failure") if f.get("type") == "oom"]
    assert failures, "an oom cell must be a <failure>, not an error by fallback"
    summary = markdown_summary(oom, None)
    assert "🧠 oom" in summary and "❓" not in summary


def test_a_base_with_dots_in_its_name_links_in_report_and_adr(results: dict[str, Any]) -> None:
    text = json.dumps(results).replace("py311-slim", "py3.11-slim")
    dotted = json.loads(text)
    html = render_report(dotted)
    ids = set(re.findall(r'id="([^"]+)"', html))
    hrefs = set(re.findall(r'href="#([^"]+)"', html))
    assert base_anchor("py3.11-slim") in ids
    assert hrefs <= ids, f"links to nowhere: {sorted(hrefs - ids)}"
    adr = render_adr(dotted, report_href="report.html", baseline="py3.11-slim")
    for target in re.findall(r"\(report\.html#([^)]+)\)", adr):
        assert target in ids, f"the ADR links to report.html#{target}, which does not exist"


def _run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    return run


def test_adr_with_an_unknown_baseline_is_exit_2_listing_the_bases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["adr", str(_run_dir(tmp_path)), "--baseline", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "py311-slim" in err and "Traceback" not in err


def test_compare_with_an_unknown_depset_is_exit_2_listing_the_depsets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run_dir(tmp_path)
    code = main(["compare", "py311-slim", "py313-slim", "--run", str(run), "--depsets", "nosuch"])
    assert code == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "spacy" in err and "Traceback" not in err
