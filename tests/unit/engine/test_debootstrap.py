"""Stand-in recipes without Docker and without running debootstrap."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from harness.engine import debootstrap
from harness.engine.debootstrap import DebootstrapRecipe, StandinBuildError


class _NoDocker:
    """A client that fails the test if the code under test touches it."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"docker client used: {name}")


def test_digest_is_stable_hex() -> None:
    a = DebootstrapRecipe(suite="bookworm", python="3.11")
    b = DebootstrapRecipe(suite="bookworm", python="3.11")
    assert a.digest() == b.digest()
    assert len(a.digest()) == 64
    int(a.digest(), 16)
    assert a.tag() == a.digest()[:16]


def test_digest_is_the_sha256_of_a_canonical_json() -> None:
    recipe = DebootstrapRecipe(suite="sid", python="3.15", extra_packages=("zz", "aa"))
    assert recipe.digest() == hashlib.sha256(recipe.canonical().encode()).hexdigest()
    canonical = json.loads(recipe.canonical())
    assert canonical == {
        "format": debootstrap.RECIPE_FORMAT,
        "suite": "sid",
        "python": "3.15",
        "mirror": "http://deb.debian.org/debian",
        "extra_packages": ["aa", "zz"],
        "layout": debootstrap.OFFICIAL_LAYOUT,
        "pip": debootstrap.OFFICIAL_PIP["3.15"].version,
    }


def test_digest_ignores_package_order_duplicates_and_trailing_slash() -> None:
    a = DebootstrapRecipe("trixie", "3.13", extra_packages=("curl", "git"))
    b = DebootstrapRecipe(
        "trixie", "3.13", "http://deb.debian.org/debian/", extra_packages=("git", "curl", "git")
    )
    assert a.digest() == b.digest()


@pytest.mark.parametrize(
    "other",
    [
        DebootstrapRecipe("trixie", "3.11"),
        DebootstrapRecipe("bookworm", "3.12"),
        DebootstrapRecipe("bookworm", "3.11", mirror="http://ftp.de.debian.org/debian"),
        DebootstrapRecipe("bookworm", "3.11", extra_packages=("curl",)),
    ],
)
def test_digest_changes_with_every_field(other: DebootstrapRecipe) -> None:
    assert other.digest() != DebootstrapRecipe("bookworm", "3.11").digest()


def test_digest_changes_with_the_recipe_format(monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = DebootstrapRecipe("bookworm", "3.11")
    before = recipe.digest()
    monkeypatch.setattr(debootstrap, "RECIPE_FORMAT", debootstrap.RECIPE_FORMAT + 1)
    assert recipe.digest() != before


def test_packages() -> None:
    recipe = DebootstrapRecipe("sid", "3.15", extra_packages=("curl", "ca-certificates"))
    assert recipe.packages() == ("python3.15", "python3.15-venv", "ca-certificates", "curl")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"suite": "Bookworm", "python": "3.11"},
        {"suite": "bookworm; rm -rf /", "python": "3.11"},
        {"suite": "bookworm", "python": "3"},
        {"suite": "bookworm", "python": "python3.11"},
        {"suite": "bookworm", "python": "3.11", "mirror": "ftp://x"},
        {"suite": "bookworm", "python": "3.11", "extra_packages": ("curl,wget",)},
    ],
)
def test_bad_recipes_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DebootstrapRecipe(**kwargs)  # type: ignore[arg-type]


def test_missing_debootstrap_says_what_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.engine.debootstrap.shutil.which", lambda _name: None)
    with pytest.raises(StandinBuildError, match=r"scripts/ensure-host-tools\.sh"):
        debootstrap.build_debootstrap_image(
            _NoDocker(),  # type: ignore[arg-type]
            DebootstrapRecipe("bookworm", "3.11"),
            "harness-standin/python",
            {},
            log=lambda _line: None,
        )


@pytest.mark.parametrize("name", ["python", "library/python", "docker.io/python", "Harness/x"])
def test_official_looking_repositories_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        debootstrap.check_repository(name)


