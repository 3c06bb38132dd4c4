"""Inline SVG charts, written by hand so the report needs no plotting library or CDN.

Every label is escaped here: the output is meant to be inserted into HTML as is.
The SVG is for inline use in an HTML5 page, which needs no xmlns attribute.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

from harness.model import format as fmt

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")

_WIDTH = 640
_BAR_H = 14
_BAR_GAP = 4
_GROUP_HEAD = 20
_GROUP_PAD = 10
_CHAR_W = 6.6  # average glyph width at 11px, to size the label column
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: str,
) -> str:
    """Grouped horizontal bars: one group per category, one bar per series.

    ``series[name][i]`` is the value of that series for ``categories[i]``; None
    (no measurement) is drawn as "n/a" rather than as a zero-length bar.
    """
    names = list(series)
    label_w = _label_width(names)
    plot_w = _WIDTH - label_w - 90  # room on the right for the value label
    axis_max, step = _axis(_values(series))
    top = 30
    bottom = top + len(categories) * _group_height(len(names))
    parts = [
        _svg_open(title, bottom + 24),
        _text(0, 16, title, weight="600", size=13),
        # Gridlines first, so the bars are drawn over them.
        _axis_marks(label_w, plot_w, axis_max, step, top, bottom, unit),
    ]
    y = top
    for i, category in enumerate(categories):
        parts.append(_text(0, y + 13, category, weight="600", size=12))
        y += _GROUP_HEAD
        for j, name in enumerate(names):
            value = _at(series[name], i)
            parts.append(
                _bar_row(y, label_w, plot_w, axis_max, name, category, value, unit, PALETTE[j % 7])
            )
            y += _BAR_H + _BAR_GAP
        y += _GROUP_PAD
    parts.append("</svg>")
    return "".join(parts)


def sparkline(
    values: Sequence[float | None], *, label: str, width: int = 72, height: int = 18
) -> str:
    """A tiny trend line; gaps where a run has no value, a dot on the latest point."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)

    def point(i: int, v: float) -> tuple[float, float]:
        return 2 + i * step, height - 2 - (v - low) / span * (height - 4)

    lines: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for i, v in enumerate(values):
        if v is None:
            lines.append(run)
            run = []
        else:
            run.append(point(i, v))
    lines.append(run)
    paths = "".join(
        f'<polyline points="{_points(r)}" fill="none" stroke="#475467" stroke-width="1.2"/>'
        for r in lines
        if len(r) > 1
    )
    last = len(values) - 1 - next(i for i, v in enumerate(reversed(values)) if v is not None)
    cx, cy = point(last, known[-1])
    return (
        f'<svg class="spark" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>{paths}"
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2" fill="#101828"/></svg>'
    )


def _values(series: Mapping[str, Sequence[float | None]]) -> list[float]:
    return [v for vs in series.values() for v in vs if v is not None and math.isfinite(v)]


def _at(values: Sequence[float | None], i: int) -> float | None:
    if i >= len(values):
        return None
    v = values[i]
    return v if v is not None and math.isfinite(v) else None


def _group_height(n_series: int) -> int:
    return _GROUP_HEAD + n_series * (_BAR_H + _BAR_GAP) + _GROUP_PAD


def _label_width(names: Sequence[str]) -> int:
    longest = max((len(n) for n in names), default=4)
    return int(min(200, max(70, longest * _CHAR_W + 16)))


def _axis(values: Sequence[float]) -> tuple[float, float]:
    """Round the axis up to a 'nice' multiple so gridline labels read well."""
    top = max(values, default=0.0)
    if top <= 0:
        return 1.0, 0.25
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(top / step), step


def _bar_row(
    y: int,
    label_w: int,
    plot_w: int,
    axis_max: float,
    name: str,
    category: str,
    value: float | None,
    unit: str,
    colour: str,
) -> str:
    label = _text(label_w - 8, y + 11, name, anchor="end", fill="#344054")
    if value is None:
        tip = escape(f"{name} · {category}: n/a (not measured)")
        return label + (
            f'<text x="{label_w + 4}" y="{y + 11}" font-size="11" fill="#98a2b3" '
            f'font-style="italic"><title>{tip}</title>n/a</text>'
        )
    width = max(plot_w * value / axis_max, 1.0)
    shown = fmt.axis_value(value, unit)
    tip = escape(f"{name} · {category}: {shown}")
    return label + (
        f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{_BAR_H}" rx="2" '
        f'fill="{colour}"><title>{tip}</title></rect>'
        + _text(label_w + width + 5, y + 11, shown, fill="#101828")
    )


def _axis_marks(
    label_w: int, plot_w: int, axis_max: float, step: float, top: int, bottom: int, unit: str
) -> str:
    marks = []
    n = round(axis_max / step)
    for k in range(n + 1):
        x = label_w + plot_w * k / n
        marks.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom - 4}" '
            'stroke="#eaecf0" stroke-width="1"/>'
        )
        marks.append(
            _text(
                x,
                bottom + 10,
                fmt.axis_value(k * step, unit),
                anchor="middle",
                size=10,
                fill="#667085",
            )
        )
    return '<g class="grid">' + "".join(marks) + "</g>"


def _svg_open(title: str, height: int) -> str:
    return (
        f'<svg class="chart" width="{_WIDTH}" '
        f'height="{height}" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" font-family="{_FONT}">'
        f"<title>{escape(title)}</title>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = 11,
    weight: str = "400",
    fill: str = "#101828",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'font-weight="{weight}" fill="{fill}">{escape(text)}</text>'
    )


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def stacked_bar(
    title: str, parts: Sequence[tuple[str, float | None]], unit_text: Sequence[str]
) -> str:
    """One horizontal bar split into ``parts`` (label, value), widths proportional to values.

    ``unit_text[i]`` is how part i's value is written in the legend ("780 MB"). A part with
    no value (None) is left out of the bar and marked "unknown" in the legend, never drawn
    as zero.
    """
    known = [(v if v is not None and math.isfinite(v) and v > 0 else 0.0) for _, v in parts]
    total = sum(known) or 1.0
    height = 22 + 18 * len(parts)
    out = [_svg_open(title, height)]
    x = 0.0
    for i, width_value in enumerate(known):
        width = width_value / total * _WIDTH
        if width > 0:
            out.append(
                f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="{_BAR_H + 2}" '
                f'fill="{PALETTE[i % 7]}"><title>{escape(parts[i][0])}: '
                f"{escape(unit_text[i])}</title></rect>"
            )
        x += width
    for i, (label, value) in enumerate(parts):
        y = 22 + 18 * i
        out.append(f'<rect x="0" y="{y + 3}" width="10" height="10" fill="{PALETTE[i % 7]}"/>')
        shown = "unknown" if value is None else unit_text[i]
        out.append(_text(16, y + 12, f"{label}: {shown}"))
    out.append("</svg>")
    return "".join(out)
