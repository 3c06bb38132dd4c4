"""Does another version of a distribution have a wheel for a base? Read from the index's
simple API (PEP 691 JSON: ``Accept: application/vnd.pypi.simple.v1+json``; PyPI's own
JSON API is not served everywhere harness runs), matched with ``packaging``'s wheel
tags against the base's Python, ABI and platform (from its env probe).

Looked up on the host after a build failed, bounded by a timeout; when it cannot be
checked (no facts, the index did not answer in time) the answer says so.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.run.preflight import BaseFacts, canonical_name, platform_tags

PYPI_SIMPLE = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
DEFAULT_TIMEOUT_S = 15.0
MAX_PAGE_BYTES = 64 * 1024 * 1024

# name → the simple API's JSON page (its "files"), or raises OSError/ValueError.
Fetch = Callable[[str], object]


class SimpleFile(BaseModel):
    """One file of a PEP 691 project page (only what the check reads)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    filename: str = ""
    url: str = ""
    yanked: bool | str = False  # PEP 691: true, or the reason as text
    requires_python: str | None = Field(None, alias="requires-python")


class SimplePage(BaseModel):
    """A PEP 691 project page: its files (unknown keys ignored, missing ones defaulted)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    files: tuple[SimpleFile, ...] = ()

    @classmethod
    def from_data(cls, data: object, source: str = "the index's page") -> SimplePage:
        """The page, or ValueError naming the first thing not shaped as PEP 691 says."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top)"
            raise ValueError(f"{source}: {where}: {first['msg']}") from None


@dataclass(frozen=True)
class WheelAnswer:
    sentence: str  # "pydantic-core 2.33.2 has no wheel for cp315 ...; 2.35.0 has one ..."
    pin: str | None = None  # "pydantic-core==2.41.5" when a version with a wheel exists


def fetch_simple(
    index: str = PYPI_SIMPLE, timeout_s: float = DEFAULT_TIMEOUT_S, cafile: str | None = None
) -> Fetch:
    """A fetcher of ``INDEX/NAME/`` as PEP 691 JSON, bounded by ``timeout_s``."""
    import ssl

    context = ssl.create_default_context(cafile=cafile) if cafile else None

    def fetch(name: str) -> object:
        request = urllib.request.Request(
            f"{index.rstrip('/')}/{canonical_name(name)}/", headers={"Accept": SIMPLE_JSON}
        )
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:
            content_type = response.headers.get("Content-Type", "")
            if SIMPLE_JSON not in content_type:
                raise ValueError(f"the index answered {content_type or 'no type'}, not JSON")
            return json.loads(response.read(MAX_PAGE_BYTES))  # SimplePage reads it

    return fetch


def supported_tags(facts: BaseFacts) -> set[Tag]:
    """Every tag pip on the base accepts (CPython; other interpreters: the generic ones)."""
    major, minor = (int(x) for x in facts.python_xy.split("."))
    platforms = platform_tags(facts)
    found = set(compatible_tags((major, minor), f"{facts.implementation}{major}{minor}", platforms))
    if facts.implementation == "cp":
        found |= set(cpython_tags((major, minor), [facts.abi], platforms))
    return found


def check(name: str, version: str, env: Mapping[str, object] | None, fetch: Fetch) -> WheelAnswer:
    """Whether ``name`` ``version`` or another version has a wheel for the base."""
    try:
        facts = BaseFacts.from_env_probe(env or {})
    except (ValueError, KeyError, TypeError) as err:
        return WheelAnswer(f"wheels of {name} not checked: no facts for the base ({err})")
    newest_platform = platform_tags(facts)[1:2] or [facts.machine]
    platform = f"{facts.abi} on {newest_platform[0]}"
    try:
        page = SimplePage.from_data(fetch(name), f"the index's page for {name}")
    except (OSError, ValueError) as err:
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        return WheelAnswer(f"wheels of {name} not checked: the index did not answer ({reason})")
    with_wheel = versions_with_wheel(page, supported_tags(facts), Version(facts.python_version))
    try:
        failed = Version(version)
    except InvalidVersion:
        failed = None
    if failed is not None and failed in with_wheel:
        return WheelAnswer(f"{name} {version} has a wheel for {platform}")
    if not with_wheel:
        return WheelAnswer(f"no version of {name} has a wheel for {platform}")
    newest = max(with_wheel)
    newer = sorted(v for v in with_wheel if failed is None or v > failed)
    head = f"{name} {version or '(version unknown)'} has no wheel for {platform}"
    if newer:
        first = newer[0]
        also = f" (the newest: {newest})" if first != newest else ""
        sentence = f"{head}; {first} is the first newer version with one{also}"
        return WheelAnswer(sentence, f"{canonical_name(name)}=={newest}")
    return WheelAnswer(f"{head}; only older versions have one (the newest: {newest})",
                       f"{canonical_name(name)}=={newest}")  # fmt: skip


def versions_with_wheel(
    page: SimplePage | Mapping[str, object], tags: set[Tag], python: Version
) -> set[Version]:
    """Final versions of a simple-API page with a wheel for ``tags`` and ``python``."""
    if not isinstance(page, SimplePage):
        page = SimplePage.from_data(page)
    found: set[Version] = set()
    for item in page.files:
        filename = item.filename
        if not filename.endswith(".whl") or item.yanked:
            continue
        try:
            _, wheel_version, _, wheel_tags = parse_wheel_filename(filename)
            requires = item.requires_python
            if requires and not SpecifierSet(requires).contains(python, prereleases=True):
                continue
        except (InvalidWheelFilename, InvalidVersion, InvalidSpecifier):
            continue
        if wheel_tags & tags and not wheel_version.is_prerelease:
            found.add(wheel_version)
    return found
