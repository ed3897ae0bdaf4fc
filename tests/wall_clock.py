"""The wall clock in tests that log in at a school which dates a login in whole seconds."""

from __future__ import annotations

import time


def next_second() -> None:
    """Wait until the clock has passed a whole second. A login at the school after this call is
    dated (in whole seconds, as a SAML AuthnInstant) after any moment before it: a person who
    took a moment to type their password, not an earlier session reused in the same second."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)
