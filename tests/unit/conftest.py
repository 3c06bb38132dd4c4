"""Fixtures the unit tests share (builders that are plain functions: tests/unit/builders.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.builders import load_nightly


@pytest.fixture
def run_b() -> dict[str, Any]:
    """The nightly fixture's second run (tests/fixtures/nightly/run_b.json), fresh per test."""
    return load_nightly("run_b")
