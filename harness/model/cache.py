"""harness's own cache folder: facts of images, interpreter timings, uv binaries and the
warm wheelhouses, kept between runs and never written beside a user's run folder."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/harness``, else ``~/.cache/harness``."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "harness"
