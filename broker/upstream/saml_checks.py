"""The checks on a school's SAML Response that pysaml2 leaves to its caller, or does
too leniently (see STYLE.md, "Library behaviour that the code must handle itself").

They run on pysaml2's parsed objects: once on the unverified envelope (clear messages and
no xmlsec1 fork for an obviously wrong answer) and again on what pysaml2 verified and
decrypted. Every message says what was wrong for a school's ICT coordinator; none carries
an attribute value or the subject.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from broker.errors import BadRequest, LoginCancelled, LoginTooOld, UpstreamRejected
from broker.saml import views

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
CANCELLED = frozenset({"urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
                       "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"})
"""Second-level status codes an IdP answers with when the user pressed Cancel (Shibboleth IdP,
SimpleSAMLphp, ADFS, Entra ID): without an assertion, the login was stopped, not forged."""
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ENTITY_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
_DS = "http://www.w3.org/2000/09/xmldsig#"
_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
_ENC = "http://www.w3.org/2001/04/xmlenc#"
SIGNATURE_ALGORITHMS = frozenset({
    _MORE + "rsa-sha256", _MORE + "rsa-sha384", _MORE + "rsa-sha512",
    _MORE + "ecdsa-sha256", _MORE + "ecdsa-sha384", _MORE + "ecdsa-sha512",
})
DIGEST_ALGORITHMS = frozenset({_ENC + "sha256", _MORE + "sha384", _ENC + "sha512"})
LEGACY_SIGNATURE_ALGORITHMS = frozenset({_DS + "rsa-sha1"})
LEGACY_DIGEST_ALGORITHMS = frozenset({_DS + "sha1"})


@dataclass(frozen=True)
class Expected:
    """What a response to one particular AuthnRequest must look like."""

    sp_entity_id: str
    acs_url: str
    idp_entity_id: str
    request_id: str
    issued_at: float
    force_authn: bool
    skew: int
    legacy_sha1: bool
    now: float
    max_age: int | None = None


def reject(message: str) -> NoReturn:
    raise UpstreamRejected(message)


def _short(value: object, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def instant(value: str | None, what: str) -> datetime:
    """An xs:dateTime from the response as an aware UTC datetime."""
    if not value:
        reject(f"{what} is missing.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        reject(f"{what} is not a valid time ({_short(value, 40)!r}).")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def check_window(not_before: str | None, not_on_or_after: str | None, what: str,
                 exp: Expected) -> None:
    """NotBefore <= now < NotOnOrAfter, each with the clock skew allowed."""
    if not_before and instant(not_before, f"{what} NotBefore").timestamp() > exp.now + exp.skew:
        reject(f"{what} is not valid before {not_before} (Loper's clock: {_stamp(exp.now)}); "
               "check the clock of the school's identity provider.")
    if not_on_or_after:
        end = instant(not_on_or_after, f"{what} NotOnOrAfter").timestamp()
        if exp.now >= end + exp.skew:
            reject(f"{what} expired at {not_on_or_after} (Loper's clock: {_stamp(exp.now)}); "
                   "the answer came too late, or the clocks differ.")


def check_issued(value: str | None, what: str, exp: Expected) -> None:
    """An answer is issued after the request it answers and not in the future (both give or
    take the clock skew); pysaml2 allows a day either way."""
    at = instant(value, f"{what} IssueInstant").timestamp()
    if at < exp.issued_at - exp.skew or at > exp.now + exp.skew:
        reject(f"{what} says it was issued at {_short(value, 40)}, which is not between "
               f"Loper's request ({_stamp(exp.issued_at)}) and now ({_stamp(exp.now)}); "
               "check the clock of the school's identity provider.")


def check_unique_ids(xml: bytes) -> None:
    """No two elements share an ID: a duplicate ID is how signature wrapping starts."""
    try:
        root = ET.fromstring(xml)  # decode_post has already refused any DTD
    except (ET.ParseError, ValueError) as exc:  # ValueError: an encoding expat cannot read
        raise BadRequest("The SAML response is not well-formed XML.") from exc
    ids = Counter(el.get("ID") for el in root.iter() if el.get("ID") is not None)
    if any(count > 1 for count in ids.values()):
        reject("The SAML response contains two elements with the same ID.")


def check_status(response: views.Response) -> None:
    status = response.status
    if status is None or status.status_code is None:  # SAML core 3.2.2: required; without it
        # nothing says the login succeeded
        reject("The response carries no Status, so it does not say that the login succeeded.")
    codes = _status_codes(response)
    if codes[0] == SUCCESS:
        return
    message = status.status_message.text if status.status_message is not None else None
    detail = f": {_short(message, 200)}" if message else ""
    carried = " (and still carried an assertion)" if assertion_count(response) else ""
    reject(f"The school's identity provider answered with status {' / '.join(codes)}"
           f"{detail}{carried}.")


def assertion_count(response: views.Response) -> int:
    return len(response.assertion) + len(response.encrypted_assertion)


def check_issuer(issuer: views.Issuer | None, what: str, exp: Expected,
                 required: bool = True) -> None:
    text = (issuer.text or "").strip() if issuer is not None else ""
    if issuer is None or not text:
        if required:
            reject(f"{what} has no Issuer.")
        return
    if issuer.format not in (None, ENTITY_FORMAT):
        reject(f"{what} has an Issuer of format {issuer.format}; expected {ENTITY_FORMAT}.")
    if text != exp.idp_entity_id:
        reject(f"{what} was issued by {_short(text)}, but this school's "
               f"identity provider is {exp.idp_entity_id}.")


def _status_codes(response: views.Response) -> list[str]:
    status = response.status
    code = status.status_code if status is not None else None
    codes = []
    while code is not None:
        codes.append(str(code.value))
        code = code.status_code
    return codes


def check_response(response: views.Response, exp: Expected) -> None:
    """The Response element itself: status, destination, request, issuer. A cancelled login
    (CANCELLED, no assertion) that answers this browser's request raises LoginCancelled."""
    cancelled = bool(CANCELLED & set(_status_codes(response))) and not assertion_count(response)
    if not cancelled:
        check_status(response)
    _check_addressed(response, exp)
    required = response.signature is not None or bool(response.encrypted_assertion)
    check_issuer(response.issuer, "The response", exp, required)  # SAML profiles 4.1.4.2
    check_issued(response.issue_instant, "The response", exp)
    if cancelled:
        raise LoginCancelled("the school's identity provider answered "
                             + " / ".join(_status_codes(response)))


