"""Test probe: takes a few seconds, so two concurrent runs surely overlap."""

import json
import time

started = time.perf_counter()
time.sleep(8)
print(json.dumps({"status": "passed", "seconds": round(time.perf_counter() - started, 3)}))
