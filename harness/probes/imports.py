"""Probe: ``imports.py MOD [MOD...]`` times the import of each module in fresh interpreters.

Every module is tried even when an earlier one fails; the probe fails if any import does.
``--runs N`` sets the interpreters per module (default 5).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from _common import ImportFailed, describe_exception, import_time, run_probe

DEFAULT_RUNS = 5


class _Parser(argparse.ArgumentParser):
    """Raise on bad arguments instead of exiting, so the failure reaches the JSON line."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(f"bad arguments: {message}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(prog="imports.py", description=__doc__)
    parser.add_argument("modules", nargs="*", help="modules to import, e.g. numpy yaml")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="interpreters per module")
    return parser.parse_args(argv)


def time_module(module: str, runs: int) -> dict[str, Any]:
    """import_time() of one module, or {"error": ...} when it cannot be imported."""
    try:
        return import_time(module, runs=runs)
    except ImportFailed as exc:
        return {"module": module, "error": str(exc)}
    except Exception as exc:  # a bad name or a hung interpreter: still data, not a crash
        return {"module": module, "error": describe_exception(exc)["error"]}


def main(result: dict[str, Any]) -> None:
    args = parse_args(sys.argv[1:])
    result["runs_per_module"] = args.runs
    modules = result["modules"] = {}
    for module in args.modules:
        modules[module] = time_module(module, args.runs)
    failed = [name for name, facts in modules.items() if "error" in facts]
    result["failed_modules"] = failed
    result["import_seconds"] = {
        name: facts["seconds"] for name, facts in modules.items() if "error" not in facts
    }
    if failed:
        result["status"] = "failed"
        result["error"] = "; ".join(modules[name]["error"] for name in failed)[:500]


if __name__ == "__main__":
    run_probe(main)
