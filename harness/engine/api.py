"""The Docker engine's answers that harness reads, as types.

Only the fields harness uses are declared, with the engine's own names (``Running``,
``SizeRw``...) as aliases. The engine is another program, of versions harness does not
choose: unknown fields are ignored, a missing one takes its default (the engine leaves
``omitempty`` fields out, e.g. ``SizeRw`` of an empty layer), and a field of another type
than documented is read as missing rather than stopping a run: ``read`` never raises.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


A = TypeVar("A", bound=Answer)


def read(kind: type[A], data: object) -> A:
    """``data`` (a decoded JSON answer) as ``kind``; fields of a wrong type are dropped to
    their defaults, and anything not an object is an empty answer."""
    if not isinstance(data, dict):
        return kind()
    try:
        return kind.model_validate(data)
    except ValidationError as err:
        wrong = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
        kept = {k: v for k, v in data.items() if k not in wrong}
        try:
            return kind.model_validate(kept)
        except ValidationError:
            return kind()


# -- containers ------------------------------------------------------------------------


class ContainerState(Answer):
    running: bool = Field(False, alias="Running")
    oom_killed: bool = Field(False, alias="OOMKilled")


class ContainerInspect(Answer):
    """``GET /containers/{id}/json`` (the SDK's ``container.attrs``)."""

    state: ContainerState = Field(ContainerState(), alias="State")


class ExecInspect(Answer):
    """``GET /exec/{id}/json``: None while the process runs (or when the engine lost it)."""

    exit_code: int | None = Field(None, alias="ExitCode")


class ContainerListed(Answer):
    """One row of ``GET /containers/json`` (``?size=true`` adds SizeRw)."""

    size_rw: int = Field(0, alias="SizeRw")  # omitted when 0
    labels: dict[str, str] = Field({}, alias="Labels")  # null for a container without any


# -- images ----------------------------------------------------------------------------


class ImageConfig(Answer):
    user: str | None = Field(None, alias="User")


class ImageInspect(Answer):
    """``GET /images/{name}/json`` (the SDK's ``image.attrs``)."""

    size: int | None = Field(None, alias="Size")
    created: str | None = Field(None, alias="Created")
    config: ImageConfig = Field(ImageConfig(), alias="Config")
    repo_digests: tuple[str, ...] = Field((), alias="RepoDigests")


# -- the engine ------------------------------------------------------------------------


class EngineVersion(Answer):
    """``GET /version``."""

    version: str | None = Field(None, alias="Version")
    api_version: str | None = Field(None, alias="ApiVersion")


class EngineInfo(Answer):
    """``GET /info``."""

    operating_system: str | None = Field(None, alias="OperatingSystem")
    driver: str | None = Field(None, alias="Driver")
    cgroup_version: str | None = Field(None, alias="CgroupVersion")
    cpus: int | None = Field(None, alias="NCPU")
    memory_bytes: int | None = Field(None, alias="MemTotal")


# -- progress streams (pull, build, import) --------------------------------------------


class ProgressDetail(Answer):
    current: int | None = None
    total: int | None = None


class PullProgress(Answer):
    """One JSON line of ``POST /images/create``: a status, per layer (``id``) or not, or
    an ``error``."""

    status: str | None = None
    id: str | None = None
    progress_detail: ProgressDetail = Field(ProgressDetail(), alias="progressDetail")
    error: object = None  # any value here is a failure: said as text


class BuildAux(Answer):
    id: str | None = Field(None, alias="ID")


class BuildChunk(Answer):
    """One decoded chunk of ``POST /build`` (and of ``POST /images/load``/import)."""

    stream: str | None = None
    error: object = None  # any value here is a failure: said as text
    aux: BuildAux | None = None


class ErrorMessage(Answer):
    """The engine's error body: ``{"message": ...}``."""

    message: str | None = None
