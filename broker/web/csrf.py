"""The one CSRF scheme of Loper's own forms (the admin portal, log out everywhere).

Every form carries FIELD = HMAC(the app's secret key, purpose | binding), and every POST must
echo it. The binding is a random value that only this browser holds: the admin session's
(renewed at every admin login, against session fixation) or the browser id cookie on the
pupil's pages.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request

FIELD = "csrf_token"


def token(purpose: str, binding: str) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, f"{purpose}\x1f{binding}".encode(), hashlib.sha256).hexdigest()


def valid(purpose: str, binding: object) -> bool:
    """Does this POST carry the token of `purpose` for `binding` (a non-empty string)?"""
    if not isinstance(binding, str) or not binding:
        return False
    given = request.form.get(FIELD, "")
    return hmac.compare_digest(given.encode(), token(purpose, binding).encode())
