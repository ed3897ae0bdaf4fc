"""What Loper's SAML metadata says besides its endpoints and keys, for the software and people
that read it: a name, description, links and logo (mdui:UIInfo), whom to contact
(md:ContactPerson), how long a copy may be used (validUntil, cacheDuration), and the scopes of
the scoped attributes Loper releases (shibmd:Scope). Shibboleth's stock attribute policy drops a
pairwise-id or schacHomeOrganization whose scope its IdP metadata does not list.

Both of Loper's entities (its IdP for the suppliers, its SP for the schools) publish the same
Presentation, built from the settings by `presentation()`.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from broker.languages import LANGUAGES
from broker.settings import Settings

Localized = tuple[tuple[str, str], ...]
"""(language, text) pairs, in the order published."""

MD = "urn:oasis:names:tc:SAML:2.0:metadata"

_LOGO_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="60" viewBox="0 0 80 60">'
             b'<rect width="80" height="60" rx="8" fill="#1d4ed8"/><text x="40" y="37" '
             b'font-family="sans-serif" font-size="19" font-weight="bold" fill="#fff" '
             b'text-anchor="middle">Loper</text></svg>')
DEFAULT_LOGO = "data:image/svg+xml;base64," + base64.b64encode(_LOGO_SVG).decode("ascii")
"""Loper's name on a blue tile, 80x60, inline (MDUI allows data: URLs): no request to show it."""


@dataclass(frozen=True)
class Logo:
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class Contact:
    kind: str
    """"technical" or "support" (SAML metadata 2.3.2.2, contactType)."""
    email: str


@dataclass(frozen=True)
class Presentation:
    display_name: Localized = (("nl", "Loper"), ("en", "Loper"))
    description: Localized = ()
    information_url: Localized = ()
    privacy_url: Localized = ()
    logo: Logo | None = Logo(DEFAULT_LOGO, 80, 60)
    contacts: tuple[Contact, ...] = ()
    valid_for: int = 7 * 24 * 3600
    """Seconds from a rendering to the validUntil it carries."""
    cache_duration: int = 6 * 3600
    """Seconds a reader may keep a copy before fetching it again (cacheDuration)."""


def presentation(s: Settings) -> Presentation:
    """The Presentation the settings describe (validated in broker.settings)."""
    info = s.metadata_information_url or s.url("/me")
    privacy = s.metadata_privacy_url or s.url("/me")
    contacts = tuple(Contact(kind, email) for kind, email in (
        ("technical", s.contact_technical_email), ("support", s.contact_support_email)) if email)
    return Presentation(
        display_name=(("nl", s.metadata_display_name_nl), ("en", s.metadata_display_name_en)),
        description=(("nl", s.metadata_description_nl), ("en", s.metadata_description_en)),
        information_url=tuple((lang, info) for lang in LANGUAGES),
        privacy_url=tuple((lang, privacy) for lang in LANGUAGES),
        logo=Logo(s.metadata_logo_url or DEFAULT_LOGO, s.metadata_logo_width,
                  s.metadata_logo_height),
        contacts=contacts, valid_for=s.metadata_valid_days * 24 * 3600,
        cache_duration=s.metadata_cache_hours * 3600)


def duration(seconds: int) -> str:
    """An xs:duration: PT6H for six hours, PT90S for 90 seconds."""
    return f"PT{seconds // 3600}H" if seconds % 3600 == 0 else f"PT{seconds}S"


RENDER_AGAIN = 3600
"""Seconds a rendering of Loper's metadata is served before it is rendered again (and its
validUntil moved on)."""


class Renderings:
    """The last rendering of a metadata document, by the scopes it lists: rendered again when
    they change, or RENDER_AGAIN seconds after the last time. Thread-safe; a rendering takes
    milliseconds."""

    def __init__(self, render: Callable[[tuple[str, ...], dt.datetime], str],
                 clock: Callable[[], float]) -> None:
        self._render, self._clock = render, clock
        self._lock = threading.Lock()
        self._scopes: tuple[str, ...] = ()
        self._xml = ""
        self._at = -math.inf

    def get(self, scopes: Sequence[str] | None = ()) -> str:
        """The document listing `scopes` (None: those of the last rendering)."""
        with self._lock:
            wanted = self._scopes if scopes is None else tuple(scopes)
            now = self._clock()
            if wanted != self._scopes or now - self._at >= RENDER_AGAIN or not self._xml:
                self._xml = self._render(wanted, dt.datetime.fromtimestamp(now, dt.UTC))
                self._scopes, self._at = wanted, now
            return self._xml
