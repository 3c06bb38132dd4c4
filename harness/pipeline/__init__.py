"""One run of a matrix as plain function calls (harness/pipeline/steps.py).

    load → prepare → execute (bases and cells, in run/executor.py) → merge → publish → gate

It sits above ``harness.run`` (containers, cells, the executor) and ``harness.documents``
(the pages), which stay independent of each other; ``harness run`` calls ``run()``.
"""

from harness.pipeline.steps import RunContext, RunOptions, RunOutcome, run

__all__ = ["RunContext", "RunOptions", "RunOutcome", "run"]
