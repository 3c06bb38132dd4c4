"""Test probe: tries to reach the outside world; passes only when nothing can be reached.

Probes run with the container's network cut off (docs/design.md), so every attempt must
fail, and the only network interface left is the loopback.
"""

import json
import os
import socket
import sys
import time

TARGETS = [("1.1.1.1", 53), ("8.8.8.8", 443), ("pypi.org", 443), ("deb.debian.org", 80)]

started = time.perf_counter()
attempts = {}
for host, port in TARGETS:
    try:
        with socket.create_connection((host, port), timeout=3):
            attempts[f"{host}:{port}"] = "connected"
    except OSError as err:
        attempts[f"{host}:{port}"] = f"{type(err).__name__}: {err}"
connected = [target for target, outcome in attempts.items() if outcome == "connected"]
try:
    interfaces = sorted(os.listdir("/sys/class/net"))
except OSError as err:
    interfaces = [f"unknown: {err}"]
facts = {
    "status": "failed" if connected else "passed",
    "seconds": round(time.perf_counter() - started, 3),
    "attempts": attempts,
    "connected": connected,
    "interfaces": interfaces,
}
if connected:
    facts["error"] = f"reached {', '.join(connected)} from a probe"
print(json.dumps(facts))
sys.exit(1 if connected else 0)
