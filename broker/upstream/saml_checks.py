"""The checks on a school's SAML Response that a SAML library leaves to its caller, or does
too leniently (see STYLE.md, "Library behaviour that the code must handle itself").

They read the one parsed tree through broker.saml.response_tree's views: once before any
crypto (clear messages for an obviously wrong answer), and on an encrypted assertion again
once it is decrypted. Every message says what was wrong for a school's ICT coordinator; none
carries an attribute value or the subject. Times are in saml_times, signature coverage in
saml_signed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from broker.errors import LoginCancelled
from broker.saml.response_tree import Assertion, Conditions, Issuer, Response, SubjectConfirmation
from broker.upstream.saml_signed import check_signatures, check_unique_ids
from broker.upstream.saml_times import (
    Expected,
    check_authn_instant,
    check_issued,
    check_max_age,
    check_window,
    instant,
    reject,
    short,
)

__all__ = ["Expected", "assertion_count", "check_assertion", "check_max_age",
           "check_one_assertion", "check_response", "check_signatures", "check_unique_ids",
           "confirmation_expiry", "instant", "reject"]

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
CANCELLED = frozenset({"urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
                       "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"})
"""Second-level status codes an IdP answers with when the user pressed Cancel (Shibboleth IdP,
SimpleSAMLphp, ADFS, Entra ID): without an assertion, the login was stopped, not forged."""
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ENTITY_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
VERSION = "2.0"


def _status_codes(response: Response) -> list[str]:
    status = response.status
    code = status.status_code if status is not None else None
    codes = []
    while code is not None:
        codes.append(str(code.value))
        code = code.status_code
    return codes


def check_status(response: Response) -> None:
    status = response.status
    if status is None or status.status_code is None:  # SAML core 3.2.2: required; without it
        # nothing says the login succeeded
        reject("The response carries no Status, so it does not say that the login succeeded.")
    codes = _status_codes(response)
    if codes[0] == SUCCESS:
        return
    message = status.status_message
    detail = f": {short(message, 200)}" if message else ""
    carried = " (and still carried an assertion)" if assertion_count(response) else ""
    reject(f"The school's identity provider answered with status {' / '.join(codes)}"
           f"{detail}{carried}.")


def assertion_count(response: Response) -> int:
    return len(response.assertion) + len(response.encrypted_assertion)


def _check_version(version: str | None, what: str) -> None:
    if version != VERSION:
        reject(f"{what} is not SAML 2.0 (Version {short(version, 20)!r}).")


def check_issuer(issuer: Issuer | None, what: str, exp: Expected, required: bool = True) -> None:
    text = issuer.text.strip() if issuer is not None else ""
    if issuer is None or not text:
        if required:
            reject(f"{what} has no Issuer.")
        return
    if issuer.format not in (None, ENTITY_FORMAT):
        reject(f"{what} has an Issuer of format {issuer.format}; expected {ENTITY_FORMAT}.")
    if text != exp.idp_entity_id:
        reject(f"{what} was issued by {short(text)}, but this school's "
               f"identity provider is {exp.idp_entity_id}.")


def check_response(response: Response, exp: Expected) -> None:
    """The Response element itself: status, destination, request, issuer. A cancelled login
    (CANCELLED, no assertion) that answers this browser's request raises LoginCancelled."""
    cancelled = bool(CANCELLED & set(_status_codes(response))) and not assertion_count(response)
    if not cancelled:
        check_status(response)
    _check_addressed(response, exp)
    _check_version(response.version, "The response")
    required = response.signature is not None or bool(response.encrypted_assertion)
    check_issuer(response.issuer, "The response", exp, required)  # SAML profiles 4.1.4.2
    check_issued(response.issue_instant, "The response", exp)
    if cancelled:
        raise LoginCancelled("the school's identity provider answered "
                             + " / ".join(_status_codes(response)))


def _check_addressed(response: Response, exp: Expected) -> None:
    if not response.destination:
        reject(f"The response has no Destination; it must be {exp.acs_url}.")
    if response.destination != exp.acs_url:
        reject(f"The response is addressed to {short(response.destination)}, "
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


def _check_audiences(conditions: Conditions | None, exp: Expected) -> None:
    restrictions = conditions.audience_restriction if conditions is not None else []
    if not restrictions:
        reject(f"The assertion has no AudienceRestriction; it must name {exp.sp_entity_id}.")
    for audiences in restrictions:
        if exp.sp_entity_id not in audiences:
            reject(f"An AudienceRestriction of the assertion names {short(audiences)}, "
                   f"not Loper ({exp.sp_entity_id}).")


def _check_confirmation(confirmation: SubjectConfirmation, exp: Expected) -> None:
    if confirmation.method != BEARER:
        reject(f"The SubjectConfirmation method is {short(confirmation.method)}; "
               "Loper accepts only bearer.")
    data = confirmation.subject_confirmation_data
    if data is None or not data.not_on_or_after:
        reject("The bearer SubjectConfirmationData has no NotOnOrAfter.")
    if data.recipient != exp.acs_url:
        reject(f"The SubjectConfirmationData Recipient is {short(data.recipient)}, "
               f"not Loper's {exp.acs_url}.")
    if data.in_response_to != exp.request_id:  # SAML profiles 4.1.4.2
        reject("The SubjectConfirmationData does not answer the login request this browser "
               "started (InResponseTo missing or different); start the login again.")
    check_window(data.not_before, data.not_on_or_after, "The SubjectConfirmation", exp)


def _check_authn_statement(assertion: Assertion, exp: Expected) -> None:
    statements = assertion.authn_statement
    if len(statements) != 1:
        reject(f"The assertion has {len(statements)} AuthnStatements; "
               "Loper expects exactly one.")
    check_authn_instant(statements[0].authn_instant, exp)
    if statements[0].session_not_on_or_after:
        check_window(None, statements[0].session_not_on_or_after, "The school's session", exp)


def check_assertion(assertion: Assertion, exp: Expected) -> None:
    _check_version(assertion.version, "The assertion")
    check_issuer(assertion.issuer, "The assertion", exp)
    check_issued(assertion.issue_instant, "The assertion", exp)
    subject = assertion.subject
    confirmations = subject.subject_confirmation if subject is not None else []
    if not confirmations:
        reject("The assertion has no Subject with a SubjectConfirmation.")
    for confirmation in confirmations:
        _check_confirmation(confirmation, exp)
    conditions = assertion.conditions
    if conditions is not None:
        check_window(conditions.not_before, conditions.not_on_or_after, "The assertion", exp)
    _check_audiences(conditions, exp)
    _check_authn_statement(assertion, exp)


def confirmation_expiry(assertion: Assertion) -> float:
    """When the last bearer SubjectConfirmation of an (already checked) assertion ends."""
    confirmations = assertion.subject.subject_confirmation if assertion.subject else []
    ends: Iterable[datetime] = (
        instant(data.not_on_or_after if data is not None else None, "NotOnOrAfter")
        for data in (c.subject_confirmation_data for c in confirmations))
    return max(end.timestamp() for end in ends)
