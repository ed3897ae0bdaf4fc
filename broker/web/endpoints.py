"""What an endpoint says about itself, for the hooks and the error handler that serve every
endpoint alike.

- `machine`: it answers software, never a person (the OIDC token, userinfo and revocation
  endpoints, JWKS, discovery): its errors are JSON OAuth errors (RFC 6749 5.2), never a page.
- `published`: it serves a document the process holds (SAML metadata, OIDC discovery, JWKS),
  also while the registry is down: suppliers refreshing it during an outage get the last copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from werkzeug.exceptions import HTTPException

from broker.web import flask_door

View = TypeVar("View", bound=Callable[..., Any])
_MACHINE = "loper_machine"
_PUBLISHED = "loper_published"


def machine(view: View) -> View:
    setattr(view, _MACHINE, True)
    return view


def published(view: View) -> View:
    setattr(view, _PUBLISHED, True)
    return view


def _endpoint() -> str | None:
    """The current request's endpoint; for a method it does not take (405), the endpoint the
    path leads to with another."""
    if request.endpoint is not None:
        return request.endpoint
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in ("GET", "POST"):
        try:
            rule, _ = adapter.match(request.path, method=method, return_rule=True)
        except HTTPException:
            continue
        return flask_door.endpoint(rule)
    return None


def _says(mark: str) -> bool:
    """Does the endpoint of the current request carry `mark`?"""
    view = current_app.view_functions.get(_endpoint() or "")
    return bool(getattr(view, mark, False))


def answers_machines() -> bool:
    return _says(_MACHINE)


def serves_published() -> bool:
    return _says(_PUBLISHED)
