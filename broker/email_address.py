"""The one check of an e-mail address all of Loper uses: an admin's, an invitation's, and the
contact and sender addresses in the settings."""

from __future__ import annotations

import re

MAX_EMAIL = 254
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_EMAIL = re.compile(r'[^@\s<>()\[\]\\,;:"\x00-\x1f\x7f-\x9f]{1,64}@'
                    rf"(?:{_LABEL}\.)+[^\W\d_]{{2,63}}")
"""An address as a person types it: one @, no spaces, angle brackets, quotes or control
characters; a domain of letters, digits and hyphens, with a dot and a top-level domain."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_email(email: str) -> bool:
    """Whether `email` (normalised) has the form of an e-mail address."""
    return len(email) <= MAX_EMAIL and _EMAIL.fullmatch(email) is not None
