"""Text people write for others to read: a supplier's reasons, shown to pupils and schools,
and a school's reason for suspending a supplier, shown to its pupils. Plain text only:
control characters, and Unicode's bidirectional controls (which make a text read backwards
or hide a part of it, e.g. U+202E), are refused where the text comes in.
"""

from __future__ import annotations

import re

_NOT_PLAIN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def is_plain(text: str) -> bool:
    return _NOT_PLAIN.search(text) is None
