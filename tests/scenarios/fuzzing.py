"""The fuzz tests' budget: small by default (the unit run stays fast), HARNESS_FUZZ_SCALE=20
digs deeper (nightly); never a database written into the repository (.hypothesis/)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = int(os.environ.get("HARNESS_FUZZ_SCALE", "1"))


def fuzz(examples: int, *suppress: HealthCheck) -> settings:
    """Hypothesis settings for ``examples`` × SCALE examples, no deadline, no database."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, *suppress],
    )
