"""Flask's untyped stores read back typed (broker/web/flask_door.py, broker/web/slots.py)."""

from __future__ import annotations

from flask import Flask

from broker.web import flask_door
from broker.web.slots import Slot

COUNTS = flask_door.Extension[list[int]]("loper_test_counts")


def test_an_extension_is_read_back_from_its_app() -> None:
    app = Flask(__name__)
    kept = COUNTS.put(app, [1, 2])
    assert COUNTS.of(app) is kept
    with app.app_context():
        assert COUNTS.get() is kept
    assert app.extensions["loper_test_counts"] is kept


def test_a_slot_hands_back_only_its_own_type() -> None:
    app = Flask(__name__)
    started = Slot("loper_test_started", float)
    with app.app_context():
        assert started.get() is None
        flask_door.keep("loper_test_started", "not a time")
        assert started.get() is None
        assert started.set(1.5) == 1.5
        assert started.get() == 1.5
        assert started.pop() == 1.5
        assert started.get() is None and flask_door.kept("loper_test_started") is None


def test_the_endpoint_of_a_rule() -> None:
    app = Flask(__name__)
    app.add_url_rule("/here", "here", lambda: "")
    rule = app.url_map.bind("localhost").match("/here", return_rule=True)[0]
    assert flask_door.endpoint(rule) == "here"
