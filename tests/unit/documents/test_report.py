"""Report rendering from the hand-written results fixture: no Docker needed."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from harness.documents.charts import bar_chart, sparkline
from harness.documents.report import (
    STATUS_HELP,
    bases_frame,
    cells_frame,
    distributions_frame,
    grid_frame,
    render_report,
    smoke_facts,
    write_report,
)
from harness.documents.report_views import BaseRow, CellRow, DistributionRow, GridEntry
from harness.model.errors import ResultsError
from harness.model.ids import cell_anchor
from harness.model.records import SCHEMA_VERSION
from harness.model.results import Results
from harness.store.history import earlier_runs, record_run
from harness.store.rundir import load_results

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1.json"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def pristine() -> dict[str, Any]:
    return load_results(FIXTURE)


@pytest.fixture
def results(pristine: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(pristine)


@pytest.fixture(scope="module")
def html(pristine: dict[str, Any]) -> str:
    return render_report(copy.deepcopy(pristine))


def grid_cell(html: str, cell_id: str) -> str:
    """The HTML of one grid cell (from its <td> to the closing </td>)."""
    pattern = rf'<td class="cell [^"]*" id="grid-{cell_anchor(cell_id)}">(.*?)</td>'
    match = re.search(pattern, html, re.S)
    assert match, f"no grid cell for {cell_id}"
    return match.group(1)


def cell(results: dict[str, Any], cell_id: str) -> dict[str, Any]:
    return next(c for c in results["cells"] if c["id"] == cell_id)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.urls: list[str] = []

    # Overrides HTMLParser.handle_starttag(tag, attrs): the signature stays.
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name == "href" and value and value.startswith("#"):
                self.links.append(value[1:])
            if name in ("src", "href", "srcset", "poster", "data") and value:
                self.urls.append(value)


def collect(html: str) -> _Collector:
    parser = _Collector()
    parser.feed(html)
    return parser


# --- the fixture ----------------------------------------------------------------------


def test_fixture_is_marked_and_covers_the_cases(pristine: dict[str, Any]) -> None:
    assert pristine["run"]["id"].startswith("fixture-")
    statuses = {c["status"] for c in pristine["cells"]}
    assert {"passed", "failed", "unavailable"} <= statuses
    assert any(d["wheel"] is False for c in pristine["cells"] for d in c["distributions"])
    assert any(SCRIPT in s["log_tail"] for c in pristine["cells"] for s in c["steps"])


# --- the page as a whole --------------------------------------------------------------


def test_is_a_complete_document(html: str) -> None:
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert html.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in html


def test_grid_has_every_cell_with_its_status_class(html: str, pristine: dict[str, Any]) -> None:
    for c in pristine["cells"]:
        assert f'<td class="cell st-{c["status"]}" id="grid-{cell_anchor(c["id"])}">' in html
        assert f'id="{cell_anchor(c["id"])}"' in html
        assert str(escape(c["id"])) in html


def test_anchors_are_unique_and_every_internal_link_resolves(html: str) -> None:
    found = collect(html)
    assert len(found.ids) == len(set(found.ids))
    assert set(found.links) <= set(found.ids)


def test_standin_label_said_once_per_base_not_in_every_slot(
    html: str, pristine: dict[str, Any]
) -> None:
    # issue 26: the stand-in sentence is a base-level note (its grid row's header), not
    # repeated in each of the base's slots
    standins = {b["name"]: b["standin"] for b in pristine["bases"] if b["standin"]}
    assert standins
    grid = html[html.index('id="grid"') : html.index('id="bases"')]
    for base, text in standins.items():
        assert grid.count(f'<span class="standin">{escape(text)}</span>') == 1, base
        for c in pristine["cells"]:
            if c["base"] == base:
                assert str(escape(text)) not in grid_cell(html, c["id"])


def _slot_results(pristine: dict[str, Any]) -> dict[str, Any]:
    """The fixture with three slots sharing one long environment-limit reason, one cell
    that never ran (unavailable, with a partial install time and size recorded), one
    cell with a failed sdist build, and a cell that ran the team's suite."""
    results = copy.deepcopy(pristine)
    limit = (
        "environment limit: no CPU build of torch can be reached for this Python here: "
        "the wheelhouse holds a cp311 wheel only"
    )
    for c in results["cells"][:3]:
        c["status"], c["reason"], c["environment_limit"] = "unavailable", limit, limit
    results["cells"][0]["steps"] = [
        {"name": "venv", "kind": "install", "status": "passed", "seconds": 6.2},
        {"name": "pip-install", "kind": "install", "status": "unavailable", "seconds": 0.1},
    ]
    results["cells"][0]["size_added_bytes"] = 10_300_000
    ran = results["cells"][3]
    ran["distributions"] = [
        {"name": "psycopg2", "version": "2.9", "wheel": False, "failed": "build"},
        {"name": "future", "version": "1.0", "wheel": False},
    ]
    ran["probes"]["tests"] = {
        "status": "failed", "command": "python -m pytest -q tests", "exit_code": 1,
        "junit": {"tests": 194, "passed": 188, "failed": 2, "errors": 0, "skipped": 4,
                  "failing": [{"name": "tests.test_a::test_b", "outcome": "failed"}]},
    }  # fmt: skip
    return results


