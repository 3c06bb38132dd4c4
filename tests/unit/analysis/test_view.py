"""Timings too noisy to compare (runview.too_noisy): the rule, and where it shows.

Hand-made results with 3 repeats per cell, where the noisy timings are known by
construction (spread = max − min, relative to the median):

- b1×d: pip-install 8/10/12 s (40 %) and probe smoke_x 1.0/2.0/1.5 s (67 %) are
  noisy; its install total (51.2/53.8/54.6 s, 6 %), system-packages, venv and import
  time are not.
- b2×d: system-packages 30/40/50 s (50 %) and so the install total
  (43.2/53.5/62.9 s, 37 %) are noisy; nothing else is.
- b3×d: steady everywhere, and much slower to pip-install than b1.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from harness.analysis.compare import compare_bases
from harness.analysis.diff import diff_runs
from harness.analysis.gate import regressions
from harness.analysis.view import (
    NOISY_ABS_SPREAD,
    NOISY_REL_SPREAD,
    TIME_NOISE,
    Sample,
    group_cells,
    noise_text,
    noisy_timings,
    too_noisy,
)
from harness.documents.compare import render_comparison_html, render_comparison_markdown
from harness.documents.diff import render_diff_markdown, render_diff_text
from harness.documents.report import render_report
from harness.documents.summary import markdown_summary
from harness.model.errors import ResultsError
from harness.model.ids import cell_anchor

NOISY = {
    "b1×d": {"pip-install", "probe:smoke_x"},
    "b2×d": {"install", "system-packages"},
    "b3×d": set(),
}
STEADY_VENV = (3.0, 3.1, 2.9)
STEADY_IMPORTS = (0.50, 0.52, 0.48)


def record(
    base: str, k: int, steps: Mapping[str, float], smoke: float, imports: float
) -> dict[str, Any]:
    """Repeat k of cell <base>×d: the given install steps, then env, imports, smoke_x."""
    names = {**steps, "probe:env": 0.05, "probe:imports": 0.6, "probe:smoke_x": smoke}
    return {
        "id": f"{base}×d",
        "base": base,
        "depset": "d",
        "repeat": k,
        "status": "passed",
        "reason": None,
        "size_added_bytes": 5_000_000,
        "steps": [
            {
                "name": name,
                "kind": "probe" if name.startswith("probe:") else "install",
                "status": "passed",
                "seconds": seconds,
            }
            for name, seconds in names.items()
        ],
        "probes": {
            "env": {"status": "passed", "seconds": 0.05},
            "imports": {
                "status": "passed",
                "seconds": 0.6,
                "modules": {"m": {"seconds": imports}},
                "import_seconds": {"m": imports},
            },
            "smoke_x": {"status": "passed", "seconds": smoke},
        },
    }


def cell_records(
    base: str,
    *,
    system: Sequence[float] = (40.0, 40.5, 39.5),
    venv: Sequence[float] = STEADY_VENV,
    pip: Sequence[float] = (10.0, 10.2, 9.8),
    smoke: Sequence[float] = (1.5, 1.5, 1.6),
) -> list[dict[str, Any]]:
    steps = {"system-packages": system, "venv": venv, "pip-install": pip}
    return [
        record(
            base,
            k,
            {"detect-package-manager": 0.2, **{name: v[k] for name, v in steps.items()}},
            smoke[k],
            STEADY_IMPORTS[k],
        )
        for k in range(3)
    ]


def build_results() -> dict[str, Any]:
    cells = [
        *cell_records("b1", pip=(8.0, 10.0, 12.0), smoke=(1.0, 2.0, 1.5)),
        *cell_records("b2", system=(30.0, 40.0, 50.0)),
        *cell_records("b3", pip=(30.0, 30.2, 29.8)),
    ]
    return {
        "schema_version": 1,
        "run": {"id": "fixture-noisy", "jobs": 1, "repeat": 3, "matrix": {"path": "m.yaml"}},
        "bases": [{"name": b, "status": "available"} for b in ("b1", "b2", "b3")],
        "depsets": [{"name": "d", "pip": ["x"], "probes": ["smoke_x"]}],
        "cells": cells,
    }


@pytest.fixture
def results() -> dict[str, Any]:
    return build_results()


def set_step(results: dict[str, Any], cell_id: str, step: str, values: Sequence[float]) -> None:
    for cell in results["cells"]:
        if cell["id"] == cell_id:
            next(s for s in cell["steps"] if s["name"] == step)["seconds"] = values[cell["repeat"]]


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("values", "noisy"),
    [
        ((5.0,), False),  # one value: the spread is unknown, never "too wide"
        ((100.0,), False),
        ((0.8, 1.0, 1.2), False),  # 40 % of the median, but 0.4 s is under the 0.5 s floor
        ((0.25, 0.5, 0.75), False),  # 0.5 s exactly (100 %): not over the floor
        ((0.5, 1.0, 1.6), True),  # 1.1 s and 110 %
        ((8.5, 10.0, 11.5), True),  # 30 % of 10 s
        ((9.0, 10.0, 11.0), False),  # 20 % of 10 s: under 25 %, although 2 s > 0.5 s
        ((8.75, 10.0, 11.25), False),  # 25 % exactly: not over it
        ((8.0, 12.0), True),  # two values: median 10, spread 4 (40 %)
    ],
)
def test_rule_boundaries(values: tuple[float, ...], noisy: bool) -> None:
    assert too_noisy(Sample(values)) is noisy


def test_rule_is_the_diffs_unknown_noise_threshold() -> None:
    """The why of 25 % and 0.5 s: the thresholds the diff already uses."""
    assert NOISY_REL_SPREAD == TIME_NOISE.unknown_rel == 0.25
    assert NOISY_ABS_SPREAD == TIME_NOISE.abs_floor == 0.5
    assert not too_noisy(None)


def test_noise_text() -> None:
    assert noise_text(Sample((8.5, 10.0, 11.5))) == "spread 30 % of median over 3 runs"
    assert Sample((8.0, 12.0)).relative_spread == pytest.approx(0.4)
    assert Sample((1.0,)).relative_spread is None
    assert noise_text(Sample((-0.6, 0.0, 0.6))) == "spread 1.2 s over 3 runs"  # median 0


def test_noisy_timings_of_each_cell(results: dict[str, Any]) -> None:
    groups = group_cells(results)
    assert {cid: set(noisy_timings(g)) for cid, g in groups.items()} == NOISY
    pip = noisy_timings(groups["b1×d"])["pip-install"]
    assert pip.sample.values == (8.0, 10.0, 12.0)
    assert pip.describe() == "spread 40 % of median over 3 runs: too wide to compare"
    assert noisy_timings(groups["b2×d"])["install"].sample.relative_spread == pytest.approx(
        19.7 / 53.5
    )


def test_a_single_run_is_never_noisy(results: dict[str, Any]) -> None:
    results["cells"] = [c for c in results["cells"] if c["repeat"] == 0]
    assert all(not noisy_timings(g) for g in group_cells(results).values())


def test_free_form_probe_seconds_are_refused_on_reading(results: dict[str, Any]) -> None:
    """Probe output is untrusted: a "seconds" that is no number never becomes a timing;
    the typed reader refuses the file and names the path (exit 2), as ``harness report``
    does on reading it."""
    results["cells"][0]["probes"]["smoke_x"]["seconds"] = []
    with pytest.raises(ResultsError, match=r"cells\[0\]: \$\.probes\.smoke_x\.seconds"):
        group_cells(results)


# --------------------------------------------------------------------------- report.html


BADGE = re.compile(r'<span class="noisy" title="([^"]*)">noisy</span>')
# The depset table's columns after the base's name.
COLUMNS = ["status", "install", "system", "venv", "pip", "downloaded", "size", "import", "smoke",
           "tests", "built"]  # fmt: skip


def depset_row(html: str, cell_id: str) -> dict[str, str]:
    """The cells of one base's row in the "across bases" table, by column."""
    section = html[html.index('id="depsets"') : html.index('id="cells"')]
    match = re.search(
        rf'<td><a href="#{cell_anchor(cell_id)}">[^<]*</a></td>(.*?)</tr>', section, re.S
    )
    assert match, cell_id
    tds = re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    return dict(zip(COLUMNS, tds, strict=True))


