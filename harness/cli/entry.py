"""The friendly front end. Fatal errors are caught once, here, and become exit codes:
0 every cell as expected, 1 a cell failed (or a regression chosen by --fail-on),
2 bad matrix or arguments, 3 no usable Docker engine."""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from harness import __version__
from harness.model import format as fmt
from harness.model.errors import ConfigurationError, FatalError
from harness.model.matrix import PROBES_DIR, json_schema, load_matrix

DEFAULT_MATRIX = "matrix.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            raise unrecognized_error(parser, args.command, extras)
        return int(args.func(args))
    except FatalError as err:  # every user mistake, in the one format (model/errors.py)
        print(err.render(), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors raised as ConfigurationError (exit 2, the one
    format: ``harness: error: --flag: what`` then ``fix: …``) instead of printed here."""

    def error(self, message: str) -> NoReturn:
        raise usage_error(self.prog, message)


_ARGUMENT = re.compile(r"^argument (?P<names>[^:]+): (?P<what>.*)$", re.DOTALL)
_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


def usage_error(prog: str, message: str) -> ConfigurationError:
    """argparse's message as ``KEY: what`` with a fix: the flag's first name is the key,
    a misspelled choice gets "did you mean", and the fix points at the command's --help."""
    key = None
    found = _ARGUMENT.match(message)
    if found:
        key, message = found["names"].split("/")[0], found["what"]
    elif message.startswith("unrecognized arguments: "):
        key, message = message.split(": ", 1)[1], "unrecognized argument(s)"
    fix = f"see `{prog} --help`"
    choice = _CHOICE.search(message)
    if choice:
        choices = re.findall(r"'([^']*)'", choice["choices"])
        close = difflib.get_close_matches(choice["given"], choices, n=1)
        fix = (
            f"did you mean {close[0]!r}? " if close else ""
        ) + f"use one of: {', '.join(choices)}"
    return ConfigurationError(message, fix, key=key)


def unrecognized_error(
    parser: argparse.ArgumentParser, command: str, extras: Sequence[str]
) -> ConfigurationError:
    """Arguments no option of ``command`` takes: named with the command's own --help, and a
    "did you mean" for a misspelled option (``--jbos`` → ``--jobs``)."""
    prog, options = parser.prog, []
    for action in parser._actions:  # the subcommand's own parser, where one was chosen
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            sub = action.choices[command]
            prog = sub.prog
            options = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
    fix = f"see `{prog} --help`"
    for extra in extras:
        close = difflib.get_close_matches(extra.split("=", 1)[0], options, n=1)
        if extra.startswith("--") and close:
            fix = f"did you mean {close[0]}? " + fix
            break
    return ConfigurationError("unrecognized argument(s)", fix, key=" ".join(extras))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="harness", description=__doc__)
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    _add_simple(sub)
    _add_bases(sub)
    _add_nightly(sub)
    _add_shards(sub)
    _add_preflight(sub)
    _add_check(sub)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    from harness.cli.run_command import RunOptions, run_matrix

    return run_matrix(RunOptions.from_args(args)).exit_code


def _add_run(sub: Any) -> None:
    run = sub.add_parser("run", help="run the matrix: one container per cell")
    run.add_argument("matrix", nargs="?", default=DEFAULT_MATRIX)
    run.add_argument("--out", help="output directory (default reports/<run-id>)")
    run.add_argument("--jobs", "-j", type=int, help="cells at once (default: the matrix's jobs)")
    run.add_argument(
        "-k",
        dest="keyword",
        help="a -k expression (pytest's grammar) over cell ids, bases, depsets, installers",
    )
    run.add_argument("--keep", action="store_true", help="keep the containers for debugging")
    run.add_argument(
        "--resume", metavar="DIR", help="re-run only the cells without a result in DIR"
    )
    run.add_argument("--lf", action="store_true", help="only the cells that failed last time")
    run.add_argument(
        "--warm",
        action="store_true",
        help="quick iteration: install from a wheelhouse filled once per matrix; "
        "warm cells are marked and are not measurements to cite",
    )
    run.add_argument(
        "--fail-on",
        default="status",
        help="comma list of regressions that fail the run: status, slower, size, "
        "unexpected-pass, none (default: status)",
    )
    run.add_argument("--shard", metavar="K/N", help="run only shard K of N (see `harness plan`)")
    run.add_argument(
        "--plan", metavar="FILE", help="the plan of --shard (`harness plan --format json`)"
    )
    run.add_argument(
        "pytest_args", nargs="*", help=argparse.SUPPRESS
    )  # refused with exit 2: harness run is not pytest
    run.set_defaults(func=cmd_run)


