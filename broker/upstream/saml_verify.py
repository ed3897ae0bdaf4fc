"""A school's SAML Response, read once: one hardened parse, and on that one tree the checks
(saml_checks), the XML Schema (libxml2), the signatures and the decryption of an encrypted
assertion (in place, with the `xmlsec` binding). Nothing is serialised or parsed again.

Order: everything that needs no crypto is checked first (clear messages, no work for an
obviously wrong answer); then the Response's signature, the decryption, and the assertion's
own signature; an encrypted assertion is checked once it is decrypted.
"""

from __future__ import annotations

from dataclasses import dataclass

import xmlsec

from broker.saml.crypto_policy import Policy
from broker.saml.decode import parse_message
from broker.saml.response_tree import ASSERTION, RESPONSE, Assertion, Response
from broker.saml.schema import Invalid, assert_valid
from broker.saml.verify import Rejected, decrypt_in_place, verify_enveloped
from broker.saml.xmlparse import Element
from broker.upstream.saml_checks import (
    assertion_count,
    check_assertion,
    check_one_assertion,
    check_response,
    check_signatures,
    check_unique_ids,
)
from broker.upstream.saml_times import Expected, reject

UNVERIFIED = ("A signature on the response cannot be verified with the keys in the school's "
              "metadata.")
UNDECRYPTABLE = ("The encrypted assertion cannot be decrypted with Loper's keys; the school's "
                 "identity provider may hold an outdated copy of Loper's SP metadata.")


@dataclass(frozen=True)
class Trust:
    """The keys a school's answer is checked with."""

    signing: tuple[xmlsec.Key, ...]
    """The school's signing keys, from its metadata alone."""
    decryption: tuple[xmlsec.Key, ...]
    """Loper's private keys (the current one, then the next)."""
    policy: Policy
    """Which algorithms are allowed (SHA-1 only for a legacy school)."""


def _valid(element: Element, what: str) -> None:
    try:
        assert_valid(element)
    except Invalid:  # its text may quote the document's values: not passed on
        reject(f"{what} does not follow the SAML 2.0 XML Schema.")


def _verified(element: Element, trust: Trust) -> None:
    try:
        verify_enveloped(element, trust.signing, trust.policy)
    except Rejected:
        reject(UNVERIFIED)


def _decrypted(wrapper: Element, trust: Trust) -> Element:
    try:
        return decrypt_in_place(wrapper, trust.decryption)
    except Rejected:
        reject(UNDECRYPTABLE)


def _assertion(response: Response, exp: Expected, trust: Trust) -> Assertion:
    """The one assertion, decrypted in place (and checked) if it came encrypted."""
    plain = response.assertion
    if plain:
        return plain[0]
    if _decrypted(response.encrypted_assertion[0], trust).tag != ASSERTION:
        reject("The encrypted assertion does not hold an Assertion.")
    check_unique_ids(response.element)
    check_one_assertion(assertion_count(response))
    assertion = response.assertion[0]
    check_assertion(assertion, exp)
    check_signatures(response, assertion, exp)
    return assertion


def read_response(xml: bytes, exp: Expected, trust: Trust) -> Assertion:
    """The checked, verified and decrypted assertion of a school's Response (UpstreamRejected,
    LoginCancelled or BadRequest if it is not acceptable)."""
    root = parse_message(xml, RESPONSE, "a SAML Response")
    check_unique_ids(root)
    response = Response(root)
    check_response(response, exp)
    check_one_assertion(assertion_count(response))
    plain = response.assertion
    if plain:
        check_assertion(plain[0], exp)
        check_signatures(response, plain[0], exp)
    if response.signature is not None:
        _valid(root, "The response")
        _verified(root, trust)
    assertion = _assertion(response, exp, trust)
    if response.signature is None or not plain:
        _valid(assertion.element, "The assertion")
    if assertion.signature is not None:
        _verified(assertion.element, trust)
    subject = assertion.subject
    if subject is not None and subject.encrypted_id is not None and subject.name_id is None:
        _decrypted(subject.encrypted_id, trust)
    return assertion
