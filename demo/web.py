"""What the demo peers share on the web side: the Flask app, its pages, the auto-POST form."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, render_template_string
from markupsafe import Markup

from demo.keys import locked

PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
 body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
 table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3rem .6rem; }
 th { text-align: left; background: #f4f4f4; } .error { color: #a00; } code { font-size: .9em; }
</style></head>
<body><h1>{{ title }}</h1>
{{ body }}
</body></html>"""

POST_FORM = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{ action }}">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<noscript><p>JavaScript is off: press the button to continue.</p></noscript>
<button type="submit">Continue</button>
</form></body></html>"""


def new_app(import_name: str, base_url: str, state_dir: Path, cookie: str) -> Flask:
    """A Flask app with a secret kept in state_dir and a session cookie of its own.

    Browsers keep cookies per host, not per port: peers on 127.0.0.1 share a cookie jar, so
    every peer names its session cookie after itself and its port.
    """
    app = Flask(import_name)
    app.secret_key = ensure_secret(state_dir, "flask-secret")
    port = urlsplit(base_url).port or 80
    app.config.update(SESSION_COOKIE_NAME=f"{cookie}-{port}", SESSION_COOKIE_HTTPONLY=True)
    return app


def ensure_secret(folder: Path, name: str) -> str:
    """A random secret kept in `folder/name`, created once (restarts keep sessions)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with locked(folder, name):
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
    return path.read_text().strip()


def page(title: str, body: str, **context: object) -> str:
    """A page: `body` is a Jinja template (autoescaped) rendered with `context`."""
    inner = render_template_string(body, **context)
    return render_template_string(PAGE, title=title, body=Markup(inner))


def post_form(action: str, fields: Mapping[str, str], title: str = "Doorsturen...") -> str:
    """The SAML HTTP-POST binding: a form that submits itself to `action`."""
    return render_template_string(POST_FORM, title=title, action=action, fields=dict(fields))

