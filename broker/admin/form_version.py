"""Which version of the data an admin's form was built from, so that a save from a page built
from older data (another admin, or another tab, saved in between) is refused instead of
silently undoing that change.

No Flask here. A form carries FIELD, a hidden field with the `fingerprint` of the data it was
built from; on a save, the view compares what the form says (`built_from`) with the
fingerprint of the data as it is now. A form without the field, or with a value of another
shape, reads as "": it matches no data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence

FIELD = "built_from"
"""The hidden field with the fingerprint of the data the form was built from."""
_SHAPE = re.compile(r"[0-9a-f]{16}")

Jsonable = None | bool | int | float | str | Sequence["Jsonable"] | Mapping[str, "Jsonable"]
"""A value json.dumps writes: its sequences lists or tuples, its mappings dicts (typed
read-only, so that a list of str or a dict of str is one too)."""


def fingerprint(value: Jsonable) -> str:
    """A short fingerprint of `value`: the same for an equal value, in any process (the keys of
    a mapping in any order); another one after any change to it. Not secret: it only says
    which data a form was built from."""
    canonical = json.dumps(value, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def built_from(form: Mapping[str, str]) -> str:
    """The fingerprint the form says it was built from; "" when it carries none."""
    value = form.get(FIELD, "")
    return value if _SHAPE.fullmatch(value) else ""
