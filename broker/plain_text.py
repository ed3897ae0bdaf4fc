"""Text people write for others to read: a supplier's reasons, shown to pupils and schools,
and a school's reason for suspending a supplier, shown to its pupils. Plain text only:
control characters, and Unicode's bidirectional controls (which make a text read backwards
or hide a part of it, e.g. U+202E), are refused where the text comes in. A text that shows
nothing (spaces, and characters that take no room: a zero-width space, a word joiner, a
byte-order mark...) is no text: `tidy` makes it empty, so a reason typed as such is missing.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_PLAIN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BLANK = frozenset("\u115f\u1160\u2800\u3164\uffa0")
"""Letters and symbols that are drawn as nothing (the Hangul fillers, the blank Braille cell)."""


def is_plain(text: str) -> bool:
    return _NOT_PLAIN.search(text) is None


def _shows(char: str) -> bool:
    return char not in _BLANK and unicodedata.category(char) not in ("Cf", "Zs", "Zl", "Zp")


def tidy(text: str) -> str:
    """`text` with its spacing tidied (one space between words, none around them); empty if
    it shows nothing at all."""
    spaced = " ".join(text.split())
    return spaced if any(map(_shows, spaced)) else ""
