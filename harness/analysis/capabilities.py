"""A base's capabilities (the `capabilities` probe's output, ``BaseRecord.capabilities``) as short
display values, and the differences between two bases.

Each fact has one wording here, so the bases table and the interpreter-speed comparison
say the same thing: "no shell · no pip · uid 65532 (nonroot) · glibc 2.36 · PGO+LTO · final".
PGO and LTO are what the build flags record: Debian applies both outside configure, so
"no PGO/LTO recorded" on a Debian Python does not mean it was built without them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from harness.model.results import Capabilities, Libc

SEPARATOR = " · "
UNKNOWN = "unknown"


def _shell(caps: Capabilities) -> str:
    return "shell" if caps.shell else "no shell"


def _package_manager(caps: Capabilities) -> str:
    return caps.package_manager or "no package manager"


def _pip(caps: Capabilities) -> str:
    if caps.pip and caps.pip.version:
        return f"pip {caps.pip.version}"
    if caps.ensurepip and caps.ensurepip.available:
        return "ensurepip, no pip"
    return "no pip"


def _user(caps: Capabilities) -> str:
    user = caps.user
    if user is None or user.uid is None:
        return UNKNOWN
    name = user.name
    return f"uid {user.uid}" + (f" ({name})" if name and user.uid != 0 else "")


def _libc(caps: Capabilities) -> str:
    libc = caps.libc or Libc()
    family = libc.family or UNKNOWN
    return f"{family} {libc.version}" if libc.version else family


def _build(caps: Capabilities) -> str:
    if caps.pgo is None and caps.lto is None:
        return UNKNOWN
    flags = [name for name, used in (("PGO", caps.pgo), ("LTO", caps.lto)) if used]
    return "+".join(flags) if flags else "no PGO/LTO recorded"


def _free_threaded(caps: Capabilities) -> str:
    return "free-threaded" if caps.free_threaded else "GIL"


def _release(caps: Capabilities) -> str:
    level = caps.release_level or UNKNOWN
    serial = caps.release_serial
    return f"{level} {serial}" if level != "final" and serial else level


def _python(caps: Capabilities) -> str:
    return f"{caps.executable or UNKNOWN} {caps.python_version or ''}".strip()


def _no_tz_data(caps: Capabilities) -> bool:
    return caps.time_zones is not None and caps.time_zones.count == 0


def _missing(caps: Capabilities) -> str:
    missing = list(caps.missing or [])
    if _no_tz_data(caps) and "zoneinfo" not in missing:
        missing.append("tz data")
    return "missing: " + ", ".join(missing) if missing else "no stdlib module missing"


def _openssl(caps: Capabilities) -> str:
    words = (caps.openssl or "").split()
    return " ".join(words[:2]) if words else "no OpenSSL"


# (fact, wording) in display order. `summary` leaves out the values that are the common case
# (GIL, nothing missing) so the line stays short; `differences` compares every fact.
FACTS: tuple[tuple[str, Callable[[Capabilities], str]], ...] = (
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


def usable(caps: Capabilities | None) -> TypeGuard[Capabilities]:
    """Whether the probe ran: a failed probe's facts are not facts."""
    return caps is not None and caps.status == "passed"


def capability_values(caps: Capabilities) -> dict[str, str]:
    """Every fact's display value, in display order."""
    return {fact: wording(caps) for fact, wording in FACTS}


def capability_summary(caps: Capabilities | None) -> str:
    """One line for a bases table: "no shell · no pip · uid 65532 (nonroot) · glibc 2.36 ·
    no PGO/LTO recorded · final · missing: readline"."""
    if not usable(caps):
        error = (caps.error if caps else None) or "not probed"
        return f"capabilities unknown: {error}"
    values = capability_values(caps)
    parts = [values[fact] for fact in SUMMARY_FACTS]
    if caps.free_threaded:
        parts.append(values["free-threading"])
    if caps.missing or _no_tz_data(caps):
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
    left: Capabilities | None,
    right: Capabilities | None,
    facts: Sequence[str] = ALL_FACTS,
) -> tuple[CapabilityDifference, ...]:
    """The facts (of ``facts``, e.g. SPEED_FACTS) on which two bases differ; none when either
    base's probe did not pass (an unknown is not a difference)."""
    if not (usable(left) and usable(right)):
        return ()
    found = []
    for fact in facts:
        wording = _WORDING[fact]
        if wording(left) != wording(right):
            found.append(CapabilityDifference(fact, wording(left), wording(right)))
    return tuple(found)


def name_differences(
    left_name: str,
    left: Capabilities | None,
    right_name: str,
    right: Capabilities | None,
    facts: Sequence[str] = SPEED_FACTS,
) -> list[str]:
    """Sentences for where two bases' interpreter speed is compared."""
    differences = capability_differences(left, right, facts)
    return [difference.describe(left_name, right_name) for difference in differences]