def _check_addressed(response: views.Response, exp: Expected) -> None:
    if not response.destination:
        reject(f"The response has no Destination; it must be {exp.acs_url}.")
    if response.destination != exp.acs_url:
        reject(f"The response is addressed to {_short(response.destination)}, "
               f"not to Loper's {exp.acs_url}.")
    if not response.in_response_to:
        reject("The response is unsolicited (no InResponseTo); start the login at the "
               "learning app, not at the school's portal.")
    if response.in_response_to != exp.request_id:
        reject("The response answers another login request than the one this browser "
               "started (InResponseTo differs); start the login again.")


def check_one_assertion(count: int) -> None:
    if count != 1:
        reject(f"The response carries {count} assertions; Loper accepts exactly one.")


def _check_audiences(conditions: views.Conditions | None, exp: Expected) -> None:
    restrictions = conditions.audience_restriction if conditions is not None else []
    if not restrictions:
        reject(f"The assertion has no AudienceRestriction; it must name {exp.sp_entity_id}.")
    for restriction in restrictions:
        audiences = [(a.text or "").strip() for a in restriction.audience]
        if exp.sp_entity_id not in audiences:
            reject(f"An AudienceRestriction of the assertion names {_short(audiences)}, "
                   f"not Loper ({exp.sp_entity_id}).")


def _check_confirmation(confirmation: views.SubjectConfirmation, exp: Expected) -> None:
    if confirmation.method != BEARER:
        reject(f"The SubjectConfirmation method is {_short(confirmation.method)}; "
               "Loper accepts only bearer.")
    data = confirmation.subject_confirmation_data
    if data is None or not data.not_on_or_after:
        reject("The bearer SubjectConfirmationData has no NotOnOrAfter.")
    if data.recipient != exp.acs_url:
        reject(f"The SubjectConfirmationData Recipient is {_short(data.recipient)}, "
               f"not Loper's {exp.acs_url}.")
    if data.in_response_to != exp.request_id:  # SAML profiles 4.1.4.2
        reject("The SubjectConfirmationData does not answer the login request this browser "
               "started (InResponseTo missing or different); start the login again.")
    check_window(data.not_before, data.not_on_or_after, "The SubjectConfirmation", exp)


