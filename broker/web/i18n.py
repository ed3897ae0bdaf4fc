"""One language system for every page, pupil and admin: Flask-Babel over Loper's gettext
catalogues (broker/translations/<lang>/LC_MESSAGES/messages.po), Dutch first.

Messages are found by key ("pupil.choose_school", "admin.saved", "error.<code>.title"); both
catalogues give every key its text, so neither language is the other's fallback. Placeholders
are %(name)s, and a literal % is written %% (see docs/i18n.md). The catalogues are compiled
from the checked-in .po files when the app starts: there are no .mo files to drift from them.

The language of a request (negotiate): ?lang=nl|en (remembered in a cookie for every later
page), else that remembered choice, else the browser's Accept-Language, else Dutch. Times are
shown in Europe/Amsterdam.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, Response, current_app, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from broker import attributes
from broker.languages import LANGUAGES
from broker.localtime import LOCAL_TIME
from broker.messages import Message
from broker.records import AttributeRequest
from broker.web import babel_door, cookies
from broker.web.babel_door import in_language as in_language  # pages and mails use it
from broker.web.current import broker

DEFAULT = "nl"
COOKIE = "loper_lang"
REMEMBER_DAYS = 365
CATALOGUES = Path(__file__).resolve().parents[1] / "translations"

log = logging.getLogger("loper.i18n")


class MissingMessage(UserWarning):
    """A key that a catalogue does not have: shown as the key itself, never as another
    language (the tests turn this warning into a failure)."""


class _Missing(NullTranslations):
    def gettext(self, message: str) -> str:
        warnings.warn(f"no message {message!r} in the catalogue", MissingMessage, stacklevel=2)
        log.error("no message %r in the catalogue", message)
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular)


def read_catalogue(lang: str, folder: Path = CATALOGUES) -> Catalog:
    """The checked-in catalogue of `lang`, as babel reads it."""
    with (folder / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=lang)


def compile_catalogue(lang: str, folder: Path = CATALOGUES) -> Translations:
    """Compile the .po file of `lang` in memory; fuzzy entries are left out, as msgfmt does."""
    mo = io.BytesIO()
    write_mo(mo, read_catalogue(lang, folder), use_fuzzy=False)
    mo.seek(0)
    translations = Translations(mo, domain="messages")
    translations.add_fallback(_Missing())
    return translations


def negotiate() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    kept = cookies.read(request, broker().settings, COOKIE)
    if kept in LANGUAGES:
        return kept
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def language() -> str:
    """The language of this request: "nl" or "en"."""
    return str(babel_door.locale() or DEFAULT)


def other_language() -> str:
    return _other(language())


def _other(lang: str) -> str:
    return "en" if lang == "nl" else "nl"


OWN_PAGES = ("discovery", "transparency", "logout", "admin")
"""Blueprints of Loper's own pages: their query (a login id, a search) is kept in the link to
the other language."""


def switch_language_url() -> str | None:
    """This page in the other language (a GET with ?lang=). A page answering a form of
    Loper's own (a POST) links to the page of that form, fetched again: what was typed is
    not sent twice. None where the page answers a supplier's or school's message (a
    protocol endpoint), which is not fetched again, or a pupil's button that posts to an
    address of its own (the logout's "try again", on a page Loper cannot tell from that
    address): its error page links to itself shown again instead
    (broker/web/error_again.py)."""
    if request.blueprint in OWN_PAGES:
        args = request.args.to_dict(flat=False)
    elif request.blueprint is None and request.method == "GET":  # a page that does not exist
        args = {}
    else:
        return None
    path = request.path if request.method == "GET" else _form_page(
        request.path, above=request.blueprint == "admin")
    if path is None:
        return None
    args["lang"] = [other_language()]
    return f"{path}?{urlencode(args, doseq=True)}"


def _form_page(path: str, above: bool) -> str | None:
    """The page a form posted to `path` is on: `path` itself if a GET answers it; else, with
    `above` (the admin portal: .../suspend is a button on ...), the nearest path above it
    that one does. None: no such page (a pupil's button posting to an address of its own,
    such as /logout/retry, is not on the page above it)."""
    adapter = current_app.create_url_adapter(request)
    while adapter is not None and path not in ("", "/"):
        try:
            adapter.match(path, method="GET")
        except (HTTPException, RequestRedirect):
            path = path.rsplit("/", 1)[0] if above else ""
        else:
            return path
    return None


def text(key: str, **params: object) -> str:
    """The message `key` in this request's language, its %(name)s placeholders filled."""
    message: str = babel_door.translations().gettext(key)
    return message % params


