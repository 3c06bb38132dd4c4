"""The contents probe's rows read as attributes: absent keys are None, extras dropped."""

from harness.model.results import OsPackage
from harness.model.rows import DistributionRow, PackageRow


def test_package_row_reads_present_keys_and_none_for_absent() -> None:
    row = PackageRow.of({"name": "libc6", "version": "2.36-9", "installed_size_bytes": 12})
    assert (row.name, row.version, row.installed_size_bytes) == ("libc6", "2.36-9", 12)
    assert row.architecture is None and row.source is None and row.source_version is None


def test_distribution_row_of_an_empty_row_is_all_none_and_drops_unknown_keys() -> None:
    row = DistributionRow.of({"wheel_tags": ["py3-none-any"], "plugin_key": 1})  # type: ignore[typeddict-unknown-key]
    assert row.wheel_tags == ["py3-none-any"]
    assert row.name is None and row.size_bytes is None and row.built_from_source is None
    assert "plugin_key" not in row.model_dump()


def test_one_row_object_converts_once_and_an_equal_other_object_on_its_own() -> None:
    row: OsPackage = {"name": "libc6", "version": "2.36", "architecture": "amd64"}
    first = PackageRow.of(row)
    assert PackageRow.of(row) is first  # shared by every cell of a base: converted once
    other: OsPackage = {"name": "libc6", "version": "2.37"}
    assert PackageRow.of(other).version == "2.37" and PackageRow.of(other).architecture is None
