"""The school picker (/discovery): search by name or place, remembers the last choice.

Works without JavaScript: every school is a plain link carrying `school=<id>`; the search is a
GET form filtered on the server. The search forgives what children type: case, accents
("Petrus" finds "Pétrus"), "st." or "st" for "sint", and a typo or two ("regenbog" finds
"De Regenboog"): exact matches first, close ones only when nothing matches exactly.
"""

from __future__ import annotations

import functools
import unicodedata

from flask import Blueprint, Response, render_template, request

from broker.records import School
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.i18n import language
from broker.web.respond import to_response

bp = Blueprint("discovery", __name__)

LAST_CHOICE_DAYS = 365
LIST_ALL_UP_TO = 30
"""A small federation lists every school; a national one asks for a name or place first."""
MAX_MATCHES = 50


ABBREVIATIONS = {"st": "sint", "ste": "sint"}
"""Short forms typed for a word of a school's name ("st." is "sint" in Dutch school names)."""


@functools.lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return " ".join(ABBREVIATIONS.get(word, word) for word in words)


def _haystack(school: School) -> str:
    return _fold(f"{school.name} {school.place or ''} {school.id}")


def matches(school: School, words: list[str]) -> bool:
    haystack = _haystack(school)
    return all(word in haystack for word in words)


def _typos_allowed(word: str) -> int:
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


@functools.lru_cache(maxsize=65536)  # school names share most of their words
def _edits(typed: str, word: str, limit: int) -> int | None:
    """How many edits (insert, delete, change, swap) make `typed` into `word` or into its
    start (a child types the first part of a name); None when more than `limit`."""
    if len(word) < len(typed) - limit:
        return None
    previous2: list[int] = []
    previous = list(range(len(word) + 1))
    for i, a in enumerate(typed, 1):
        row = [i] + [0] * len(word)
        for j, b in enumerate(word, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == word[j - 2] and typed[i - 2] == b:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return None
        previous2, previous = previous, row
    best = min(previous[max(0, len(typed) - limit):])
    return best if best <= limit else None


def closeness(school: School, words: list[str]) -> int | None:
    """The edits needed for every typed word to be in the name or place or close to one of
    its words (0: all found as typed); None when a word is not close to anything."""
    haystack = _haystack(school)
    parts = haystack.split()
    total = 0
    for word in words:
        if word in haystack:
            continue
        edits = [e for part in parts if (e := _edits(word, part, _typos_allowed(word)))
                 is not None]
        if not edits:
            return None
        total += min(edits)
    return total


def pickable(schools: list[School]) -> list[School]:
    """The schools a pupil picks: those behind a hub (broker/hubs.py), never the hub itself."""
    return [s for s in schools if not s.hub]


def listed(schools: list[School], query: str) -> tuple[list[School], bool]:
    """The schools to show for this query, and whether there were more than we show."""
    words = _fold(query).split()
    if not words:
        return (schools, False) if len(schools) <= LIST_ALL_UP_TO else ([], True)
    found = [s for s in schools if matches(s, words)]
    if not found and any(_typos_allowed(word) for word in words):  # the closest first
        scored = [(d, n) for n, s in enumerate(schools)
                  if (d := closeness(s, words)) is not None]
        found = [schools[n] for _, n in sorted(scored)]
    return found[:MAX_MATCHES], len(found) > MAX_MATCHES


@bp.get("/discovery")
def discovery() -> Response:
    login_id = request.args.get("login", "")[:64]
    browser, _ = cookies.browser_id(request, broker().settings)
    the_flow = flow()
    login = the_flow.pending(login_id, browser)
    school_id = request.args.get("school")
    if school_id:
        response = to_response(the_flow.choose_school(login, school_id[:128]))
        cookies.set_cookie(response, broker().settings, cookies.LAST_SCHOOL, school_id[:128],
                           max_age=LAST_CHOICE_DAYS * 86400, cross_site=False)
        return response
    query = request.args.get("q", "")[:100]
    schools, more = listed(pickable(broker().registry.schools()), query)
    last_choice = cookies.read(request, broker().settings, cookies.LAST_SCHOOL)[:128]
    last = broker().registry.school(last_choice) if last_choice else None
    last = None if last is not None and last.hub else last
    supplier = broker().registry.supplier(login.supplier_id)
    settings = broker().settings
    help_text = settings.picker_help_en if language() == "en" else settings.picker_help_nl
    html = render_template("discovery.html", login=login.id, query=query, schools=schools,
                           more=more, last=last, supplier=supplier, not_listed_help=help_text)
    return Response(html, mimetype="text/html")
