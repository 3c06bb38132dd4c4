"""`harness adr` and `harness compare`: the record's links are relative (or --report-url),
and both documents open on the decision."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from harness.cli import entry as cli

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "results_v1.json"


def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "reports" / "run1"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(FIXTURE.read_text())
    return folder


def call(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli.main(argv)


def test_the_record_links_the_report_relatively_from_where_it_is_written(tmp_path: Path) -> None:
    folder = run_dir(tmp_path)
    out = tmp_path / "docs" / "adr" / "0007-base-image.md"
    out.parent.mkdir(parents=True)
    assert call(["adr", str(folder), "--out", str(out)]) == 0
    text = out.read_text()
    assert "[the report](../../reports/run1/report.html)" in text
    assert "(../../reports/run1/cells/py311-slim_x_ffmpeg.r0.json)" in text
    assert str(tmp_path) not in text


def test_report_url_is_used_as_given(tmp_path: Path) -> None:
    folder = run_dir(tmp_path)
    url = "https://ci.example/runs/1/report.html"
    assert call(["adr", str(folder), "--report-url", url]) == 0
    text = (folder / "adr.md").read_text()
    assert f"[the report]({url})" in text
    assert "(https://ci.example/runs/1/cells/py311-slim_x_ffmpeg.r0.json)" in text


def test_compare_opens_on_the_decision_of_a_against_b(tmp_path: Path) -> None:
    folder = run_dir(tmp_path)
    base_a, base_b = (b["name"] for b in json.loads(FIXTURE.read_text())["bases"][:2])
    assert call(["compare", base_a, base_b, "--run", str(folder)]) == 0
    markdown = next(folder.glob("*.md")).read_text()
    assert markdown.splitlines()[2] == "## Decision"
    assert f"| `{base_a}` | baseline: the base in use today |" in markdown
