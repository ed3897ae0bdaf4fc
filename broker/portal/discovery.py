"""The school picker (/discovery): search by name or place, remembers the last choice.

Works without JavaScript: every school is a plain link carrying `school=<id>`; the search is a
GET form filtered on the server.
"""

from __future__ import annotations

import functools
import unicodedata

from flask import Blueprint, Response, render_template, request

from broker.records import School
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.i18n import language, translator
from broker.web.respond import to_response

bp = Blueprint("discovery", __name__)

LAST_CHOICE_DAYS = 365
LIST_ALL_UP_TO = 30
"""A small federation lists every school; a national one asks for a name or place first."""
MAX_MATCHES = 50


@functools.lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matches(school: School, words: list[str]) -> bool:
    haystack = _fold(f"{school.name} {school.place or ''} {school.id}")
    return all(word in haystack for word in words)


def pickable(schools: list[School]) -> list[School]:
    """The schools a pupil picks: those behind a hub (broker/hubs.py), never the hub itself."""
    return [s for s in schools if not s.hub]


def listed(schools: list[School], query: str) -> tuple[list[School], bool]:
    """The schools to show for this query, and whether there were more than we show."""
    words = _fold(query).split()
    if not words:
        return (schools, False) if len(schools) <= LIST_ALL_UP_TO else ([], True)
    found = [s for s in schools if matches(s, words)]
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
    lang = language()
    html = render_template("discovery.html", t=translator(lang), lang=lang, login=login.id,
                           query=query, schools=schools, more=more, last=last,
                           supplier=supplier)
    return Response(html, mimetype="text/html")
