"""Every error a user can meet, as exception classes; one handler (web/errors.py) renders them.

An error carries the HTTP status, a stable code (shown and logged with the error id), a message
for the person in front of the screen, and where known the supplier to go back to.
"""

from __future__ import annotations


class BrokerError(Exception):
    status = 400
    code = "bad_request"
    title = "This login cannot continue"

    def __init__(self, message: str, *, back_url: str | None = None,
                 supplier_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.back_url = back_url
        self.supplier_name = supplier_name


class BadRequest(BrokerError):
    """The request itself is malformed: garbage encoding, oversize, forbidden XML."""


class UnknownSupplier(BrokerError):
    status = 404
    code = "unknown_supplier"
    title = "Unknown learning app"


class UnknownSchool(BrokerError):
    status = 404
    code = "unknown_school"
    title = "Unknown school"


class LoginExpired(BrokerError):
    status = 400
    code = "login_expired"
    title = "This login has expired"


class UpstreamRejected(BrokerError):
    """The school's answer failed validation; it is never forwarded to the supplier."""

    status = 403
    code = "school_response_rejected"
    title = "Your school's answer could not be accepted"


class NoSchoolBehindHub(UpstreamRejected):
    """A hub answered for no registered school behind it, or for more than one (broker/hubs.py)."""

    code = "no_school_behind_hub"
    title = "Your school is not known here"


class OtherSchoolBehindHub(UpstreamRejected):
    """A hub answered for another school behind it than the one the login was started for."""

    code = "other_school_behind_hub"


class SchoolUnavailable(BrokerError):
    """The school's login server cannot be reached or failed (a gateway error, not a
    rejection: nothing the school sent was wrong, it sent nothing usable)."""

    status = 502
    code = "school_unavailable"
    title = "Your school does not answer"


class SchoolTimeout(SchoolUnavailable):
    """The school's login server did not answer within Loper's deadline."""

    status = 504
    code = "school_timeout"


class LoginTooOld(UpstreamRejected):
    """The school answered from a login older than the supplier's max_age allows (OIDC Core
    3.1.2.1). An upstream that cannot pass max_age on (SAML has none) raises it; the flow then
    asks the school once more for a fresh login, and refuses if that answer is too old too."""


class LoginTooWeak(BrokerError):
    """The school's login does not meet the authentication context the learning app requires
    of teachers (Supplier.employee_acr)."""

    status = 403
    code = "login_too_weak"
    title = "This learning app requires a stronger login for teachers"


class RequestRejected(BrokerError):
    """The supplier's request failed validation (signature, ACS URL, NameID policy...)."""

    status = 403
    code = "supplier_request_rejected"
    title = "The learning app's request could not be accepted"


class SupplierSuspended(BrokerError):
    status = 403
    code = "supplier_suspended"
    title = "This learning app is suspended by your school"


class EckIdClaimedTwice(BrokerError):
    """Two pupils of one school arrived with the same ECK iD: neither is linked by it."""

    status = 409
    code = "eck_id_claimed_twice"
    title = "Your school's answer could not be accepted"
class SupplierNotActivated(SupplierSuspended):
    """The school has not activated the supplier (no release entry, or deactivated): it gets
    nothing, not even a pseudonym. A SupplierSuspended, so that every check for a supplier
    the school does not serve today catches it."""

    code = "supplier_not_activated"
    title = "Your school has not enabled this app yet"


class TooManyRequests(BrokerError):
    status = 429
    code = "too_many_logins"
    title = "Too many logins at once"


class NotAllowedHere(BrokerError):
    """An address that the metrics_allow setting does not name asked for /metrics."""

    status = 403
    code = "not_allowed_from_here"
    title = "Not available from your address"


class ServiceUnavailable(BrokerError):
    status = 503
    code = "service_unavailable"
    title = "Loper is temporarily unavailable"


class LogoutRejected(BrokerError):
    """A logout message failed validation (signature, issuer, an answer to no request of
    Loper's, a replay): nobody is logged out by it and nothing is sent on."""

    status = 403
    code = "logout_rejected"
    title = "This logout message could not be accepted"


class LogoutUnreachable(BrokerError):
    """A supplier's or school's logout endpoint did not answer, or answered with an error."""

    status = 502
    code = "logout_unreachable"
    title = "A logout could not be delivered"


class ConfigError(Exception):
    """A deployment or federation setting is wrong; the message says what to fix."""


class ResponseFailed(BrokerError):
    """Loper could not build its answer to the supplier (signing or encryption failed)."""

    status = 500
    code = "response_failed"
    title = "Loper could not answer the learning app"