def test_a_reason_repeated_across_slots_is_said_once(pristine: dict[str, Any]) -> None:
    results = _slot_results(pristine)
    html = render_report(results)
    reason = results["cells"][0]["reason"]
    grid = html[html.index('id="grid"') : html.index('id="bases"')]
    assert grid.count(str(escape(reason))) == 1  # in the note under the grid
    for c in results["cells"][:3]:
        slot = grid_cell(html, c["id"])
        assert "environment limit: see note <b>1</b>" in slot


def test_a_cell_that_never_ran_shows_no_install_time_or_size(pristine: dict[str, Any]) -> None:
    results = _slot_results(pristine)
    slot = grid_cell(render_report(results), results["cells"][0]["id"])
    assert "install" not in slot and "added" not in slot and "10.3 MB" not in slot


def test_the_slot_shows_the_suite_and_only_builds_that_succeeded(pristine: dict[str, Any]) -> None:
    results = _slot_results(pristine)
    html = render_report(results)
    slot = grid_cell(html, results["cells"][3]["id"])
    assert "tests <b>188/194</b>" in slot
    assert '<span class="failing">2 failing</span>' in slot
    assert '<span class="muted">4 skipped</span>' in slot  # 188 + 2 of 194: not 6 failing
    assert "built from source: future" in slot and "psycopg2" not in slot
    depsets = html[html.index('id="depsets"') :]
    assert "<th>tests</th>" in depsets
    assert '188/194 <span class="failing">2 failing</span> <span class="muted">4 skipped' in depsets


def test_container_text_is_escaped(html: str) -> None:
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The only script element is the report's own show/hide helper.
    assert html.count("<script") == 1


def test_no_external_resources(html: str) -> None:
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "@import" not in html and "url(" not in html
    # anchors, and the run directory's own files (each cell's record), never elsewhere
    urls = collect(html).urls
    assert all(u.startswith(("#", "cells/", "sbom/")) and ".." not in u for u in urls)
    assert any(u.startswith("cells/") for u in urls)


def test_failing_step_log_is_in_a_pre(html: str) -> None:
    assert re.search(r'<pre class="log">[^<]*ERROR: Failed building wheel for blis', html)


def test_source_build_flagged_on_the_grid(html: str) -> None:
    assert "built from source: future" in grid_cell(html, "py311-slim×ffmpeg")
    assert "built from source" not in grid_cell(html, "py311-slim×spacy")


def test_unavailable_base_shows_its_reason(html: str) -> None:
    # the base's reason is in every slot of the base: said once, in a note the slot names
    text = grid_cell(html, "py312-slim×torch")
    note = re.search(r"see note <b>(\d+)</b>", text)
    assert note, text
    listed = re.search(rf'<li id="note-{note.group(1)}"[^>]*>(.*?)</li>', html, re.S)
    assert listed and "no Debian suite ships Python 3.12" in listed.group(1)
    assert "official image" in html


