"""CycloneDX 1.6 JSON SBOM of one image (or cell) from the contents probe's facts.

Built with cyclonedx-python-lib's model and serialiser and packageurl-python's PackageURL,
so the document follows the schema the library ships; ``validate_sbom`` checks a document
against that schema (the strict variant, which also rejects unknown fields).

Inputs are the probe's JSON as it arrives (``os_packages`` and ``distributions`` entries,
see harness/probes/contents.py); unknown keys are ignored, missing optional ones skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from harness.model.results import InstalledDistribution, OsPackage
from harness.model.rows import DistributionRow, PackageRow

SCHEMA_VERSION = SchemaVersion.V1_6
SUPPORTED_SPEC_VERSIONS = {"1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}
# Distributions whose package manager is apk; every other os id is taken as a dpkg system.
APK_OS_IDS = frozenset({"alpine", "wolfi", "chainguard", "postmarketos"})
PROPERTY_PREFIX = "harness:"


def normalise_name(name: str) -> str:
    """PEP 503 name, which is also what the purl spec asks for pypi names."""
    return canonicalize_name(name)


def purl_type_for(os_id: str, package_manager: str | None) -> str:
    """purl type of the OS packages: "apk" for apk systems, else "deb"."""
    if package_manager is not None:
        return "apk" if package_manager == "apk" else "deb"
    return "apk" if os_id.lower() in APK_OS_IDS else "deb"


def property_list(values: Mapping[str, object]) -> list[Property]:
    """``harness:<key>`` properties for the values that are not None."""
    return [
        Property(name=PROPERTY_PREFIX + key, value=str(value))
        for key, value in values.items()
        if value is not None
    ]


class RefAllocator:
    """Unique bom-refs: the purl, with ``#2``, ``#3``... when a purl repeats."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def ref(self, wanted: str) -> BomRef:
        candidate, index = wanted, 1
        while candidate in self.used:
            index += 1
            candidate = f"{wanted}#{index}"
        self.used.add(candidate)
        return BomRef(candidate)


def os_package_component(
    package: OsPackage,
    purl_type: str,
    os_id: str,
    os_version: str | None,
    refs: RefAllocator,
) -> Component:
    """One OS package: ``pkg:deb/<os_id>/NAME@VERSION?arch=ARCH`` (or pkg:apk/...).

    Qualifiers beyond arch are added only when known: ``upstream`` (the source package, which
    Debian's security tracker is keyed by) and ``distro`` (``<os_id>-<os_version>``).
    """
    row = PackageRow.of(package)  # the contents probe's row, its absent keys None
    name = row.name
    version = row.version
    qualifiers: dict[str, str] = {}
    if row.architecture:
        qualifiers["arch"] = str(row.architecture)
    source = row.source
    if source and source != name:
        qualifiers["upstream"] = str(source)
    if os_version:
        qualifiers["distro"] = f"{os_id}-{os_version}"
    purl = PackageURL(
        type=purl_type, namespace=os_id, name=name, version=version, qualifiers=qualifiers
    )
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        version=version,
        purl=purl,
        bom_ref=refs.ref(purl.to_string()),
        properties=property_list(
            {
                "size-bytes": row.installed_size_bytes,
                "source-package": source,
                "source-version": row.source_version,
            }
        ),
    )


def built_from_source_text(value: object) -> str:
    return "unknown" if value is None else ("true" if value else "false")


def distribution_component(dist: InstalledDistribution, refs: RefAllocator) -> Component:
    """One Python distribution: ``pkg:pypi/<normalised name>@VERSION`` with harness properties."""
    row = DistributionRow.of(dist)
    name = normalise_name(str(row.name))
    version = row.version
    purl = PackageURL(type="pypi", name=name, version=version)
    properties = [
        Property(name=PROPERTY_PREFIX + "wheel-tag", value=str(tag)) for tag in row.wheel_tags or []
    ]
    properties += property_list(
        {
            "built-from-source": built_from_source_text(row.built_from_source),
            "size-bytes": row.size_bytes,
            "installer": row.installer,
        }
    )
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        version=version,
        purl=purl,
        bom_ref=refs.ref(purl.to_string()),
        properties=properties,
    )


def build_sbom(
    subject_name: str,
    subject_version: str | None,
    os_id: str,
    os_packages: Iterable[OsPackage],
    distributions: Iterable[InstalledDistribution] | None,
    properties: Mapping[str, str],
    *,
    os_version: str | None = None,
    package_manager: str | None = None,
) -> str:
    """CycloneDX 1.6 JSON text describing ``subject_name`` (an image or a cell).

    The subject is the metadata component (type container) and depends on every package;
    an operating-system component ``os_id`` (with ``os_version`` when given) is listed too,
    as scanners read the distro from it. ``properties`` become metadata properties as given
    (prefix the keys yourself, e.g. "harness:cell").
    """
    refs = RefAllocator()
    purl_type = purl_type_for(os_id, package_manager)
    subject = Component(
        type=ComponentType.CONTAINER,
        name=subject_name,
        version=subject_version,
        bom_ref=refs.ref(f"subject:{subject_name}"),
    )
    operating_system = Component(
        type=ComponentType.OPERATING_SYSTEM,
        name=os_id,
        version=os_version,
        bom_ref=refs.ref(f"os:{os_id}"),
    )
    packages = [
        os_package_component(package, purl_type, os_id, os_version, refs) for package in os_packages
    ]
    packages += [distribution_component(dist, refs) for dist in distributions or []]
    bom = Bom(components=[operating_system, *packages])
    bom.metadata.component = subject
    bom.metadata.properties.update(
        Property(name=key, value=value) for key, value in properties.items()
    )
    bom.register_dependency(subject, [operating_system, *packages])
    return JsonV1Dot6(bom).output_as_string(indent=2)


def describe_error(error: object) -> str:
    """``<json path>: <message>`` of a jsonschema error, else its text."""
    path = getattr(error, "json_path", None)
    message = getattr(error, "message", None)
    return f"{path}: {message}" if path and message else str(error)


def validate_sbom(text: str) -> list[str]:
    """Schema errors of a CycloneDX 1.5/1.6 JSON document; empty when it is valid."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    if not isinstance(document, dict):
        return ["not a JSON object"]
    schema_version = SUPPORTED_SPEC_VERSIONS.get(str(document.get("specVersion")))
    if schema_version is None:
        return [f"unsupported specVersion: {document.get('specVersion')!r} (want 1.5 or 1.6)"]
    errors = JsonStrictValidator(schema_version).validate_str(text, all_errors=True)
    return [describe_error(error.data) for error in errors or []]
