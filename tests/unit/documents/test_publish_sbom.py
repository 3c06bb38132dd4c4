"""SBOM files, sbom/index.json and the report's "What it is made of" block, from a results
dict carrying a contents probe result shaped like harness/probes/contents.py prints it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.sizes import (
    RULE_FALLBACK,
    RULE_NO_SYSTEM,
    made_of,
    reference_cells,
)
from harness.analysis.vulns import NOT_SCANNED_NO_DB, ScannerSpec, not_scanned_without_scanner
from harness.documents.publish import write_sboms
from harness.documents.report import render_report
from harness.model.results import Sboms
from harness.store.files import SBOM_INDEX

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1.json"
BASE_PACKAGES = [
    {"name": "libc6", "version": "2.36-9+deb12u13", "architecture": "amd64",
     "installed_size_bytes": 12_000_000, "source": "glibc", "source_version": None},
    {"name": "python3.11", "version": "3.11.2-6", "architecture": "amd64",
     "installed_size_bytes": 500_000, "source": None, "source_version": None},
]  # fmt: skip
FFMPEG_PACKAGE = {
    "name": "ffmpeg", "version": "7:5.1.7-0+deb12u1", "architecture": "amd64",
    "installed_size_bytes": 2_000_000, "source": None, "source_version": None,
}  # fmt: skip


def dist(name: str, version: str, size: int, tag: str) -> dict[str, Any]:
    return {"name": name, "version": version, "size_bytes": size, "wheel_tags": [tag],
            "built_from_source": False, "installer": "pip"}  # fmt: skip


def contents(packages: list[dict[str, Any]], dists: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": "passed", "seconds": 1.5, "package_manager": "dpkg",
            "os_packages": packages, "distributions": dists}  # fmt: skip


ENV = {"status": "passed", "seconds": 0.1,
       "os_release": {"ID": "debian", "VERSION_ID": "12", "NAME": "Debian GNU/Linux",
                      "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}}  # fmt: skip


@pytest.fixture
def results() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    cells = {c["id"]: c for c in data["cells"]}
    torch_dists = [dist("torch", "2.9.1+cpu", 780_000_000, "cp311-cp311-linux_x86_64")]
    torch_dists += [dist(f"small{i}", "1.0", 1000 * (i + 1), "py3-none-any") for i in range(10)]
    cells["py311-slim×torch"]["probes"].update(
        env=ENV, contents=contents(BASE_PACKAGES, torch_dists)
    )
    cells["py311-slim×ffmpeg"]["probes"].update(
        env=ENV, contents=contents([*BASE_PACKAGES, FFMPEG_PACKAGE], [])
    )
    # py313's only cell with a contents result installs system packages: the fallback rule.
    cells["py313-slim×ffmpeg"]["probes"].update(
        env=ENV, contents=contents([*BASE_PACKAGES, FFMPEG_PACKAGE], [])
    )
    return data


def test_reference_cell_prefers_a_passed_cell_without_system_packages(
    results: dict[str, Any],
) -> None:
    chosen = reference_cells(results)
    assert chosen["py311-slim"][0].id == "py311-slim×torch"
    assert chosen["py311-slim"][1] == RULE_NO_SYSTEM
    assert chosen["py313-slim"][0].id == "py313-slim×ffmpeg"
    assert chosen["py313-slim"][1] == RULE_FALLBACK
    assert "py312-slim" not in chosen


def test_write_sboms_writes_valid_documents_and_an_index(
    results: dict[str, Any], tmp_path: Path
) -> None:
    index_path = write_sboms(tmp_path, results, scanner=None)
    index = json.loads(index_path.read_text(encoding="utf-8"))
    paths = {e["path"]: e for e in index["sboms"]}
    assert set(paths) == {
        "sbom/py311-slim_x_torch.r0.cdx.json",
        "sbom/py311-slim_x_ffmpeg.r0.cdx.json",
        "sbom/py313-slim_x_ffmpeg.r0.cdx.json",
        "sbom/py311-slim.cdx.json",
        "sbom/py313-slim.cdx.json",
    }
    for entry in index["sboms"]:
        assert entry["valid"], entry["errors"]
        # no scanner set: which would run, and the command for this SBOM from the run folder
        expected = not_scanned_without_scanner(entry["path"]).to_scan().to_dict()
        assert entry["vulnerabilities"] == expected
        assert entry["vulnerabilities"]["command"].endswith(f" --cache-dir DB {entry['path']}")
    torch = json.loads((tmp_path / "sbom/py311-slim_x_torch.r0.cdx.json").read_text())
    purls = {c.get("purl") for c in torch["components"]}
    assert "pkg:pypi/torch@2.9.1%2Bcpu" in purls
    assert (
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u13?arch=amd64&distro=debian-12&upstream=glibc" in purls
    )
    base = json.loads((tmp_path / "sbom/py313-slim.cdx.json").read_text())
    props = {p["name"]: p["value"] for p in base["metadata"]["properties"]}
    assert props["harness:from-cell"] == "py313-slim×ffmpeg"
    assert props["harness:from-cell-rule"] == RULE_FALLBACK
    assert not any((c.get("purl") or "").startswith("pkg:pypi/") for c in base["components"])
    assert paths["sbom/py311-slim.cdx.json"]["components"] == len(BASE_PACKAGES)
    # results.json lists the same SBOMs, so every document reads them from it alone
    from harness.store.rundir import load_results

    listed = load_results(tmp_path / "results.json")["sboms"]
    assert listed == {"scanner": None, "sboms": index["sboms"]}


def test_a_scanner_without_its_database_is_not_scanned_never_zero(
    results: dict[str, Any], tmp_path: Path
) -> None:
    fake = tmp_path / "trivy"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    spec = ScannerSpec("trivy", tmp_path / "no-db", binary=fake)
    index = json.loads(write_sboms(tmp_path, results, spec).read_text())
    scans = [e["vulnerabilities"] for e in index["sboms"]]
    assert scans and all(
        s["scanned"] is False and s["reason"].startswith(NOT_SCANNED_NO_DB) for s in scans
    )
    assert index["scanner"]["name"] == "trivy"


def test_made_of_splits_base_system_and_python(results: dict[str, Any]) -> None:
    cells = {c["id"]: c for c in results["cells"]}
    references = reference_cells(results)
    torch = made_of(results, cells["py311-slim×torch"], references)
    assert torch is not None
    assert torch.system_bytes == 0  # the torch depset installs no system packages
    assert torch.python_bytes == 780_000_000 + sum(1000 * (i + 1) for i in range(10))
    assert [d.name for d in torch.top][:2] == ["torch", "small9"]
    assert len(torch.top) == 8
    ffmpeg = made_of(results, cells["py311-slim×ffmpeg"], references)
    assert ffmpeg is not None and ffmpeg.system_bytes == FFMPEG_PACKAGE["installed_size_bytes"]
    assert [(p.name, p.size_bytes) for p in ffmpeg.top_system] == [("ffmpeg", 2_000_000)]
    # No clean reference cell for py313: what ffmpeg added cannot be told from the base.
    py313 = made_of(results, cells["py313-slim×ffmpeg"], references)
    assert py313 is not None and py313.system_bytes is None
    assert made_of(results, cells["py311-slim×spacy"], references) is None


def test_report_shows_what_a_cell_is_made_of_and_links_its_sbom(
    results: dict[str, Any], tmp_path: Path
) -> None:
    index = json.loads(write_sboms(tmp_path, results, None).read_text())
    html = render_report(copy.deepcopy(results), sbom_index=Sboms.from_dict(index))
    assert "What it is made of" in html
    assert '<span class="mono">torch</span> 780 MB' in html
    assert 'href="sbom/py311-slim_x_torch.r0.cdx.json"' in html
    assert "torch: 780 MB" in html  # the largest distributions are named in the bar
    # the ten small ones are 1 to 10 kB: the two largest are named, the other eight share
    assert "other Python distributions: 36.0 kB" in html
    assert "system packages: unknown" in html  # py313×ffmpeg: no clean reference cell
    assert (
        'largest system packages it added (installed size): <span class="mono">ffmpeg</span> 2.0 MB'
        in html
    )


def test_report_gives_the_bytes_each_install_step_added(
    results: dict[str, Any], tmp_path: Path
) -> None:
    torch = next(c for c in results["cells"] if c["id"] == "py311-slim×torch")
    torch.update(size_start_bytes=0, size_probes_bytes=2_000, size_measure_seconds=0.4)
    torch["size_added_bytes"] = 12_000_000 + 790_000_000 + 2_000
    for step in torch["steps"]:
        step["bytes_added"] = {"venv": 12_000_000, "pip-install": 790_000_000}.get(step["name"])
    index = json.loads(write_sboms(tmp_path, results, None).read_text())
    html = render_report(copy.deepcopy(results), sbom_index=Sboms.from_dict(index))
    assert '<span class="mono">pip-install</span> 790 MB' in html
    assert '<span class="mono">after the install steps (probes, tests)</span> 2.0 kB' in html
    assert "= 802 MB (the size added); measuring took 0.4" in html


def test_report_base_table_says_not_scanned_or_gives_counts(
    results: dict[str, Any], tmp_path: Path
) -> None:
    index_path = write_sboms(tmp_path, results, None)
    assert index_path == tmp_path / SBOM_INDEX
    index = json.loads(index_path.read_text())
    html = render_report(results, sbom_index=Sboms.from_dict(index))
    # py311-slim and py313-slim in the bases table, and once in the decision section
    assert html.count(NOT_SCANNED_NO_DB) == 3
    assert 'href="sbom/py311-slim.cdx.json"' in html
    scanned = {"scanned": True, "scanner": "grype", "scanner_version": "0.80.0",
               "db_built": "2026-11-20T00:00:00Z", "fixable": 1, "total": 4,
               "by_severity": {"critical": 1, "high": 3}}  # fmt: skip
    for entry in index["sboms"]:
        entry["vulnerabilities"] = scanned
    html = render_report(results, sbom_index=Sboms.from_dict(index))
    assert NOT_SCANNED_NO_DB not in html
    assert "critical 1 · high 3 · medium 0" in html
    assert "grype 0.80.0, DB built 2026-11-20T00:00:00Z" in html


def test_an_sbom_without_packages_is_never_scanned_to_zero(
    results: dict[str, Any], tmp_path: Path
) -> None:
    """A base with no dpkg/apk database (the musl stand-in) has an empty base SBOM: a
    scanner, even with its database, would report 0 for an image it could not see into."""
    from harness.analysis.vulns import NOT_SCANNED_EMPTY

    cells = {c["id"]: c for c in results["cells"]}
    empty = contents([], [])
    empty["package_manager"] = None
    cells["py311-slim×torch"]["probes"]["contents"] = empty
    cells["py311-slim×ffmpeg"]["probes"].pop("contents")
    db = tmp_path / "cache" / "db"
    db.mkdir(parents=True)
    (db / "trivy.db").write_bytes(b"bolt")
    fake = tmp_path / "trivy"  # answers every call with an empty, valid report
    fake.write_text('#!/bin/sh\necho \'{"SchemaVersion": 2, "Results": []}\'\n')
    fake.chmod(0o755)
    spec = ScannerSpec("trivy", tmp_path / "cache", binary=fake)
    index = json.loads(write_sboms(tmp_path, results, spec).read_text())
    entries = {e["path"]: e for e in index["sboms"]}
    base = entries["sbom/py311-slim.cdx.json"]
    assert base["components"] == 0
    assert base["vulnerabilities"]["scanned"] is False
    assert base["vulnerabilities"]["reason"] == NOT_SCANNED_EMPTY
    html = render_report(copy.deepcopy(results), sbom_index=Sboms.from_dict(index))
    assert "no OS packages listed: the image has no dpkg or apk database" in html
    assert entries["sbom/py313-slim.cdx.json"]["vulnerabilities"]["scanned"] is True  # it has some


def test_a_cell_writes_its_own_sbom_when_it_ends_and_says_what_it_cost(
    results: dict[str, Any], tmp_path: Path
) -> None:
    from harness.documents.contents import write_cell_sbom

    prepared = {"run": results["run"], "bases": results["bases"]}
    (tmp_path / "prepare.json").write_text(json.dumps(prepared))
    torch = next(c for c in results["cells"] if c["id"] == "py311-slim×torch")
    entry = write_cell_sbom(tmp_path, torch)  # the run and bases from prepare.json
    assert entry is not None and entry["valid"] and entry["kind"] == "cell"
    assert isinstance(entry["seconds"], float) and entry["seconds"] >= 0
    assert (tmp_path / entry["path"]).is_file()
    written = json.loads((tmp_path / "sbom/py311-slim_x_torch.r0.entry.json").read_text())
    assert written == entry
    no_contents = next(c for c in results["cells"] if c["id"] == "py312-slim×torch")
    assert write_cell_sbom(tmp_path, no_contents) is None


def test_publish_lists_the_sboms_cells_wrote_and_builds_only_missing_ones(
    results: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.documents import contents as contents_module
    from harness.documents.contents import write_cell_sbom

    torch = next(c for c in results["cells"] if c["id"] == "py311-slim×torch")
    written = write_cell_sbom(tmp_path, torch, results)
    assert written is not None
    built: list[str] = []
    real = contents_module.cell_sbom

    def counting(run: Any, cell: Any) -> Any:
        built.append(contents_module.as_cell(cell).id)  # typed or a dict
        return real(run, cell)

    monkeypatch.setattr(contents_module, "cell_sbom", counting)
    index = json.loads(write_sboms(tmp_path, results, None).read_text())
    # the torch cell's SBOM was written when it ended: listed as it is, not built again
    assert sorted(built) == ["py311-slim×ffmpeg", "py313-slim×ffmpeg"]
    entries = {e["subject"]: e for e in index["sboms"] if e["kind"] == "cell"}
    assert entries["py311-slim×torch"]["seconds"] == written["seconds"]
    assert set(entries) == {"py311-slim×torch", "py311-slim×ffmpeg", "py313-slim×ffmpeg"}
    assert all(isinstance(e["seconds"], float) for e in entries.values())


def test_typed_records_and_their_dicts_give_the_same_sbom(
    results: dict[str, Any], tmp_path: Path
) -> None:
    from harness.documents.contents import RunView, cell_sbom, read_cell_sbom_entry
    from harness.model.results import CellRecord, Results

    torch = next(c for c in results["cells"] if c["id"] == "py311-slim×torch")
    from_dicts = cell_sbom(results, torch)
    typed = Results.from_json_data(results, "results.json")
    from_types = cell_sbom(typed, CellRecord.from_dict(torch))
    assert (from_types.path, from_types.components) == (from_dicts.path, from_dicts.components)

    def properties(text: str) -> dict[str, str]:
        return {p["name"]: p["value"] for p in json.loads(text)["metadata"]["properties"]}

    assert properties(from_types.text) == properties(from_dicts.text)
    assert properties(from_types.text)["harness:run"] == results["run"]["id"]
    assert json.loads(from_types.text)["components"] == json.loads(from_dicts.text)["components"]
    # prepare.json's header (no schema_version, no cells) is read for its run id and bases
    view = RunView.of({"run": results["run"], "bases": results["bases"], "warm": {}})
    assert view.run_id == results["run"]["id"] and "py311-slim" in view.bases
    # An entry file that is not an entry is no entry: publish writes it again
    entry = tmp_path / "sbom" / "py311-slim_x_torch.r0.entry.json"
    entry.parent.mkdir()
    entry.write_text('{"path": 7}')
    assert read_cell_sbom_entry(tmp_path, torch) is None


def test_a_base_of_an_unread_shape_still_names_its_image() -> None:
    from harness.documents.contents import RunView

    odd = {"name": "py311", "image": "python:3.11-slim", "size_bytes": "big"}
    view = RunView.of({"run": {"id": "r1"}, "bases": [odd, "not a base"]})
    assert view.base("py311").image == "python:3.11-slim"
    assert view.base("py311").size_bytes is None and list(view.bases) == ["py311"]
