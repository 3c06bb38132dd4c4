"""The CI wiring of `harness check`: action.yml read with the runner's rules for composite
actions, and the GitLab template read as GitLab reads it. No network, no runner."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.documents.check import COMMENT_MARKER

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
GITLAB = ROOT / "ci" / "gitlab" / "harness-check.gitlab-ci.yml"

# The keys a composite action's step may have (GitHub's metadata syntax).
STEP_KEYS = {
    "id", "if", "name", "uses", "with", "run", "shell", "env", "working-directory",
    "continue-on-error",
}  # fmt: skip
SHELLS = {"bash", "pwsh", "python", "sh", "cmd", "powershell"}
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
INPUT_REF = re.compile(r"\binputs\.([A-Za-z0-9_-]+)")
STEP_REF = re.compile(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs\.")


def strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return []


def problems_of(action: dict[str, Any]) -> list[str]:
    """What the runner would reject (or what makes the action unsafe), one line each."""
    found = [f"{key}: required" for key in ("name", "description", "runs") if key not in action]
    inputs = action.get("inputs") or {}
    found += [f"inputs.{k}: no description" for k, v in inputs.items() if "description" not in v]
    for name, output in (action.get("outputs") or {}).items():
        found += [
            f"outputs.{name}.{k}: required" for k in ("description", "value") if k not in output
        ]
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        found.append(f"runs.using: {runs.get('using')!r}, not 'composite'")
    ids: set[str] = set()
    for i, step in enumerate(runs.get("steps") or []):
        where = f"runs.steps[{i}]"
        found += [f"{where}.{k}: not a composite step key" for k in step if k not in STEP_KEYS]
        if ("run" in step) == ("uses" in step):
            found.append(f"{where}: needs exactly one of run and uses")
        if "run" in step and step.get("shell") not in SHELLS:
            found.append(f"{where}.shell: required with run (one of {sorted(SHELLS)})")
        if "run" in step and "${{" in step["run"]:
            found.append(f"{where}.run: an expression in a script (pass it through env)")
        uses = step.get("uses")
        if uses and not uses.startswith(("./", "docker://")) and not PINNED.match(uses):
            found.append(f"{where}.uses: {uses!r} is not pinned to a version")
        for text in strings(step):
            found += [f"{where}: inputs.{n} is not declared" for n in INPUT_REF.findall(text)
                      if n not in inputs]  # fmt: skip
            found += [f"{where}: steps.{n} is not an earlier step" for n in STEP_REF.findall(text)
                      if n not in ids]  # fmt: skip
        ids.add(step.get("id", ""))
    for name, output in (action.get("outputs") or {}).items():
        found += [f"outputs.{name}: steps.{n} is not a step" for n in
                  STEP_REF.findall(str(output.get("value", ""))) if n not in ids]  # fmt: skip
    return found


def load_action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_action_yml_follows_the_runners_rules_for_composite_actions() -> None:
    assert problems_of(load_action()) == []


def test_action_yml_has_the_inputs_of_the_issue_and_says_it_needs_docker() -> None:
    action = load_action()
    assert set(action["inputs"]) >= {
        "matrix", "requirements", "lockfile", "tests", "fail-on", "python-version",
        "comment", "base-ref",
    }  # fmt: skip
    text = ACTION.read_text()
    assert "Docker engine" in text and COMMENT_MARKER in text
    uses = [s.get("uses", "") for s in action["runs"]["steps"]]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    runs = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    assert '"$GITHUB_ACTION_PATH"' in runs and "$GITHUB_STEP_SUMMARY" in runs
    assert "--comment" in runs and "gh api" in runs


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        (lambda a: a["runs"]["steps"][1].pop("shell"), "runs.steps[1].shell: required"),
        (lambda a: a["runs"].update(using="node20"), "runs.using: 'node20'"),
        (lambda a: a["inputs"].pop("fail-on"), "inputs.fail-on is not declared"),
        (lambda a: a["runs"]["steps"][0].update(uses="actions/setup-python@main"),
         "is not pinned"),
        (lambda a: a["runs"]["steps"][1].update(run="echo ${{ inputs.tests }}"),
         "an expression in a script"),
        (lambda a: a["runs"]["steps"][1].update(timeout=3), "not a composite step key"),
        (lambda a: a.pop("description"), "description: required"),
    ],
)  # fmt: skip
def test_the_rules_catch_what_the_runner_rejects(breakage: Any, problem: str) -> None:
    action = copy.deepcopy(load_action())
    breakage(action)
    assert any(problem in p for p in problems_of(action)), problems_of(action)


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_actions_scripts_are_valid_bash(tmp_path: Path) -> None:
    for i, step in enumerate(load_action()["runs"]["steps"]):
        if "run" in step:
            script = tmp_path / f"step{i}.sh"
            script.write_text(step["run"])
            done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
            assert done.returncode == 0, (i, done.stderr)


def test_the_gitlab_template_runs_in_merge_request_pipelines_and_posts_one_note(
    tmp_path: Path,
) -> None:
    template = yaml.safe_load(GITLAB.read_text())
    job = template[".harness-check"]
    assert template["harness-check"] == {"extends": ".harness-check"}
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["variables"]["GIT_DEPTH"] == "0" and job["artifacts"]["when"] == "always"
    script = "\n".join(job["before_script"] + job["script"])
    used = set(re.findall(r"\$\{?(HARNESS_[A-Z_]+)", script))
    assert used - set(job["variables"]) == {"HARNESS_GITLAB_TOKEN"}  # a masked CI variable
    # The note poster is Python: it must compile, and find the note by the marker.
    python = re.search(r"python - <<'PY'\n(.*?)\nPY\n", script, re.DOTALL)
    assert python is not None and "<!-- harness-check -->" in python[1]
    compile(python[1], "gitlab-note", "exec")
    if shutil.which("sh"):
        for i, part in enumerate(job["script"]):
            script_file = tmp_path / f"part{i}.sh"
            script_file.write_text(part)
            done = subprocess.run(["sh", "-n", str(script_file)], capture_output=True, text=True)
            assert done.returncode == 0, (i, done.stderr)


def step_named(name: str) -> dict[str, Any]:
    return next(s for s in load_action()["runs"]["steps"] if s.get("name") == name)


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"REQUIREMENTS": "requirements.txt", "TESTS": "pytest -q", "BASE": "abc123"},
         ["--requirements", "requirements.txt", "--tests", "pytest -q", "--base-ref", "abc123"]),
        ({"MATRIX": "ci/harness.yaml", "FAIL_ON": "regression,unmeasured"},
         ["--matrix", "ci/harness.yaml", "--fail-on", "regression,unmeasured"]),
    ],
)  # fmt: skip
def test_the_run_step_calls_harness_check_with_flags_harness_accepts(
    tmp_path: Path, inputs: dict[str, str], expected: list[str]
) -> None:
    """The step's script runs under bash with a stand-in `python` that records its argv;
    each recorded command must parse with harness's own parser, and the step must keep
    harness's exit code for the last step."""
    from harness.cli.entry import build_parser

    bin_dir, temp = tmp_path / "bin", tmp_path / "runner-temp"
    bin_dir.mkdir()
    temp.mkdir()
    record = tmp_path / "calls"
    stub = bin_dir / "python"
    # Records "-m harness ARGS..." one NUL-separated call per line; a check run exits 1.
    stub.write_text(
        "#!/bin/bash\n"
        f'printf "%s\\0" "$@" >> "{record}"; echo >> "{record}"\n'
        'case " $* " in *" --list-changes "*) echo "python:3.11-slim → python:3.13-slim";'
        " exit 0;; esac\nexit 1\n"
    )
    stub.chmod(0o755)
    outputs = tmp_path / "github-output"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin", "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(outputs), "BASE": "", "MATRIX": "", "REQUIREMENTS": "",
        "LOCKFILE": "", "TESTS": "", "FAIL_ON": "regression", **inputs,
    }  # fmt: skip
    script = tmp_path / "step.sh"
    script.write_text(step_named("Run harness check")["run"])
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr  # the code is kept for the last step, not raised
    assert "exit-code=1" in outputs.read_text().splitlines()
    calls = [line.split("\0")[:-1] for line in record.read_text().splitlines() if line]
    assert [c[:3] for c in calls] == [["-m", "harness", "check"]] * 2
    listed, checked = calls[0][2:], calls[1][2:]
    assert "--list-changes" in listed
    parser = build_parser()
    for argv in (listed, checked):
        parser.parse_args(argv)  # exits (SystemExit) on a flag harness does not know
    assert checked[:2] == ["check", "--comment"] and "--json" in checked and "--out" in checked
    for flag, value in zip(expected[::2], expected[1::2], strict=True):
        assert checked[checked.index(flag) + 1] == value


def test_the_ci_defaults_are_fail_on_words_and_the_marker_is_the_comments() -> None:
    from harness.analysis.check import parse_fail_on

    action = load_action()
    parse_fail_on(action["inputs"]["fail-on"]["default"])
    gitlab = yaml.safe_load(GITLAB.read_text())[".harness-check"]
    parse_fail_on(gitlab["variables"]["HARNESS_FAIL_ON"])
    assert COMMENT_MARKER in ACTION.read_text() and COMMENT_MARKER in GITLAB.read_text()
    post = step_named("Post or update the pull-request comment")
    assert post["if"].startswith("always()") and "PATCH" in post["run"] and "POST" in post["run"]
    upload = step_named("Upload the run")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert "harness-check" in upload["with"]["path"] and upload["if"] == "always()"
