"""Outgoing -> HTTP, in one place: a 303 redirect or an auto-submitting POST form; and the
pages of a login or logout in progress, which a browser must never show again from its cache."""

from __future__ import annotations

from flask import Response, render_template

from broker.outgoing import Outgoing


def to_response(outgoing: Outgoing) -> Response:
    if outgoing.form is None:
        response = Response(status=303)
        response.headers["Location"] = outgoing.url
        return response
    return live_page(render_template("post_form.html", url=outgoing.url, fields=outgoing.form))


def live_page(html: str) -> Response:
    """A page that belongs to this moment (the school picker of a pending login, the logout
    form with its token): Back asks for it afresh instead of showing a copy that looks live
    but whose login has moved on."""
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
