"""Which parts of a school's Response are signed, and with what: the checks that keep signature
wrapping out, run on the tree before and after the signatures are verified
(broker/upstream/saml_verify.py).

No two elements may share an ID (a duplicate ID is how wrapping starts); the Response or its
one Assertion carries its own enveloped signature; each signature names allowed algorithms.
"""

from __future__ import annotations

from collections import Counter

from broker.saml.response_tree import Assertion, Response, Signature
from broker.saml.xmlparse import Element
from broker.upstream.saml_times import Expected, reject, short

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


def check_unique_ids(root: Element) -> None:
    """No two elements share an ID: a duplicate ID is how signature wrapping starts."""
    ids = Counter(ident for ident in (el.get("ID") for el in root.iter("*"))
                  if ident is not None)
    if any(count > 1 for count in ids.values()):
        reject("The SAML response contains two elements with the same ID.")


def _check_algorithms(signature: Signature, what: str, exp: Expected) -> None:
    if not signature.references:
        reject(f"{what} carries a malformed Signature.")
    methods = [(signature.signature_method or "no algorithm", SIGNATURE_ALGORITHMS,
                LEGACY_SIGNATURE_ALGORITHMS)]
    methods += [(digest or "no algorithm", DIGEST_ALGORITHMS, LEGACY_DIGEST_ALGORITHMS)
                for digest in signature.digest_methods]
    for algorithm, allowed, legacy in methods:
        if algorithm in allowed or (exp.legacy_sha1 and algorithm in legacy):
            continue
        hint = (" (SHA-1 is accepted only where the operator set legacy_sha1 for this school)"
                if algorithm in legacy else "")
        reject(f"{what} is signed with {short(algorithm)}, which Loper does not accept"
               f"{hint}; use RSA-SHA256.")


def check_signatures(response: Response, assertion: Assertion, exp: Expected) -> None:
    """The response or the assertion is signed, each with an allowed algorithm (whether each
    signature verifies is saml_verify's)."""
    signed = [(sig, what) for sig, what in ((response.signature, "The response"),
                                            (assertion.signature, "The assertion"))
              if sig is not None]
    if not signed:
        reject("Neither the response nor the assertion is signed.")
    for signature, what in signed:
        _check_algorithms(signature, what, exp)
