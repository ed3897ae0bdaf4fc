"""What an adapter asks the browser to do next, free of any web framework.

The web layer turns an Outgoing into a 303 redirect or an auto-submitting POST form
(templates/post_form.html), in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Outgoing:
    url: str
    form: Mapping[str, str] | None = None
    """None: redirect the browser to `url`; otherwise POST these fields to `url`."""
