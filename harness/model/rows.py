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
        return cls.model_construct(**row)


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
