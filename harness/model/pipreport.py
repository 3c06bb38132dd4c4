"""pip's installation report (``pip install --report``, format version 1) as types.

The documented format, as far as harness reads it: ``version``, ``pip_version``,
``environment`` (the marker values pip evaluated with), and ``install[]``, one item per
distribution with ``metadata`` (``name``, ``version``, ``requires_dist``), ``download_info``
(``url``, and ``archive_info`` for an archive or ``dir_info`` for a local directory),
``is_direct`` and ``requested``.

The report is another program's output, so it is read leniently and once: unknown keys
are ignored (a newer pip adds some), missing keys take their defaults, and a value of the
wrong shape (``install`` not a list, a name that is not text) is refused with
``PipReportError``, which names the report and the JSON path. Readers then use attributes.
"""

from __future__ import annotations

import json
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict, ValidationError


class PipReportError(ValueError):
    """A report that is not JSON, or not shaped as pip documents it."""


class _Part(BaseModel):
    # Lax: pip's values are taken as written (a version written as a number is still read
    # as text); unknown keys are dropped, nothing here is written back.
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class Metadata(_Part):
    """The distribution's core metadata, as pip read it (JSON form of METADATA)."""

    name: str = ""
    version: str | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None


class ArchiveInfo(_Part):
    hash: str | None = None


class DirInfo(_Part):
    editable: bool = False


class DownloadInfo(_Part):
    """Where the distribution came from (PEP 610's direct URL data)."""

    url: str = ""
    archive_info: ArchiveInfo | None = None
    dir_info: DirInfo | None = None

    @property
    def filename(self) -> str:
        """The file name at the end of the URL, unquoted ("" for a directory)."""
        return unquote(urlparse(self.url).path.rsplit("/", 1)[-1])


class InstallItem(_Part):
    metadata: Metadata = Metadata()
    download_info: DownloadInfo = DownloadInfo()
    is_direct: bool = False
    requested: bool = False


class MarkerEnvironment(_Part):
    """The PEP 508 marker values pip evaluated with (the host's, for a host dry run)."""

    model_config = ConfigDict(frozen=True, extra="allow", coerce_numbers_to_str=True)

    python_version: str | None = None
    platform_machine: str | None = None


class PipReport(_Part):
    version: str | None = None
    pip_version: str | None = None
    install: tuple[InstallItem, ...] = ()
    environment: MarkerEnvironment = MarkerEnvironment()

    @classmethod
    def from_data(cls, data: object, source: str = "pip's report") -> PipReport:
        """A report already parsed from JSON; PipReportError names what is wrong."""
        if not isinstance(data, dict):
            raise PipReportError(f"{source}: expected a JSON object, found {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            path = ".".join(str(part) for part in first["loc"]) or "(top)"
            raise PipReportError(f"{source}: {path}: {first['msg']}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "pip's report") -> PipReport:
        """A report from its text; PipReportError for text that is not JSON."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise PipReportError(f"{source}: not JSON ({err.msg} at line {err.lineno})") from None
        return cls.from_data(data, source)
