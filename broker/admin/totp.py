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

from broker.admin.base import AdminError, admins, recovery_codes
from broker.registry.admins import Admin
from broker.registry.recovery_codes import looks_like_code
from broker.sealed import SealBroken
from broker.web.current import broker

TOTP_USED = "admin-totp-used"
ISSUER = "Loper"


class SecondFactorUnreadable(AdminError):
    """The admin's TOTP secret does not open with the instance's sealing key (the key was lost
    and replaced): no code can be checked. The page sends the admin to a recovery code or the
    operator; the log says what the operator can do."""

    status = 403
    code = "second_factor_unreadable"

    def __init__(self, admin: Admin, exc: SealBroken) -> None:
        super().__init__(f"the second factor of admin {admin.email} (id {admin.id}) cannot be "
                         f"checked: {exc}, or reset it: broker admin password {admin.email} "
                         "--clear-totp")


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
    if looks_like_code(code):
        return recovery_codes().use(admin.id, code)
    secret = current_secret(admin)
    return secret is not None and code_ok(admin.id, secret, code)


def current_secret(admin: Admin) -> str | None:
    """The admin's TOTP secret (None: no second factor); SecondFactorUnreadable when it does
    not open with this instance's sealing key."""
    try:
        return admins().totp_secret(admin.id)
    except SealBroken as exc:
        raise SecondFactorUnreadable(admin, exc) from exc
