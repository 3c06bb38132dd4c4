"""Lock files read on the host into pinned, hashed requirements: uv.lock, poetry.lock,
pylock.toml, and the errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model.errors import ConfigurationError
from harness.model.lockfiles import SUPPORTED, export_lockfile, lockfile_kind

EXAMPLE_LOCK = Path(__file__).resolve().parents[3] / "examples" / "service" / "uv.lock"

UV_LOCK = """
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "1.0"
source = { editable = "." }
dependencies = [
    { name = "requests", extra = ["socks"] },
    { name = "colorama", marker = "sys_platform == 'win32'" },
]
[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "requests"
version = "2.32.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "urllib3" }]
sdist = { url = "https://x/requests.tar.gz", hash = "sha256:aaa" }
wheels = [{ url = "https://x/requests.whl", hash = "sha256:bbb" }]
[package.optional-dependencies]
socks = [{ name = "pysocks" }]

[[package]]
name = "urllib3"
version = "2.2.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "requests" }]
wheels = [{ url = "https://x/urllib3.whl", hash = "sha256:ccc" }]

[[package]]
name = "pysocks"
version = "1.7.1"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/pysocks.whl", hash = "sha256:ddd" }]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/colorama.whl", hash = "sha256:eee" }]

[[package]]
name = "pytest"
version = "8.3.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "colorama", marker = "python_version < '3.12'" }, { name = "localdep" }]
wheels = [{ url = "https://x/pytest.whl", hash = "sha256:fff" }]

[[package]]
name = "localdep"
version = "0.1"
source = { directory = "../localdep" }

[[package]]
name = "unused"
version = "9.9"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/unused.whl", hash = "sha256:000" }]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def pins(lines: tuple[str, ...]) -> dict[str, str]:
    return {line.split("==")[0]: line for line in lines}


def test_uv_lock_walks_the_graph_with_extras_markers_and_the_dev_group(tmp_path: Path) -> None:
    export = export_lockfile(write(tmp_path, "uv.lock", UV_LOCK))
    found = pins(export.lines)
    assert sorted(found) == ["colorama", "pysocks", "pytest", "requests", "urllib3"]
    assert "unused" not in found  # in the file, not reachable from the project
    assert found["requests"] == "requests==2.32.3 --hash=sha256:aaa --hash=sha256:bbb"
    # Reached by two marked paths: either one installs it.
    assert "(python_version < '3.12') or (sys_platform == 'win32')" in found["colorama"]
    assert export.skipped == ("localdep (directory ../localdep)",)  # named, not silently lost


UV_GROUPS_LOCK = """
version = 1
[[package]]
name = "lib"
version = "1.0"
source = { editable = "." }
[package.dev-dependencies]
dev = [{ name = "ruff" }]
tests = [{ name = "pytest" }]
docs = [{ name = "sphinx" }]
""" + "".join(
    f"""
[[package]]
name = "{name}"
version = "1"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://x/{name}.whl", hash = "sha256:{name}" }}]
"""
    for name in ("ruff", "pytest", "sphinx")
)


@pytest.mark.parametrize(
    ("tool_uv", "expected"),
    [
        ("", ["ruff"]),  # no pyproject setting: uv's default group, dev
        ('[tool.uv]\ndefault-groups = ["dev", "tests"]\n', ["pytest", "ruff"]),
        ('[tool.uv]\ndefault-groups = ["tests"]\n', ["pytest"]),
        ('[tool.uv]\ndefault-groups = "all"\n', ["pytest", "ruff", "sphinx"]),
    ],
)
def test_uv_lock_takes_the_default_groups_of_the_pyproject_beside_it(
    tmp_path: Path, tool_uv: str, expected: list[str]
) -> None:
    # markupsafe 3.0.4's sdist: pytest is in its `tests` group, named in default-groups;
    # `uv export` installs it, and so must harness (else the suite cannot start).
    write(tmp_path, "pyproject.toml", '[project]\nname = "lib"\n' + tool_uv)
    assert sorted(pins(export_lockfile(write(tmp_path, "uv.lock", UV_GROUPS_LOCK)).lines)) == (
        expected
    )


