"""``harness run``: the options, typed, handed to the pipeline (harness/pipeline/steps.py).

Shared by ``harness run`` and ``harness nightly``, so neither calls the other's command
line. No pytest underneath: the pipeline runs the cells on its own executor.
"""

from __future__ import annotations

from harness.pipeline import RunOptions, RunOutcome
from harness.pipeline import run as run_pipeline

__all__ = ["RunOptions", "RunOutcome", "run_matrix"]


def run_matrix(options: RunOptions) -> RunOutcome:
    """Run the selected cells; the exit code is the gate's (analysis/gate.py), 130 when
    interrupted; a FatalError goes up to cli.entry.main, which alone turns it into one."""
    return run_pipeline(options)
