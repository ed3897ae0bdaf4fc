"""Flask-Login behind its door (broker/admin/login_door.py): the admin session its cookie
names, handed back typed; anonymous visitors of a protected view get `unauthorized`."""

from __future__ import annotations

from flask import Flask, Response

from broker.admin import login_door
from broker.admin.login_door import AdminSession
from broker.registry.admins import Admin

ADMIN = Admin(id=7, email="ict@regenboog.example", role="school", schools=frozenset({"a"}),
              supplier_id=None, totp_enabled=False, epoch=1)


def test_signed_in_is_the_session_the_cookie_names() -> None:
    app = Flask(__name__)
    app.secret_key = "test"
    sessions = {"s1": AdminSession(ADMIN, "s1")}
    login_door.init_app(app, sessions.get, lambda: Response("who?", 401))

    @app.get("/me")
    @login_door.login_required
    def me() -> str:
        session = login_door.signed_in()
        assert session is not None
        return f"{session.admin.email} {session.session_id}"

    @app.post("/in")
    def sign_in() -> str:
        login_door.sign_in(sessions["s1"])
        return ""

    @app.post("/out")
    def sign_out() -> str:
        login_door.sign_out()
        return ""

    client = app.test_client()
    assert client.get("/me").status_code == 401
    client.post("/in")
    assert client.get("/me").text == "ict@regenboog.example s1"
    sessions.clear()  # the server-side session ended: the cookie names nothing
    assert client.get("/me").status_code == 401
    sessions["s1"] = AdminSession(ADMIN, "s1")
    assert client.get("/me").status_code == 200
    client.post("/out")
    assert client.get("/me").status_code == 401
    with app.test_request_context("/"):
        assert login_door.signed_in() is None
    assert login_door.signed_in() is None  # outside a request
