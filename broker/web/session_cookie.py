"""Flask's signed session cookie, read only from a request that carries one.

Only the admin portal writes it (sign-in, the second factor, its CSRF binding); a pupil's
login, the picker and the protocol endpoints never do, and their requests carry no such
cookie. Flask builds the cookie's signing serializer on every request all the same, about
12 us of the ~120 a request costs in process: here a request without the cookie gets an
empty session at once, and a session nobody read or wrote is not saved (Flask would read
its seven cookie settings to do nothing with it). Whatever writes to it is signed and sent
exactly as Flask does.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class OnlyWhenSent(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)