def test_headline_numbers_on_the_grid(html: str) -> None:
    # py311-slim×ffmpeg: install steps 0.21 + 41.6 + 3.1 + 6.8 s; 468713472 bytes added.
    text = grid_cell(html, "py311-slim×ffmpeg")
    assert "51.7 s" in text
    assert "469 MB" in text


def test_charts_are_inline_svg(html: str) -> None:
    assert html.count('<svg class="chart"') == 2
    assert "Install seconds per base" in html and "Size added per base" in html
    assert ">n/a<" in html  # unavailable bases have no bar


def test_smoke_facts_and_run_metadata(html: str) -> None:
    assert "5.1.8-0+deb12u1" in html  # ffmpeg version fact
    assert "versions.thinc" in html
    assert ">MKL<" in html  # torch BLAS backend
    assert "9b1f0c3e5a7d2b4c" in html  # matrix sha256
    assert "20.10.24+dfsg1" in html  # engine version
    assert "compare timings only between runs at the same concurrency" in html
    assert "not reachable" in html


def test_cell_details(html: str) -> None:
    assert "cp311-cp311-manylinux_2_28_x86_64" in html
    assert "sdist-built" in html
    assert "<details" in html and "Dockerfile.repro" in html
    assert "FROM harness-standin/py311-slim:3f2a9c1e7b04" in html
    assert "apt-get update &amp;&amp; apt-get install" in html  # reproducer kept verbatim


# --- variants of the fixture ----------------------------------------------------------


def test_every_status_gets_its_class(results: dict[str, Any]) -> None:
    statuses = list(STATUS_HELP)
    for c, status in zip(results["cells"], statuses, strict=False):
        c["status"] = status
    html = render_report(results)
    for c in results["cells"][: len(statuses)]:
        assert f'class="cell st-{c["status"]}"' in html


def test_oom_is_styled(results: dict[str, Any]) -> None:
    cell(results, "py311-slim×torch")["status"] = "oom"
    assert 'class="cell st-oom"' in render_report(results)


def test_expected_failure_and_environment_limit(results: dict[str, Any]) -> None:
    torch = cell(results, "py311-slim×torch")
    torch["status"] = "unexpected-pass"
    torch["expected_failure"] = {
        "reason": "no musllinux torch wheel",
        "link": "https://github.com/pytorch/pytorch/issues/71381",
    }
    html = render_report(results)
    text = grid_cell(html, "py311-slim×torch")
    assert "st-unexpected-pass" in html and "no musllinux torch wheel" in text
    # The link is shown for copying, never fetched nor turned into a resource.
    assert "pytorch/pytorch/issues/71381" in html
    # anchors, and the run directory's own files (each cell's record), never elsewhere
    urls = collect(html).urls
    assert all(u.startswith(("#", "cells/", "sbom/")) and ".." not in u for u in urls)
    assert any(u.startswith("cells/") for u in urls)
    assert "(a limit of where this ran, not a property of the base)" in html


def test_sdist_build_time_shown(html: str) -> None:
    assert "sdist, built in 2.4 s" in html


def test_unknown_status_does_not_break_rendering(results: dict[str, Any]) -> None:
    results["cells"][0]["status"] = "<b>odd</b>"
    html = render_report(results)
    assert "st-unknown" in html
    assert "<b>odd</b>" not in html


def test_repeats_show_median_and_spread(results: dict[str, Any]) -> None:
    base = cell(results, "py311-slim×ffmpeg")
    for k, pip_seconds in ((1, 10.8), (2, 2.8)):
        extra = copy.deepcopy(base)
        extra["repeat"] = k
        next(s for s in extra["steps"] if s["name"] == "pip-install")["seconds"] = pip_seconds
        results["cells"].append(extra)
    row = next(g for g in grid_frame(cells_frame(results)) if g["id"] == "py311-slim×ffmpeg")
    assert row["runs"] == 3
    assert row["install_median"] == pytest.approx(51.71)
    assert row["install_min"] == pytest.approx(47.71)
    assert row["install_max"] == pytest.approx(55.71)
    text = grid_cell(render_report(results), "py311-slim×ffmpeg")
    assert "median of 3" in text and "47.7 s" in text and "55.7 s" in text


