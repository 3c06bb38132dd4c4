"""Test probe: what the container allows, seen from inside (capabilities, no-new-privileges,
the Docker socket, read-only mounts). Passes only when the container is locked down."""

import errno
import json
import os
import sys
import time

# Capabilities a cell must never have (linux/capability.h bit numbers).
FORBIDDEN = {
    "NET_ADMIN": 12,
    "NET_RAW": 13,
    "SYS_MODULE": 16,
    "SYS_RAWIO": 17,
    "SYS_PTRACE": 19,
    "SYS_ADMIN": 21,
    "SYS_BOOT": 22,
    "MKNOD": 27,
    "AUDIT_WRITE": 29,
    "SETFCAP": 31,
    "MAC_ADMIN": 33,
    "BPF": 39,
}
SOCKETS = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"]

started = time.perf_counter()
status = {}
with open("/proc/self/status") as handle:
    for line in handle:
        key, _, value = line.partition(":")
        status[key] = value.strip()
effective = int(status.get("CapEff", "0"), 16)
held = sorted(name for name, bit in FORBIDDEN.items() if effective >> bit & 1)

mounts = []
with open("/proc/self/mounts") as handle:
    for line in handle:
        _device, target, _kind, options = line.split()[:4]
        if target.startswith("/harness"):
            mounts.append({"target": target, "read_only": "ro" in options.split(",")})
writable = []
for mount in mounts:
    probe = os.path.join(mount["target"], ".harness-write-test")
    if os.path.isfile(mount["target"]):
        probe = mount["target"]
    try:
        with open(probe, "a"):
            pass
        writable.append(mount["target"])
        if probe != mount["target"]:
            os.remove(probe)  # leave nothing behind on the host
    except OSError as err:
        if err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            writable.append(f"{mount['target']} ({err})")

problems = []
if held:
    problems.append(f"holds capabilities {', '.join(held)}")
if status.get("NoNewPrivs") != "1":
    problems.append(f"NoNewPrivs is {status.get('NoNewPrivs')!r}")
present = [path for path in SOCKETS if os.path.exists(path)]
if present:
    problems.append(f"engine sockets inside: {', '.join(present)}")
if writable:
    problems.append(f"writable host mounts: {', '.join(writable)}")
if not mounts:
    problems.append("no /harness mount found in /proc/self/mounts")

facts = {
    "status": "failed" if problems else "passed",
    "seconds": round(time.perf_counter() - started, 3),
    "cap_eff": status.get("CapEff"),
    "forbidden_capabilities": held,
    "no_new_privs": status.get("NoNewPrivs"),
    "sockets": present,
    "mounts": mounts,
    "writable_mounts": writable,
    "uid": os.getuid(),
}
if problems:
    facts["error"] = "; ".join(problems)
print(json.dumps(facts))
sys.exit(1 if problems else 0)
