"""A base's capabilities (the `capabilities` probe's output in `bases[].capabilities`) as short
display values, and the differences between two bases.

Each fact has one wording here, so the bases table and the interpreter-speed comparison
say the same thing: "no shell · no pip · uid 65532 (nonroot) · glibc 2.36 · PGO+LTO · final".
PGO and LTO are what the build flags record: Debian applies both outside configure, so
"no PGO/LTO recorded" on a Debian Python does not mean it was built without them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SEPARATOR = " · "
UNKNOWN = "unknown"


def _shell(caps: Mapping[str, Any]) -> str:
    return "shell" if caps.get("shell") else "no shell"


def _package_manager(caps: Mapping[str, Any]) -> str:
    return str(caps.get("package_manager") or "no package manager")


def _pip(caps: Mapping[str, Any]) -> str:
    version = (caps.get("pip") or {}).get("version")
    if version:
        return f"pip {version}"
    if (caps.get("ensurepip") or {}).get("available"):
        return "ensurepip, no pip"
    return "no pip"


def _user(caps: Mapping[str, Any]) -> str:
    user = caps.get("user") or {}
    if user.get("uid") is None:
        return UNKNOWN
    name = user.get("name")
    return f"uid {user['uid']}" + (f" ({name})" if name and user["uid"] != 0 else "")


def _libc(caps: Mapping[str, Any]) -> str:
    libc = caps.get("libc") or {}
    family = libc.get("family") or UNKNOWN
    return f"{family} {libc['version']}" if libc.get("version") else str(family)


def _build(caps: Mapping[str, Any]) -> str:
    if "pgo" not in caps and "lto" not in caps:
        return UNKNOWN
    flags = [name for name in ("PGO", "LTO") if caps.get(name.lower())]
    return "+".join(flags) if flags else "no PGO/LTO recorded"


def _free_threaded(caps: Mapping[str, Any]) -> str:
    return "free-threaded" if caps.get("free_threaded") else "GIL"


def _release(caps: Mapping[str, Any]) -> str:
    level = caps.get("release_level") or UNKNOWN
    serial = caps.get("release_serial")
    return f"{level} {serial}" if level != "final" and serial else str(level)


def _python(caps: Mapping[str, Any]) -> str:
    return f"{caps.get('executable') or UNKNOWN} {caps.get('python_version') or ''}".strip()


def _missing(caps: Mapping[str, Any]) -> str:
    missing = list(caps.get("missing") or [])
    zones = caps.get("time_zones") or {}
    if zones.get("count") == 0 and "zoneinfo" not in missing:
        missing.append("tz data")
    return "missing: " + ", ".join(missing) if missing else "no stdlib module missing"


def _openssl(caps: Mapping[str, Any]) -> str:
    words = str(caps.get("openssl") or "").split()
    return " ".join(words[:2]) if words else "no OpenSSL"


# (fact, wording) in display order. `summary` leaves out the values that are the common case
# (GIL, nothing missing) so the line stays short; `differences` compares every fact.
FACTS: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("python", _python),
    ("shell", _shell),
    ("package manager", _package_manager),
    ("pip", _pip),
    ("user", _user),
    ("libc", _libc),
    ("build", _build),
    ("free-threading", _free_threaded),
    ("release", _release),
    ("stdlib", _missing),
    ("openssl", _openssl),
)
ALL_FACTS = tuple(name for name, _wording in FACTS)
SUMMARY_FACTS = ("shell", "package manager", "pip", "user", "libc", "build", "release")
# What can make one interpreter faster than another, for the interpreter-speed comparison.
SPEED_FACTS = ("python", "libc", "build", "free-threading", "release")
_WORDING = dict(FACTS)


def usable(caps: Mapping[str, Any] | None) -> bool:
    """Whether the probe ran: a failed probe's facts are not facts."""
    return bool(caps) and caps.get("status") == "passed"  # type: ignore[union-attr]


def capability_values(caps: Mapping[str, Any]) -> dict[str, str]:
    """Every fact's display value, in display order."""
    return {fact: wording(caps) for fact, wording in FACTS}


def capability_summary(caps: Mapping[str, Any] | None) -> str:
    """One line for a bases table: "no shell · no pip · uid 65532 (nonroot) · glibc 2.36 ·
    no PGO/LTO recorded · final · missing: readline"."""
    if not usable(caps):
        error = (caps or {}).get("error") or "not probed"
        return f"capabilities unknown: {error}"
    assert caps is not None
    values = capability_values(caps)
    parts = [values[fact] for fact in SUMMARY_FACTS]
    if caps.get("free_threaded"):
        parts.append(values["free-threading"])
    if caps.get("missing") or (caps.get("time_zones") or {}).get("count") == 0:
        parts.append(values["stdlib"])
    return SEPARATOR.join(parts)


@dataclass(frozen=True)
class CapabilityDifference:
    """One fact on which two bases differ, with each side's display value."""

    fact: str
    left: str
    right: str

    def describe(self, left_name: str, right_name: str) -> str:
        """ "py315-alpine: no PGO/LTO recorded (py311-slim: PGO+LTO)" """
        return f"{left_name}: {self.left} ({right_name}: {self.right})"


def capability_differences(
    left: Mapping[str, Any] | None,
    right: Mapping[str, Any] | None,
    facts: Sequence[str] = ALL_FACTS,
) -> tuple[CapabilityDifference, ...]:
    """The facts (of ``facts``, e.g. SPEED_FACTS) on which two bases differ; none when either
    base's probe did not pass (an unknown is not a difference)."""
    if not (usable(left) and usable(right)):
        return ()
    assert left is not None and right is not None
    found = []
    for fact in facts:
        wording = _WORDING[fact]
        if wording(left) != wording(right):
            found.append(CapabilityDifference(fact, wording(left), wording(right)))
    return tuple(found)


def name_differences(
    left_name: str,
    left: Mapping[str, Any] | None,
    right_name: str,
    right: Mapping[str, Any] | None,
    facts: Sequence[str] = SPEED_FACTS,
) -> list[str]:
    """Sentences for where two bases' interpreter speed is compared."""
    differences = capability_differences(left, right, facts)
    return [difference.describe(left_name, right_name) for difference in differences]
