"""harness.compare: side by side of two bases of one run (tests/fixtures/nightly)."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

from harness.analysis.compare import compare_bases
from harness.documents.compare import (
    render_comparison_html,
    render_comparison_markdown,
    scan_lines,
    size_rows,
)
from harness.model import format as fmt


def test_markdown(run_b: dict[str, Any]) -> None:
    text = render_comparison_markdown(compare_bases(run_b, "py311-slim", "py313-slim"))
    assert text.startswith("# py311-slim vs py313-slim (run 20261127-021500-d4e5f6)")
    assert "[❌ failed](report.html#cell-py313-slim_x_spacy)" in text
    assert "stand-in for python:3.13-slim" in text
    assert "| install | " in text and "(beyond noise)" in text


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in {"href", "src"}]


def test_html_is_self_contained_and_escaped(run_b: dict[str, Any]) -> None:
    results = copy.deepcopy(run_b)
    for cell in results["cells"]:
        if cell["id"] == "py313-slim×spacy":
            cell["reason"] = "<script>alert(1)</script> & more"
    html = render_comparison_html(compare_bases(results, "py311-slim", "py313-slim"))
    parser = _Collect()
    parser.feed(html)
    assert "script" not in parser.tags and "link" not in parser.tags
    assert all(u.startswith(("#", "report.html#")) for u in parser.urls)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert 'href="report.html#cell-py313-slim_x_spacy"' in html
    assert "<style>" in html


def _pybench(loops_s: float) -> dict[str, Any]:
    stats = {"median_s": loops_s, "rel_spread": 0.04, "rel_iqr": 0.02}
    return {"status": "passed", "settings": {"scale": 1.0}, "workloads": {"loops_calls": stats}}


def test_interpreter_speed_of_b_against_a(run_b: dict[str, Any]) -> None:
    assert not compare_bases(run_b, "py311-slim", "py313-slim").speed.measured
    speeds = {"py311-slim": 0.050, "py313-slim": 0.035}
    for entry in run_b["bases"]:
        if entry["name"] in speeds:
            entry["interpreter_speed"] = _pybench(speeds[entry["name"]])
    comparison = compare_bases(run_b, "py311-slim", "py313-slim")
    assert comparison.speed.baseline == "py311-slim"
    markdown = render_comparison_markdown(comparison)
    assert "## Interpreter speed (B against A)" in markdown
    assert "35.0 ms (1.43× faster)" in markdown
    page = render_comparison_html(comparison)
    assert "Interpreter speed (B against A)" in page and "35.0 ms (1.43× faster)" in page
    reverse = render_comparison_markdown(compare_bases(run_b, "py313-slim", "py311-slim"))
    assert "50.0 ms (1.43× slower)" in reverse


def with_contents(results: dict[str, Any], cell_id: str, dists: dict[str, int]) -> None:
    """Give every repeat of ``cell_id`` a contents probe result listing ``dists``."""
    for cell in results["cells"]:
        if cell["id"] == cell_id:
            cell["probes"]["contents"] = {
                "os_packages": [],
                "distributions": [
                    {"name": n, "version": "1", "size_bytes": b} for n, b in dists.items()
                ],
            }
            cell["size_added_bytes"] = sum(dists.values()) + 1_000_000


def test_torch_sizes_by_distribution_in_markdown_and_html(run_b: dict[str, Any]) -> None:
    with_contents(run_b, "py311-slim×torch", {"torch": 780_000_000, "numpy": 40_000_000})
    with_contents(
        run_b,
        "py313-slim×torch",
        {"torch": 780_000_000, "numpy": 34_000_000, "triton": 286_000_000},
    )
    comparison = compare_bases(run_b, "py311-slim", "py313-slim", ["torch", "ffmpeg"])
    torch, ffmpeg = comparison.rows
    assert torch.size_sentence() == (
        "torch on py313-slim: 280 MB more than on py311-slim, of which triton 286 MB "
        "(only on py313-slim)"
    )
    assert size_rows(torch)[:2] == [
        ("triton", "—", "286 MB", "+286 MB"),
        ("numpy", "40.0 MB", "34.0 MB", "-6.0 MB"),
    ]
    assert ffmpeg.sizes is None and ffmpeg.size_sentence() is None  # no contents: no claim
    markdown = render_comparison_markdown(comparison)
    assert "**Size:** torch on py313-slim: 280 MB more" in markdown
    assert "| triton | — | 286 MB | +286 MB |" in markdown
    html = render_comparison_html(comparison)
    assert "<b>Size:</b> torch on py313-slim: 280 MB more" in html
    assert "<td>triton</td>" in html


def scanned(low: int, high: int = 0, built: str = "2026-11-29") -> dict[str, Any]:
    from harness.analysis.vulns import VulnCounts

    return VulnCounts("grype", "0.86.1", built, low=low, high=high).to_scan().to_dict()


def test_vulnerabilities_side_by_side_with_their_database(run_b: dict[str, Any]) -> None:
    run_b["sboms"] = {
        "scanner": {"name": "grype", "db": "/db"},
        "sboms": [
            {"path": "sbom/a.cdx.json", "kind": "base", "subject": "py311-slim", "repeat": 0,
             "vulnerabilities": scanned(23)},
            {"path": "sbom/b.cdx.json", "kind": "base", "subject": "alpine", "repeat": 0,
             "vulnerabilities": scanned(2)},
        ],
    }  # fmt: skip
    comparison = compare_bases(run_b, "py311-slim", "alpine", ["ffmpeg"])
    assert comparison.vulnerabilities is not None
    assert scan_lines(comparison.vulnerabilities, "slim", "musl") == [
        "slim: 0 critical, 0 high, 23 low; 0 fixable (grype 0.86.1, DB built 2026-11-29)",
        "musl: 0 critical, 0 high, 2 low; 0 fixable (grype 0.86.1, DB built 2026-11-29)",
        "B − A: -21 low",
    ]
    markdown = render_comparison_markdown(comparison)
    assert "**Vulnerabilities (the base images' SBOMs):**" in markdown
    assert "- B − A: -21 low" in markdown
    # the cells' SBOMs were not listed: said, not zero
    ffmpeg = comparison.rows[0].vulnerabilities
    assert ffmpeg is not None and scan_lines(ffmpeg, "slim", "musl") == [
        "slim and musl: not scanned: no SBOM: the cell reported no contents"
    ]
    assert "B − A: -21 low" in render_comparison_html(comparison)
    half = compare_bases(run_b, "py311-slim", "py313-slim", ["ffmpeg"]).vulnerabilities
    assert half is not None and scan_lines(half, "A", "B") == [
        "A: 0 critical, 0 high, 23 low; 0 fixable (grype 0.86.1, DB built 2026-11-29)",
        "B: not scanned: no SBOM: no cell of py313-slim reported its contents",
    ]  # nothing to subtract, and no zero standing in for B


def test_unscanned_runs_say_so_once_for_both(run_b: dict[str, Any]) -> None:
    from harness.analysis.vulns import NOT_SCANNED_NO_DB

    reason = {"scanned": False, "scanner": None, "reason": NOT_SCANNED_NO_DB}
    run_b["sboms"] = {
        "scanner": None,
        "sboms": [
            {"path": f"sbom/{b}.cdx.json", "kind": "base", "subject": b, "vulnerabilities": reason}
            for b in ("py311-slim", "py313-slim")
        ],
    }
    comparison = compare_bases(run_b, "py311-slim", "py313-slim", ["ffmpeg"])
    assert comparison.vulnerabilities is not None
    assert scan_lines(comparison.vulnerabilities, "A", "B") == [f"A and B: {NOT_SCANNED_NO_DB}"]
    assert " 0 " not in render_comparison_markdown(comparison).split("Vulnerabilities")[1][:200]


def test_each_base_line_gives_the_images_size(run_b: dict[str, Any]) -> None:
    sizes = {b["name"]: b.get("size_bytes") for b in run_b["bases"]}
    comparison = compare_bases(run_b, "py311-slim", "alpine", ["ffmpeg"])
    assert comparison.base_a.size_bytes == sizes["py311-slim"]
    markdown = render_comparison_markdown(comparison)
    assert f"({fmt.size(sizes['py311-slim'])})" in markdown.split("\n")[2]


def test_the_page_colours_every_status_from_the_shared_stylesheet(run_b: dict[str, Any]) -> None:
    results = copy.deepcopy(run_b)
    for cell in results["cells"]:
        if cell["id"] == "py313-slim×torch":
            cell["status"] = "oom"  # the status the page's own CSS once had no colour for
    page = render_comparison_html(compare_bases(results, "py311-slim", "py313-slim", ["torch"]))
    assert '<td class="status-cell st-oom">' in page
    assert '<td class="status-cell st-passed">' in page
    assert ".st-oom {" in page and ".status-cell[class*=" in page  # status.css, inline
