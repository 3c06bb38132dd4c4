"""How every document spells a number: one spelling per kind.

Seconds, bytes, percentages, ratios and signed differences are written here and nowhere
else; the report, the summary, the diff, the comparison, the ADR and the console import
these. Each function takes what a results file may hold (probe output is free-form) and
returns ``NONE`` for anything that is not a finite number.

The spellings:
- seconds: ``"0.005 s"``, ``"0.43 s"``, ``"3.2 s"``, ``"1,234 s"`` (three significant
  figures at most: timings jitter by tenths; ``"0 s"`` for zero);
- a spread or uncertainty: ``"3.20 ± 0.40 s"`` (the value to the decimals its spread
  needs), ``"780 MB ± 1.2 MB"``; a range ``"8.0–12.0 s"``;
- bytes: decimal units, as docker and pip print them: ``"4.2 kB"``, ``"20.0 MB"``,
  ``"780 MB"``, ``"1.2 GB"``; exactly: ``"152,043,520 bytes"``;
- signed: ``"+3.2 s"``, ``"-18.0 MB"`` (ASCII sign) and ``"±0 s"``/``"±0 B"`` for no change;
- percentages: ``"38 %"``, ``"+12 %"``, ``"-0.4 %"`` (one decimal under 10);
- ratios: ``"1.10×"``; milliseconds (interpreter benchmarks): ``"12.3 ms"``.
"""

from __future__ import annotations

import math
from datetime import datetime

NONE = "—"  # the spelling of "no value"
PLUS_MINUS = "±"


def number(value: object) -> float | None:
    """A finite number to show, or None (booleans, text, NaN and infinities are not)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


# -- seconds ---------------------------------------------------------------------------


def _decimals(value: float) -> int:
    """Decimals for at most three significant figures: timings jitter by tenths."""
    size = abs(value)
    if size == 0 or size >= 100:
        return 0
    return 3 if size < 0.01 else 2 if size < 1 else 1


def seconds_number(value: float, decimals: int | None = None) -> str:
    """The digits of a duration, without the unit: at most three significant figures
    (or ``decimals``, to align a value with its spread)."""
    return f"{value:,.{_decimals(value) if decimals is None else decimals}f}"


def seconds(value: object) -> str:
    v = number(value)
    return NONE if v is None else f"{seconds_number(v)} s"


def signed_seconds(value: object) -> str:
    v = number(value)
    if v is None:
        return NONE
    if abs(v) < 0.005:
        return f"{PLUS_MINUS}0 s"
    return ("+" if v > 0 else "-") + seconds(abs(v))


def seconds_spread(value: float, half_spread: float | None) -> str:
    """``"3.2 ± 0.40 s"`` → ``"3.20 ± 0.40 s"``: the value to as many decimals as its
    spread needs; without a spread (one sample) just ``"3.2 s"``."""
    if half_spread is None:
        return seconds(value)
    places = max(_decimals(value), _decimals(half_spread))
    return f"{seconds_number(value, places)} {PLUS_MINUS} {seconds_number(half_spread, places)} s"


def signed_seconds_spread(change: float, uncertainty: float) -> str:
    """``"+3.20 ± 0.40 s"``: a difference and its uncertainty, to the same decimals."""
    places = max(_decimals(change), _decimals(uncertainty))
    sign = "+" if change >= 0 else "-"
    return (
        f"{sign}{seconds_number(abs(change), places)} {PLUS_MINUS} "
        f"{seconds_number(uncertainty, places)} s"
    )


def seconds_range(low: float, high: float) -> str:
    """``"8.0–12.0 s"``: both ends to the same decimals."""
    places = max(_decimals(low), _decimals(high))
    return f"{seconds_number(low, places)}–{seconds_number(high, places)} s"


def milliseconds(value: object) -> str:
    """Interpreter benchmark timings, given in seconds: ``"12.3 ms"``."""
    v = number(value)
    return NONE if v is None else f"{v * 1000:.1f} ms"


# -- bytes -----------------------------------------------------------------------------


def size(value: object) -> str:
    """Decimal units, as docker and pip print sizes: ``"780 MB"``, ``"4.2 kB"``."""
    v = number(value)
    if v is None:
        return NONE
    amount, unit = abs(v), "B"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if amount < 1000 or unit == "TB":
            break
        amount /= 1000
    digits = 0 if unit == "B" or amount >= 100 else 1
    return ("-" if v < 0 else "") + f"{amount:.{digits}f} {unit}"


def byte_count(value: object) -> str:
    """The exact count, for the reader to check a rounded size against: ``"152,043,520
    bytes"``."""
    v = number(value)
    return NONE if v is None else f"{int(v):,} bytes"


def signed_byte_count(value: object) -> str:
    v = number(value)
    return NONE if v is None else f"{int(v):+,} bytes"


def signed_size(value: object) -> str:
    """``"+6.0 MB"``, ``"-18.0 MB"``, ``"±0 B"``."""
    v = number(value)
    if v is None:
        return NONE
    if v == 0:
        return f"{PLUS_MINUS}0 B"
    return ("+" if v > 0 else "-") + size(abs(v))


def size_spread(value: float, half_spread: float | None) -> str:
    """``"780 MB ± 1.2 MB"``; without a spread just the size."""
    return size(value) if half_spread is None else f"{size(value)} {PLUS_MINUS} {size(half_spread)}"


def signed_size_spread(change: float, uncertainty: float) -> str:
    """``"-6.0 MB ± 1.0 MB"``; no change within its uncertainty is ``"0 B ± 8.2 kB"``."""
    text = signed_size(change) if change else "0 B"
    return f"{text} {PLUS_MINUS} {size(uncertainty)}"


# -- percentages and ratios ------------------------------------------------------------


def percent(fraction: object) -> str:
    """A share given as a fraction: ``0.38`` → ``"38 %"``."""
    v = number(fraction)
    return NONE if v is None else f"{100 * v:.0f} %"


def signed_percent(value: object) -> str:
    """A relative change given in percent: ``"+12 %"``, ``"-0.4 %"``."""
    v = number(value)
    if v is None:
        return NONE
    return f"{v:+.1f} %" if abs(v) < 10 else f"{v:+.0f} %"


def ratio(value: object) -> str:
    """``"1.10×"``: how many times the other."""
    v = number(value)
    return NONE if v is None else f"{v:.2f}×"


# -- chart axes and timestamps ---------------------------------------------------------


def axis_value(value: float, unit: str) -> str:
    """A chart's tick or bar label, where the axis fixes the unit: ``"1,234 MB"``."""
    digits = 0 if abs(value) >= 100 or value == 0 else 1 if abs(value) >= 1 else 2
    return f"{value:,.{digits}f} {unit}".rstrip()


def timestamp(value: object) -> str:
    """ISO timestamp to ``"YYYY-MM-DD HH:MM:SS UTC"``; unparsable text is shown as it is."""
    if value is None or not value or (isinstance(value, float) and math.isnan(value)):
        return NONE
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    offset = stamp.utcoffset()
    zone = "UTC" if offset is not None and not offset else stamp.strftime("%z")
    return f"{stamp:%Y-%m-%d %H:%M:%S} {zone}".rstrip()


def duration(start: object, end: object) -> str:
    """Whole minutes and seconds between two ISO timestamps: ``"14 min 34 s"``."""
    try:
        delta = datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))
    except (TypeError, ValueError):
        return ""
    minutes, rest = divmod(int(delta.total_seconds()), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
