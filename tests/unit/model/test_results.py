"""The typed results accept what the probes really write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.model.results import EnvProbe

PROBES = Path(__file__).resolve().parents[3] / "harness" / "probes"


def test_an_os_release_without_a_version_id_is_a_valid_env_probe() -> None:
    # Debian sid's os-release has no VERSION_ID: probes/env.py writes null for it, and a
    # real run's results.json (found by `make matrix`) must load.
    probe = EnvProbe.from_dict(
        {"status": "passed", "os_release": {"ID": "debian", "VERSION_ID": None}}, "env"
    )
    assert probe.os_release == {"ID": "debian", "VERSION_ID": None}


def test_the_env_probe_s_own_output_on_this_host_is_a_valid_env_probe() -> None:
    done = subprocess.run(
        [sys.executable, str(PROBES / "env.py")], capture_output=True, text=True, timeout=120
    )
    output = json.loads(done.stdout.strip().splitlines()[-1])
    assert EnvProbe.from_dict(output, "env").os_release == output["os_release"]
