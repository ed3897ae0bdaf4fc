"""Outgoing -> HTTP, in one place: a 303 redirect or an auto-submitting POST form."""

from __future__ import annotations

from flask import Response, render_template

from broker.outgoing import Outgoing


def to_response(outgoing: Outgoing) -> Response:
    if outgoing.form is None:
        response = Response(status=303)
        response.headers["Location"] = outgoing.url
        return response
    html = render_template("post_form.html", url=outgoing.url, fields=outgoing.form)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
