"""The contents probe's bulk rows read as attributes.

results.json keeps ``OsPackage`` and ``InstalledDistribution`` (model/results.py) as
strict TypedDicts, plain dicts for speed, whose keys may be absent. A reader converts a
row once, here, and then reads typed attributes: an absent key is None. The rows were
validated when the file was read (or written by harness itself), so conversion does not
validate again (``model_construct``: no cost beyond the copy); keys not declared here are
dropped.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.model.results import Count, InstalledDistribution, OsPackage, Text


class PackageRow(BaseModel):
    """One OS package (dpkg or apk database) as the contents probe read it."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    name: str
    version: Text = None
    architecture: Text = None
    installed_size_bytes: Count = None
    source: Text = None
    source_version: Text = None

    @classmethod
    def of(cls, row: OsPackage) -> PackageRow:
        # The same row object (a base's packages are one shared object in every cell of
        # the base once read: resultsfile.share_rows) converts once; 10,000 cells' rows
        # converted each time were seconds of a report. The row is held with its typed
        # twin, so its id is never another object's while remembered.
        seen = _PACKAGE_ROWS.get(id(row))
        if seen is not None and seen[0] is row:
            return seen[1]
        typed = cls.model_construct(**row)
        if len(_PACKAGE_ROWS) >= _REMEMBERED:
            _PACKAGE_ROWS.clear()
        _PACKAGE_ROWS[id(row)] = (row, typed)
        return typed


_REMEMBERED = 50_000  # distinct rows remembered at most (a large run has a few thousand)
_PACKAGE_ROWS: dict[int, tuple[OsPackage, PackageRow]] = {}


class DistributionRow(BaseModel):
    """One .dist-info in the venv as the contents probe read it."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    name: Text = None
    normalised_name: Text = None
    version: Text = None
    installer: Text = None
    requested: bool | None = None
    wheel_tags: list[str] | None = None
    wheel_generator: Text = None
    built_from_source: bool | None = None
    built_from_source_signal: Text = None
    direct_url: Text = None
    dist_info: Text = None
    size_bytes: Count = None  # its files' bytes on disk

    @classmethod
    def of(cls, row: InstalledDistribution) -> DistributionRow:
        return cls.model_construct(**row)
