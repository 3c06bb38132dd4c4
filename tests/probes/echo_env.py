"""Test probe: prints the run's secrets from its environment, on stdout, stderr and in its
JSON, so the redaction of every output is tested on real container output."""

import json
import os
import sys
import time

started = time.perf_counter()
token = os.environ.get("HARNESS_API_TOKEN", "")
index = os.environ.get("PIP_EXTRA_INDEX_URL", "")
print(f"HARNESS_API_TOKEN={token}")
print(f"PIP_EXTRA_INDEX_URL={index}")
print(f"HARNESS_API_TOKEN={token}", file=sys.stderr)
facts = {
    "status": "passed" if token else "failed",
    "seconds": round(time.perf_counter() - started, 6),
    "token": token,
    "extra_index_url": index,
    "as_key": {token: "the secret as a key"},
    "as_list": [token, f"Bearer {token}"],
}
if not token:
    facts["error"] = "HARNESS_API_TOKEN is not set in the container"
print(json.dumps(facts))
sys.exit(0 if token else 1)
