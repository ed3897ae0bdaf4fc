"""Flask-Babel ships no types: the one module that calls it, handing back typed values.

Loper uses Flask-Babel for what it does per request (the language negotiated, a language
forced for a while, dates and times in the request's language and time zone) and gives it a
domain whose catalogues Loper compiles itself (broker/web/i18n.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime

from babel.core import Locale
from babel.support import Translations
from flask import Flask, current_app
from flask_babel import Babel, Domain, force_locale, format_date, format_datetime, get_locale


class _Compiled(Domain):  # type: ignore[misc]  # flask_babel has no type hints
    """Flask-Babel's domain, with the catalogue of the request's language picked by Loper
    (from catalogues compiled once at start) instead of read from .mo files."""

    def __init__(self, pick: Callable[[], Translations]) -> None:
        super().__init__()
        self.pick = pick

    def get_translations(self) -> Translations:
        return self.pick()


def init_app(app: Flask, *, default: str, negotiate: Callable[[], str],
             time_zone: Callable[[], str], catalogue: Callable[[], Translations]) -> None:
    """Flask-Babel for `app`: `negotiate` picks a request's language (`default` outside a
    request), `time_zone` its time zone, `catalogue` the compiled catalogue of its language."""
    babel = Babel()
    babel.init_app(app, default_locale=default, locale_selector=negotiate,
                   timezone_selector=time_zone)
    babel.__dict__["domain_instance"] = _Compiled(catalogue)  # the cached_property, set once


def translations() -> Translations:
    """The catalogue of this request's language, as the app's domain picks it."""
    domain = current_app.extensions["babel"].instance.domain_instance
    found: Translations = domain.get_translations()
    return found


def locale() -> Locale | None:
    """The language negotiated for this request (or forced by `in_language`); None outside
    a request."""
    found: Locale | None = get_locale()
    return found


def in_language(lang: str) -> AbstractContextManager[None]:
    """`with in_language("en"):` texts, dates and times in that language, whatever the
    request's."""
    forced: AbstractContextManager[None] = force_locale(lang)
    return forced


def local_time(at: datetime, form: str) -> str:
    """`at` in the request's time zone and language, in the babel pattern `form`."""
    shown: str = format_datetime(at, form)
    return shown


def local_date(day: date, form: str) -> str:
    shown: str = format_date(day, form)
    return shown
