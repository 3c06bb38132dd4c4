"""What every HTML page harness writes shares: the jinja2 environment of the small pages
(the compare page and its installers section) and the status classes of the one status
stylesheet, ``templates/status.css``, which every page includes."""

from __future__ import annotations

from functools import cache

import jinja2

from harness.model import status as statuses

STYLESHEET = "status.css"


def status_class(status: object) -> str:
    """CSS class of a status word in status.css; anything unknown gets a neutral look
    rather than a broken one (probe output is free-form)."""
    known = isinstance(status, str) and status in statuses.WORDS
    return f"st-{status}" if known else "st-unknown"


@cache
def environment() -> jinja2.Environment:
    """Templates under harness/documents/templates, every value escaped (container output
    is untrusted), a missing variable an error rather than an empty string."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.documents", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(status_class=status_class, stylesheet=STYLESHEET)
    return env


def page(name: str) -> jinja2.Template:
    return environment().get_template(name)