def grid_cell(html: str, cell_id: str) -> str:
    match = re.search(rf'id="grid-{cell_anchor(cell_id)}">(.*?)</td>', html, re.S)
    assert match, cell_id
    return match.group(1)


def cell_detail(html: str, cell_id: str) -> str:
    start = html.index(f'<article class="cell-detail" id="{cell_anchor(cell_id)}">')
    return html[start : html.index("</article>", start)]


def test_report_flags_exactly_the_noisy_columns(results: dict[str, Any]) -> None:
    html = render_report(results)
    expected = {"b1×d": {"pip", "smoke"}, "b2×d": {"install", "system"}, "b3×d": set()}
    for cell_id, columns in expected.items():
        row = depset_row(html, cell_id)
        assert {c for c, text in row.items() if BADGE.search(text)} == columns, cell_id
    pip = BADGE.search(depset_row(html, "b1×d")["pip"])
    assert pip and pip.group(1) == "spread 40 % of median over 3 runs: too wide to compare"
    smoke = BADGE.search(depset_row(html, "b1×d")["smoke"])
    assert smoke and smoke.group(1).startswith("probe:smoke_x: spread 67 % of median")


def test_report_grid_flags_a_noisy_install_only(results: dict[str, Any]) -> None:
    html = render_report(results)
    [title] = BADGE.findall(grid_cell(html, "b2×d"))
    assert title == "spread 37 % of median over 3 runs: too wide to compare"
    assert not BADGE.search(grid_cell(html, "b1×d"))  # pip is noisy, the install total not
    assert not BADGE.search(grid_cell(html, "b3×d"))


