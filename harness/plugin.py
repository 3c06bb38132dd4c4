"""``pytest -p harness.plugin``: the short name users type for the pytest plugin.

The plugin lives in harness/run/plugin.py; pytest registers every ``pytest_*`` hook it
finds on the module it is given, so re-exporting them here is the whole plugin.
"""

from harness.run.plugin import *  # noqa: F403
from harness.run.plugin import STATE, HarnessState  # noqa: F401
