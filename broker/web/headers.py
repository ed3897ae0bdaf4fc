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

    @app.after_request
    def secure_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if secure:
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response