def test_report_cell_detail_lists_the_noisy_timings(results: dict[str, Any]) -> None:
    html = render_report(results)
    detail = cell_detail(html, "b1×d")
    rows = re.findall(r"<tr><th>(\S+) <span class=\"noisy\"", detail)
    assert rows == ["pip-install", "probe:smoke_x"]
    assert "median 10.0 s, range 8.0 s–12.0 s" in detail
    assert not BADGE.search(cell_detail(html, "b3×d"))


def test_report_legend_and_no_badge_without_repeats(results: dict[str, Any]) -> None:
    results["cells"] = [c for c in results["cells"] if c["repeat"] == 0]
    html = render_report(results)
    assert not BADGE.search(html)
    assert "more than 0.5 s and more than 25 % of its median" in html


def test_report_escapes_a_noisy_probes_name(results: dict[str, Any]) -> None:
    evil = "<img src=x onerror=alert(1)>"
    for cell in results["cells"]:
        if cell["id"] == "b1×d":
            cell["probes"][evil] = cell["probes"].pop("smoke_x")
            next(s for s in cell["steps"] if s["name"] == "probe:smoke_x")["name"] = f"probe:{evil}"
    html = render_report(results)
    assert evil not in html
    assert "probe:&lt;img src=x onerror=alert(1)&gt;: spread 67 %" in html
    summary = markdown_summary(results, None)
    assert evil not in summary and "probe:\\<img src=x onerror=alert(1)\\>" in summary


# --------------------------------------------------------------------------- summary.md


def noisy_summary_rows(text: str) -> list[list[str]]:
    """The rows of the table under "### Noisy timings" (heading, rule, table)."""
    table = text[text.index("### Noisy timings") :].split("\n\n")[2]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in table.splitlines()[2:]]


def test_summary_lists_exactly_the_noisy_timings(results: dict[str, Any]) -> None:
    text = markdown_summary(results, None)
    assert "### Noisy timings (4)" in text
    rows = noisy_summary_rows(text)
    assert {(r[0], r[1]) for r in rows} == {
        ("b1×d", "pip-install"),
        ("b1×d", "probe:smoke\\_x"),
        ("b2×d", "install"),
        ("b2×d", "system-packages"),
    }
    assert ["b1×d", "pip-install", "10.0 s", "8.0–12.0 s",
            "spread 40 % of median over 3 runs"] in rows  # fmt: skip


def test_summary_has_no_noisy_heading_when_none(results: dict[str, Any]) -> None:
    results["cells"] = [c for c in results["cells"] if c["id"] == "b3×d"]
    assert "Noisy" not in markdown_summary(results, None)


# --------------------------------------------------------------------------- compare


def metric_lines(markdown: str) -> dict[str, str]:
    """measure name -> its row in the per-depset table."""
    return {
        line.split(" | ")[0].strip("| "): line
        for line in markdown.splitlines()
        if re.match(r"\| (install|size added|import time|smoke )", line)
    }


