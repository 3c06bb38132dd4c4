"""Test probe: prints every environment variable it sees (stdout, stderr, its JSON), so the
redaction by value is tested on variables whose names do not look secret."""

import json
import os
import sys
import time

started = time.perf_counter()
for key, value in sorted(os.environ.items()):
    print(f"{key}={value}")
    print(f"{key}={value}", file=sys.stderr)
print(
    json.dumps(
        {"status": "passed", "seconds": time.perf_counter() - started, "env": dict(os.environ)}
    )
)
