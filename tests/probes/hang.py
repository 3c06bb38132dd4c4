"""Test probe: never finishes (the step timeout must stop it)."""

import time

time.sleep(10_000)
