"""CycloneDX SBOMs from contents-probe facts: valid documents, right purls, broken ones caught."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.documents.sbom import build_sbom, validate_sbom

DEB_PACKAGES = [
    {
        "name": "libfoo1",
        "version": "1.2-3+b1",
        "architecture": "amd64",
        "installed_size_bytes": 122880,
        "source": "foo",
        "source_version": "1.2-3",
    },
    {
        "name": "bash",
        "version": "5.2.15-2+b7",
        "architecture": "amd64",
        "installed_size_bytes": 7168000,
        "source": None,
        "source_version": None,
    },
]
APK_PACKAGES = [
    {"name": "musl", "version": "1.2.4-r2", "architecture": "x86_64", "source": "musl"},
]
DISTRIBUTIONS: list[dict[str, Any]] = [
    {
        "name": "Alpha_Pkg",
        "version": "1.0",
        "installer": "pip",
        "wheel_tags": ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"],
        "built_from_source": False,
        "size_bytes": 1234,
    },
    {
        "name": "zope.interface",
        "version": "7.0",
        "installer": "uv",
        "wheel_tags": ["cp311-cp311-linux_x86_64"],
        "built_from_source": True,
        "size_bytes": 99,
    },
    {"name": "mystery", "version": "0.1", "wheel_tags": [], "built_from_source": None},
]


def build(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "subject_name": "py311-slim×spacy",
        "subject_version": "sha256:abc",
        "os_id": "debian",
        "os_packages": DEB_PACKAGES,
        "distributions": DISTRIBUTIONS,
        "properties": {"harness:run": "20261201-090000-abcdef"},
    }
    arguments.update(overrides)
    text = build_sbom(**arguments)
    assert validate_sbom(text) == []
    document = json.loads(text)
    assert isinstance(document, dict)
    return document


def components(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["components"]}


def props(component: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["name"], p["value"]) for p in component.get("properties", [])]


def test_document_is_cyclonedx_16_with_the_subject() -> None:
    document = build()
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    subject = document["metadata"]["component"]
    assert subject["type"] == "container" and subject["name"] == "py311-slim×spacy"
    assert props(document["metadata"]) == [("harness:run", "20261201-090000-abcdef")]
    dependencies = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert len(dependencies[subject["bom-ref"]]) == 1 + len(DEB_PACKAGES) + len(DISTRIBUTIONS)


def test_deb_purls() -> None:
    found = components(build())
    assert found["bash"]["purl"] == "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64"
    assert found["libfoo1"]["purl"] == "pkg:deb/debian/libfoo1@1.2-3%2Bb1?arch=amd64&upstream=foo"
    assert ("harness:size-bytes", "122880") in props(found["libfoo1"])
    assert found["debian"]["type"] == "operating-system"


def test_distro_qualifier_when_the_os_version_is_known() -> None:
    found = components(build(os_version="12"))
    assert found["bash"]["purl"] == "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12"
    assert found["debian"]["version"] == "12"


def test_apk_purls_follow_the_os_id() -> None:
    found = components(build(os_id="alpine", os_packages=APK_PACKAGES, distributions=None))
    assert found["musl"]["purl"] == "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64"
    assert not any(c["purl"].startswith("pkg:pypi/") for c in found.values() if "purl" in c)


def test_pypi_purls_and_properties() -> None:
    found = components(build())
    alpha, zope, mystery = found["alpha-pkg"], found["zope-interface"], found["mystery"]
    assert alpha["purl"] == "pkg:pypi/alpha-pkg@1.0"
    assert zope["purl"] == "pkg:pypi/zope-interface@7.0"
    assert props(alpha) == [
        ("harness:built-from-source", "false"),
        ("harness:installer", "pip"),
        ("harness:size-bytes", "1234"),
        ("harness:wheel-tag", "cp311-cp311-manylinux2014_x86_64"),
        ("harness:wheel-tag", "cp311-cp311-manylinux_2_17_x86_64"),
    ]
    assert ("harness:built-from-source", "true") in props(zope)
    assert props(mystery) == [("harness:built-from-source", "unknown")]


def test_repeated_purls_get_distinct_refs() -> None:
    twice = [DISTRIBUTIONS[0], dict(DISTRIBUTIONS[0])]
    document = build(distributions=twice, os_packages=[])
    refs = [c["bom-ref"] for c in document["components"] if c["name"] == "alpha-pkg"]
    assert sorted(refs) == ["pkg:pypi/alpha-pkg@1.0", "pkg:pypi/alpha-pkg@1.0#2"]


def test_broken_documents_fail_validation() -> None:
    document = build()
    document["components"][0]["type"] = "spaceship"
    errors = validate_sbom(json.dumps(document))
    assert errors and "spaceship" in errors[0]
    del document["bomFormat"]
    assert len(validate_sbom(json.dumps(document))) >= 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.2"}', "unsupported specVersion"),
    ],
)
def test_unreadable_documents_are_errors(text: str, expected: str) -> None:
    errors = validate_sbom(text)
    assert len(errors) == 1 and errors[0].startswith(expected)


def test_an_unknown_field_is_rejected_by_the_strict_schema() -> None:
    document = build()
    document["components"][0]["colour"] = "blue"
    assert validate_sbom(json.dumps(document))