def test_history_shows_trend_and_change(results: dict[str, Any], tmp_path: Path) -> None:
    older = copy.deepcopy(results)
    previous = copy.deepcopy(results)
    older["run"]["id"] = "fixture-20261125-000000-older"
    previous["run"]["id"] = "fixture-20261126-000000-previous"
    cell(previous, "py311-slim×spacy")["status"] = "failed"
    next(s for s in cell(previous, "py311-slim×ffmpeg")["steps"] if s["name"] == "pip-install")[
        "seconds"
    ] = 4.8
    previous["cells"] = [c for c in previous["cells"] if c["id"] != "py311-slim×torch"]
    for run in (older, previous):
        record_run(Results.from_dict(run), tmp_path)
    html = render_report(results, history=earlier_runs(tmp_path, Results.from_dict(results)))
    assert '<svg class="spark"' in html
    assert "was failed" in grid_cell(html, "py311-slim×spacy")
    assert "+2.0 s" in grid_cell(html, "py311-slim×ffmpeg")
    assert "new since previous run" in grid_cell(html, "py311-slim×torch")


def test_partial_results_still_render() -> None:
    html = render_report({"schema_version": 1, "run": {}, "bases": [], "cells": []})
    assert "</html>" in html
    # the report reads the typed results: the least a results.json holds (run, a cell's
    # id, base, depset and status); anything less is refused on load with the JSON path
    cell = {"id": "a×b", "base": "a", "depset": "b", "status": "error"}
    minimal = {"schema_version": 1, "run": {}, "cells": [cell]}
    assert cell_anchor("a×b") in render_report(minimal)


# --- frames and helpers ---------------------------------------------------------------


def test_cells_frame_numbers(pristine: dict[str, Any]) -> None:
    frame = {row["id"]: row for row in cells_frame(pristine)}
    row = frame["py311-slim×ffmpeg"]
    assert row["install_seconds"] == pytest.approx(51.71)
    assert row["system_seconds"] == pytest.approx(41.6)
    assert row["pip_seconds"] == pytest.approx(6.8)
    assert row["import_seconds"] == pytest.approx(0.0311)
    assert row["smoke_seconds"] == pytest.approx(1.515)
    assert bool(row["built_from_source"]) and row["sdists"] == "future"
    assert not bool(frame["py313-slim×spacy"]["install_complete"])


def test_distributions_frame_kinds(pristine: dict[str, Any]) -> None:
    frame = distributions_frame(pristine)
    kinds = {row["name"]: row["kind"] for row in frame}
    assert kinds["future"] == "sdist-built"
    assert kinds["torch"] == "manylinux"
    assert kinds["sympy"] == "py3-none-any"


def test_smoke_facts_flatten_scalars_and_known_nested_ones() -> None:
    facts = smoke_facts(
        {
            "status": "passed",
            "seconds": 1.0,
            "torch_version": "2.9.1+cpu",
            "config": "multi\nline",
            "encoders": ["mp3", "opus"],
            "versions": {"numpy": "2.3.5"},
            "codecs": {"encoders": {"present": ["libopus"], "missing": [], "total": 9}},
            "transcodes": {"wav_to_mp3": {"seconds": 0.2, "output": "tone.mp3", "ok": True}},
            "import_time": {"torch": {"seconds": 1.5, "heaviest_self": []}},
            "matmul_bench": {"size": 1024, "seconds_runs": [0.1, 0.2], "gflops": 52.1},
            "libraries": {"libavcodec": "59.37.100"},
            "heaviest": [{"module": "torch", "seconds": 1.0}],
        }
    )
    assert facts == {
        "torch_version": "2.9.1+cpu",
        "encoders": "mp3, opus",
        "versions.numpy": "2.3.5",
        "codecs.encoders.present": "libopus",
        "codecs.encoders.missing": "none",
        "transcodes.wav_to_mp3.seconds": "0.2",
        "import_time.torch.seconds": "1.5",
        "matmul_bench.size": "1024",
        "matmul_bench.gflops": "52.1",
    }


