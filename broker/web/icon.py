"""/favicon.ico: every browser asks for it beside each page. Loper has no icon, and a 404 for it
would be logged as a failed request (a warning with an error id, counted in
loper_failures_total) once per page a pupil opens: it answers 204, cached for a week."""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("icon", __name__)
WEEK = 7 * 24 * 3600


@bp.get("/favicon.ico")
def favicon() -> Response:
    response = Response(status=204)
    response.headers["Cache-Control"] = f"public, max-age={WEEK}"
    return response
