"""Single logout: ending Loper's session, every supplier session it started and the school's.

A logout is started by the pupil (/logout), by a supplier (a SAML LogoutRequest, OIDC
RP-initiated logout) or by the school (a SAML LogoutRequest). Loper's session ends at once;
then the participants (broker/sso.py) are logged out through the adapters' optional `Logout`
interfaces: over the back channel at the same time (each call with its own deadline), in
iframes (OIDC front-channel), and by a chain of browser redirects: the schools first (the
session's own, then those of the sessions it replaced in this browser, so that an app that
never answers cannot keep a school's session alive), then one SAML supplier after the other.
The chain's state is a `LogoutRun` in the state store, bound to the browser. Whoever started
the logout gets the answer at the end: Loper's page listing which apps and schools were logged
out and which could not be, or the protocol's answer.

Nothing here knows a protocol: it only asks the adapters.
"""
