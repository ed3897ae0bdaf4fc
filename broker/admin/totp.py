"""The second factor: TOTP codes (RFC 6238) that work once, the QR code an authenticator app
scans (SVG inline in the page: no request leaves the browser), and recovery codes.
"""

from __future__ import annotations

import hmac
import io
import time

import pyotp
import segno
from markupsafe import Markup

from broker.registry.admins import Admin
from broker.registry.recovery_codes import looks_like_code
from broker.web.current import broker

TOTP_USED = "admin-totp-used"
ISSUER = "Loper"


def new_secret() -> str:
    return pyotp.random_base32()


def uri(secret: str, email: str) -> str:
    """The otpauth:// URI the QR code holds, also shown as text for typing it in."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(text: str, title: str) -> Markup:
    """`text` as a QR code: an <svg> element, dark on white so dark mode does not hide it."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", xmldecl=False, svgns=True, nl=False,
                                     scale=4, border=4, dark="#000", light="#fff",
                                     title=title, svgclass="qr")
    return Markup(out.getvalue().decode())  # segno's own markup


def code_ok(admin_id: int, secret: str, code: str) -> bool:
    """A 6-digit code of this or a neighbouring 30 s step, not used before by this admin."""
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isdigit():
        return False
    totp, now = pyotp.TOTP(secret), time.time()
    step = int(now // totp.interval)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return broker().store.remember_once(TOTP_USED, f"{admin_id}:{step + offset}",
                                                4 * totp.interval)
    return False


def second_factor_ok(admin: Admin, code: str) -> bool:
    """A current TOTP code, or one of the admin's unused recovery codes (spent now)."""
    from broker.admin.base import admins, recovery_codes

    if looks_like_code(code):
        return recovery_codes().use(admin.id, code)
    secret = admins().totp_secret(admin.id)
    return secret is not None and code_ok(admin.id, secret, code)
