"""Flask-Login ships no types: the one module that calls it, handing back typed values.

Flask-Login keeps who is signed in to the admin portal: its session cookie names an
`AdminSession` (an admin and the id of their server-side session, broker/admin/auth.py),
which `signed_in()` hands back typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_login import login_required as _login_required
from werkzeug.wrappers import Response

from broker.registry.admins import Admin

View = TypeVar("View", bound=Callable[..., Any])


class AdminSession(UserMixin):  # type: ignore[misc]  # flask_login has no type hints
    """A signed-in admin as Flask-Login keeps them: its user id is the server-side session's."""

    def __init__(self, admin: Admin, session_id: str) -> None:
        self.admin = admin
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id


def init_app(app: Flask, load: Callable[[str], AdminSession | None],
             unauthorized: Callable[[], Response]) -> None:
    """Flask-Login for `app`: `load` finds the session a cookie names (None: signed out),
    `unauthorized` answers an anonymous visitor of a view that needs an admin."""
    manager = LoginManager()
    manager.user_loader(load)
    manager.unauthorized_handler(unauthorized)
    manager.init_app(app)


def login_required(view: View) -> View:
    """Flask-Login's decorator, typed: anonymous visitors get `unauthorized`."""
    return cast(View, _login_required(view))


def signed_in() -> AdminSession | None:
    """The admin session of this request; None for an anonymous visitor or outside a
    request."""
    user: object = current_user._get_current_object()
    return user if isinstance(user, AdminSession) and user.is_authenticated else None


def sign_in(session: AdminSession) -> None:
    login_user(session)


def sign_out() -> None:
    logout_user()
