"""Flask-Babel behind its door (broker/web/babel_door.py): the request's language, the
catalogue Loper picks for it, a language forced for a while, dates in the request's time
zone and language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask, request

from broker.web import babel_door
from broker.web.i18n import compile_catalogue


def test_the_request_language_its_catalogue_and_a_forced_language() -> None:
    app = Flask(__name__)
    catalogues = {lang: compile_catalogue(lang) for lang in ("nl", "en")}
    babel_door.init_app(app, default="nl", negotiate=lambda: request.args.get("lang", "nl"),
                        time_zone=lambda: "Europe/Amsterdam",
                        catalogue=lambda: catalogues[str(babel_door.locale())])
    with app.test_request_context("/?lang=en"):
        assert str(babel_door.locale()) == "en"
        assert babel_door.translations() is catalogues["en"]
        assert babel_door.local_date(date(2026, 1, 5), "d MMMM y") == "5 January 2026"
        assert babel_door.local_time(datetime(2026, 1, 5, 12, tzinfo=UTC), "HH:mm") == "13:00"
        with babel_door.in_language("nl"):
            assert str(babel_door.locale()) == "nl"
            assert babel_door.translations() is catalogues["nl"]
            assert babel_door.local_date(date(2026, 1, 5), "d MMMM y") == "5 januari 2026"
        assert str(babel_door.locale()) == "en"
    assert babel_door.locale() is None  # outside a request
