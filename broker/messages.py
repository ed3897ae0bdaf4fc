"""A text for a person, kept as a catalogue key and its parameters until it is shown.

The checks of a federation file, a registration form or an alias CSV file, and the audit
trail's own reasons, are shared by the admin portal and the `broker` command line: they say
what is wrong as a Message, and whoever shows it picks the language. The portal renders it
in the page's language (broker/web/i18n.py `say`), with each value taken from the file (an
id, a field, a URL) set apart as code; `str(message)` is the English text, for the command
line and the log. No Flask here.

Parameters are text, numbers, other Messages (an "expected ..." part) or tuples of these
(a list, joined with commas).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Union

from babel.support import Translations
from markupsafe import Markup

from broker.jsonvalue import Json, JsonObject

Param = Union[str, int, "Message", tuple["Param", ...]]
Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Message:
    key: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def render(self, gettext: Gettext, *, html: bool = False) -> str:
        """The text in the language of `gettext`; `html`: escaped, values from the file in
        <code>."""
        values = {name: _value(value, gettext, html) for name, value in self.params.items()}
        if html:
            return str(Markup.escape(gettext(self.key)) % values)
        return gettext(self.key) % values

    def __str__(self) -> str:
        return self.render(_catalogue("en").gettext)

    def __hash__(self) -> int:
        return hash((self.key, repr(sorted(self.params.items()))))

    def as_json(self) -> JsonObject:
        return {"key": self.key, "params": {k: _json(v) for k, v in self.params.items()}}


def msg(key: str, /, **params: Param) -> Message:
    return Message(key, params)


def from_json(value: Json) -> Message | None:
    """A Message stored with `as_json` (the audit trail); None for anything else."""
    if not isinstance(value, dict):
        return None
    key, params = value.get("key"), value.get("params")
    if not isinstance(key, str):
        return None
    return Message(key, {k: _unjson(v) for k, v in params.items()}
                   if isinstance(params, dict) else {})


def _value(value: Param, gettext: Gettext, html: bool) -> object:
    if isinstance(value, Message):
        shown = value.render(gettext, html=html)
        return Markup(shown) if html else shown
    if isinstance(value, tuple):
        parts = [_value(v, gettext, html) for v in value]
        return (Markup(", ").join(p if isinstance(p, Markup) else str(p) for p in parts)
                if html else ", ".join(str(p) for p in parts))
    if isinstance(value, str) and html:
        return Markup("<code>%s</code>") % value
    return value


def _json(value: Param) -> Json:
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return value


def _unjson(value: Json) -> Param:
    if isinstance(value, dict):
        return from_json(value) or ""
    if isinstance(value, list):
        return tuple(_unjson(v) for v in value)
    return value if isinstance(value, str | int) else str(value)


@cache
def _catalogue(lang: str) -> Translations:
    from broker.web.i18n import compile_catalogue  # the catalogues, outside any request

    return compile_catalogue(lang)
