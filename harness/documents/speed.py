"""The interpreter-speed table (``analysis.speed.SpeedTable``) as text: Markdown lines
for the comparison and the ADR, and the cells the report's and compare page's HTML show."""

from __future__ import annotations

from harness.analysis.speed import BaseSpeed, SpeedTable
from harness.model import format as fmt


def spread_text(spread: float | None) -> str:
    """The widest relative IQR of a base's measurements: its repeat-to-repeat noise."""
    return fmt.NONE if spread is None else f"IQR ≤ {fmt.percent(spread)}"


def speed_cell(row: BaseSpeed, measurement: str) -> str:
    """One table cell: the median, and the verdict against the baseline when there is one."""
    median = row.medians.get(measurement)
    if median is None:
        return fmt.NONE
    verdict = row.verdicts.get(measurement)
    if verdict:
        return f"{fmt.milliseconds(median)} ({verdict})"
    return fmt.milliseconds(median)


def render_speed_markdown(table: SpeedTable) -> list[str]:
    """The interpreter-speed table with its rule and the stand-in note, as Markdown lines."""
    if not table.measured:
        return []
    header = ["base", "python", "build", "spread", *table.measurements]
    rows = [
        [
            row.base + (" (baseline)" if row.base == table.baseline else ""),
            row.python or fmt.NONE,
            row.build,
            spread_text(row.spread),
            *(speed_cell(row, m) for m in table.measurements),
        ]
        for row in table.bases
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
    notes = [f"- {row.base}: {row.note}" for row in table.bases if row.note]
    lines += ["", f"Medians. {table.rule}", *notes]
    if table.standins:
        lines += ["", f"**Stand-in builds.** {table.official}"]
        lines += [f"- {row.base}: {row.standin}" for row in table.standins]
    return lines
