"""Secrets redacted by value, everywhere (issue 13, item 3): a token planted in every input
field (pip requirement URL, pip_args, Dockerfile build args, env values by URL and by the
`secrets` setting) reaches no output file of the run, no document made from it (ADR,
compare) and not the console. Fast: the pip cells fail at once on a closed local port."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, harness

pytestmark = pytest.mark.integration

DEAD = "127.0.0.1:9"  # nothing listens: pip fails in milliseconds, no traffic leaves
TOKENS = {
    "requirement": "REQ-TOKEN-7d1f0a",
    "pip_args": "ARGS-TOKEN-51be9c",
    "build_arg": "BUILD-TOKEN-0c44e2",
    "env_url": "ENVURL-TOKEN-93aa17",
    "marked_secret": "MARKED-TOKEN-e60b35",
}


def _matrix(folder: Path) -> Path:
    spec = {
        "version": 1,
        "settings": {
            "jobs": 2,
            "timeout": 120,
            "memory": "1g",
            "cpus": 1,
            "pull_timeout": 20,
            "extra_probes_dir": str(ROOT / "tests" / "probes"),
            "env": {
                "MIRROR_URL": f"https://ci:{TOKENS['env_url']}@{DEAD}/simple",
                "PLAIN_SETTING": TOKENS["marked_secret"],
            },
            "secrets": ["PLAIN_SETTING"],
        },
        "bases": {
            "py311": {
                "image": "python:3.11-slim",
                "standin": {"debootstrap": {"suite": "bookworm", "python": "3.11"}},
            },
            "built": {
                "dockerfile": {
                    "path": str(ROOT / "tests" / "matrices" / "nopm" / "Dockerfile"),
                    "base_args": {"BASE": "py311"},
                    "build_args": {"SOURCE_URL": f"https://{TOKENS['build_arg']}@{DEAD}/src"},
                },
                "python": "python3.11",
            },
        },
        "depsets": {
            "pipurl": {
                "pip": [f"six @ https://ci:{TOKENS['requirement']}@{DEAD}/six-1.0-py3-none-any.whl"],
                "pip_args": ["--extra-index-url", f"https://ci:{TOKENS['pip_args']}@{DEAD}/simple",
                             "--retries", "0", "--timeout", "2"],
            },
            "echo": {"probes": ["echo_plain"]},
        },
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "matrix.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _text(path: Path) -> str:
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".sqlite":  # the history: its values too (a page may split one)
        with contextlib.closing(sqlite3.connect(path)) as connection:
            raw += "\n".join(connection.iterdump())
    return raw


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> dict[str, Any]:  # noqa: ARG001
    root = tmp_path_factory.mktemp("planted")
    matrix = _matrix(root / "input")  # the only place the tokens may be
    out = root / "out"
    console: list[subprocess.CompletedProcess[str]] = []
    console.append(harness("run", str(matrix), "--out", str(out), timeout=900))
    console.append(harness("adr", str(out), "--baseline", "py311", "--candidate", "built"))
    console.append(harness("compare", "py311", "built", "--run", str(out)))
    console.append(harness("report", str(out)))
    return {"out": out, "console": console}


def test_the_run_really_used_every_planted_field(planted: dict[str, Any]) -> None:
    run = planted["console"][0]
    results = json.loads((planted["out"] / "results.json").read_text())
    cells = {c["id"]: c for c in results["cells"]}
    assert set(cells) == {"py311×pipurl", "py311×echo", "built×pipurl", "built×echo"}, run.stdout
    assert cells["py311×pipurl"]["status"] == "failed"  # it tried the planted URLs
    echo = cells["py311×echo"]
    assert echo["status"] == "passed", json.dumps(echo, indent=1)[-3000:]
    env = echo["probes"]["echo_plain"]["env"]
    assert env["PLAIN_SETTING"] == "***" and env["MIRROR_URL"] == f"https://***@{DEAD}/simple"
    assert next(b for b in results["bases"] if b["name"] == "built")["status"] == "available"


def test_no_planted_token_reaches_any_output_or_the_console(planted: dict[str, Any]) -> None:
    out: Path = planted["out"]
    written = [p for p in out.rglob("*") if p.is_file() and not p.is_symlink()]
    names = {p.relative_to(out).as_posix() for p in written}
    for expected in (
        "results.json",
        "prepare.json",
        "report.html",
        "junit.xml",
        "summary.md",
        "adr.md",
        "compare-py311-vs-built.html",
        "compare-py311-vs-built.md",
    ):
        assert expected in names, sorted(names)  # fmt: skip
    assert any(n.startswith("history/") for n in names), "the history lives inside --out"
    assert any(n.startswith("logs/") for n in names) and any(n.startswith("cells/") for n in names)
    leaks = [
        f"{path.relative_to(out)}: {field}"
        for path in written
        for field, token in TOKENS.items()
        if token in _text(path)
    ]
    for done in planted["console"]:
        for field, token in TOKENS.items():
            if token in done.stdout + done.stderr:
                leaks.append(f"console of {done.args[3:5]}: {field}")
    assert leaks == [], "planted tokens leaked into:\n" + "\n".join(leaks)
    assert not (out.parent / "history").exists() and not (out.parent / "latest").exists()
