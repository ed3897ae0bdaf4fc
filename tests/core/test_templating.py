"""A name no view passed may be tested in a template, never printed or looped over: the page
fails in the tests instead of showing a form without its fields (broker/web/templating.py)."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string
from jinja2 import UndefinedError

from broker.web import templating


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    templating.init_app(app)
    return app


def test_an_unpassed_name_may_be_tested(app: Flask) -> None:
    with app.app_context():
        assert render_template_string("{% if error %}bad{% else %}fine{% endif %}") == "fine"
        assert render_template_string("{{ error or 'none' }}") == "none"
        assert render_template_string("{{ given }}", given="passed") == "passed"


@pytest.mark.parametrize("source", ["{% for field in fields %}{{ field }}{% endfor %}",
                                    "{{ fields }}", "{{ fields | length }}"])
def test_an_unpassed_name_printed_or_looped_over_fails(app: Flask, source: str) -> None:
    with app.app_context(), pytest.raises(UndefinedError, match="'fields' is undefined"):
        render_template_string(source)