def test_import_changes_quote_labels() -> None:
    changes = debootstrap._import_changes({"harness.standin-for": 'python:3.11-slim "x"=y'})
    assert changes[0] == 'LABEL "harness.standin-for"="python:3.11-slim \\"x\\"=y"'
    assert 'CMD ["/bin/bash"]' in changes
    with pytest.raises(ValueError):
        debootstrap._import_changes({"k": "two\nlines"})


@pytest.mark.parametrize(
    ("path", "dropped"),
    [
        ("/usr/share/doc/bash/changelog.gz", True),
        ("/usr/share/doc/bash/copyright", False),
        ("/usr/share/man/man1/ls.1.gz", True),
        ("/usr/share/locale/de/LC_MESSAGES/apt.mo", True),
        ("/usr/share/locale/locale.alias", False),
        ("/usr/share/doc-base/x", False),
        ("/usr/bin/python3.11", False),
    ],
)
def test_slim_filters_match_dpkg_semantics(path: str, dropped: bool) -> None:
    assert debootstrap._slim_excluded(path) is dropped


def test_prune_keeps_copyright_and_never_follows_links(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    doc = rootfs / "usr/share/doc"
    (doc / "bash").mkdir(parents=True)
    (doc / "bash/copyright").write_text("c")
    (doc / "bash/changelog.gz").write_text("x")
    (doc / "empty-after").mkdir()
    (doc / "empty-after/README").write_text("x")
    outside = tmp_path / "host-file"
    outside.write_text("keep me")
    host_dir = tmp_path / "host-dir"
    host_dir.mkdir()
    (host_dir / "f").write_text("keep me too")
    (doc / "link-to-file").symlink_to(outside)
    (doc / "link-to-dir").symlink_to(host_dir)

    debootstrap._prune_tree(rootfs, "/usr/share/doc")

    assert sorted(p.name for p in doc.iterdir()) == ["bash"]
    assert [p.name for p in (doc / "bash").iterdir()] == ["copyright"]
    assert outside.read_text() == "keep me"
    assert (host_dir / "f").exists()


def test_installed_packages_reads_dpkg_status(tmp_path: Path) -> None:
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text(
        "Package: python3.11\nStatus: install ok installed\nVersion: 3.11.2-6\n"
        "Description: x\n a continuation line: with a colon\n\n"
        "Package: python3.11-venv\nStatus: install ok unpacked\n\n"
        "Package: libc6\nArchitecture: amd64\nStatus: install ok installed\n"
    )
    assert debootstrap._installed_packages(tmp_path) == {"python3.11", "libc6"}


def test_remove_workdir(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "rootfs/etc").mkdir(parents=True)
    assert debootstrap._mounts_under(work) == []
    debootstrap._remove_workdir(work, log=lambda _line: None)
    assert not work.exists()


# -- runtime-only (distroless-like) recipes ------------------------------------------------


def test_runtime_only_changes_the_digest_but_not_the_others() -> None:
    plain = DebootstrapRecipe("bookworm", "3.11")
    runtime = DebootstrapRecipe("bookworm", "3.11", runtime_only=True)
    assert runtime.digest() != plain.digest()
    # Recipes written before the option keep their digest, so their cached images stay valid.
    assert "runtime_only" not in json.loads(plain.canonical())
    assert json.loads(runtime.canonical())["runtime_only"] is True


def test_runtime_only_packages_have_no_venv_but_tzdata() -> None:
    runtime = DebootstrapRecipe("bookworm", "3.11", runtime_only=True)
    assert runtime.packages() == ("python3.11", "tzdata", "ca-certificates")


def test_runtime_image_runs_as_65532_without_a_shell_command() -> None:
    changes = debootstrap._import_changes({"a": "b"}, "/usr/bin/python3.11")
    assert "USER 65532" in changes
    assert changes[-1] == 'CMD ["/usr/bin/python3.11"]'
    assert not any("/bin/bash" in change or "ENTRYPOINT" in change for change in changes)


LDD_OUTPUT = """/usr/bin/python3.11:
\tlinux-vdso.so.1 (0x00007ffd)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f1)
\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f2)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f3)
/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so:
\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f4)
\tlibgone.so.1 => not found
"""


def test_parse_ldd_reads_several_sections() -> None:
    found, missing = debootstrap.parse_ldd(LDD_OUTPUT)
    assert found == {
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libssl.so.3",
    }
    assert missing == {"libgone.so.1"}


def _usrmerged_rootfs(root: Path) -> Path:
    """A tiny merged-/usr rootfs: /lib -> usr/lib, a versioned library behind its soname."""
    rootfs = root / "rootfs"
    libdir = rootfs / "usr/lib/x86_64-linux-gnu"
    libdir.mkdir(parents=True)
    (rootfs / "lib").symlink_to("usr/lib")
    (libdir / "libz.so.1.2.13").write_bytes(b"\x7fELF-z")
    (libdir / "libz.so.1").symlink_to("libz.so.1.2.13")
    (rootfs / "etc/python3.11").mkdir(parents=True)
    (rootfs / "etc/python3.11/sitecustomize.py").write_text("# site")
    stdlib = rootfs / "usr/lib/python3.11"
    stdlib.mkdir(parents=True)
    (stdlib / "os.py").write_text("# os")
    (stdlib / "sitecustomize.py").symlink_to("/etc/python3.11/sitecustomize.py")
    (rootfs / "usr/bin").mkdir(parents=True)
    (rootfs / "usr/bin/sh").write_text("#!shell")
    return rootfs


def test_copy_out_follows_links_inside_the_rootfs(tmp_path: Path) -> None:
    rootfs = _usrmerged_rootfs(tmp_path)
    target = tmp_path / "runtime"
    target.mkdir()
    debootstrap._copy_out(rootfs, target, "/lib/x86_64-linux-gnu/libz.so.1")
    assert (target / "lib").is_symlink() and str((target / "lib").readlink()) == "usr/lib"
    assert (target / "usr/lib/x86_64-linux-gnu/libz.so.1").is_symlink()
    assert (target / "usr/lib/x86_64-linux-gnu/libz.so.1.2.13").read_bytes() == b"\x7fELF-z"
    assert not (target / "usr/bin").exists()  # only what was asked for


def test_dangling_links_get_their_targets(tmp_path: Path) -> None:
    rootfs = _usrmerged_rootfs(tmp_path)
    target = tmp_path / "runtime"
    target.mkdir()
    debootstrap._copy_out(rootfs, target, "/usr/lib/python3.11")
    assert not debootstrap._exists_inside(target, "/usr/lib/python3.11/sitecustomize.py")
    debootstrap._copy_link_targets(rootfs, target)
    assert (target / "etc/python3.11/sitecustomize.py").read_text() == "# site"
    assert debootstrap._exists_inside(target, "/usr/lib/python3.11/sitecustomize.py")


def test_a_link_loop_is_an_error_not_a_hang(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    (rootfs / "a").symlink_to("b")
    (rootfs / "b").symlink_to("a")
    target = tmp_path / "runtime"
    target.mkdir()
    with pytest.raises(StandinBuildError, match="symlinks"):
        debootstrap._copy_out(rootfs, target, "/a")


def test_absolute_links_never_lead_to_the_host(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    (rootfs / "passwd").symlink_to("/etc/passwd")  # the host has one; the rootfs has not
    target = tmp_path / "runtime"
    target.mkdir()
    with pytest.raises(StandinBuildError, match="/etc is not in the rootfs"):
        debootstrap._copy_out(rootfs, target, "/passwd")


def test_accounts_are_distroless_like(tmp_path: Path) -> None:
    debootstrap._write_accounts(tmp_path)
    passwd = (tmp_path / "etc/passwd").read_text().splitlines()
    assert "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" in passwd
    assert "nonroot:x:65532:" in (tmp_path / "etc/group").read_text().splitlines()
    assert (tmp_path / "home/nonroot").stat().st_uid == 65532
    assert (tmp_path / "tmp").stat().st_mode & 0o7777 == 0o1777


def test_a_shell_left_in_the_runtime_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/sh").write_text("")
    with pytest.raises(StandinBuildError, match="/bin/sh"):
        debootstrap._check_runtime(
            tmp_path, DebootstrapRecipe("bookworm", "3.11", runtime_only=True)
        )


def test_extra_packages_of_a_runtime_bring_their_files(tmp_path: Path) -> None:
    info = tmp_path / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (tmp_path / "usr/lib/x86_64-linux-gnu").mkdir(parents=True)
    (tmp_path / "usr/lib/x86_64-linux-gnu/libgomp.so.1").write_bytes(b"\x7fELF")
    (info / "libgomp1:amd64.list").write_text(
        "/.\n/usr\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libgomp.so.1\n"
    )
    files = debootstrap._package_files(tmp_path, "libgomp1")
    assert files == ["/usr/lib/x86_64-linux-gnu/libgomp.so.1"]
    with pytest.raises(StandinBuildError, match="no file list for libnope"):
        debootstrap._package_files(tmp_path, "libnope")


# -- the official layout ------------------------------------------------------------------


def test_every_stand_in_python_seeds_a_pinned_pip_with_its_source() -> None:
    from packaging.version import Version

    for python in ("3.11", "3.13", "3.15"):
        pip = DebootstrapRecipe("bookworm", python).seeded_pip()
        assert pip is not None and pip.source
        Version(pip.version)  # a real version, never a range
    # The case: Debian's bookworm venv seeds pip 23.0.1; the official 3.11 image 24.0.
    assert debootstrap.OFFICIAL_PIP["3.11"].version == "24.0"


def test_the_seeded_pip_is_part_of_the_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    before = DebootstrapRecipe("bookworm", "3.11").digest()
    pinned = debootstrap.SeededPip("99.0", "test")
    monkeypatch.setitem(debootstrap.OFFICIAL_PIP, "3.11", pinned)
    assert DebootstrapRecipe("bookworm", "3.11").digest() != before


def test_runtime_only_has_no_pip_and_keeps_its_digest_shape() -> None:
    runtime = DebootstrapRecipe("bookworm", "3.11", runtime_only=True)
    assert runtime.seeded_pip() is None
    canonical = json.loads(runtime.canonical())
    assert "layout" not in canonical and "pip" not in canonical


def test_a_python_without_an_official_pip_keeps_debians(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(debootstrap.OFFICIAL_PIP, "3.11")
    recipe = DebootstrapRecipe("bookworm", "3.11")
    assert recipe.seeded_pip() is None
    assert json.loads(recipe.canonical())["pip"] == "debian"


def test_labels_name_the_seeded_pip() -> None:
    recipe = DebootstrapRecipe("bookworm", "3.11")
    assert debootstrap._recipe_labels(recipe, "3.11.2", "24.0")["harness.pip-version"] == "24.0"
    assert "harness.pip-version" not in debootstrap._recipe_labels(recipe, "3.11.2")


def test_plain_stand_in_puts_usr_local_bin_first_on_path() -> None:
    changes = debootstrap._import_changes({"a": "b"})
    path = next(c for c in changes if c.startswith("ENV PATH="))
    assert path.split("=", 1)[1].split(":")[:2] == ["/usr/local/sbin", "/usr/local/bin"]


def test_usr_local_layout_makes_site_packages_where_pip_writes_and_python_reads(
    tmp_path: Path,
) -> None:
    rootfs = tmp_path / "rootfs"
    debian_lib = rootfs / "usr" / "lib" / "python3.11"
    debian_lib.mkdir(parents=True)
    (debian_lib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    # Something Debian's python already put in its /usr/local folder is kept, moved over.
    old = rootfs / "usr" / "local" / "lib" / "python3.11" / "dist-packages"
    old.mkdir(parents=True)
    (old / "kept.py").write_text("")
    local_bin = debootstrap._usr_local_layout(rootfs, "python3.11")
    lib = rootfs / "usr" / "local" / "lib" / "python3.11"
    assert (lib / "site-packages").is_dir() and not (lib / "site-packages").is_symlink()
    assert (lib / "dist-packages").readlink() == Path("site-packages")
    assert (lib / "site-packages" / "kept.py").is_file()
    assert not (debian_lib / "EXTERNALLY-MANAGED").exists()
    links = {p.name: str(p.readlink()) for p in local_bin.iterdir()}
    assert links == {
        "python3.11": "/usr/bin/python3.11",
        "python3": "python3.11",
        "python": "python3",
    }
    # Idempotent: a second pass changes nothing.
    debootstrap._usr_local_layout(rootfs, "python3.11")
    assert (lib / "dist-packages").readlink() == Path("site-packages")
