"""Which app a browser's login was for, once the login's own state is gone.

An error page in the middle of a login whose pending state has expired (or could not be read)
still links back to the app: the cookie LAST_APP (broker/web/cookies.py) names the apps of the
last two logins this browser started, each with when. Only when that is sure does the page
name one: a browser that started logins for two apps within a login's lifetime of each other
(two tabs) may be answering either, and a link to the wrong app is worse than none.
"""

from __future__ import annotations

import re

_ENTRY = re.compile(r"([a-z0-9][a-z0-9._-]{0,63})(?:~([0-9]{1,12}))?")
"""A supplier id (registry/parse.py), and when its login started (absent in a value an
earlier release wrote: then it is the only one)."""


def _entries(value: str) -> list[tuple[str, int]]:
    found = [_ENTRY.fullmatch(part) for part in value.split("/")[:2]]
    return [(m.group(1), int(m.group(2) or 0)) for m in found if m is not None]


def started(value: str, supplier_id: str, now: int) -> str:
    """The cookie's value after a login for `supplier_id` starts at `now`: this app, and the
    last other app this browser started."""
    others = [entry for entry in _entries(value) if entry[0] != supplier_id][:1]
    return "/".join(f"{app}~{at}" for app, at in [(supplier_id, now), *others])


def sure(value: str, window: int) -> str | None:
    """The app of the last login started, unless another app's login started less than
    `window` seconds before it (either may be the one answered now)."""
    entries = _entries(value)
    if not entries:
        return None
    (app, at), *others = entries
    if others and at - others[0][1] < window:
        return None
    return app