def _add_simple(sub: Any) -> None:
    validate = sub.add_parser("validate", help="check a matrix file and list its cells")
    validate.add_argument("matrix", nargs="?", default=DEFAULT_MATRIX)
    validate.set_defaults(func=cmd_validate)
    report = sub.add_parser("report", help="re-render report.html from DIR/results.json alone")
    report.add_argument("dir")
    report.set_defaults(func=cmd_report)
    schema = sub.add_parser("schema", help="print the JSON Schema of matrix.yaml")
    schema.add_argument(
        "--format",
        choices=("json", "markdown"),
        default="json",
        help="json: the schema (harness/schema/matrix.schema.json); markdown: the reference "
        "page rendered from it (docs/matrix-reference.md)",
    )
    schema.set_defaults(func=cmd_schema)
    sweep = sub.add_parser(
        "sweep",
        help="remove containers and committed images left by dead harness runs, and those "
        "kept by --keep",
    )
    sweep.add_argument(
        "--run", metavar="RUN_ID", help="only this run's (still only if its runner is dead)"
    )
    sweep.set_defaults(func=cmd_sweep)


def _add_bases(sub: Any) -> None:
    bases = sub.add_parser("bases", help="base images")
    bases_sub = bases.add_subparsers(dest="bases_command", required=True)
    build = bases_sub.add_parser("build", help="build (or pull) the bases of a matrix")
    build.add_argument("names", nargs="*", help="base names (default: all)")
    build.add_argument("--matrix", default=DEFAULT_MATRIX)
    build.set_defaults(func=cmd_bases_build)


def _add_nightly(sub: Any) -> None:
    from harness.cli import nightly as nightly_cli

    nightly_cli.add_commands(sub)


def _add_shards(sub: Any) -> None:
    from harness.cli import sharding as shards_cli

    shards_cli.add_commands(sub)


def _add_preflight(sub: Any) -> None:
    from harness.cli import preflight_command as preflight_cli

    preflight_cli.add_command(sub)


def _add_check(sub: Any) -> None:
    from harness.cli import check_command as check_cli

    check_cli.add_command(sub)


# -- commands ----------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    matrix = load_matrix(args.matrix)
    print(
        f"{matrix.path}: valid ({len(matrix.spec.bases)} bases, "
        f"{len(matrix.spec.depsets)} depsets, {len(matrix.cells)} cells)"
    )
    for cell in matrix.cells:
        extra = (
            f"  (expected failure: {cell.expected_failure.reason})" if cell.expected_failure else ""
        )
        print(f"  {cell.id}{extra}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    if args.format == "markdown":
        from harness.schema.reference import render_markdown

        sys.stdout.write(render_markdown(json_schema()))
    else:
        print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from harness.documents.publish import rerender_report

    print(rerender_report(Path(args.dir)))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from harness.engine import client as engine

    swept = engine.sweep_dead_runs(engine.connect(), include_kept=True, run_id=args.run)
    print(f"removed {len(swept.containers)} container(s) and {len(swept.images)} image(s)")
    return 0


def cmd_bases_build(args: argparse.Namespace) -> int:
    from harness.engine import client as engine
    from harness.engine.bases import Resolver
    from harness.model.results import BaseRecord

    matrix = load_matrix(args.matrix)
    unknown = [n for n in args.names if n not in matrix.spec.bases]
    if unknown:
        raise ConfigurationError(
            f"{args.matrix}: no base named {', '.join(unknown)}",
            f"use one of: {', '.join(matrix.spec.bases)}",
        )
    resolver = Resolver(engine.connect(), matrix, PROBES_DIR)
    records = resolver.resolve_all(args.names or None)
    for found in records.values():
        base = BaseRecord.from_dict(found, "base")  # what results.json's bases hold
        size = fmt.size(base.size_bytes) if base.size_bytes else ""
        where = base.reason if base.status != "available" else None
        where = where or base.standin or base.image
        print(f"{base.name:<16} {base.status!s:<12} {size:>8}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
