"""Security headers on every response, and a CSP nonce for the one inline script we need."""

from __future__ import annotations

import secrets

from flask import Flask, Response

from broker.web.slots import Slot

_NONCE = Slot("csp_nonce", str)


def csp_nonce() -> str:
    return _NONCE.get() or _NONCE.set(secrets.token_urlsafe(16))


def content_security_policy(frames: tuple[str, ...] = ()) -> str:
    """Loper's policy; `frames`: origins a page may load in iframes (front-channel logout)."""
    nonce = _NONCE.get()
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    framed = f"frame-src {' '.join(frames)}; " if frames else ""
    return (f"default-src 'none'; script-src {script}; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data:; {framed}form-action *; frame-ancestors 'none'; "
            "base-uri 'none'")


def init_app(app: Flask, secure: bool) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    fixed = [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
             ("Referrer-Policy", "no-referrer")]
    if secure:
        fixed.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.after_request
    def secure_headers(response: Response) -> Response:
        """Each header unless the view set its own (a page with frames sets its CSP). One
        look at the headers already there: werkzeug's setdefault walks them all, lowering
        every name, once per header added."""
        present = {name.lower() for name in response.headers.keys()}
        wanted = [("Content-Security-Policy", content_security_policy()), *fixed]
        response.headers.extend([(name, value) for name, value in wanted
                                 if name.lower() not in present])
        return response
