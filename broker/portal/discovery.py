"""The school picker (/discovery): search by name or place, remembers the last choice.

Works without JavaScript: every school is a plain link carrying `school=<id>`; the search is a
GET form filtered on the server.
"""

from __future__ import annotations

import unicodedata

from flask import Blueprint, Response, render_template, request

from broker.records import School
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.i18n import language, translator
from broker.web.respond import to_response

bp = Blueprint("discovery", __name__)

LAST_CHOICE_DAYS = 365


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matches(school: School, query: str) -> bool:
    words = _fold(query).split()
    haystack = _fold(f"{school.name} {school.place or ''} {school.id}")
    return all(word in haystack for word in words)


@bp.get("/discovery")
def discovery() -> Response:
    login_id = request.args.get("login", "")[:64]
    browser, _ = cookies.browser_id(request)
    the_flow = flow()
    login = the_flow.pending(login_id, browser)
    school_id = request.args.get("school")
    if school_id:
        response = to_response(the_flow.choose_school(login.id, school_id[:128], browser))
        cookies.set_cookie(response, broker().settings, cookies.LAST_SCHOOL, school_id[:128],
                           max_age=LAST_CHOICE_DAYS * 86400, cross_site=False)
        return response
    query = request.args.get("q", "")[:100]
    schools = [s for s in broker().registry.schools() if matches(s, query)]
    last = broker().registry.school(request.cookies.get(cookies.LAST_SCHOOL, "")[:128])
    supplier = broker().registry.supplier(login.supplier_id)
    lang = language()
    html = render_template("discovery.html", t=translator(lang), lang=lang, login=login.id,
                           query=query, schools=schools, last=last, supplier=supplier)
    return Response(html, mimetype="text/html")
