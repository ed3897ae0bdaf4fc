"""An error page shown again, in the other language, without asking the protocol again.

A page answering a school's or a supplier's message (the SAML ACS, the OIDC callback, ...) is
not fetched again for its language link: that would replay a one-use message. Its link goes
to GET /error?page=<token> instead. The token is the page as Loper showed it (the `Shown`
with the ways on it offered, and its error id), signed with the app's secret key under a salt
of its own and valid for an hour; /error renders that page again (same error id, no new log
line, nothing counted), in the language asked for. Nothing in it is secret or personal: it
holds what the page itself shows (names of school and app, a school's suspension reason,
Loper's own links and the app's address), readable by whoever reads the page. Not its "try
again" link: that is the protocol message's own URL (a school's one-use code, a SAML message
naming the pupil), which has no place in a link that ends up in access logs.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request, url_for
from itsdangerous import BadData, TimestampSigner, base64_decode, base64_encode

from broker.errors import BadRequest
from broker.jsonvalue import Json, JsonObject, loads_object
from broker.web.errors import Shown, show_page
from broker.web.i18n import other_language

bp = Blueprint("error_again", __name__)

SALT = "loper.error-page"
MAX_AGE = 3600
"""Seconds a page's link stays valid: long enough to read it, not a bookmark."""
MAX_TOKEN = 4096
"""Characters of a token; a longer one is refused (and a page that would need one gets no
language link)."""
CODE = re.compile(r"[a-z0-9_]{1,64}")
ERROR_ID = re.compile(r"[0-9a-f]{12}")
OPTIONAL = ("reason", "back_url", "supplier_name", "other_school_url", "cancel_url")
KEYS = frozenset({"status", "code", "params", *OPTIONAL, "error_id"})


@dataclass(frozen=True)
class Page:
    """An error page as it was shown: what it said, its ways on and its error id."""

    shown: Shown
    error_id: str


def signer(secret: str | bytes) -> TimestampSigner:
    return TimestampSigner(secret, salt=SALT, key_derivation="hmac",
                           digest_method=hashlib.sha256)


def _signer() -> TimestampSigner | None:
    """The app's signer of error pages; None without a secret key (create_app sets one)."""
    return signer(current_app.secret_key) if current_app.secret_key else None


def token(page: Page, sign: TimestampSigner) -> str:
    """The page, signed: compact JSON of what it shows (empty ways left out), base64url."""
    shown = page.shown
    fields: JsonObject = {
        "status": shown.status, "code": shown.code, "params": dict(shown.params),
        "reason": shown.reason, "back_url": shown.back_url, "supplier_name": shown.supplier_name,
        "other_school_url": shown.other_school_url, "cancel_url": shown.cancel_url,
        "error_id": page.error_id}
    kept = {name: value for name, value in fields.items() if value not in (None, {})}
    raw = json.dumps(kept, separators=(",", ":"), ensure_ascii=False).encode()
    return sign.sign(base64_encode(raw)).decode("ascii")


def language_url(page: Page) -> str | None:
    """The link to `page` in the other language; None when its token would be too long."""
    sign = _signer()
    sealed = token(page, sign) if sign is not None else ""
    if not sealed or len(sealed) > MAX_TOKEN:
        return None
    return url_for("error_again.again", page=sealed, lang=other_language())


def read(sealed: str) -> Page | None:
    """The page a token of Loper's holds; None for a token that is too long, tampered with,
    expired, signed otherwise or of another shape."""
    sign = _signer()
    if sign is None or len(sealed) > MAX_TOKEN:
        return None
    try:
        raw = base64_decode(sign.unsign(sealed, max_age=MAX_AGE))
        fields = loads_object(raw)
        return _page(fields) if fields is not None else None
    except (BadData, ValueError):  # a bad signature or base64; UnicodeDecodeError, no JSON
        return None


def _text(fields: JsonObject, name: str) -> str | None:
    value = fields.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name} is no text")


def _params(value: Json) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {name: str(v) for name, v in value.items()}
    raise ValueError("params are no texts")


def _page(fields: JsonObject) -> Page | None:
    status, code, error_id = fields.get("status"), fields.get("code"), fields.get("error_id")
    if (not KEYS.issuperset(fields) or not isinstance(status, int) or not 400 <= status < 600
            or not isinstance(code, str) or not CODE.fullmatch(code)
            or not isinstance(error_id, str) or not ERROR_ID.fullmatch(error_id)):
        return None
    shown = Shown(status, code, _params(fields.get("params")), reason=_text(fields, "reason"),
                  back_url=_text(fields, "back_url"),
                  supplier_name=_text(fields, "supplier_name"),
                  other_school_url=_text(fields, "other_school_url"),
                  cancel_url=_text(fields, "cancel_url"))
    return Page(shown, error_id)


@bp.get("/error")
def again() -> Response:
    """The page of the token, in the language asked for; its link: the same token in the
    other. A token refused is not echoed: that page's own link shows it again, as any."""
    sealed = request.args.get("page", "")
    page = read(sealed)
    if page is None:
        raise BadRequest("the link to an error page is too long, tampered with, expired or "
                         "not Loper's", code="error_page_gone")
    back = url_for("error_again.again", page=sealed, lang=other_language())
    return show_page(page.shown, page.error_id, language_url=back)
