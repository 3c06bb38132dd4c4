"""Test probe: runs long enough for a test to interrupt the run mid-cell."""

import json
import time

time.sleep(120)
print(json.dumps({"status": "passed", "seconds": 120}))