def test_uv_lock_without_a_pyproject_beside_it_takes_the_dev_group(tmp_path: Path) -> None:
    assert list(pins(export_lockfile(write(tmp_path, "uv.lock", UV_GROUPS_LOCK)).lines)) == ["ruff"]


def test_a_default_groups_setting_uv_would_refuse_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    write(tmp_path, "pyproject.toml", "[tool.uv]\ndefault-groups = 3\n")
    with pytest.raises(ConfigurationError, match="default-groups: 3 is neither") as caught:
        export_lockfile(write(tmp_path, "uv.lock", UV_GROUPS_LOCK))
    assert 'default-groups = "all"' in str(caught.value.fix)


def test_a_marker_repeated_down_a_path_is_written_once(tmp_path: Path) -> None:
    # attrs' and markupsafe's uv.lock: tox (python < 3.10) depends on filelock with the
    # same marker; pip read "(M and M)" fine, but the export is read by people too.
    marker = "python_full_version < '3.10'"
    text = f"""
version = 1
[[package]]
name = "lib"
version = "1"
source = {{ editable = "." }}
dependencies = [{{ name = "tox", marker = "{marker}" }}]
[[package]]
name = "tox"
version = "1"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [{{ name = "filelock", marker = "{marker}" }}]
wheels = [{{ url = "https://x/tox.whl", hash = "sha256:a" }}]
[[package]]
name = "filelock"
version = "1"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://x/filelock.whl", hash = "sha256:b" }}]
"""
    found = pins(export_lockfile(write(tmp_path, "uv.lock", text)).lines)
    assert found["filelock"] == f"filelock==1 ; {marker} --hash=sha256:b"


def test_a_dependency_on_the_project_itself_is_not_pinned(tmp_path: Path) -> None:
    # attrs 26.1.0's uv.lock: attrs (dynamic version, no `version`) is a dependency of
    # hypothesis, in its own tests group; uv export leaves the project out, so must we.
    text = """
version = 1
[[package]]
name = "attrs"
source = { editable = "." }
[package.optional-dependencies]
benchmark = [{ name = "pympler" }]
[package.dev-dependencies]
dev = [{ name = "hypothesis" }]
[[package]]
name = "hypothesis"
version = "6.151.9"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "attrs", extra = ["benchmark"] }]
wheels = [{ url = "https://x/hypothesis.whl", hash = "sha256:a" }]
[[package]]
name = "pympler"
version = "1.1"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/pympler.whl", hash = "sha256:b" }]
"""
    export = export_lockfile(write(tmp_path, "uv.lock", text))
    assert sorted(pins(export.lines)) == ["hypothesis", "pympler"]  # the extra it asked for
    assert export.skipped == ()


def test_the_example_services_real_uv_lock_pins_everything_with_hashes() -> None:
    export = export_lockfile(EXAMPLE_LOCK)
    found = pins(export.lines)
    assert {"flask", "pytest", "python-dateutil", "werkzeug"} <= set(found)
    assert "inventory-service" not in found  # the project itself is installed from its folder
    assert all("--hash=sha256:" in line for line in export.lines)
    assert export.text.startswith("# exported by harness from uv.lock")


def test_poetry_lock_takes_the_main_group_with_markers(tmp_path: Path) -> None:
    text = """
[[package]]
name = "flask"
version = "3.1.0"
optional = false
python-versions = ">=3.9"
groups = ["main"]
files = [{file = "flask-3.1.0-py3-none-any.whl", hash = "sha256:111"}]

[[package]]
name = "tomli"
version = "2.0.1"
groups = ["main"]
markers = "python_version < \\"3.11\\""
files = [{file = "tomli-2.0.1.tar.gz", hash = "sha256:222"}]

[[package]]
name = "pytest"
version = "8.0.0"
groups = ["dev"]
files = [{file = "pytest.whl", hash = "sha256:333"}]

[metadata]
lock-version = "2.1"
"""
    found = pins(export_lockfile(write(tmp_path, "poetry.lock", text)).lines)
    assert sorted(found) == ["flask", "tomli"]
    assert found["tomli"] == 'tomli==2.0.1 ; python_version < "3.11" --hash=sha256:222'