def _check_authn_statement(assertion: views.Assertion, exp: Expected) -> None:
    if len(assertion.authn_statement) != 1:
        reject(f"The assertion has {len(assertion.authn_statement)} AuthnStatements; "
               "Loper expects exactly one.")
    statement = assertion.authn_statement[0]
    at = instant(statement.authn_instant, "The AuthnInstant")
    if at.timestamp() > exp.now + exp.skew:
        reject(f"The AuthnInstant {at.isoformat(timespec='seconds')} lies in the future "
               f"(Loper's clock: {_stamp(exp.now)}); check the clock of the school's identity "
               "provider.")
    if exp.force_authn and at.timestamp() < exp.issued_at - exp.skew:
        reject(f"The learning app asked for a fresh login, but the school's identity provider "
               f"reused a login from {at.isoformat(timespec='seconds')} (ForceAuthn ignored).")
    if statement.session_not_on_or_after:
        check_window(None, statement.session_not_on_or_after, "The school's session", exp)


def check_max_age(at: datetime, exp: Expected) -> None:
    """The school's login is no older than the supplier's max_age (OIDC Core 3.1.2.1), which
    SAML cannot pass on. Unforced, an older login is LoginTooOld (the flow asks again, with
    ForceAuthn); forced, it is refused."""
    if exp.max_age is None or at.timestamp() >= exp.now - exp.max_age - exp.skew:
        return
    when = at.isoformat(timespec="seconds")
    if not exp.force_authn:
        raise LoginTooOld(f"The school's identity provider answered with a login from {when}, "
                          f"older than the learning app accepts ({exp.max_age} seconds).")
    reject(f"The learning app accepts a login of at most {exp.max_age} seconds old, but even "
           f"when asked for a fresh login the school's identity provider answered with a "
           f"login from {when}.")


def check_assertion(assertion: views.Assertion, exp: Expected) -> None:
    check_issuer(assertion.issuer, "The assertion", exp)
    check_issued(assertion.issue_instant, "The assertion", exp)
    if assertion.subject is None or not assertion.subject.subject_confirmation:
        reject("The assertion has no Subject with a SubjectConfirmation.")
    for confirmation in assertion.subject.subject_confirmation:
        _check_confirmation(confirmation, exp)
    conditions = assertion.conditions
    if conditions is not None:
        check_window(conditions.not_before, conditions.not_on_or_after, "The assertion", exp)
    _check_audiences(conditions, exp)
    _check_authn_statement(assertion, exp)


def _algorithm(element: views.Algorithm | None) -> str:
    return str(getattr(element, "algorithm", None) or "no algorithm")


def _check_algorithms(signature: views.Signature, what: str, exp: Expected) -> None:
    info = signature.signed_info
    if info is None or not info.reference:
        reject(f"{what} carries a malformed Signature.")
    methods = [(_algorithm(info.signature_method), SIGNATURE_ALGORITHMS,
                LEGACY_SIGNATURE_ALGORITHMS)]
    methods += [(_algorithm(ref.digest_method), DIGEST_ALGORITHMS, LEGACY_DIGEST_ALGORITHMS)
                for ref in info.reference]
    for algorithm, allowed, legacy in methods:
        if algorithm in allowed or (exp.legacy_sha1 and algorithm in legacy):
            continue
        hint = (" (SHA-1 is accepted only where the operator set legacy_sha1 for this school)"
                if algorithm in legacy else "")
        reject(f"{what} is signed with {_short(algorithm)}, which Loper does not accept"
               f"{hint}; use RSA-SHA256.")


def check_signatures(response: views.Response, assertion: views.Assertion,
                     exp: Expected) -> None:
    """The response or the assertion is signed (pysaml2 verified those signatures against
    the school's metadata), each with an allowed algorithm."""
    signed = [(sig, what) for sig, what in ((response.signature, "The response"),
                                            (assertion.signature, "The assertion"))
              if sig is not None]
    if not signed:
        reject("Neither the response nor the assertion is signed.")
    for signature, what in signed:
        _check_algorithms(signature, what, exp)


def confirmation_expiry(assertion: views.Assertion) -> float:
    """When the last bearer SubjectConfirmation of an (already checked) assertion ends."""
    confirmations = assertion.subject.subject_confirmation if assertion.subject else ()
    ends: Iterable[datetime] = (
        instant(data.not_on_or_after if data is not None else None, "NotOnOrAfter")
        for data in (c.subject_confirmation_data for c in confirmations))
    return max(end.timestamp() for end in ends)
