"""pip vs another installer (``analysis.installers.InstallerPair``) as Markdown and HTML:
a section of the compare page and of report.html."""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.compare import DistributionDifference
from harness.analysis.installers import InstallerPair
from harness.documents import html
from harness.documents.compare import metric_delta_text, sample_text
from harness.documents.markdown import md_escape, md_table
from harness.model import format as fmt
from harness.model.ids import cell_anchor
from harness.store.files import REPORT_HTML


def ratio_text(pair: InstallerPair) -> str:
    """uv/pip of the installer step's medians: ``"0.25×"``."""
    return fmt.ratio(pair.ratio)


def render_installers_markdown(
    pairs: Sequence[InstallerPair], note: Sequence[str], *, report_href: str = REPORT_HTML
) -> list[str]:
    """A "pip vs uv" section: one row per base × depset, then the distributions whose
    version differs between the two resolutions."""
    if not pairs:
        return []
    out = ["## Installers: pip vs uv", "", *(f"- {md_escape(line)}" for line in note), ""]
    rows = [
        [
            md_escape(p.base),
            md_escape(p.depset),
            f"[{md_escape(p.pip.status)}]({report_href}#{cell_anchor(p.pip.cell_id)})",
            f"[{md_escape(p.other.status)}]({report_href}#{cell_anchor(p.other.cell_id)})",
            sample_text(p.step.a, "s"),
            sample_text(p.step.b, "s"),
            metric_delta_text(p.step),
            ratio_text(p),
            md_escape(p.verdict),
        ]
        for p in pairs
    ]
    header = ["base", "depset", "pip", "uv", "pip step", "uv step", "uv − pip", "uv/pip"]
    out += [*md_table([*header, "verdict"], rows), ""]
    for pair in pairs:
        if pair.distributions:
            title = f"### {md_escape(pair.base)} × {md_escape(pair.depset)}: resolutions differ"
            out += [title, ""]
            out += md_table(
                ["distribution", "pip", md_escape(pair.other.installer), "differs in"],
                [
                    [md_escape(d.name), md_escape(d.a or "—"), md_escape(d.b or "—"), kind]
                    for d, kind in difference_rows(pair)
                ],
            )
            out += ["", f"{pair.same_distributions} other distribution(s) identical.", ""]
    return out


def difference_rows(pair: InstallerPair) -> list[tuple[DistributionDifference, str]]:
    """Each difference with its kind in installer words ("only with uv", not "only on B")."""
    words = {"only on A": "only with pip", "only on B": f"only with {pair.other.installer}"}
    return [(d, words.get(d.kind, d.kind)) for d in pair.distributions]


def render_installers_html(
    pairs: Sequence[InstallerPair], note: Sequence[str], *, report_href: str = ""
) -> str:
    """The same section as HTML (all text escaped); empty when there are no pairs."""
    if not pairs:
        return ""
    return html.page("installers.html.j2").render(
        pairs=pairs,
        note=note,
        href=report_href,
        anchor=cell_anchor,
        sample=sample_text,
        delta=metric_delta_text,
        ratio=ratio_text,
        rows=difference_rows,
    )