def test_fixture_facts_in_the_depset_tables(html: str) -> None:
    for fact in ("codecs.encoders.present", "transcodes.wav_to_mp3.seconds", "versions.thinc"):
        assert fact in html


def test_cell_anchor_is_the_shared_one_and_html_safe() -> None:
    # diff, compare and the ADR link to report.html#<anchor>: they must agree.
    assert cell_anchor("py311-slim×ffmpeg") == "cell-py311-slim_x_ffmpeg"
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", cell_anchor('x"><b>×y'))


def test_bar_chart_escapes_and_marks_missing_values() -> None:
    svg = bar_chart("t<1>", ["ffmpeg"], {"<b>": [None], "ok": [2.5]}, "s")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "t&lt;1&gt;" in svg
    assert ">n/a<" in svg and "2.5 s" in svg


def test_sparkline_handles_gaps() -> None:
    assert sparkline([None, None], label="x") == ""
    svg = sparkline([1.0, None, 3.0, 2.0], label="a<b")
    assert "a&lt;b" in svg and "<circle" in svg


# --- results.json loading -------------------------------------------------------------


def test_load_results_reads_the_fixture() -> None:
    assert load_results(FIXTURE)["schema_version"] == SCHEMA_VERSION == 1


def test_truncated_json_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    text = FIXTURE.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ResultsError) as err:
        load_results(path)
    message = str(err.value)
    assert str(path) in message and "truncated" in message and "fix:" in message
    assert err.value.exit_code == 2


def test_newer_schema_version_says_upgrade(tmp_path: Path, pristine: dict[str, Any]) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({**pristine, "schema_version": 2}), encoding="utf-8")
    with pytest.raises(ResultsError) as err:
        load_results(path)
    message = str(err.value)
    assert str(path) in message and "newer harness" in message and "upgrade harness" in message


