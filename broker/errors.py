"""Every error a user can meet, as exception classes; one handler (web/errors.py) renders them.

An error carries the HTTP status and a stable code. The code is the message key: the page says
`error.<code>.title` and `error.<code>.lead` from the catalogues (broker/translations/), in the
reader's language, filled with the error's `params` (names, a reason). The message given to
the constructor is the technical detail, in English, for the log next to the error id; it is
never shown. Where known the error names the supplier to go back to.
"""

from __future__ import annotations

from collections.abc import Mapping


class BrokerError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, back_url: str | None = None,
                 supplier_name: str | None = None, params: Mapping[str, str] | None = None,
                 code: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.back_url = back_url
        self.supplier_name = supplier_name
        self.params = dict(params or {})
        """Placeholders of the page's message (its %(name)s)."""
        if code is not None:
            self.code = code  # one situation of this class that reads differently
        self.reason = reason
        """Words of a person (the school's reason for a suspension), shown as they wrote them."""
        self.other_school_url: str | None = None
        """The school picker for this login again, where choosing another school makes sense."""
        self.cancel_url: str | None = None
        """The way out of this login that tells the app (broker/flow_cancel.py), where a
        pending login waits for it; else `back_url` is the app's plain address."""

    def leads_back_to(self, url: str | None, name: str) -> None:
        """An error in the middle of a login links back to its learning app, unless it names
        a way back of its own."""
        self.back_url = self.back_url or url
        self.supplier_name = self.supplier_name or name


class BadRequest(BrokerError):
    """The request itself is malformed: garbage encoding, oversize, forbidden XML."""


class UnknownSupplier(BrokerError):
    status = 404
    code = "unknown_supplier"


class UnknownSchool(BrokerError):
    status = 404
    code = "unknown_school"


class LoginExpired(BrokerError):
    status = 400
    code = "login_expired"


class NoLoginStarted(BrokerError):
    """The school picker was opened without a login from a learning app (a bookmark, a typed
    address): nothing expired, there is simply nothing to pick a school for."""

    status = 400
    code = "no_login_started"


class LoginCancelled(BrokerError):
    """The pupil pressed Cancel at the school (OIDC error=access_denied, a SAML AuthnFailed or
    RequestDenied status without an assertion): no attack, no broken answer."""

    status = 400
    code = "login_cancelled"


class UpstreamRejected(BrokerError):
    """The school's answer failed validation; it is never forwarded to the supplier."""

    status = 403
    code = "school_response_rejected"


class FreshLoginMayHelp(UpstreamRejected):
    """A school's answer that a fresh login at the school may change: the flow asks once more,
    with ForceAuthn (broker/flow.py), and refuses if the fresh answer is refused too."""

    logged_in_at: float | None = None
    """When the person logged in at the school for this answer, where the school said so
    (seconds since the epoch). A login after the flow sent the pupil there was a fresh one
    already: asking again would only make them type their password twice."""


class NoSchoolBehindHub(FreshLoginMayHelp):
    """A hub answered for no registered school behind it, or for more than one (broker/hubs.py)."""

    code = "no_school_behind_hub"


class OtherSchoolBehindHub(FreshLoginMayHelp):
    """A hub answered for another school behind it than the one the login was started for."""

    code = "other_school_behind_hub"


class AccountOfAnotherSchool(FreshLoginMayHelp):
    """The school's login server answered for an account that is not the school's (a Google
    or Entra ID login with another account still signed in on the device): asked once more
    for a fresh login, the pupil can sign in with their school account."""

    code = "account_of_another_school"


class SchoolUnavailable(BrokerError):
    """The school's login server cannot be reached or failed (a gateway error, not a
    rejection: nothing the school sent was wrong, it sent nothing usable)."""

    status = 502
    code = "school_unavailable"


class SchoolTimeout(SchoolUnavailable):
    """The school's login server did not answer within Loper's deadline."""

    status = 504
    code = "school_timeout"


class LoginTooOld(FreshLoginMayHelp):
    """The school answered from a login older than the supplier's max_age allows (OIDC Core
    3.1.2.1). An upstream that cannot pass max_age on (SAML has none) raises it."""


class LoginTooWeak(BrokerError):
    """The school's login does not meet the authentication context the learning app requires
    of teachers (Supplier.employee_acr)."""

    status = 403
    code = "login_too_weak"


class RequestRejected(BrokerError):
    """The supplier's request failed validation (signature, ACS URL, NameID policy...)."""

    status = 403
    code = "supplier_request_rejected"


class SupplierSuspended(BrokerError):
    status = 403
    code = "supplier_suspended"


class EckIdClaimedTwice(BrokerError):
    """Two pupils of one school arrived with the same ECK iD: neither is linked by it."""

    status = 409
    code = "eck_id_claimed_twice"


class SupplierNotActivated(SupplierSuspended):
    """The school has not activated the supplier (no release entry, or deactivated): it gets
    nothing, not even a pseudonym. A SupplierSuspended, so that every check for a supplier
    the school does not serve today catches it."""

    code = "supplier_not_activated"


class TooManyRequests(BrokerError):
    status = 429
    code = "too_many_logins"


class NotAllowedHere(BrokerError):
    """An address that the metrics_allow setting does not name asked for /metrics."""

    status = 403
    code = "not_allowed_from_here"


class ServiceUnavailable(BrokerError):
    status = 503
    code = "service_unavailable"


class LogoutRejected(BrokerError):
    """A logout message failed validation (signature, issuer, an answer to no request of
    Loper's, a replay): nobody is logged out by it and nothing is sent on."""

    status = 403
    code = "logout_rejected"


class LogoutUnreachable(BrokerError):
    """A supplier's or school's logout endpoint did not answer, or answered with an error."""

    status = 502
    code = "logout_unreachable"


class ConfigError(Exception):
    """A deployment or federation setting is wrong; the message says what to fix."""


class ResponseFailed(BrokerError):
    """Loper could not build its answer to the supplier (signing or encryption failed)."""

    status = 500
    code = "response_failed"
