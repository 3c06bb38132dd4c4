"""matrix.yaml loading: valid files expand to cells; bad ones fail with file, key and fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.model.errors import ConfigurationError
from harness.model.matrix import Timeouts, json_schema, load_matrix

ROOT = Path(__file__).resolve().parents[3]

MINIMAL = """
version: 1
bases:
  a: {image: "python:3.11-slim"}
  b:
    image: "python:3.13-slim"
    standin: {debootstrap: {suite: trixie, python: "3.13"}}
depsets:
  one: {pip: [six]}
  two: {system: {apt: [ffmpeg]}, probes: [smoke_ffmpeg]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        load_matrix(write(tmp_path, text))
    return caught.value


def test_default_matrix_is_valid() -> None:
    matrix = load_matrix(ROOT / "matrix.yaml")
    depsets = set(matrix.spec.depsets)
    assert {"ffmpeg", "torch-cpu", "transformers", "spacy", "whisper"} <= depsets
    assert "py311-slim×spacy" in {c.id for c in matrix.cells}


def test_cells_are_the_product_in_file_order(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, MINIMAL))
    assert [c.id for c in matrix.cells] == ["a×one", "a×two", "b×one", "b×two"]


def test_include_exclude_overrides_and_expected_failures(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
cells:
  exclude: [{base: a, depset: two}]
  overrides: [{base: "*", depset: one, timeout: 5, repeat: 3}]
  expected_failures: [{base: b, depset: one, reason: known, link: "https://example.org/1"}]
"""
    )
    cells = {c.id: c for c in load_matrix(write(tmp_path, text)).cells}
    assert set(cells) == {"a×one", "b×one", "b×two"}
    assert cells["a×one"].timeouts == Timeouts(5, 5) and cells["a×one"].repeat == 3
    assert cells["b×two"].timeouts == Timeouts(1800, 600) and cells["b×two"].repeat == 1
    failure = cells["b×one"].expected_failure
    assert failure is not None and failure.reason == "known"


@pytest.mark.parametrize(
    ("text", "where", "fix"),
    [
        (
            MINIMAL.replace("version: 1", "version: 1\nsetings: {}"),
            "setings",
            "did you mean 'settings'?",
        ),
        (MINIMAL + "settings: {jobs: many}\n", "settings.jobs", "an integer"),
        (MINIMAL.replace("  one: {pip: [six]}", "  one: {pip: six}"), "depsets.one.pip", "a list"),
        (
            MINIMAL.replace("probes: [smoke_ffmpeg]", "probes: [nope]"),
            "depsets.two.probes",
            "probes",
        ),
        (MINIMAL + "cells: {include: [{base: zz}]}\n", "cells.include.0.base", "use one of"),
        (MINIMAL.replace("  b:\n", "  a:\n"), "duplicate key 'a'", "unique"),
        ("bases: [\n", "not valid YAML", "syntax"),
        ("- 1\n", "top level", "settings"),
        (
            MINIMAL.replace(
                'image: "python:3.11-slim"', 'image: x, debootstrap: {suite: sid, python: "3.15"}'
            ),
            "bases.a",
            "keep one source",
        ),
        (MINIMAL.replace("a: {image", "A!: {image"), "invalid name", "lower-case"),
    ],
)
def test_bad_input_names_file_key_and_fix(tmp_path: Path, text: str, where: str, fix: str) -> None:
    err = error_of(tmp_path, text)
    assert str(tmp_path / "m.yaml") in err.what
    assert where in err.what
    assert err.fix and fix in err.fix
    assert err.exit_code == 2


def test_missing_dockerfile_is_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'a: {image: "python:3.11-slim"}', "a: {dockerfile: {path: nope/Dockerfile}}"
    )
    err = error_of(tmp_path, text)
    assert "dockerfile.path" in err.what and "does not exist" in err.what


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such matrix file"):
        load_matrix(tmp_path / "absent.yaml")


def test_shipped_json_schema_is_current() -> None:
    shipped = json.loads((ROOT / "harness" / "schema" / "matrix.schema.json").read_text())
    assert shipped == json_schema(), (
        "regenerate: harness schema > harness/schema/matrix.schema.json"
    )


# -- the installer axis -------------------------------------------------------------


def test_installers_expand_pip_first_and_skip_depsets_without_pip(tmp_path: Path) -> None:
    text = MINIMAL.replace("version: 1", "version: 1\nsettings: {installers: [uv, pip]}")
    ids = [c.id for c in load_matrix(write(tmp_path, text)).cells]
    # `two` has no pip requirements: nothing for an installer to do, one cell.
    assert ids == ["a×one", "a×one+uv", "a×two", "b×one", "b×one+uv", "b×two"]


def test_a_depset_overrides_the_installers_and_selectors_match_them(tmp_path: Path) -> None:
    text = MINIMAL.replace("one: {pip: [six]}", "one: {pip: [six], installers: [uv]}")
    text += "cells:\n  expected_failures: [{base: b, installer: uv, reason: r}]\n"
    cells = {c.id: c for c in load_matrix(write(tmp_path, text)).cells}
    assert sorted(cells) == ["a×one+uv", "a×two", "b×one+uv", "b×two"]
    assert cells["b×one+uv"].expected_failure is not None
    assert cells["a×one+uv"].expected_failure is None and cells["b×one+uv"].installer == "uv"


@pytest.mark.parametrize(
    ("setting", "key", "fix"),
    [
        ("settings: {installers: [pip, conda]}", "settings.installers.1", "allowed values"),
        ("settings: {installers: [uv, uv]}", "settings.installers", "name each installer once"),
        ("settings: {installers: []}", "settings.installers", "give"),
        ("settings: {uv_index_strategy: best}", "settings.uv_index_strategy", "allowed values"),
        ("cells: {exclude: [{installer: poetry}]}", "cells.exclude.0.installer", "pip, uv"),
    ],
)
def test_bad_installer_settings_name_the_key(
    tmp_path: Path, setting: str, key: str, fix: str
) -> None:
    err = error_of(tmp_path, MINIMAL + setting + "\n")
    assert key in err.what and fix in str(err.fix)


def test_the_installers_matrix_is_the_default_matrix_with_uv() -> None:
    default = load_matrix(ROOT / "matrix.yaml")
    both = load_matrix(ROOT / "matrices" / "installers.yaml")
    assert both.settings.installers == ["pip", "uv"]
    assert both.spec.depsets == default.spec.depsets and both.spec.cells == default.spec.cells
    assert both.settings.model_copy(update={"installers": ["pip"]}) == default.settings
    assert [c for c in both.cells if c.installer == "pip"] == list(default.cells)
    musl = both.spec.bases["py315-alpine"].standin
    assert musl is not None and musl.dockerfile is not None
    assert both.resolve_path(musl.dockerfile.path) == (ROOT / "bases/musl/Dockerfile").resolve()


def test_registry_settings_take_a_mirror_host_and_logins_by_environment_variable(
    tmp_path: Path,
) -> None:
    text = MINIMAL.replace(
        "version: 1\n",
        "version: 1\nsettings:\n  registry_mirror: mirror.corp:5000\n  registry_auth:\n"
        "    mirror.corp:5000: {username_env: MIRROR_USER, password_env: MIRROR_TOKEN}\n",
    )
    settings = load_matrix(write(tmp_path, text)).settings
    assert settings.registry_mirror == "mirror.corp:5000"
    assert settings.registry_auth["mirror.corp:5000"].password_env == "MIRROR_TOKEN"
    bad_host = text.replace("    mirror.corp:5000: {", "    https://mirror.corp: {")
    assert "not a registry host" in error_of(tmp_path, bad_host).what
    plain_password = text.replace("password_env: MIRROR_TOKEN", "password: hunter22")
    assert "password" in error_of(tmp_path, plain_password).what


def test_install_and_probe_timeouts_are_separate(tmp_path: Path) -> None:
    text = """
version: 1
settings: {install_timeout: 900, probe_timeout: 30}
bases: {a: {image: "x:1"}}
depsets:
  slow-build: {pip: [six], install_timeout: 3000}
  quick-smoke: {pip: [six], probe_timeout: 5}
  old-style: {pip: [six], timeout: 77}
"""
    cells = {c.depset: c for c in load_matrix(write(tmp_path, text)).cells}
    assert cells["slow-build"].timeouts == Timeouts(install=3000, probe=30)
    assert cells["quick-smoke"].timeouts == Timeouts(install=900, probe=5)
    assert cells["old-style"].timeouts == Timeouts(install=77, probe=77)
    legacy = load_matrix(
        write(
            tmp_path,
            "version: 1\nsettings: {timeout: 120}\n"
            "bases: {a: {image: 'x:1'}}\ndepsets: {d: {pip: [six]}}\n",
        )
    )
    assert legacy.cells[0].timeouts == Timeouts(install=120, probe=120)


# -- bounded input (issue 13, item 4) and probe names (item 6) --------------------------


def _alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [5, 9, 12])  # 10**5 .. 10**12 nodes once expanded
def test_an_alias_bomb_is_refused_before_expansion(tmp_path: Path, levels: int) -> None:
    err = error_of(tmp_path, _alias_bomb(levels) + MINIMAL)
    assert "expands to more than" in err.what and "m.yaml" in err.what
    assert len(str(err)) < 1000


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    assert "alias refers to a node containing it" in error_of(tmp_path, "a: &a [*a]\n").what


def test_aliases_that_stay_small_still_work(tmp_path: Path) -> None:
    text = MINIMAL.replace("one: {pip: [six]}", "one: &p {pip: [six]}\n  three: *p")
    assert {c.depset for c in load_matrix(write(tmp_path, text)).cells} == {"one", "two", "three"}


def test_a_matrix_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    from harness.model.matrix import MAX_MATRIX_BYTES

    err = error_of(tmp_path, MINIMAL + "#" * MAX_MATRIX_BYTES)
    assert "size limit" in err.what and "1 MiB" in err.what


def test_error_messages_quote_a_bounded_part_of_the_input(tmp_path: Path) -> None:
    huge = "y" * 100_000
    err = error_of(tmp_path, MINIMAL.replace("pip: [six]", f"pip: [six], timeout: {huge}"))
    assert len(err.what) + len(err.fix or "") < 1200 and "characters, cut" in str(err)


def test_error_messages_never_quote_url_credentials(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "settings: {jobs: 'https://u:s3cr3t-tok@h/x'}\n")
    assert "s3cr3t-tok" not in str(err) and "***@h" in str(err)


@pytest.mark.parametrize("name", ["../harness/cli", "/etc/passwd", "a/b", "..", "Smoke"])
def test_probe_names_are_names_not_paths(tmp_path: Path, name: str) -> None:
    err = error_of(tmp_path, MINIMAL.replace("probes: [smoke_ffmpeg]", f"probes: ['{name}']"))
    assert "depsets.two.probes.0" in err.what, err.what


def test_a_dockerfile_target_must_name_one_of_its_stages(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim AS Build\nRUN true\nFROM python:3.11-slim AS runtime\n",
        encoding="utf-8",
    )
    base = "a: {dockerfile: {path: Dockerfile, target: %s}}"
    ok = MINIMAL.replace('a: {image: "python:3.11-slim"}', base % "build")  # any case
    (tmp_path / "m.yaml").write_text(ok, encoding="utf-8")
    assert load_matrix(tmp_path / "m.yaml").spec.bases["a"].dockerfile.target == "build"  # type: ignore[union-attr]
    err = error_of(tmp_path, MINIMAL.replace('a: {image: "python:3.11-slim"}', base % "buld"))
    assert "dockerfile.target" in err.what and "no stage 'buld'" in err.what
    assert "Build, runtime" in err.what
    assert err.fix and "did you mean 'Build'?" in err.fix
