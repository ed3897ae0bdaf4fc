"""The school picker (/discovery): search by name or place, remembers the last choice.

Works without JavaScript: every school is a plain link carrying `school=<id>`; the search is a
GET form filtered on the server. The search forgives what children type: case, accents
("Petrus" finds "Pétrus"), "st." or "st" for "sint", and a typo or two ("regenbog" finds
"De Regenboog"): exact matches first, close ones only when nothing matches exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, Response, render_template, request, url_for

from broker import flow_cancel
from broker.portal.search_index import MAX_MATCHES as MAX_MATCHES
from broker.portal.search_index import S, SearchIndex, fold, picker_index
from broker.records import School
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.i18n import language
from broker.web.respond import live_page, to_response

bp = Blueprint("discovery", __name__)

LAST_CHOICE_DAYS = 365
LIST_ALL_UP_TO = 30
"""A small federation lists every school; a national one asks for a name or place first."""


def pickable(schools: list[School]) -> list[School]:
    """The schools a pupil picks: those behind a hub (broker/hubs.py), never the hub itself."""
    return [s for s in schools if not s.hub]


def listed(schools: Sequence[S], query: str,
           index: SearchIndex[S] | None = None) -> tuple[list[S], bool]:
    """The schools to show for this query (at most MAX_MATCHES), and whether there were more
    than we show; `index`: the schools' search index when one is at hand."""
    words = fold(query).split()
    if not words:
        return (list(schools), False) if len(schools) <= LIST_ALL_UP_TO else ([], True)
    return (index or SearchIndex(schools)).search(words)


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
    query = " ".join(request.args.get("q", "")[:100].split())  # spaces alone: no search
    index = picker_index(broker().registry)
    schools, more = listed(index.schools, query, index)
    last_choice = cookies.read(request, broker().settings, cookies.LAST_SCHOOL)[:128]
    last = broker().registry.school(last_choice) if last_choice else None
    last = None if last is not None and last.hub else last
    supplier = broker().registry.supplier(login.supplier_id)
    settings = broker().settings
    help_text = settings.picker_help_en if language() == "en" else settings.picker_help_nl
    html = render_template("discovery.html", login=login.id, query=query, schools=schools,
                           more=more, last=last, supplier=supplier, not_listed_help=help_text,
                           stop_url=url_for("discovery.cancel", login=login.id))
    return live_page(html)


@bp.get("/discovery/cancel")
def cancel() -> Response:
    """The pupil stops the login (a plain link, no JavaScript): the app that asked for it gets
    its answer, that nobody logged in (broker/flow_cancel.py)."""
    login_id = request.args.get("login", "")[:64]
    browser, _ = cookies.browser_id(request, broker().settings)
    return to_response(flow_cancel.cancel(flow(), login_id, browser))