def test_compare_refuses_to_call_a_noisy_timing(results: dict[str, Any]) -> None:
    comparison = compare_bases(results, "b1", "b2")
    [row] = comparison.rows
    assert row.verdict == (
        "works on both; install time too noisy to call (b2: spread 37 % of median over 3 runs)"
    )
    lines = metric_lines(render_comparison_markdown(comparison))
    noisy = {name for name, line in lines.items() if "too noisy to call" in line}
    assert noisy == {"install", "smoke smoke\\_x"}
    assert "(too noisy to call: A: spread 67 % of median over 3 runs)" in lines["smoke smoke\\_x"]
    assert lines["import time"].endswith("(within noise) |")
    html = render_comparison_html(comparison)
    assert html.count("too noisy to call") == 4  # the verdict twice, two measures


def test_compare_keeps_its_call_when_the_compared_timing_is_steady(
    results: dict[str, Any],
) -> None:
    """b1's pip-install is noisy, but the install total compared is not."""
    [row] = compare_bases(results, "b1", "b3").rows
    assert row.verdict.startswith("works on both; slower on b3 by 19.4 ± ")
    install = metric_lines(render_comparison_markdown(compare_bases(results, "b1", "b3")))
    assert install["install"].endswith("(beyond noise) |")


# --------------------------------------------------------------------------- diff


@pytest.fixture
def after(results: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(results)
    out["run"]["id"] = "fixture-noisy-after"
    set_step(out, "b3×d", "pip-install", (45.0, 52.0, 60.0))  # slower; after noisy (29 %)
    set_step(out, "b2×d", "system-packages", (80.0, 90.0, 100.0))  # slower; before noisy
    set_step(out, "b1×d", "venv", (6.0, 6.1, 5.9))  # slower; steady on both sides
    return out


def test_diff_notes_noise_on_the_changes_it_still_reports(
    results: dict[str, Any], after: dict[str, Any]
) -> None:
    diff = diff_runs(results, after)
    notes = {(t.cell_id, t.step): t.noisy_note for t in diff.timing_changes}
    note = "too noisy to compare: {} spread {} % of median over 3 runs"
    assert notes == {
        ("b3×d", "pip-install"): note.format("after", 29),
        ("b2×d", "system-packages"): note.format("before", 50),
        ("b1×d", "venv"): "",
    }
    assert all(t.direction == "slower" for t in diff.timing_changes)


def test_diff_renderings_carry_the_note(results: dict[str, Any], after: dict[str, Any]) -> None:
    diff = diff_runs(results, after)
    text = render_diff_text(diff).splitlines()
    markdown = render_diff_markdown(diff).splitlines()
    for lines in (text, markdown):
        noted = [ln for ln in lines if "too noisy to compare" in ln]
        assert len(noted) == 2
        assert any("pip-install" in ln for ln in noted)
        assert any("system-packages" in ln for ln in noted)
        assert any("venv" in ln and "slower" in ln for ln in lines)  # the steady one, unnoted
    slower = regressions(diff, {"slower"})
    assert [m for m in slower if "too noisy" in m] == [
        m for m in slower if m.startswith(("b3×d", "b2×d"))
    ]
    assert len(slower) == 3


# --------------------------------------------------------------------------- ADR


def test_adr_calls_no_pro_or_con_on_a_noisy_timing(results: dict[str, Any]) -> None:
    from harness.documents.adr import render_adr

    adr = render_adr(results, report_href="report.html", baseline="b3", candidates=None)
    b2 = adr.split("### `b2`")[1].split("\n### ")[0]
    noisy = [line for line in b2.splitlines() if "spread too wide" in line]
    assert len(noisy) == 1 and "install time" in noisy[0]
    assert not any("Good" in line and "install time" in line for line in b2.splitlines())
    b1 = adr.split("### `b1`")[1].split("\n### ")[0]
    assert any(line.startswith("* Good, because install time") for line in b1.splitlines())
    assert "spread too wide" not in b1


def test_step_names_are_listed_once_in_the_order_first_seen(results: dict[str, Any]) -> None:
    """A step retried within one record (two ``pip-install`` steps) is one timing name."""
    first = results["cells"][0]
    first["steps"].append(dict(first["steps"][0]))
    group = group_cells(results)[first["id"]]
    names = group.step_names()
    assert len(names) == len(set(names)) and names[0] == first["steps"][0]["name"]