@pytest.mark.parametrize(
    "content", ["[1, 2]", '{"run": {}}', '{"schema_version": "1"}', '{"schema_version": 0}']
)
def test_other_bad_envelopes(tmp_path: Path, content: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ResultsError, match=re.escape(str(path))):
        load_results(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not found"):
        load_results(tmp_path / "results.json")


def test_write_report_writes_next_to_results(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    out = write_report(tmp_path)
    assert out == tmp_path / "report.html"
    text = out.read_text(encoding="utf-8")
    assert "fixture-20261127-101500-ab12cd" in text and SCRIPT not in text


def with_uv_twin(results: dict[str, Any], pip_id: str, seconds: float) -> dict[str, Any]:
    """``results`` plus a uv cell for ``pip_id``: its records copied, its install step
    renamed uv-install and timed ``seconds``, its first distribution at another version."""
    out = copy.deepcopy(results)
    for cell in [c for c in results["cells"] if c["id"] == pip_id]:
        twin = copy.deepcopy(cell)
        twin["id"] = f"{pip_id}+uv"
        twin["installer"] = {"name": "uv", "version": "0.13.9", "index_strategy": "first-index"}
        for step in twin["steps"]:
            if step["name"] == "pip-install":
                step.update(name="uv-install", seconds=seconds)
        for dist in (twin.get("distributions") or [])[:1]:
            dist["version"] = "0.0.1"
        out["cells"].append(twin)
    return out


def test_uv_twins_sit_beside_their_pip_cells_and_get_a_section(pristine: dict[str, Any]) -> None:
    pip_cell = next(
        c for c in pristine["cells"]
        if c["status"] == "passed" and any(s["name"] == "pip-install" for s in c["steps"])
    )  # fmt: skip
    results = with_uv_twin(pristine, pip_cell["id"], 1.25)
    html = render_report(results)
    uv_id = f"{pip_cell['id']}+uv"
    assert f'id="{cell_anchor(uv_id)}"' in html  # its own details
    assert f'title="{escape(uv_id)}: the same depset installed with uv' in html  # in the grid
    assert 'id="installers"' in html and "index-strategy first-index" in html
    assert "1.2 s" in html  # the uv step, in the section and the depset table
    first = pip_cell["distributions"][0]
    assert "resolutions differ" in html
    assert f"<td>{first['name']}</td><td>{first['version']} wheel</td>" in html
    assert "<td>0.0.1 wheel</td><td>version</td>" in html
    # The grid slot stays pip's: one grid cell per base × depset.
    assert html.count(f'id="grid-{cell_anchor(pip_cell["id"])}"') == 1
    assert f'id="grid-{cell_anchor(uv_id)}"' not in html


def test_a_run_without_uv_cells_has_no_installers_section(pristine: dict[str, Any]) -> None:
    assert 'id="installers"' not in render_report(copy.deepcopy(pristine))


def test_a_big_run_splits_cell_details_into_one_page_per_base(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from harness.documents import report
    from harness.model.results import Results
    from harness.store.shards import ShardRun, merge_shards
    from harness.testing.synthetic import synthetic_plan, synthetic_shard

    plan = synthetic_plan(bases=3, depsets=4, repeat=1, shards=1)
    results = merge_shards(
        [ShardRun(tmp_path, Results.from_dict(synthetic_shard(plan, 1)))], "r-split", "now"
    )
    monkeypatch.setattr(report, "SPLIT_CELLS", 5)
    pages = report.render_report_pages(results)
    assert sorted(pages) == [
        "report-cells/base-base0.html",
        "report-cells/base-base1.html",
        "report-cells/base-base2.html",
        "report-cells/depsets.html",
        "report.html",
    ]
    main, page = pages["report.html"], pages["report-cells/base-base1.html"]
    anchor = cell_anchor("base1×set2")
    # report.html#cell-… (the links of summary.md, compare and the ADR) lands on the grid
    # cell, which links on to the cell's page.
    assert f'id="{anchor}"' in main and 'class="cell-detail"' not in main
    assert f'href="report-cells/base-base1.html#{anchor}"' in main
    assert f'<article class="cell-detail" id="{anchor}">' in page
    assert cell_anchor("base0×set0") not in page  # only this base's cells
    assert f'href="../report.html#{anchor}"' in page  # back to its grid cell
    depsets = pages["report-cells/depsets.html"]
    assert 'id="depsets"' in depsets and 'id="depsets"' not in main
    assert 'href="report-cells/depsets.html#depsets"' in main
    monkeypatch.setattr(report, "SPLIT_CELLS", 500)
    assert list(report.render_report_pages(results)) == ["report.html"]


# --- preflight predictions next to the install, and the interpreter benchmark ----------


def pybench(loops_s: float, rel_iqr: float = 0.02) -> dict[str, Any]:
    stats = {"median_s": loops_s, "rel_spread": rel_iqr * 2, "rel_iqr": rel_iqr}
    return {
        "status": "passed",
        "settings": {"scale": 1.0},
        "python": {"version": "3.11.2"},
        "build": {"pgo": False, "lto": False},
        "workloads": {"loops_calls": stats},
    }


def test_mismatch_is_flagged_in_the_grid_and_the_details(results: dict[str, Any]) -> None:
    spacy = cell(results, "py311-slim×spacy")
    numpy = next(d for d in spacy["distributions"] if d["name"] == "numpy")
    spacy["preflight"] = {
        "status": "build",
        "verdict": "needs a build from source of numpy",
        "distributions": [
            {"name": "numpy", "version": numpy["version"], "kind": "sdist", "wheel_tag": None},
        ],
        "notes": ["dependencies of numpy come from sdist metadata built on the host"],
        "seconds": 4.2,
    }
    spacy["preflight_mismatches"] = [
        {"name": "numpy", "predicted": "sdist", "installed": "wheel", "message": "m"}
    ]
    page = render_report(results)
    box = grid_cell(page, "py311-slim×spacy")
    assert "preflight ≠ install: numpy" in box
    assert f"said build from source {numpy['version']}, got wheel {numpy['version']}" in box
    details = page.split(f'id="{cell_anchor("py311-slim×spacy")}"', 1)[1].split("</article>")[0]
    assert "needs a build from source of numpy" in details and "sdist metadata" in details
    assert '<tr class="mismatch"><td class="mono">numpy</td>' in details
    assert f"wheel {numpy['version']} ({numpy['tag']})" in details
    assert "preflight ≠" not in grid_cell(page, "py311-slim×torch")


def test_a_prediction_without_mismatch_says_so(results: dict[str, Any]) -> None:
    torch = cell(results, "py311-slim×torch")
    torch["preflight"] = {"status": "wheels", "verdict": "will install from wheels",
                          "distributions": [], "notes": [], "seconds": 1.0}  # fmt: skip
    torch["preflight_mismatches"] = []
    page = render_report(results)
    details = page.split(f'id="{cell_anchor("py311-slim×torch")}"', 1)[1].split("</article>")[0]
    assert (
        "will install from wheels" in details and "every distribution came as predicted" in details
    )


def test_interpreter_speed_section(results: dict[str, Any], html: str) -> None:
    assert 'id="interpreter-speed"' not in html  # no base measured: no section
    bases = {b["name"]: b for b in results["bases"]}
    bases["py311-slim"]["interpreter_speed"] = pybench(0.040)
    bases["py313-slim"]["interpreter_speed"] = pybench(0.080)
    page = render_report(results)
    section = page.split('id="interpreter-speed"', 1)[1].split("</section>")[0]
    assert "baseline base <b>py311-slim</b>" in section
    assert "80.0 ms (2.00× slower)" in section and "40.0 ms" in section
    assert "PGO and LTO not recorded" in section and "IQR ≤ 2 %" in section
    assert "Stand-in builds." in section and "stand-in build</span>" in section
    bases["py313-slim"]["interpreter_speed"] = pybench(0.044, rel_iqr=0.2)
    quiet = render_report(results).split('id="interpreter-speed"', 1)[1]
    assert "44.0 ms (no difference)" in quiet.split("</section>")[0]


def test_the_bases_table_shows_the_capability_probe(pristine: dict[str, Any]) -> None:
    results = copy.deepcopy(pristine)
    caps = {
        "status": "passed", "shell": False, "package_manager": None, "pip": {"version": None},
        "user": {"name": "nonroot", "uid": 65532, "gid": 65532},
        "libc": {"family": "glibc", "version": "2.36"}, "release_level": "final",
    }  # fmt: skip
    results["bases"][0]["capabilities"] = caps
    rows = bases_frame(results)
    assert "no shell" in rows[0]["capabilities"] and "65532" in rows[0]["capabilities"]
    assert all(r["capabilities"] for r in rows[1:])  # said even when not probed
    assert rows[0]["capabilities"] in render_report(results)


def test_probe_output_is_linked_not_inlined(pristine: dict[str, Any], html: str) -> None:
    from harness.store.files import result_file_name

    for cell in pristine["cells"]:
        record = f"cells/{result_file_name(cell['id'], int(cell.get('repeat') or 0))}"
        assert f'href="{record}"' in html
        for name, probe in (cell.get("probes") or {}).items():
            # a probe's whole output (its nested JSON) stays in the cell's file
            assert json.dumps(probe, ensure_ascii=False)[:200] not in html, name


def test_a_project_depset_says_what_it_installs_from_not_pip_dash() -> None:
    from tests.unit.analysis.test_decision import base as base_record
    from tests.unit.analysis.test_decision import cell as cell_record
    from tests.unit.analysis.test_decision import results as typed_results

    data = typed_results([base_record("a")], [cell_record("a", "app")]).to_dict()
    data["depsets"] = [
        {
            "name": "app",
            "requirements": ["requirements.txt"],
            "lockfile": "uv.lock",
            "tests": {"command": "python -m pytest -q tests"},
        }
    ]
    page = render_report(data)
    section = page[page.index('id="depsets"') :]
    section = section[: section.index("<table")]
    text = re.sub(r"<[^>]+>", "", section)
    assert "requirements: requirements.txt" in text and "lockfile: uv.lock" in text
    assert "tests: python -m pytest -q tests" in text and "pip: —" not in text
    assert "requirements: requirements.txt · lockfile: uv.lock · tests:" in " ".join(text.split())


def test_what_the_suite_wrote_is_linked_from_the_cell(pristine: dict[str, Any]) -> None:
    results = copy.deepcopy(pristine)
    cell = results["cells"][0]
    cell.setdefault("probes", {})["tests"] = {
        "status": "failed",
        "command": "pytest -q",
        "artifacts": {
            "folder": "artifacts/x.r0",
            "patterns": ["snapshots/*.txt"],
            "files": [{"path": "snapshots/diff.txt", "bytes": 120}],
            "skipped": [{"path": "big.bin", "why": "over the 50 MiB bound"}],
        },
    }
    page = render_report(results)
    assert 'href="artifacts/x.r0/snapshots/diff.txt"' in page
    assert "big.bin</span> not kept: over the 50 MiB bound" in page


def test_table_rows_hold_exactly_the_keys_their_view_types_declare(
    pristine: dict[str, Any],
) -> None:
    """TypedDicts are not checked at run time: a builder that writes a key its view type
    does not declare (or leaves one out) would pass mypy only through a cast, so the rows
    are compared with the declarations here."""
    declared: list[tuple[type, Sequence[Mapping[str, object]]]] = [
        (CellRow, cells_frame(pristine)),
        (BaseRow, bases_frame(pristine)),
        (DistributionRow, distributions_frame(pristine)),
    ]
    for view, rows in declared:
        assert rows, view.__name__
        for row in rows:
            assert set(row) == set(view.__annotations__), view.__name__
    # a grid entry starts with the fold's keys and gains the page's ones on its way
    grid = grid_frame(cells_frame(pristine))
    assert grid and all(set(entry) < set(GridEntry.__annotations__) for entry in grid)


def test_badge_and_noisy_mark_escape_what_they_are_given() -> None:
    from harness.documents.report import STATUS_HELP, badge, noisy_mark

    assert badge("passed") == (
        f'<span class="badge st-passed" title="{STATUS_HELP["passed"]}">passed</span>'
    )
    assert badge(None) == (
        '<span class="badge st-unknown" title="status not known to this report">unknown</span>'
    )
    assert "&lt;b&gt;" in badge("<b>")
    assert noisy_mark({"install": 'spread "<wide>"'}, "install") == (
        '<span class="noisy" title="spread &#34;&lt;wide&gt;&#34;">noisy</span>'
    )
    assert noisy_mark({"install": None}, "install") == ""
    assert noisy_mark({}, "install") == ""


def test_the_report_templates_read_a_views_key_and_keep_dicts_own_methods() -> None:
    from jinja2 import UndefinedError

    from harness.documents.report import _environment

    env = _environment()
    page = env.from_string(
        "{{ v.status }} {{ v['values'] }} {{ v.values() | list }} {{ v.get('x') }}"
    )
    assert page.render(v={"status": "passed", "values": 1}) == "passed 1 [&#39;passed&#39;, 1] None"
    with pytest.raises(UndefinedError):
        env.from_string("{{ v.missing }}").render(v={})


def test_a_runtime_cells_package_manager_is_said_to_be_its_builders() -> None:
    from harness.documents.report import _repeat_view
    from harness.model.results import CellRecord

    cell = CellRecord.from_dict(
        {"id": "distroless×six", "base": "distroless", "depset": "six", "status": "passed",
         "package_manager": "apt", "runtime": {"builder": "py311-slim"}}
    )  # fmt: skip
    view = _repeat_view(cell, {})
    assert view["package_manager"] == (
        "apt (in the builder py311-slim; the runtime's own is in the bases table)"
    )