def test_poetry_1_lock_reads_category_and_metadata_files(tmp_path: Path) -> None:
    text = """
[[package]]
name = "six"
version = "1.16.0"
category = "main"
optional = false

[[package]]
name = "black"
version = "24.1.0"
category = "dev"
optional = false

[metadata]
lock-version = "1.1"
[metadata.files]
six = [{file = "six.whl", hash = "sha256:444"}]
"""
    assert export_lockfile(write(tmp_path, "poetry.lock", text)).lines == (
        "six==1.16.0 --hash=sha256:444",
    )


def test_pylock_toml_pins_packages_with_their_markers(tmp_path: Path) -> None:
    text = """
lock-version = "1.0"
created-by = "pip"

[[packages]]
name = "attrs"
version = "24.2.0"
wheels = [{name = "attrs.whl", url = "https://x/attrs.whl", hashes = {sha256 = "555"}}]

[[packages]]
name = "exceptiongroup"
version = "1.2.2"
marker = "python_version < '3.11'"
sdist = {name = "eg.tar.gz", url = "https://x/eg.tar.gz", hashes = {sha256 = "666"}}

[[packages]]
name = "mylib"
directory = {path = "./mylib"}
"""
    export = export_lockfile(write(tmp_path, "pylock.dev.toml", text))
    assert export.kind == "pylock.toml"
    assert pins(export.lines)["exceptiongroup"] == (
        "exceptiongroup==1.2.2 ; python_version < '3.11' --hash=sha256:666"
    )
    assert export.skipped == ("mylib (not from an index)",)


@pytest.mark.parametrize("name", ["Pipfile.lock", "requirements.lock", "pdm.lock"])
def test_an_unsupported_kind_names_itself_and_the_supported_ones(tmp_path: Path, name: str) -> None:
    assert lockfile_kind(Path(name)) is None
    with pytest.raises(ConfigurationError) as caught:
        export_lockfile(write(tmp_path, name, "{}"))
    assert name in caught.value.what
    assert all(kind in caught.value.what for kind in SUPPORTED)


def test_a_package_without_a_hash_is_an_error_naming_it(tmp_path: Path) -> None:
    text = UV_LOCK.replace('wheels = [{ url = "https://x/pysocks.whl", hash = "sha256:ddd" }]', "")
    with pytest.raises(ConfigurationError) as caught:
        export_lockfile(write(tmp_path, "uv.lock", text))
    assert "pysocks 1.7.1 has no hash" in caught.value.what


@pytest.mark.parametrize(
    "text, words",
    [
        ("version = [", "not valid TOML"),
        ("version = 1\n", "not a uv.lock this harness can read"),
        ('[[package]]\nname = "a"\nversion = "1"\n', "which one is the project"),
    ],
)
def test_a_broken_uv_lock_is_a_configuration_error(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        export_lockfile(write(tmp_path, "uv.lock", text))
    assert words in caught.value.what


def test_a_marker_cycle_ends(tmp_path: Path) -> None:
    text = """
[[package]]
name = "app"
version = "1"
source = { virtual = "." }
dependencies = [{ name = "a", marker = "os_name == 'posix'" }]

[[package]]
name = "a"
version = "1"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "b", marker = "python_version > '3'" }]
wheels = [{ url = "https://x/a.whl", hash = "sha256:1" }]

[[package]]
name = "b"
version = "1"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "a", marker = "implementation_name == 'cpython'" }]
wheels = [{ url = "https://x/b.whl", hash = "sha256:2" }]
"""
    assert sorted(pins(export_lockfile(write(tmp_path, "uv.lock", text)).lines)) == ["a", "b"]


def test_a_uv_lock_of_another_shape_names_the_field(tmp_path: Path) -> None:
    text = '[[package]]\nname = "app"\nversion = "1"\nsource = { editable = "." }\n'
    text += 'dependencies = "requests"\n'  # a string where a list of tables belongs
    with pytest.raises(ConfigurationError) as caught:
        export_lockfile(write(tmp_path, "uv.lock", text))
    assert "package.0.dependencies" in caught.value.what
    # A version written as a number is read as its text.
    numbered = write(tmp_path, "pylock.toml", 'lock-version = "1.0"\n[[packages]]\nname = "a"\n'
                     'version = 2\nwheels = [{ hashes = { sha256 = "abc" } }]\n')  # fmt: skip
    assert export_lockfile(numbered).lines == ("a==2 --hash=sha256:abc",)
