"""What a school's answer to one AuthnRequest must look like (Expected), and its times:
validity windows, issue instants and the age of the school's login. Every message says what
was wrong for a school's ICT coordinator; none carries an attribute value or the subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from broker.errors import LoginTooOld, UpstreamRejected


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


def short(value: object, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def instant(value: str | None, what: str) -> datetime:
    """An xs:dateTime from the response as an aware UTC datetime."""
    if not value:
        reject(f"{what} is missing.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        reject(f"{what} is not a valid time ({short(value, 40)!r}).")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def check_window(not_before: str | None, not_on_or_after: str | None, what: str,
                 exp: Expected) -> None:
    """NotBefore <= now < NotOnOrAfter, each with the clock skew allowed; and NotBefore before
    NotOnOrAfter (an empty window is never valid, whatever the skew)."""
    start = instant(not_before, f"{what} NotBefore").timestamp() if not_before else None
    if start is not None and start > exp.now + exp.skew:
        reject(f"{what} is not valid before {not_before} (Loper's clock: {stamp(exp.now)}); "
               "check the clock of the school's identity provider.")
    if not_on_or_after:
        end = instant(not_on_or_after, f"{what} NotOnOrAfter").timestamp()
        if exp.now >= end + exp.skew:
            reject(f"{what} expired at {not_on_or_after} (Loper's clock: {stamp(exp.now)}); "
                   "the answer came too late, or the clocks differ.")
        if start is not None and end <= start:
            reject(f"{what} is valid from {not_before} until {not_on_or_after}: never.")


def check_issued(value: str | None, what: str, exp: Expected) -> None:
    """An answer is issued after the request it answers and not in the future (both give or
    take the clock skew); pysaml2 allows a day either way."""
    at = instant(value, f"{what} IssueInstant").timestamp()
    if at < exp.issued_at - exp.skew or at > exp.now + exp.skew:
        reject(f"{what} says it was issued at {short(value, 40)}, which is not between "
               f"Loper's request ({stamp(exp.issued_at)}) and now ({stamp(exp.now)}); "
               "check the clock of the school's identity provider.")


def check_authn_instant(value: str | None, exp: Expected) -> None:
    """The school's login is not in the future, and after the request if ForceAuthn was sent."""
    at = instant(value, "The AuthnInstant")
    if at.timestamp() > exp.now + exp.skew:
        reject(f"The AuthnInstant {at.isoformat(timespec='seconds')} lies in the future "
               f"(Loper's clock: {stamp(exp.now)}); check the clock of the school's identity "
               "provider.")
    if exp.force_authn and at.timestamp() < exp.issued_at - exp.skew:
        reject(f"The learning app asked for a fresh login, but the school's identity provider "
               f"reused a login from {at.isoformat(timespec='seconds')} (ForceAuthn ignored).")


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
