"""The command line: parse, dispatch, and turn a FatalError into its exit code."""

from harness.cli.entry import main

__all__ = ["main"]
