"""pip vs uv on one base × depset: install times under the noise rule, and what resolved
differently. Results are built here, field by field, as run/cell.py writes them."""

from __future__ import annotations

from html.parser import HTMLParser

from harness.analysis.installers import (
    fairness_note,
    installer_pairs,
)
from harness.documents.installers import render_installers_html, render_installers_markdown
from tests.unit.builders import cells_results as results
from tests.unit.builders import installer_record as record


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_rendered_sections_escape_and_link_both_cells() -> None:
    run = results(
        record("a×d", 4.0, versions={"x<y": "1"}),
        record("a×d+uv", 1.0, versions={"x<y": "2"}),
    )
    pairs = installer_pairs(run)
    markdown = "\n".join(render_installers_markdown(pairs, fairness_note(run)))
    assert "(report.html#cell-a_x_d)" in markdown and "(report.html#cell-a_x_d_with_uv)" in markdown
    assert "x\\<y" in markdown and "| 0.25× |" in markdown
    html = render_installers_html(pairs, fairness_note(run))
    assert "x&lt;y" in html and 'href="#cell-a_x_d_with_uv"' in html
    parser = _Text()
    parser.feed(html)
    assert "Installers: pip vs uv" in "".join(parser.text)
    assert render_installers_html([], []) == "" and render_installers_markdown([], []) == []
