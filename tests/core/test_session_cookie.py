"""broker.web.session_cookie: the signed session cookie is read only when the request sends
one, and works as Flask's own otherwise."""

from __future__ import annotations

from flask import Flask, session

from broker.web.session_cookie import OnlyWhenSent


def app() -> Flask:
    made = Flask("session-test")
    made.secret_key = "test-secret-not-used-elsewhere"
    made.session_interface = OnlyWhenSent()

    @made.get("/write")
    def write() -> str:
        session["who"] = "admin-1"
        return "written"

    @made.get("/read")
    def read() -> str:
        return str(session.get("who", "nobody"))

    @made.get("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @made.get("/untouched")
    def untouched() -> str:
        return "untouched"

    return made


def test_without_a_cookie_the_session_is_empty_and_nothing_is_sent() -> None:
    answer = app().test_client().get("/read")
    assert answer.get_data(as_text=True) == "nobody" and "Set-Cookie" not in answer.headers


def test_what_is_written_is_signed_sent_and_read_back() -> None:
    client = app().test_client()
    written = client.get("/write")
    assert "session=" in written.headers["Set-Cookie"]
    assert client.get("/read").get_data(as_text=True) == "admin-1"


def test_a_tampered_cookie_reads_as_an_empty_session() -> None:
    client = app().test_client()
    client.get("/write")
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value[:-2] + "xx")
    assert client.get("/read").get_data(as_text=True) == "nobody"


def test_a_session_only_read_varies_on_the_cookie_as_flask_does() -> None:
    answer = app().test_client().get("/read")
    assert answer.headers.get("Vary") == "Cookie" and "Set-Cookie" not in answer.headers


def test_a_request_that_never_touches_the_session_sends_nothing_about_it() -> None:
    client = app().test_client()
    client.get("/write")
    answer = client.get("/untouched")
    assert "Vary" not in answer.headers and "Set-Cookie" not in answer.headers


def test_a_cleared_session_deletes_the_cookie() -> None:
    client = app().test_client()
    client.get("/write")
    answer = client.get("/clear")
    assert "session=;" in answer.headers["Set-Cookie"] and answer.headers["Vary"] == "Cookie"
    assert client.get("/read").get_data(as_text=True) == "nobody"
