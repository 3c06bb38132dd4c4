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


class DiskFullError(FatalError):
    """The filesystem of an output ran out of space (ENOSPC): exit 1, finished cells kept.

    ``str(err)`` is one line naming the folder and the space needed; ``--resume`` completes
    the run once space is freed.
    """

    exit_code = 1

    def __init__(self, folder: str, needed_bytes: int, free_bytes: int | None) -> None:
        self.folder = folder
        self.needed_bytes = needed_bytes
        free = "" if free_bytes is None else f", {free_bytes} bytes free"
        super().__init__(
            f"harness: no space left in {folder}: writing needs at least {needed_bytes} bytes"
            f"{free}; finished cells are kept: free space, then `harness run --resume <run dir>`"
        )

    def __str__(self) -> str:
        return self.what


class RunDirectoryBusyError(ConfigurationError):
    """Another run owns (or already wrote) the run directory: exit 2."""
