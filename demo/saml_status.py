"""What a SAML LogoutResponse's status says: logged out everywhere, or only in part."""

from __future__ import annotations

from saml2.samlp import Status

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
PARTIAL_LOGOUT = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"


def codes_of(status: Status | None) -> tuple[str, ...]:
    """A message's status codes as pysaml2 parsed them: the top-level one, then the one nested
    in it, and so on."""
    codes: list[str] = []
    code = status.status_code if status is not None else None
    while code is not None:
        codes.append(str(code.value))
        code = code.status_code
    return tuple(codes)


def everywhere(codes: tuple[str, ...]) -> bool:
    """Success, and no second-level PartialLogout: the other side's way of saying that some
    session could not be ended (SAML core 3.7.3.2)."""
    return codes[:1] == (SUCCESS,) and PARTIAL_LOGOUT not in codes[1:]
