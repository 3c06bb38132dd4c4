"""Fatal errors: each says what failed and what to do, and carries the exit code.

Caught once, in ``cli.main``. Anything that is a property of one cell (a failed
install, a missing base) is *not* an error here: it is a cell status.
"""

from __future__ import annotations


class FatalError(Exception):
    """Stops the whole run. ``str(err)`` is shown to the user as is."""

    exit_code = 1

    def __init__(self, what: str, fix: str | None = None) -> None:
        self.what = what
        self.fix = fix
        super().__init__(what if fix is None else f"{what}\n  fix: {fix}")


class ConfigurationError(FatalError):
    """Bad matrix file, bad arguments, unreadable results file: exit 2."""

    exit_code = 2


class EngineUnavailableError(FatalError):
    """No usable Docker engine: exit 3."""

    exit_code = 3


class ResultsError(ConfigurationError):
    """A results.json that cannot be read (truncated, unknown schema version)."""


class RunAbortedError(FatalError):
    """A run a command depends on stopped (interrupted, engine gone): its own exit code."""

    def __init__(self, exit_code: int, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.exit_code = exit_code