def plural(key: str, n: int, **params: object) -> str:
    """The singular or plural form of `key` for the number `n` (%(n)s in the message)."""
    message: str = babel_door.translations().ngettext(key, key, n)
    return message % {"n": n, **params}


def say(message: Message, code: bool = True) -> str:
    """A Message (a problem found in a file or form, an audit reason) in this request's
    language; `code`: as HTML, its values from the file set apart as code (else plain text,
    e.g. for an <option>)."""
    shown = message.render(babel_door.translations().gettext, html=code)
    return Markup(shown) if code else shown


def in_both_languages(make: Callable[[], str], between: str) -> str:
    """`make()` in Dutch, then in English: for a mail to someone whose language is not known."""
    made = []
    for lang in LANGUAGES:
        with in_language(lang):
            made.append(make())
    return between.join(made)


def attribute_word(name: str) -> str:
    """An attribute's plain words ("voornaam"); a name outside the vocabulary as it is."""
    return text(f"attribute.{name}") if name in attributes.BY_NAME else name


def why_words(asked: AttributeRequest, css: str = "") -> Markup:
    """A supplier's reason for asking, in this page's language if it wrote one: marked as
    the supplier's own words, with the language it is in when that is stated."""
    words, lang = asked.reason(language())
    return Markup("<span{}{} data-user-text>{}</span>").format(
        Markup(' class="{}"').format(css) if css else "",
        Markup(' lang="{}"').format(lang) if lang else "", words)


def local_time(at: datetime, form: str = "d MMM y, HH:mm") -> str:
    """A moment as people here read it: Dutch time, in this request's language."""
    return babel_door.local_time(at, form)


def local_date(day: date, form: str = "long") -> str:
    return babel_door.local_date(day, form)


def _jinja_text(key: str, **params: object) -> Markup:
    """_() in templates: the message escaped, then its placeholders filled (and escaped)."""
    return _text_in(babel_door.translations(), key, **params)


def _jinja_plural(key: str, n: int, **params: object) -> Markup:
    return _plural_in(babel_door.translations(), key, n, **params)


def _text_in(catalogue: Translations, key: str, **params: object) -> Markup:
    return Markup.escape(catalogue.gettext(key)) % params


def _plural_in(catalogue: Translations, key: str, n: int, **params: object) -> Markup:
    return Markup.escape(catalogue.ngettext(key, key, n)) % {"n": n, **params}


def init_app(app: Flask) -> None:
    compiled = {lang: compile_catalogue(lang) for lang in LANGUAGES}  # once, at start
    babel_door.init_app(app, default=DEFAULT, negotiate=negotiate,
                        time_zone=lambda: LOCAL_TIME.key,
                        catalogue=lambda: compiled.get(language(), compiled[DEFAULT]))
    globals_: dict[str, Callable[..., object]] = {
        "_": _jinja_text, "plural": _jinja_plural, "language": language,
        "other_language": other_language, "switch_language_url": switch_language_url,
        "local_time": local_time, "local_date": local_date, "attribute_word": attribute_word,
        "why_words": why_words, "say": say}
    app.jinja_env.globals.update(globals_)

    @app.context_processor
    def current_language() -> dict[str, object]:
        """The page's language, the other one, and _() and plural() in its catalogue, found
        once per page rather than once per call (a template imported without context uses
        the globals above, which find them per call)."""
        lang, catalogue = language(), babel_door.translations()
        other = _other(lang)
        return {"lang": lang, "language": lambda: lang, "other_language": lambda: other,
                "_": partial(_text_in, catalogue), "plural": partial(_plural_in, catalogue)}

    @app.after_request
    def remember_choice(response: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and cookies.read(request, broker().settings, COOKIE) != chosen:
            cookies.set_cookie(response, broker().settings, COOKIE, str(chosen),
                               max_age=REMEMBER_DAYS * 86400, cross_site=False)
        return response
