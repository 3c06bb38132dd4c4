"""Read what a probe printed: one JSON object on its last stdout line (see docs/design.md)."""

from __future__ import annotations

import json

ENV_PROBE = "env"
IMPORTS_PROBE = "imports"
CONTENTS_PROBE = "contents"
TESTS_PROBE = "tests"  # the depset's own test suite (run.project), not a smoke test
# Probes the harness runs in every cell (imports: when the depset names modules); every other
# probe is one of the depset's smoke tests.
NON_SMOKE_PROBES = frozenset({ENV_PROBE, IMPORTS_PROBE, CONTENTS_PROBE, TESTS_PROBE})

# What a probe printed: any JSON object (a user's smoke probe prints what it likes), read
# as such; model.results.Probes validates it into the typed record where the cell records it.
ProbeJSON = dict[str, object]


def parse_probe_output(stdout: str) -> tuple[ProbeJSON | None, str | None]:
    """Return (object, None) or (None, what was wrong, quoting what it printed)."""
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    if not lines:
        return None, "the probe printed nothing on stdout"
    try:
        parsed = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None, f"the probe's last line is not JSON: {_clip(lines[-1])}"
    if not isinstance(parsed, dict):
        return None, f"the probe's last line is JSON but not an object: {_clip(lines[-1])}"
    return parsed, None


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
